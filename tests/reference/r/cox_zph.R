# Proportional-hazards tests (cox.zph, survival 3.x score-test form) and residuals.coxph of every
# type: sourced by tests/reference/make_reference.R, which provides write_fixture(). One fixture,
# zph.json, holds a list of cases; each case has its input data, the covariate spec the Python
# test rebuilds the design from (same conventions as cox.R), and R's results for both tie methods.
num <- function(...) lapply(c(...), function(v) list(name = v, type = "numeric"))
cat_spec <- function(v, reference, levels) list(list(name = v, type = "categorical",
                                                     reference = reference, levels = levels))
role <- function(v, type) list(list(name = v, type = type))

mat <- function(x) unname(as.matrix(x))

zph_result <- function(fit, transform, terms = TRUE) {
  z <- cox.zph(fit, transform = transform, terms = terms)
  list(terms = rownames(z$table), chisq = unname(z$table[, "chisq"]),
       df = unname(z$table[, "df"]), p = unname(z$table[, "p"]),
       x = unname(z$x), time = unname(z$time), y = mat(z$y), var = mat(z$var),
       strata = if (is.null(z$strata)) NULL else as.integer(z$strata) - 1L)
}

residual_set <- function(fit, weighted) {
  types <- c("martingale", "deviance", "score", "schoenfeld", "scaledsch", "dfbeta", "dfbetas")
  out <- lapply(types, function(type) {
    r <- if (is.na(weighted)) residuals(fit, type = type)
         else residuals(fit, type = type, weighted = weighted)
    if (type %in% c("martingale", "deviance")) unname(as.numeric(r)) else mat(r)
  })
  names(out) <- types
  out
}

zph_case <- function(name, formula, data, spec, weights = NULL, collapse = NULL) {
  by_ties <- lapply(c(efron = "efron", breslow = "breslow"), function(ties) {
    args <- list(formula, data = data, ties = ties)
    if (!is.null(weights)) args$weights <- data[[weights]]
    fit <- do.call("coxph", args)
    s <- residuals(fit, type = "schoenfeld")
    out <- list(
      coef = unname(coef(fit)),
      zph = lapply(c(km = "km", rank = "rank", identity = "identity", log = "log"),
                   function(tr) zph_result(fit, tr)),
      zph_columns = zph_result(fit, "km", terms = FALSE),
      residuals = residual_set(fit, NA),
      schoenfeld_time = as.numeric(if (is.matrix(s)) rownames(s) else names(s))
    )
    if (!is.null(weights)) {
      out$weighted_residuals <- residual_set(fit, TRUE)
      # survival 3.5-3 multiplies weighted Schoenfeld residuals (sorted by time) by the weights
      # in *data* order (weights[deaths]); the reference is the intended product with each
      # event's own weight, built from R's unweighted residuals and R's naive variance
      w_events <- data[[weights]][order(data$time, -data$event)][data$event[
        order(data$time, -data$event)] == 1]
      vv <- if (is.null(fit$naive.var)) fit$var else fit$naive.var
      ws <- mat(s) * w_events
      out$weighted_residuals$schoenfeld <- ws
      out$weighted_residuals$scaledsch <- ws %*% vv * nrow(ws) +
        matrix(coef(fit), nrow(ws), ncol(ws), byrow = TRUE)
    }
    if (!is.null(collapse)) {
      out$collapsed <- list(
        labels = sort(unique(data[[collapse]])),
        martingale = unname(as.numeric(residuals(fit, "martingale", collapse = data[[collapse]]))),
        deviance = unname(as.numeric(residuals(fit, "deviance", collapse = data[[collapse]]))),
        score = mat(residuals(fit, "score", collapse = data[[collapse]])),
        dfbeta = mat(residuals(fit, "dfbeta", collapse = data[[collapse]])))
    }
    out
  })
  list(name = name, formula = deparse(formula), data = as.list(data), spec = spec,
       collapse = collapse, efron = by_ties$efron, breslow = by_ties$breslow)
}

cases <- list()

# lung: complete cases of age + sex + ph.ecog (status 1/2 recoded to 0/1)
lung_cc <- na.omit(with(survival::lung, data.frame(time = time, event = status - 1, age = age,
                                                   sex = sex, ph_ecog = ph.ecog)))
cases$lung <- zph_case("lung", Surv(time, event) ~ age + sex + ph_ecog, lung_cc,
                       num("age", "sex", "ph_ecog"))

# veteran: categorical celltype (against "large") + karno; karno is the known PH violation
vet <- with(survival::veteran, data.frame(time = time, event = status,
                                          celltype = as.character(celltype), karno = karno,
                                          age = age))
vet$celltype <- relevel(factor(vet$celltype), ref = "large")
cases$veteran <- zph_case("veteran", Surv(time, event) ~ celltype + karno, vet,
                          c(cat_spec("celltype", "large", levels(vet$celltype)), num("karno")))

# stratified by cell type; strata in sorted label order (rtoutcomes numbers strata that way, and
# cox.zph lists the events by stratum)
vet_s <- vet
vet_s$celltype <- factor(as.character(vet_s$celltype))
cases$veteran_strata <- zph_case("veteran_strata", Surv(time, event) ~ karno + age +
                                   strata(celltype), vet_s,
                                 c(num("karno", "age"), role("celltype", "strata")))

# a covariate that varies in one stratum only: its scaled residuals are NA in the others and
# R's cox.zph divides the information by that stratum's events alone
vet_s$karno_large <- ifelse(vet_s$celltype == "large", vet_s$karno, 0)
cases$strata_constant <- zph_case("strata_constant", Surv(time, event) ~ karno_large + age +
                                    strata(celltype), vet_s,
                                  c(num("karno_large", "age"), role("celltype", "strata")))

ov <- with(survival::ovarian, data.frame(time = futime, event = fustat, age = age,
                                         resid_ds = resid.ds, rx = rx, ecog_ps = ecog.ps))
cases$ovarian <- zph_case("ovarian", Surv(time, event) ~ age + rx + ecog_ps, ov,
                          num("age", "rx", "ecog_ps"))

# fractional case weights (R makes the fit robust; residuals use the naive variance)
set.seed(20261127)
ov_w <- ov
ov_w$w <- round(runif(nrow(ov), 0.5, 2.5), 3)
cases$ovarian_weights <- zph_case("ovarian_weights", Surv(time, event) ~ age + rx, ov_w,
                                  c(num("age", "rx"), role("w", "weights")), weights = "w")

# heavy ties (12 distinct times for 300 rows) and tied censoring; pairs collapsed by id
set.seed(42)
n <- 300
syn <- data.frame(z1 = round(rnorm(n), 2), z2 = rbinom(n, 1, 0.4), id = rep(seq_len(n / 2),
                                                                             each = 2))
tt <- ceiling(rexp(n, 0.15 * exp(0.5 * syn$z1 - 0.7 * syn$z2)))
syn$time <- pmin(tt, sample(c(3, 6, 9, 30), n, TRUE), 12)
syn$event <- as.integer(tt <= syn$time)
cases$synthetic_ties <- zph_case("synthetic_ties", Surv(time, event) ~ z1 + z2, syn,
                                 num("z1", "z2"), collapse = "id")

# an aliased covariate (12 x age): cox.zph leaves it out
ov_a <- ov[, c("time", "event", "age", "rx")]
ov_a$age_months <- 12 * ov_a$age
cases$aliased <- zph_case("aliased", Surv(time, event) ~ age + rx + age_months, ov_a,
                          num("age", "rx", "age_months"))

write_fixture(list(cases = unname(cases)), "zph")
