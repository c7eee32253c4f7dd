# Exact (Clopper-Pearson) confidence intervals of a proportion, R's binom.test, for the
# best-response table's objective response and disease control rates.
# Sourced by tests/reference/make_reference.R (which provides write_fixture).
cases <- list(c(16, 58), c(51, 58), c(0, 58), c(58, 58), c(1, 1), c(0, 1), c(3, 7), c(10, 37))
out <- list(cases = lapply(cases, function(k) {
  lapply(c(0.9, 0.95, 0.99), function(level) {
    ci <- binom.test(k[1], k[2], conf.level = level)$conf.int
    list(events = k[1], n = k[2], conf_level = level, lower = ci[1], upper = ci[2])
  })
}))
write_fixture(list(intervals = unlist(out$cases, recursive = FALSE)), "binom_test")
