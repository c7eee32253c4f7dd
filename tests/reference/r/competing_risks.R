# Competing-risks references for rtoutcomes.stats.cumulative_incidence / gray_test (cmprsk).
# Sourced by tests/reference/make_reference.R, which provides write_fixture(); writes
# tests/reference/fixtures/competing_risks.json. Every case carries its own input data.
#
# Per case: every curve of cmprsk::cuminc exactly as returned (its plotting "corners": time, est,
# var), pointwise limits on the log(-log) scale as cmprsk users compute them (Pintilie 2006;
# tidycmprsk): est^exp(±z sqrt(var) / (est log est)), NA where est is 0 or 1; timepoints() at
# chosen times; and cuminc's Tests (Gray's K-sample test: stat, pv, df) plus the same p-value
# from pchisq(lower.tail = FALSE), which keeps its relative precision when p is tiny.
suppressPackageStartupMessages({
  library(cmprsk)
  library(KMsurv)
})

conf_level <- 0.95
z <- qnorm(1 - (1 - conf_level) / 2)

loglog_limits <- function(est, var) {
  ok <- est > 0 & est < 1
  e <- ifelse(ok, est, 0.5)
  half <- z * sqrt(var) / (e * log(e))
  list(lower = ifelse(ok, e^exp(-half), NA), upper = ifelse(ok, e^exp(half), NA))
}

cr_case <- function(label, time, status, group = NULL, strata = NULL, rho = 0, at = NULL) {
  data <- list(time = time, status = status)
  args <- list(ftime = time, fstatus = status, rho = rho, cencode = 0)
  if (!is.null(group)) {
    data$group <- as.character(group)
    args$group <- as.character(group)
  }
  if (!is.null(strata)) {
    data$strata <- as.character(strata)
    args$strata <- as.character(strata)
  }
  fit <- do.call(cuminc, args)
  tests <- fit$Tests
  curves_only <- fit[names(fit) != "Tests"]
  curves <- lapply(names(curves_only), function(nm) {
    cv <- curves_only[[nm]]
    lim <- loglog_limits(cv$est, cv$var)
    list(name = nm, time = cv$time, est = cv$est, var = cv$var,
         lower = lim$lower, upper = lim$upper)
  })
  if (is.null(at)) at <- unique(c(0, quantile(time, c(0.1, 0.25, 0.5, 0.75, 0.9), type = 1),
                                  max(time), max(time) + 1))
  tp <- timepoints(fit, at)
  out <- list(label = label, data = data, rho = rho, conf_level = conf_level,
              curves = curves,
              timepoints = list(times = at, sorted_times = sort(unique(at)),
                                names = rownames(tp$est),
                                est = unname(tp$est), var = unname(tp$var)))
  if (!is.null(tests)) {
    out$tests <- list(causes = rownames(tests), stat = unname(tests[, "stat"]),
                      pv = unname(tests[, "pv"]), df = unname(tests[, "df"]),
                      p = pchisq(unname(tests[, "stat"]), unname(tests[, "df"]),
                                 lower.tail = FALSE))
  }
  out
}

# ---- datasets --------------------------------------------------------------------------------
# cmprsk-style simulation (as in ?cuminc): 3 groups, 2 causes, censoring, times rounded to a
# 0.25 grid so that ties between causes, between groups and with censoring are common.
set.seed(20261127)
n_sim <- 300
sim <- data.frame(
  time = round(rexp(n_sim) * 8) / 4,
  status = sample(0:2, n_sim, replace = TRUE, prob = c(0.3, 0.4, 0.3)),
  group = sample(c("a", "b", "c"), n_sim, replace = TRUE),
  stratum = sample(c("s1", "s2"), n_sim, replace = TRUE)
)
# A real group effect on cause 1, an event at time 0 and a group whose largest time is a cause-1
# failure (its overall Kaplan-Meier reaches 0 there).
sim$status[sim$group == "c" & sim$status == 2 & sim$time < 1] <- 1
sim <- rbind(sim, data.frame(time = c(0, 0, 0), status = c(1, 2, 0), group = "a",
                             stratum = "s1"))
sim$time[sim$group == "b" & sim$time == max(sim$time[sim$group == "b"])] <- 99
sim <- rbind(sim, data.frame(time = 100, status = 1, group = "b", stratum = "s2"))

# survival's mgus2: progression to plasma-cell malignancy (1) with death before progression (2)
# as the competing event (the etime/event coding of the survival vignette).
mg <- survival::mgus2
mg_time <- ifelse(mg$pstat == 0, mg$futime, mg$ptime)
mg_status <- ifelse(mg$pstat == 0, 2 * mg$death, 1)
mg_age70 <- ifelse(mg$age >= 70, "70+", "<70")

# KMsurv's bmt: relapse (1) with death in remission (2) as the competing event, by disease group.
data(bmt, package = "KMsurv")
bmt_status <- ifelse(bmt$d2 == 1, 1, ifelse(bmt$d1 == 1, 2, 0))

# Hand-checkable: 8 patients, one group. Times 1..6, ties between causes at 3.
tiny <- list(time = c(1, 2, 3, 3, 4, 5, 5, 6), status = c(1, 0, 1, 2, 1, 0, 2, 1))

write_fixture(list(cases = list(
  cr_case("tiny", tiny$time, tiny$status, at = c(0, 1, 2.5, 3, 5.5, 6, 7)),
  cr_case("tiny by group", tiny$time, tiny$status, group = c(1, 1, 2, 1, 2, 2, 1, 2)),
  cr_case("simulated, 3 groups", sim$time, sim$status, group = sim$group,
          at = c(0, 0.25, 0.5, 1, 1.3, 2, 4, 99, 100, 101, -1)),
  cr_case("simulated, 3 groups, strata", sim$time, sim$status, group = sim$group,
          strata = sim$stratum),
  cr_case("simulated, 3 groups, strata, rho 1", sim$time, sim$status, group = sim$group,
          strata = sim$stratum, rho = 1),
  cr_case("simulated, no group", sim$time, sim$status),
  cr_case("mgus2 by sex", mg_time, mg_status, group = mg$sex),
  cr_case("mgus2 by sex, strata age 70", mg_time, mg_status, group = mg$sex,
          strata = mg_age70, at = c(0, 12, 60, 120, 240, 360, 424, 500)),
  cr_case("mgus2 by sex, rho 0.5", mg_time, mg_status, group = mg$sex, rho = 0.5),
  cr_case("bmt by disease group", bmt$t2, bmt_status, group = bmt$group,
          at = c(0, 100, 365, 730, 1000, 2000)),
  cr_case("bmt by disease group, strata MTX", bmt$t2, bmt_status, group = bmt$group,
          strata = bmt$z10)
)), "competing_risks")

# ---- Fine-Gray regression (cmprsk::crr): coef, both variances, z, p, logliks -----------------
crr_case <- function(label, time, status, cov, failcode = 1, cengroup = NULL) {
  cov <- as.matrix(cov)
  data <- list(time = time, status = status, cov = unname(cov), names = colnames(cov))
  args <- list(ftime = time, fstatus = status, cov1 = cov, failcode = failcode, cencode = 0)
  if (!is.null(cengroup)) {
    data$cengroup <- as.character(cengroup)
    args$cengroup <- as.character(cengroup)
  }
  fit <- do.call(crr, args)
  s <- summary(fit)
  se <- sqrt(diag(fit$var))
  list(label = label, data = data, failcode = failcode,
       coef = unname(fit$coef), se = unname(se), naive_se = unname(sqrt(diag(fit$invinf))),
       var = unname(fit$var), inf = unname(fit$inf), z = unname(fit$coef / se),
       p = 2 * pnorm(abs(unname(fit$coef)) / se, lower.tail = FALSE),
       lower = unname(s$conf.int[, 3]), upper = unname(s$conf.int[, 4]),
       loglik = fit$loglik, loglik_null = fit$loglik.null, score = unname(fit$score),
       logtest = unname(s$logtest[1]), converged = fit$converged, n = fit$n,
       n_missing = fit$n.missing)
}

sim_cov <- cbind(group_b = as.numeric(sim$group == "b"), group_c = as.numeric(sim$group == "c"),
                 x = round(sin(seq_len(nrow(sim))) * 2, 2))
mg_cov <- cbind(age = mg$age, male = as.numeric(mg$sex == "M"), hgb = mg$hgb)
bmt_cov <- cbind(aml_low = as.numeric(bmt$group == 2), aml_high = as.numeric(bmt$group == 3),
                 age = bmt$z1)

write_fixture(list(cases = list(
  crr_case("simulated", sim$time, sim$status, sim_cov),
  crr_case("simulated, cause 2", sim$time, sim$status, sim_cov, failcode = 2),
  crr_case("simulated, censoring groups", sim$time, sim$status, sim_cov, cengroup = sim$stratum),
  crr_case("mgus2 (missing hgb dropped)", mg_time, mg_status, mg_cov),
  crr_case("mgus2, death", mg_time, mg_status, mg_cov[, 1:2], failcode = 2),
  crr_case("bmt", bmt$t2, bmt_status, bmt_cov),
  crr_case("bmt, censoring groups MTX", bmt$t2, bmt_status, bmt_cov, cengroup = bmt$z10)
)), "fine_gray")
