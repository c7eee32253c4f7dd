# R's numbers for tests/data/study_lung.yaml on survival's lung data, and the lung CSV itself.
# Sourced by tests/reference/make_reference.R (which provides write_fixture). Two option sets:
# the study file's (efron ties, log intervals) and a variant (breslow ties, log-log intervals).
data(cancer, package = "survival")
d <- lung
write.csv(d, file.path(fixtures, "study_lung.csv"), row.names = FALSE, na = "")

d$sex_f <- factor(ifelse(d$sex == 1, "male", "female"), levels = c("male", "female"))
d$ecog_f <- factor(ifelse(is.na(d$ph.ecog), NA,
                          ifelse(d$ph.ecog >= 2, "2-3", as.character(d$ph.ecog))),
                   levels = c("0", "1", "2-3"))
d$age65_f <- factor(ifelse(d$age <= 65, "<=65", ">65"), levels = c("<=65", ">65"))
d$age10 <- d$age / 10
d$dead <- as.integer(d$status == 2)
terms <- list(sex = "sex_f", ecog = "ecog_f", age65 = "age65_f", age = "age10",
              karno = "ph.karno", wtloss = "wt.loss")
times <- c(180, 365, 730)

km_part <- function(fit) {
  s <- summary(fit)$table
  r <- summary(fit, times = times, extend = TRUE)
  list(n = fit$n, events = sum(fit$n.event),
       median = list(estimate = unname(s["median"]), lower = unname(s["0.95LCL"]),
                     upper = unname(s["0.95UCL"])),
       rates = list(time = times, estimate = r$surv, lower = r$lower, upper = r$upper,
                    n_risk = r$n.risk),
       km = list(time = fit$time, estimate = fit$surv, std_err_log = fit$std.err,
                 lower = fit$lower, upper = fit$upper, n_risk = fit$n.risk,
                 n_event = fit$n.event, n_censor = fit$n.censor))
}

cox_part <- function(formula, data, ties, clustered) {
  # x and y kept so that cox.zph uses this fit's rows (it would otherwise re-evaluate `data` in
  # the formula's environment: for the nested models, the full data instead of cc)
  fit <- coxph(formula, data = data, ties = ties, x = TRUE, y = TRUE)
  s <- summary(fit)$coefficients
  se <- if (clustered) s[, "robust se"] else s[, "se(coef)"]
  z <- fit$coefficients / se
  list(n = fit$n, events = fit$nevent, coef = unname(fit$coefficients), se = unname(se),
       hr = unname(exp(fit$coefficients)), lower = unname(exp(fit$coefficients - qnorm(0.975) * se)),
       upper = unname(exp(fit$coefficients + qnorm(0.975) * se)),
       p = unname(2 * pnorm(-abs(z))), loglik = fit$loglik[2], loglik_null = fit$loglik[1],
       ph_test = ph_part(fit))
}

# cox.zph (KM transform): one row per term, then GLOBAL
ph_part <- function(fit) {
  z <- cox.zph(fit)$table
  list(terms = rownames(z), chisq = unname(z[, "chisq"]), df = unname(z[, "df"]),
       p = unname(z[, "p"]))
}

one_endpoint <- function(data, conf_type, ties, clustered, multi, nested) {
  rhs <- function(covs) {
    f <- paste(unlist(terms[covs]), collapse = " + ")
    if (clustered) paste(f, "+ cluster(inst)") else f
  }
  out <- km_part(survfit(Surv(time, dead) ~ 1, data = data, conf.type = conf_type))
  rev <- summary(survfit(Surv(time, 1 - dead) ~ 1, data = data))$table
  out$follow_up <- list(reverse_km = list(estimate = unname(rev["median"]),
                                          lower = unname(rev["0.95LCL"]),
                                          upper = unname(rev["0.95UCL"])),
                        observed = list(median = median(data$time), min = min(data$time),
                                        max = max(data$time)))
  out$groups <- list()
  for (g in c("sex", "ecog", "age65")) {
    col <- terms[[g]]
    sub <- data[!is.na(data[[col]]), ]
    lv <- list()
    for (level in levels(sub[[col]])) {
      lv[[level]] <- km_part(survfit(Surv(time, dead) ~ 1, data = sub[sub[[col]] == level, ],
                                     conf.type = conf_type))
    }
    sd <- survdiff(as.formula(paste("Surv(time, dead) ~", col)), data = sub)
    out$groups[[g]] <- list(levels = lv, logrank = list(statistic = sd$chisq,
                            df = length(sd$n) - 1,
                            p = pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE)))
  }
  out$univariate <- list()
  for (u in c("sex", "ecog", "age65", "age", "karno")) {
    out$univariate[[u]] <- cox_part(as.formula(paste("Surv(time, dead) ~", rhs(u))), data, ties,
                                    clustered)
  }
  out$multivariate <- cox_part(as.formula(paste("Surv(time, dead) ~", rhs(multi))), data, ties,
                               clustered)
  if (!is.null(nested)) {
    cc <- data[complete.cases(data[, unlist(terms[nested[[length(nested)]]])]), ]
    fits <- lapply(nested, function(m) coxph(as.formula(paste("Surv(time, dead) ~", rhs(m))),
                                              data = cc, ties = ties))
    out$nested <- lapply(seq_along(fits), function(i) {
      part <- cox_part(formula(fits[[i]]), cc, ties, clustered)
      if (i > 1) {
        a <- anova(fits[[i - 1]], fits[[i]])
        part$lr_test <- list(statistic = a$Chisq[2], df = a$Df[2], p = a[["Pr(>|Chi|)"]][2])
      }
      part
    })
  }
  out
}

for (variant in list(list(name = "efron_log", conf = "log", ties = "efron"),
                     list(name = "breslow_loglog", conf = "log-log", ties = "breslow"))) {
  res <- list(
    OS = one_endpoint(d, variant$conf, variant$ties, FALSE, c("sex", "age", "ecog"),
                      list("sex", c("sex", "age"), c("sex", "age", "ecog", "wtloss"))),
    OS_inst = one_endpoint(d[!is.na(d$inst), ], variant$conf, variant$ties, TRUE,
                           c("sex", "age", "ecog"), NULL)
  )
  write_fixture(list(variant = variant, endpoints = res), paste0("study_lung_", variant$name))
}
