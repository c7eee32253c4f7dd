# Restricted mean survival time: survival's rmean (print.survfit / summary(fit, rmean = tau)$table)
# per group, with the survRM2 definitions (Uno et al. 2014; survRM2::rmst2, which is not on this
# machine) for the two-group contrasts built from R's per-group values: difference
# RMST1 - RMST0 with se sqrt(v1 + v0), ratio RMST1 / RMST0 with se of its log
# sqrt(v1 / RMST1^2 + v0 / RMST0^2), normal limits. Sourced by make_reference.R (write_fixture).
rmst_case <- function(name, time, event, group, taus) {
  fit <- survfit(Surv(time, event) ~ group)
  by_tau <- lapply(taus, function(tau) {
    tab <- summary(fit, rmean = tau)$table
    est <- unname(tab[, "rmean"])
    se <- unname(tab[, "se(rmean)"])
    z <- qnorm(0.975)
    diff <- est[2] - est[1]
    se_diff <- sqrt(se[2]^2 + se[1]^2)
    log_ratio <- log(est[2] / est[1])
    se_log_ratio <- sqrt(se[2]^2 / est[2]^2 + se[1]^2 / est[1]^2)
    list(tau = tau, rmst = est, se = se, lower = est - z * se, upper = est + z * se,
         difference = list(estimate = diff, se = se_diff, lower = diff - z * se_diff,
                           upper = diff + z * se_diff,
                           p = 2 * pnorm(-abs(diff / se_diff))),
         ratio = list(estimate = exp(log_ratio), lower = exp(log_ratio - z * se_log_ratio),
                      upper = exp(log_ratio + z * se_log_ratio),
                      p = 2 * pnorm(-abs(log_ratio / se_log_ratio))))
  })
  write_fixture(list(name = name, time = time, event = event, group = group,
                     levels = sort(unique(group)), results = by_tau), paste0("rmst_", name))
}

rmst_case("lung", survival::lung$time, survival::lung$status - 1, survival::lung$sex,
          c(365, 730))
rmst_case("ovarian", survival::ovarian$futime, survival::ovarian$fustat, survival::ovarian$rx,
          c(500, 1000))
