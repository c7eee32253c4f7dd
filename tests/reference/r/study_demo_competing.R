# R's cumulative incidence (cmprsk::cuminc) for the demo registry's local control with death as a
# competing event: the input is tests/reference/fixtures/study_demo_lc_competing.csv, the
# derived lc_cr_time/lc_cr_status of the 58 demo lesions and the analysed groups, written by
# rtoutcomes (tests/test_study_competing_risks.py checks that the derivation still gives it).
# Sourced by tests/reference/make_reference.R (which provides write_fixture).
suppressPackageStartupMessages(library(cmprsk))
d <- read.csv(file.path(fixtures, "study_demo_lc_competing.csv"), colClasses = c(
  lesion_id = "character", lc_cr_time = "numeric", lc_cr_status = "integer", grade = "character",
  size = "character", lesions = "character", setting = "character"))
times <- c(12, 24, 36)

at <- function(fit, name) {
  tp <- timepoints(fit, times)
  list(estimate = unname(tp$est[name, ]), std_err = unname(sqrt(tp$var[name, ])))
}

overall <- cuminc(d$lc_cr_time, d$lc_cr_status)
out <- list(times = times,
            overall = list(local_failure = at(overall, "1 1"), death = at(overall, "1 2")),
            groups = list())
for (g in c("grade", "size", "lesions", "setting")) {
  sub <- d[d[[g]] != "", ]
  fit <- cuminc(sub$lc_cr_time, sub$lc_cr_status, sub[[g]])
  levels <- list()
  for (level in sort(unique(sub[[g]]))) {
    levels[[level]] <- list(local_failure = at(fit, paste(level, 1)),
                            death = at(fit, paste(level, 2)))
  }
  out$groups[[g]] <- list(levels = levels,
                          gray = list(statistic = unname(fit$Tests[, "stat"]),
                                      p = unname(fit$Tests[, "pv"]),
                                      df = unname(fit$Tests[, "df"])))
}
# Fine-Gray model of local failure on grade (G1 vs G2-G3) and size (<=5 vs >5 cm), the model
# study file's analyses.fine_gray, on the rows with both
both <- d[d$grade != "" & d$size != "", ]
cov <- cbind(grade = as.numeric(both$grade == "G1"), size = as.numeric(both$size == "<=5 cm"))
fg <- crr(both$lc_cr_time, both$lc_cr_status, cov, failcode = 1, cencode = 0)
out$fine_gray <- list(terms = colnames(cov), coef = unname(fg$coef),
                      se = unname(sqrt(diag(fg$var))), n = nrow(both))
out$cmprsk <- as.character(packageVersion("cmprsk"))
write_fixture(out, "study_demo_lc_competing")
