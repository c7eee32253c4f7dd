# Kaplan-Meier, quantiles, summary(times=) and log-rank (survdiff) references for
# rtoutcomes.stats.kaplan_meier / logrank. Sourced by tests/reference/make_reference.R, which
# provides write_fixture(); writes tests/reference/fixtures/km_<dataset>.json and
# logrank_<dataset>.json. Every case carries its own input data, so the tests need no R.
suppressPackageStartupMessages(library(KMsurv))

# JSON has no Inf: spell non-finite numbers out so the tests can tell Inf from NA.
enc <- function(x) {
  if (!is.numeric(x) || all(is.finite(x) | is.na(x))) return(x)
  out <- as.list(x)
  out[is.infinite(x) & x > 0] <- "Inf"
  out[is.infinite(x) & x < 0] <- "-Inf"
  out
}

conf_types <- c("plain", "log", "log-log")
probs <- c(0.25, 0.5, 0.75)

km_case <- function(label, time, event, weights = NULL, at = NULL, conf_int = 0.95) {
  data <- list(time = time, event = event)
  if (!is.null(weights)) data$weights <- weights
  y <- Surv(time, event)
  fits <- list()
  for (ct in conf_types) {
    fit <- if (is.null(weights)) survfit(y ~ 1, conf.type = ct, conf.int = conf_int) else
      survfit(y ~ 1, weights = weights, conf.type = ct, conf.int = conf_int)
    q <- tryCatch(quantile(fit, probs = probs), error = function(e) conditionMessage(e))
    if (is.null(at)) at <- unique(c(0, quantile(time, c(0.1, 0.33, 0.5, 0.9), type = 1),
                                    max(time), max(time) + 1))
    at_fits <- list()
    for (ext in c(FALSE, TRUE)) {
      s <- summary(fit, times = at, extend = ext)
      at_fits[[if (ext) "extend" else "no_extend"]] <- list(
        time = s$time, surv = enc(s$surv), std_err = enc(s$std.err), lower = enc(s$lower),
        upper = enc(s$upper), n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor)
    }
    # The curve itself does not depend on conf.type: stored once, with the first type.
    curve <- list(
      time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, n_censor = fit$n.censor,
      surv = fit$surv, std_err = enc(fit$std.err), logse = fit$logse, cumhaz = fit$cumhaz)
    fits[[ct]] <- list(
      lower = enc(fit$lower), upper = enc(fit$upper),
      quantile = if (is.character(q)) list(probs = probs, error = q) else
        list(probs = probs, quantile = unname(q$quantile), lower = unname(q$lower),
             upper = unname(q$upper)),
      at = at_fits)
  }
  list(label = label, data = data, curve = curve, at_times = at, conf_level = conf_int, fits = fits)
}

# Trend test for ordered groups, from survdiff's own pieces: U = s'(O - E), V = s' var s,
# chi-square U^2 / V on 1 df (the usual log-rank test for trend).
trend <- function(sd, scores) {
  oe <- rowSums(as.matrix(sd$obs)) - rowSums(as.matrix(sd$exp))
  u <- sum(scores * oe)
  v <- drop(t(scores) %*% sd$var %*% scores)
  list(scores = scores, u = u, v = v, chisq = u^2 / v,
       pvalue = pchisq(u^2 / v, 1, lower.tail = FALSE))
}

logrank_case <- function(label, time, event, group, strata = NULL, rho = 0, scores = NULL) {
  group <- as.character(group)
  g <- factor(group)
  data <- list(time = time, event = event, group = group)
  if (!is.null(strata)) data$strata <- as.character(strata)
  sd <- tryCatch(
    if (is.null(strata)) survdiff(Surv(time, event) ~ g, rho = rho) else {
      st <- factor(as.character(strata))
      survdiff(Surv(time, event) ~ g + strata(st), rho = rho)
    }, error = function(e) conditionMessage(e))
  if (is.character(sd)) return(list(label = label, data = data, rho = rho, error = sd))
  out <- list(
    label = label, data = data, rho = rho, levels = levels(g),
    n = as.vector(sd$n),
    obs = rowSums(as.matrix(sd$obs)), exp = rowSums(as.matrix(sd$exp)),
    obs_by_stratum = as.matrix(sd$obs), exp_by_stratum = as.matrix(sd$exp),
    var = sd$var, chisq = sd$chisq, df = sum(rowSums(as.matrix(sd$exp)) > 0) - 1,
    pvalue = sd$pvalue)
  if (!is.null(scores)) out$trend <- trend(sd, scores)
  out
}

# ---- datasets --------------------------------------------------------------------------------
lung1 <- survival::lung
lung1$event <- lung1$status - 1
ecog <- lung1[!is.na(lung1$ph.ecog), ]
# Deterministic case weights: integer ones (R keeps Greenwood) and fractional ones (R switches
# to the infinitesimal-jackknife variance).
int_w <- 1 + (seq_len(nrow(lung1)) %% 3)
frac_w <- round(0.5 + (seq_len(nrow(lung1)) %% 7) / 4, 2)

vet <- survival::veteran
ova <- survival::ovarian
aml1 <- survival::aml
dia <- survival::diabetic
data(larynx, package = "KMsurv")

# Synthetic: heavy ties (times on a 1..15 grid), tied censoring (censored at event times),
# late censoring (the largest times censored), three groups and two strata.
set.seed(20261127)
n_syn <- 240
syn <- data.frame(
  time = sample(1:15, n_syn, replace = TRUE),
  event = rbinom(n_syn, 1, 0.6),
  group = sample(c("a", "b", "c"), n_syn, replace = TRUE, prob = c(0.5, 0.3, 0.2)),
  stratum = sample(c("s1", "s2"), n_syn, replace = TRUE),
  weights = round(runif(n_syn, 0.2, 3), 3)
)
syn$time[syn$group == "c"] <- syn$time[syn$group == "c"] + 2  # a real group effect
syn$event[syn$time >= 15] <- 0                                 # late censoring
syn <- rbind(syn, data.frame(time = c(0, 0, 16, 17, 17), event = c(1, 0, 0, 0, 0),
                             group = "a", stratum = "s1", weights = 1))

# Flat at exactly 0.5 between two events (median half-way: (5 + 8) / 2), and flat at 0.5 to the
# end of follow-up (the last-point rule: (5 + 10) / 2).
half_mid <- list(time = c(1, 2, 3, 4, 5, 6, 8, 9, 11, 12), event = c(1, 1, 1, 1, 1, 0, 1, 0, 1, 0))
half_end <- list(time = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), event = c(1, 1, 1, 1, 1, 0, 0, 0, 0, 0))
# Never reaches 0.5 (median NA), with ties and tied censoring.
no_median <- list(time = c(2, 2, 3, 3, 3, 5, 7, 7, 8, 9, 9, 10, 12, 12, 14),
                  event = c(1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0))

# Many small random sets (fixed seed) for the corners: all censored, all events, ties between
# events and censorings at 0, integer and fractional weights, curves reaching 0.
set.seed(31)
random_km <- lapply(1:40, function(i) {
  n <- sample(2:25, 1)
  time <- sample(0:8, n, replace = TRUE)
  event <- rbinom(n, 1, c(0, 1, runif(1))[1 + i %% 3])
  w <- switch(1 + i %% 4, NULL, sample(1:3, n, replace = TRUE), round(runif(n, 0.2, 2), 2), NULL)
  km_case(paste("random", i), time, event, weights = w)
})
random_logrank <- lapply(1:40, function(i) {
  n <- sample(4:30, 1)
  k <- sample(2:4, 1)
  strata <- if (i %% 2) NULL else sample(1:sample(1:3, 1), n, replace = TRUE)
  group <- sample(letters[1:k], n, replace = TRUE)
  logrank_case(paste("random", i), sample(0:6, n, replace = TRUE), rbinom(n, 1, 0.6),
               group, strata = strata, rho = c(0, 0.5, 1)[1 + i %% 3],
               scores = seq_along(unique(group))^2)
})

write_fixture(list(cases = c(list(
  km_case("lung", lung1$time, lung1$event),
  km_case("lung, sex 2", lung1$time[lung1$sex == 2], lung1$event[lung1$sex == 2]),
  km_case("lung, integer weights", lung1$time, lung1$event, weights = int_w),
  km_case("lung, fractional weights", lung1$time, lung1$event, weights = frac_w),
  km_case("veteran", vet$time, vet$status),
  km_case("veteran, trt 2", vet$time[vet$trt == 2], vet$status[vet$trt == 2]),
  km_case("ovarian", ova$futime, ova$fustat),
  km_case("aml, maintained", aml1$time[aml1$x == "Maintained"],
          aml1$status[aml1$x == "Maintained"]),
  km_case("aml", aml1$time, aml1$status),
  km_case("diabetic", dia$time, dia$status),
  km_case("larynx", larynx$time, larynx$delta),
  km_case("synthetic ties", syn$time, syn$event, at = c(7, 0, 1, 2.5, 7, 15, 16, 17, 20)),
  km_case("synthetic ties, fractional weights", syn$time, syn$event, weights = syn$weights),
  km_case("median flat at 0.5 between events", half_mid$time, half_mid$event),
  km_case("median flat at 0.5 to the end", half_end$time, half_end$event),
  km_case("median never reached", no_median$time, no_median$event),
  km_case("fractional weights, curve reaching 0", c(1, 2, 3, 3, 4), c(1, 0, 1, 1, 1),
          weights = c(0.5, 1.5, 1, 2, 0.7), at = c(0, 2, 4, 5)),
  km_case("lung, 90% limits", lung1$time, lung1$event, conf_int = 0.90)
), random_km)), "kaplan_meier")

write_fixture(list(cases = c(list(
  logrank_case("lung by sex", lung1$time, lung1$event, lung1$sex),
  logrank_case("lung by sex, rho 1", lung1$time, lung1$event, lung1$sex, rho = 1),
  logrank_case("lung by ph.ecog, trend", ecog$time, ecog$event, ecog$ph.ecog, scores = 0:3),
  logrank_case("lung by ph.ecog, strata sex", ecog$time, ecog$event, ecog$ph.ecog,
               strata = ecog$sex, scores = 0:3),
  logrank_case("veteran by trt", vet$time, vet$status, vet$trt),
  logrank_case("veteran by celltype, rho 1", vet$time, vet$status, vet$celltype, rho = 1),
  logrank_case("veteran by celltype, strata trt", vet$time, vet$status, vet$celltype,
               strata = vet$trt),
  logrank_case("ovarian by rx, strata resid.ds", ova$futime, ova$fustat, ova$rx,
               strata = ova$resid.ds),
  logrank_case("aml by x", aml1$time, aml1$status, aml1$x),
  logrank_case("diabetic by trt, strata risk", dia$time, dia$status, dia$trt,
               strata = dia$risk),
  logrank_case("larynx by stage, trend", larynx$time, larynx$delta, larynx$stage,
               scores = 1:4),
  logrank_case("larynx by stage, rho 1, trend", larynx$time, larynx$delta, larynx$stage,
               rho = 1, scores = 1:4),
  logrank_case("synthetic by group", syn$time, syn$event, syn$group, scores = c(0, 1, 2)),
  logrank_case("synthetic by group, strata", syn$time, syn$event, syn$group,
               strata = syn$stratum, scores = c(0, 1, 2)),
  logrank_case("synthetic by group, strata, rho 0.5", syn$time, syn$event, syn$group,
               strata = syn$stratum, rho = 0.5, scores = c(0, 1, 2)),
  logrank_case("synthetic by group, rho 1", syn$time, syn$event, syn$group, rho = 1),
  # Group d leaves before the first event: expected 0, so it is left out of the chi-square.
  # A stratum without events (it adds nothing, whatever rho).
  logrank_case("stratum without events, rho 1", c(1, 2, 3, 4, 5, 6, 2, 3),
               c(0, 0, 1, 1, 1, 0, 0, 0), c("a", "b", "a", "b", "a", "b", "a", "b"),
               strata = c(1, 1, 2, 2, 2, 2, 1, 1), rho = 1),
  logrank_case("group without expected events", c(0.5, 0.5, 1, 2, 3, 4, 5, 6, 7),
               c(0, 0, 1, 1, 0, 1, 1, 0, 1), c("d", "d", "a", "b", "a", "b", "a", "b", "c"))
), random_logrank)), "logrank")

# Median follow-up: reverse Kaplan-Meier (censoring as the event, R's default log limits) and the
# median and range of observed times, over all rows and over censored rows only.
follow_up_case <- function(label, time, event) {
  q <- quantile(survfit(Surv(time, 1 - event) ~ 1), probs = 0.5)
  cens <- time[event == 0]
  list(label = label, data = list(time = time, event = event),
       reverse_km = list(estimate = unname(q$quantile), lower = unname(q$lower),
                         upper = unname(q$upper)),
       observed = list(median = median(time), min = min(time), max = max(time)),
       censored = list(median = median(cens), min = min(cens), max = max(cens)))
}
write_fixture(list(cases = list(
  follow_up_case("lung", lung1$time, lung1$event),
  follow_up_case("veteran", vet$time, vet$status),
  follow_up_case("ovarian", ova$futime, ova$fustat),
  follow_up_case("larynx", larynx$time, larynx$delta),
  follow_up_case("synthetic ties", syn$time, syn$event)
)), "follow_up")
