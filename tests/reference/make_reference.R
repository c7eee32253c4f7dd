#!/usr/bin/env Rscript
# Regenerates every R reference fixture used by the tests (tests read the fixtures only, so R is
# not needed to run them). Run from the repository root:
#     Rscript tests/reference/make_reference.R
# Needs Debian's r-base-core r-cran-survival r-cran-cmprsk r-cran-mass r-cran-kmsurv r-cran-jsonlite.
# Each script in tests/reference/r/ writes its fixtures (JSON) to tests/reference/fixtures/.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
here <- "tests/reference"
fixtures <- file.path(here, "fixtures")
dir.create(fixtures, showWarnings = FALSE, recursive = TRUE)

# Every fixture records the software that made it: R and every R package the scripts use.
provenance <- list(
  R = paste(R.version$major, R.version$minor, sep = "."),
  survival = as.character(packageVersion("survival")),
  cmprsk = as.character(packageVersion("cmprsk")),
  MASS = as.character(packageVersion("MASS")),
  KMsurv = as.character(packageVersion("KMsurv")),
  jsonlite = as.character(packageVersion("jsonlite"))
)

write_fixture <- function(x, name) {
  x$provenance <- provenance
  writeLines(toJSON(x, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = FALSE),
             file.path(fixtures, paste0(name, ".json")))
}

for (script in sort(list.files(file.path(here, "r"), pattern = "[.]R$", full.names = TRUE))) {
  message("running ", script)
  source(script, local = new.env())
}
