# Counting-process Cox models (coxph with Surv(start, stop, event): left truncation and
# time-varying covariates), survSplit, survfit.coxph and RMST: sourced by
# tests/reference/make_reference.R, which provides write_fixture(). Each coxcp_<name>.json
# holds its input data, the covariate spec the Python test rebuilds the design from (as cox.R),
# and R's results for Efron and Breslow ties.
suppressPackageStartupMessages(library(KMsurv))

num <- function(...) lapply(c(...), function(v) list(name = v, type = "numeric"))
role <- function(v, type) list(list(name = v, type = type))
mat <- function(x) unname(as.matrix(x))
chisq <- function(statistic, df) list(statistic = unname(statistic), df = df,
                                      p = pchisq(unname(statistic), df, lower.tail = FALSE))

counting_result <- function(fit) {
  df <- sum(!is.na(coef(fit)))
  robust <- !is.null(fit$naive.var)
  naive <- if (robust) fit$naive.var else fit$var
  zph <- function(transform) {
    z <- cox.zph(fit, transform = transform)
    list(chisq = unname(z$table[, "chisq"]), df = unname(z$table[, "df"]),
         p = unname(z$table[, "p"]), x = unname(z$x))
  }
  list(
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(naive))),
    robust_se = if (robust) unname(sqrt(diag(fit$var))) else NULL,
    loglik = fit$loglik,
    lr = chisq(2 * diff(fit$loglik), df),
    wald = chisq(fit$wald.test, df),
    score = chisq(fit$score, df),
    robust_score = if (robust) chisq(fit$rscore, df) else NULL,
    concordance = as.list(fit$concordance[c("concordant", "discordant", "tied.x", "tied.y",
                                            "tied.xy", "concordance", "std")]),
    n = fit$n, nevent = fit$nevent, iter = fit$iter,
    zph = lapply(c(identity = "identity", km = "km", rank = "rank"), zph),
    martingale = unname(as.numeric(residuals(fit, type = "martingale"))),
    score_residuals = mat(residuals(fit, type = "score")),
    schoenfeld = mat(residuals(fit, type = "schoenfeld")),
    dfbeta = mat(residuals(fit, type = "dfbeta"))
  )
}

counting_case <- function(name, formula, data, spec, weights = NULL) {
  results <- lapply(c(efron = "efron", breslow = "breslow"), function(ties) {
    args <- list(formula, data = data, ties = ties)
    if (!is.null(weights)) args$weights <- data[[weights]]
    counting_result(do.call("coxph", args))
  })
  write_fixture(list(name = name, formula = deparse(formula), data = as.list(data),
                     spec = spec, efron = results$efron, breslow = results$breslow),
                paste0("coxcp_", name))
}

# heart (Stanford heart transplant): transplant is a time-varying covariate
hrt <- with(survival::heart, data.frame(start = start, stop = stop, event = event, age = age,
                                        year = year, surgery = surgery,
                                        transplant = as.integer(as.character(transplant)),
                                        id = id))
counting_case("heart", Surv(start, stop, event) ~ age + year + surgery + transplant, hrt,
              num("age", "year", "surgery", "transplant"))
counting_case("heart_cluster", Surv(start, stop, event) ~ age + year + surgery + transplant +
                cluster(id), hrt,
              c(num("age", "year", "surgery", "transplant"), role("id", "cluster")))

# cgd: recurrent infections in survSplit-style (tstart, tstop] rows per patient, stratified
# by hospital category, robust variance by patient
cg <- with(survival::cgd, data.frame(start = tstart, stop = tstop, event = status,
                                     treat = as.integer(treat == "rIFN-g"),
                                     female = as.integer(sex == "female"), age = age,
                                     autosomal = as.integer(inherit == "autosomal"),
                                     steroids = steroids, propylac = propylac,
                                     hos_cat = as.character(hos.cat), id = id))
counting_case("cgd", Surv(start, stop, event) ~ treat + female + age + autosomal + steroids +
                propylac + strata(hos_cat) + cluster(id), cg,
              c(num("treat", "female", "age", "autosomal", "steroids", "propylac"),
                role("hos_cat", "strata"), role("id", "cluster")))

# channing (KMsurv): residents of a retirement centre, left-truncated at the age of entry
# (months); rows with no time at risk (exit age = entry age) are not valid counting data
data(channing, package = "KMsurv")
ch <- subset(channing, age > ageentry)
ch <- data.frame(start = ch$ageentry, stop = ch$age, event = ch$death,
                 male = as.integer(ch$gender == 1))
counting_case("channing", Surv(start, stop, event) ~ male, ch, num("male"))
set.seed(20261130)
ch$w <- round(runif(nrow(ch), 0.5, 2), 2)
counting_case("channing_weights", Surv(start, stop, event) ~ male, ch,
              c(num("male"), role("w", "weights")), weights = "w")

# survSplit: lung follow-up split at 180, 365 and 730 days (episode numbering as R's)
lung3 <- with(survival::lung, data.frame(id = seq_along(time), time = time,
                                         event = status - 1, age = age))
split <- survSplit(Surv(time, event) ~ ., data = lung3, cut = c(180, 365, 730),
                   episode = "episode")
unsplit_fit <- coxph(Surv(time, event) ~ age, data = lung3)
split_fit <- coxph(Surv(tstart, time, event) ~ age, data = split)
write_fixture(list(input = as.list(lung3), cut = c(180, 365, 730),
                   split = list(id = split$id, start = split$tstart, stop = split$time,
                                event = split$event, episode = split$episode),
                   coef_unsplit = unname(coef(unsplit_fit)),
                   coef_split = unname(coef(split_fit))),
              "survsplit_lung")

# survfit.coxph: predicted curves for new covariate rows (one survfit call per row, so each
# curve is a plain vector), both tie methods; strata (each row in its own stratum); counting data
curve_of <- function(fit, row) {
  s <- survfit(fit, newdata = row)
  list(time = s$time, n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor,
       surv = as.numeric(s$surv), cumhaz = as.numeric(s$cumhaz),
       std_err = as.numeric(s$std.err), lower = as.numeric(s$lower),
       upper = as.numeric(s$upper))
}
predict_case <- function(name, formula, data, spec, newdata, weights = NULL) {
  by_ties <- lapply(c(efron = "efron", breslow = "breslow"), function(ties) {
    args <- list(formula, data = data, ties = ties)
    if (!is.null(weights)) args$weights <- data[[weights]]
    fit <- do.call("coxph", args)
    bh <- basehaz(fit, centered = FALSE)
    list(coef = unname(coef(fit)),
         curves = lapply(seq_len(nrow(newdata)), function(i) curve_of(fit, newdata[i, , drop = FALSE])),
         basehaz = if (is.null(fit$strata)) list(time = bh$time, hazard = bh$hazard) else NULL)
  })
  write_fixture(list(name = name, formula = deparse(formula), data = as.list(data), spec = spec,
                     newdata = as.list(newdata), efron = by_ties$efron,
                     breslow = by_ties$breslow), paste0("predict_", name))
}

lung_p <- na.omit(with(survival::lung, data.frame(time = time, event = status - 1, age = age,
                                                  sex = sex, ph_ecog = ph.ecog)))
predict_case("lung", Surv(time, event) ~ age + sex + ph_ecog, lung_p,
             num("age", "sex", "ph_ecog"),
             data.frame(age = c(50, 65, 75), sex = c(1, 2, 1), ph_ecog = c(0, 1, 3)))
vet_p <- with(survival::veteran, data.frame(time = time, event = status, karno = karno,
                                            age = age, celltype = as.character(celltype)))
predict_case("veteran_strata", Surv(time, event) ~ karno + age + strata(celltype), vet_p,
             c(num("karno", "age"), role("celltype", "strata")),
             data.frame(karno = c(60, 80, 40), age = c(60, 50, 70),
                        celltype = c("adeno", "squamous", "smallcell")))
predict_case("heart", Surv(start, stop, event) ~ age + year + surgery + transplant, hrt,
             num("age", "year", "surgery", "transplant"),
             data.frame(age = c(-10, 5), year = c(2, 4), surgery = c(0, 1),
                        transplant = c(1, 0)))

# adjusted (direct standardised, marginal) curves: every complete row with sex set to each
# level, the predicted curves averaged (survfit with newdata = all rows, rowMeans)
adj_fit <- coxph(Surv(time, event) ~ age + sex + ph_ecog, data = lung_p)
adjusted <- lapply(c(1, 2), function(level) {
  nd <- lung_p
  nd$sex <- level
  s <- survfit(adj_fit, newdata = nd)
  list(level = level, time = s$time, surv = unname(rowMeans(s$surv)))
})
write_fixture(list(data = as.list(lung_p), term = "sex", curves = adjusted), "predict_adjusted_lung")
