# Cox model fixtures (coxph, survival 3.x): sourced by tests/reference/make_reference.R, which
# provides write_fixture(). Each fixture holds its input data, the covariate spec the Python test
# rebuilds the design from, and R's results for Efron and Breslow ties.
suppressPackageStartupMessages(library(KMsurv))

# Fit with warnings captured (R's text is kept in the fixture), then extract every quantity.
# weights and cluster name columns of data (passed as vectors through do.call).
fit_capture <- function(formula, data, ties, weights = NULL, cluster = NULL) {
  msgs <- character(0)
  args <- list(formula, data = data, ties = ties)
  if (!is.null(weights)) args$weights <- data[[weights]]
  if (!is.null(cluster)) args$cluster <- data[[cluster]]
  fit <- withCallingHandlers(
    do.call("coxph", args),
    warning = function(w) {
      msgs <<- c(msgs, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  list(fit = fit, warnings = msgs)
}

# summary.coxph rounds the Wald and score statistics, so the tests come from the fit itself.
chisq <- function(statistic, df) list(statistic = unname(statistic), df = df,
                                      p = pchisq(unname(statistic), df, lower.tail = FALSE))

extract <- function(captured) {
  fit <- captured$fit
  df <- sum(!is.na(coef(fit)))
  robust <- !is.null(fit$naive.var)
  naive <- if (robust) fit$naive.var else fit$var
  list(
    names = names(coef(fit)),
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(naive))),
    robust_se = if (robust) unname(sqrt(diag(fit$var))) else NULL,
    naive_var = unname(naive),
    robust_var = if (robust) unname(fit$var) else NULL,
    loglik = fit$loglik,
    lr = chisq(2 * diff(fit$loglik), df),
    wald = chisq(fit$wald.test, df),
    score = chisq(fit$score, df),
    robust_score = if (robust) chisq(fit$rscore, df) else NULL,
    concordance = as.list(fit$concordance[c("concordant", "discordant", "tied.x", "tied.y",
                                            "tied.xy", "concordance", "std")]),
    n = fit$n,
    nevent = fit$nevent,
    n_dropped = length(fit$na.action),
    iter = fit$iter,
    warnings = captured$warnings
  )
}

# data: a data.frame holding only the model's columns; spec: how Python builds the design.
cox_case <- function(name, formula, data, spec, ...) {
  results <- lapply(c(efron = "efron", breslow = "breslow"),
                    function(ties) extract(fit_capture(formula, data, ties, ...)))
  write_fixture(list(name = name, formula = deparse(formula), data = as.list(data),
                     spec = spec, efron = results$efron, breslow = results$breslow),
                paste0("cox_", name))
}

num <- function(...) lapply(c(...), function(v) list(name = v, type = "numeric"))
cat_spec <- function(v, reference, levels) list(list(name = v, type = "categorical",
                                                     reference = reference, levels = levels))

# lung: NA in covariates, so complete cases are checked (status 1/2 recoded to 0/1)
lung2 <- with(survival::lung, data.frame(time = time, event = status - 1, age = age, sex = sex,
                                         ph_ecog = ph.ecog, ph_karno = ph.karno,
                                         wt_loss = wt.loss))
cox_case("lung", Surv(time, event) ~ age + sex + ph_ecog + ph_karno + wt_loss, lung2,
         num("age", "sex", "ph_ecog", "ph_karno", "wt_loss"))

# veteran: categorical celltype with a non-default reference level ("large")
vet <- with(survival::veteran, data.frame(time = time, event = status, trt = trt,
                                          celltype = as.character(celltype), karno = karno,
                                          age = age, prior = prior))
vet$celltype <- relevel(factor(vet$celltype), ref = "large")
cox_case("veteran", Surv(time, event) ~ trt + celltype + karno + age + prior, vet,
         c(num("trt"), cat_spec("celltype", "large", levels(vet$celltype)),
           num("karno", "age", "prior")))

# veteran stratified by cell type (separate baseline hazards)
cox_case("veteran_strata", Surv(time, event) ~ trt + karno + age + strata(celltype), vet,
         c(num("trt", "karno", "age"), list(list(name = "celltype", type = "strata"))))

ov <- with(survival::ovarian, data.frame(time = futime, event = fustat, age = age,
                                         resid_ds = resid.ds, rx = rx, ecog_ps = ecog.ps))
cox_case("ovarian", Surv(time, event) ~ age + resid_ds + rx + ecog_ps, ov,
         num("age", "resid_ds", "rx", "ecog_ps"))

# case weights: whole numbers (naive variance) and fractional ones (R turns robust on)
ov_w <- ov
ov_w$w <- rep(c(1, 2, 3), length.out = nrow(ov))
cox_case("ovarian_weights", Surv(time, event) ~ age + rx, ov_w,
         c(num("age", "rx"), list(list(name = "w", type = "weights"))), weights = "w")
set.seed(20261127)
ov_f <- ov
ov_f$w <- round(runif(nrow(ov), 0.5, 2.5), 3)
cox_case("ovarian_fractional_weights", Surv(time, event) ~ age + rx, ov_f,
         c(num("age", "rx"), list(list(name = "w", type = "weights"))), weights = "w")

aml2 <- with(survival::aml, data.frame(time = time, event = status, x = as.character(x)))
cox_case("aml", Surv(time, event) ~ x, aml2,
         cat_spec("x", "Maintained", c("Maintained", "Nonmaintained")))

# diabetic: two eyes per patient, robust variance with cluster(id)
dia <- with(survival::diabetic, data.frame(time = time, event = status, trt = trt, age = age,
                                           laser = as.character(laser), risk = risk, id = id))
dia$laser <- relevel(factor(dia$laser), ref = "xenon")
cox_case("diabetic", Surv(time, event) ~ trt + age + laser + risk, dia,
         c(num("trt", "age"), cat_spec("laser", "xenon", c("xenon", "argon")), num("risk"),
           list(list(name = "id", type = "cluster"))), cluster = "id")

data(larynx, package = "KMsurv")
lar <- with(larynx, data.frame(time = time, event = delta, stage = as.character(stage),
                               age = age))
lar$stage <- factor(lar$stage, levels = c("1", "2", "3", "4"))
cox_case("larynx", Surv(time, event) ~ stage + age, lar,
         c(cat_spec("stage", "1", c("1", "2", "3", "4")), num("age")))

# synthetic: heavy ties (12 distinct times for 400 rows), tied and late censoring, integer
# covariates (ties in the risk score), clustered in pairs for the robust variance
set.seed(42)
n <- 400
syn <- data.frame(z1 = round(rnorm(n), 2), z2 = rbinom(n, 1, 0.4), z3 = sample(0:4, n, TRUE),
                  id = rep(seq_len(n / 2), each = 2))
lp <- 0.5 * syn$z1 - 0.7 * syn$z2 + 0.2 * syn$z3
tt <- ceiling(rexp(n, 0.15 * exp(lp)))
cc <- sample(c(3, 6, 9, 30), n, TRUE)  # censoring on the same days as events, and late
syn$time <- pmin(tt, cc, 12)
syn$event <- as.integer(tt <= pmin(cc, 12))
syn$time[syn$event == 0 & runif(n) < 0.1] <- 15  # late censoring beyond the last event
cox_case("synthetic_ties", Surv(time, event) ~ z1 + z2 + z3, syn, num("z1", "z2", "z3"))
cox_case("synthetic_cluster", Surv(time, event) ~ z1 + z2 + z3, syn,
         c(num("z1", "z2", "z3"), list(list(name = "id", type = "cluster"))), cluster = "id")

# an aliased covariate (age_months = 12 x age): R gives it an NA coefficient and zero variance
ov_a <- ov[, c("time", "event", "age", "rx")]
ov_a$age_months <- 12 * ov_a$age
cox_case("aliased", Surv(time, event) ~ age + rx + age_months, ov_a,
         num("age", "rx", "age_months"))

# separation: no event in group g = 1, so its coefficient runs to -infinity
set.seed(7)
sep <- data.frame(time = c(sample(1:30, 20, TRUE), sample(1:30, 20, TRUE)),
                  event = c(rbinom(20, 1, 0.8), rep(0, 20)),
                  g = rep(0:1, each = 20), age = round(rnorm(40, 60, 8)))
cox_case("separation", Surv(time, event) ~ g + age, sep, num("g", "age"))

# likelihood-ratio test of nested models, as anova(m1, m2), on lung's complete cases
lung_cc <- na.omit(lung2[, c("time", "event", "age", "sex", "ph_ecog", "wt_loss")])
lr <- lapply(c(efron = "efron", breslow = "breslow"), function(ties) {
  m1 <- coxph(Surv(time, event) ~ age + sex, lung_cc, ties = ties)
  m2 <- coxph(Surv(time, event) ~ age + sex + ph_ecog + wt_loss, lung_cc, ties = ties)
  a <- anova(m1, m2)
  list(loglik = a[["loglik"]], chisq = a[["Chisq"]][2], df = a[["Df"]][2],
       p = a[["Pr(>|Chi|)"]][2])
})
write_fixture(list(data = as.list(lung_cc), smaller = c("age", "sex"),
                   larger = c("age", "sex", "ph_ecog", "wt_loss"),
                   efron = lr$efron, breslow = lr$breslow), "cox_lr_test")
