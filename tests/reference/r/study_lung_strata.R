# R's numbers for a multi-centre reading of survival's lung data: the 18 institutions grouped
# into three "centres" (A: inst 1-6, B: 7-15, C: 16-33; rows without inst dropped), Cox models
# stratified by centre (coxph(... + strata(centre))), log-rank tests stratified by centre
# (survdiff(... + strata(centre))), and a stratified model clustered by institution.
# tests/test_study_strata.py runs the same study file (cox.strata, km.strata) and compares.
data(cancer, package = "survival")
d <- lung[!is.na(lung$inst), ]
d$centre <- ifelse(d$inst <= 6, "A", ifelse(d$inst <= 15, "B", "C"))
write.csv(d, file.path(fixtures, "study_lung_centres.csv"), row.names = FALSE, na = "")

d$sex_f <- factor(ifelse(d$sex == 1, "male", "female"), levels = c("male", "female"))
d$ecog_f <- factor(ifelse(is.na(d$ph.ecog), NA,
                          ifelse(d$ph.ecog >= 2, "2-3", as.character(d$ph.ecog))),
                   levels = c("0", "1", "2-3"))
d$age10 <- d$age / 10
d$dead <- as.integer(d$status == 2)
terms <- list(sex = "sex_f", ecog = "ecog_f", age = "age10")

cox_part <- function(rhs, ties, clustered) {
  f <- as.formula(paste("Surv(time, dead) ~", rhs, "+ strata(centre)",
                        if (clustered) "+ cluster(inst)" else ""))
  fit <- coxph(f, data = d, ties = ties, x = TRUE, y = TRUE)
  s <- summary(fit)$coefficients
  se <- if (clustered) s[, "robust se"] else s[, "se(coef)"]
  z <- fit$coefficients / se
  zph <- cox.zph(fit)$table
  list(n = fit$n, events = fit$nevent, coef = unname(fit$coefficients), se = unname(se),
       hr = unname(exp(fit$coefficients)),
       lower = unname(exp(fit$coefficients - qnorm(0.975) * se)),
       upper = unname(exp(fit$coefficients + qnorm(0.975) * se)),
       p = unname(2 * pnorm(-abs(z))), loglik = fit$loglik[2], loglik_null = fit$loglik[1],
       ph_test = list(terms = rownames(zph), chisq = unname(zph[, "chisq"]),
                      df = unname(zph[, "df"]), p = unname(zph[, "p"])))
}

logrank_part <- function(col) {
  sub <- d[!is.na(d[[col]]), ]
  sd <- survdiff(as.formula(paste("Surv(time, dead) ~", col, "+ strata(centre)")), data = sub)
  df <- length(unique(sub[[col]])) - 1
  list(statistic = sd$chisq, df = df, p = pchisq(sd$chisq, df, lower.tail = FALSE))
}

for (ties in c("efron", "breslow")) {
  out <- list(ties = ties, univariate = list(), logrank = list())
  for (u in names(terms)) out$univariate[[u]] <- cox_part(terms[[u]], ties, FALSE)
  out$multivariate <- cox_part(paste(unlist(terms), collapse = " + "), ties, FALSE)
  out$multivariate_clustered <- cox_part(paste(unlist(terms), collapse = " + "), ties, TRUE)
  for (g in c("sex", "ecog")) out$logrank[[g]] <- logrank_part(terms[[g]])
  write_fixture(out, paste0("study_lung_strata_", ties))
}
