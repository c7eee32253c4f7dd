"""Competing risks at registry scale: rtoutcomes against R's cmprsk (cuminc and crr).

    python benchmarks/competing_risks_speed.py [--cif-sizes 1e4 1e5 1e6] [--crr-sizes 1e3 4e3]

For each size, a fixed-seed data set (times in whole days, so ties are common; about 30%
censored, 45% cause 1, 25% cause 2; 3 groups; 3 standard-normal covariates) is written once
to a temporary file. The same analysis then runs in rtoutcomes (in-process) and in R (Rscript,
timed with system.time around the cmprsk call only). The analyses are the CIFs of both causes by
group with Gray's test (cuminc), and the Fine-Gray model for cause 1 (crr). Reading the data is
never timed. The script prints one table: seconds, R / rtoutcomes, and the largest relative
difference from R (CIF corners and Gray's statistics; crr coefficients and standard errors).
Not a test: it needs R and cmprsk, and crr's variance loops make large sizes take minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261127
N_COVARIATES = 3

R_WORKER = r"""
suppressPackageStartupMessages({library(cmprsk); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2]); p <- as.integer(args[3])
m <- matrix(readBin(args[1], "double", n * (p + 3), size = 8, endian = "little"), nrow = n)
time <- m[, 1]; status <- m[, 2]; group <- m[, 3]; x <- m[, 4:(p + 3), drop = FALSE]
if (args[4] == "cif") {
  s <- system.time(fit <- cuminc(time, status, group))[["elapsed"]]
  curves <- fit[names(fit) != "Tests"]
  out <- list(seconds = s, est = unlist(lapply(curves, `[[`, "est"), use.names = FALSE),
              stat = unname(fit$Tests[, "stat"]))
} else {
  s <- system.time(fit <- crr(time, status, x))[["elapsed"]]
  out <- list(seconds = s, coef = unname(fit$coef), se = unname(sqrt(diag(fit$var))))
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def make_data(n: int, seed: int = SEED) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, N_COVARIATES))
    time = np.ceil(rng.exponential(400.0, n) * np.exp(-0.2 * x[:, 0]))
    status = rng.choice([0, 1, 2], size=n, p=[0.3, 0.45, 0.25]).astype(float)
    group = rng.integers(1, 4, n).astype(float)
    return {"time": time, "status": status, "group": group, "x": x}


def run_r(path: Path, n: int, what: str) -> dict[str, Any]:
    out = subprocess.run(
        ["Rscript", "-e", R_WORKER, str(path), str(n), str(N_COVARIATES), what],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def max_rel(ours: np.ndarray, theirs: Any) -> float:
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    nonzero = b != 0
    return float(np.max(np.abs(a[nonzero] - b[nonzero]) / np.abs(b[nonzero])))


def bench(n: int, what: str, folder: Path) -> tuple[float, float, float]:
    sys.path.insert(0, str(ROOT / "src"))
    from rtoutcomes.stats import cumulative_incidence, fine_gray

    data = make_data(n)
    path = folder / f"data_{n}.bin"
    np.column_stack((data["time"], data["status"], data["group"], data["x"])).T.astype(
        "<f8"
    ).tofile(path)
    start = time.perf_counter()
    if what == "cif":
        fit = cumulative_incidence(data["time"], data["status"], group=data["group"])
        ours_seconds = time.perf_counter() - start
        assert fit.tests is not None
        r = run_r(path, n, what)
        ours = np.concatenate([c.corners()[1] for c in fit])
        diff = max(max_rel(ours, r["est"]), max_rel(fit.tests.statistic, r["stat"]))
    else:
        model = fine_gray(data["x"], data["time"], data["status"])
        ours_seconds = time.perf_counter() - start
        r = run_r(path, n, what)
        diff = max(max_rel(model.coef, r["coef"]), max_rel(model.se, r["se"]))
    return ours_seconds, float(r["seconds"]), diff


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cif-sizes", nargs="*", type=float, default=[1e4, 1e5, 1e6])
    parser.add_argument("--crr-sizes", nargs="*", type=float, default=[1e3, 4e3])
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for what, sizes in (("cif", args.cif_sizes), ("crr", args.crr_sizes)):
            for size in sizes:
                ours, theirs, diff = bench(int(size), what, Path(tmp))
                rows.append((what, int(size), ours, theirs, diff))
    label = {"cif": "cuminc: CIFs + Gray's test", "crr": "crr: Fine-Gray, 3 covariates"}
    print("| analysis | n | rtoutcomes s | R cmprsk s | R / rtoutcomes | max rel diff |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for what, n, ours, theirs, diff in rows:
        print(
            f"| {label[what]} | {n:,} | {ours:.3f} | {theirs:.2f} | {theirs / ours:.0f}x | "
            f"{diff:.1e} |"
        )


if __name__ == "__main__":
    main()
