"""Survival statistics at registry scale: rtoutcomes against lifelines and R survival.

    python benchmarks/survival_scale.py [--sizes 1e5 1e6] [--km-size 1e7] [--threads 1]
        [--rounds 3] [--repeat 3] [--compare OTHER/src] [--skip-r] [--skip-lifelines]

Generates a fixed-seed data set per size (10 standard-normal covariates, exponential event
times and uniform censoring rounded up to whole days, so ties are common), writes it once to a
temporary folder, and fits the same Cox model (Efron ties) with each tool in its own subprocess:
rtoutcomes, lifelines' CoxPHFitter and R's coxph (timed inside R with system.time around the
coxph call only), each ``--repeat`` times in its process. The tools take turns: ``--rounds``
rounds each start one process per tool, one after the other, so that a busy machine slows
them alike; each tool's fastest run over all rounds is reported (the first run of a fresh
process also pays for touching new memory, which is slow on some virtual machines), with the
fastest per round behind it. ``--compare OTHER/src`` adds the rtoutcomes of another checkout
(its ``src`` folder; e.g. main before a change) as one more tool in the same rounds.
Loading the data is never timed. Peak memory is each subprocess's own peak
resident set (VmHWM), data included. Then Kaplan-Meier (and the log-rank test, when
``rtoutcomes.stats`` has it) on ``--km-size`` rows. BLAS threads are capped at ``--threads``
for every tool alike (OPENBLAS/OMP/MKL_NUM_THREADS).

Prints one table: CPU seconds (user + system of the process: what the fit costs, robust to other
jobs on the machine; every tool runs single-threaded) and wall seconds, each with its ratio to
rtoutcomes, peak memory and the largest absolute difference of the coefficients from
rtoutcomes'. Then the goals (issue 11: the Cox kernel at least 8x faster than lifelines, in
CPU and in wall time) with whether each holds. Not a test: it takes minutes and needs R and
lifelines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
N_COVARIATES = 10
SEED = 20261127

R_WORKER = r"""
suppressPackageStartupMessages({library(survival); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2]); p <- as.integer(args[3])
m <- matrix(readBin(args[1], "double", n * (p + 2), size = 8, endian = "little"), nrow = n)
df <- as.data.frame(m); names(df) <- c("time", "event", paste0("x", seq_len(p)))
times <- sapply(seq_len(as.integer(args[4])), function(i) {
  st <- system.time(fit <<- coxph(Surv(time, event) ~ ., data = df, ties = "efron"))
  c(st[["elapsed"]], st[["user.self"]] + st[["sys.self"]])
})
hwm <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
cat(toJSON(list(seconds = min(times[1, ]), cpu = min(times[2, ]), coef = unname(coef(fit)),
                peak_kb = as.numeric(gsub("[^0-9]", "", hwm))), digits = NA, auto_unbox = TRUE))
"""


def peak_kb() -> float:
    """This process's peak resident set (VmHWM) in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return float(line.split()[1])
    return float("nan")


def make_data(n: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """Event times in whole days (so many ties), about 20% censored, true log-HRs -0.3..0.3."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, N_COVARIATES))
    beta = np.linspace(-0.3, 0.3, N_COVARIATES)
    event_day = np.ceil(rng.exponential(365.0 * np.exp(-(x @ beta))))
    censor_day = np.ceil(rng.uniform(1.0, 3650.0, n))
    return {
        "x": x,
        "time": np.minimum(event_day, censor_day),
        "event": (event_day <= censor_day).astype(np.float64),
    }


def write_data(data: dict[str, np.ndarray], folder: Path, n: int) -> tuple[Path, Path]:
    npz = folder / f"cox_{n}.npz"
    np.savez(npz, **data)
    raw = folder / f"cox_{n}.bin"  # column-major float64 for R: time, event, x1..x10
    np.column_stack([data["time"], data["event"], data["x"]]).astype("<f8").T.tofile(raw)
    return npz, raw


# ---------------------------------------------------------------------------- workers


def worker_rtoutcomes(path: Path, concordance: bool, repeat: int) -> dict[str, Any]:
    from rtoutcomes.stats import cox

    d = np.load(path)
    x, t, e = d["x"], d["time"], d["event"]
    seconds, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fit = cox(x, t, e, ties="efron")
        if concordance:
            float(fit.concordance)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {
        "seconds": min(seconds),
        "cpu": min(cpu),
        "coef": fit.coef.tolist(),
        "peak_kb": peak_kb(),
    }


def worker_lifelines(path: Path, repeat: int) -> dict[str, Any]:
    import pandas as pd
    from lifelines import CoxPHFitter

    d = np.load(path)
    frame = pd.DataFrame(d["x"], columns=[f"x{j + 1}" for j in range(d["x"].shape[1])])
    frame["time"], frame["event"] = d["time"], d["event"]
    seconds, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fitter = CoxPHFitter().fit(frame, duration_col="time", event_col="event")
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {
        "seconds": min(seconds),
        "cpu": min(cpu),
        "coef": fitter.params_.to_numpy().tolist(),
        "peak_kb": peak_kb(),
    }


def worker_km(n: int, what: str, repeat: int) -> dict[str, Any]:
    import rtoutcomes.stats as stats

    rng = np.random.default_rng(SEED)
    t = np.ceil(rng.exponential(700.0, n))
    e = (rng.random(n) < 0.7).astype(np.float64)
    g = rng.integers(0, 3, n)
    seconds, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        if what == "kaplan_meier":
            stats.kaplan_meier(t, e)
        else:
            stats.logrank(t, e, g)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"seconds": min(seconds), "cpu": min(cpu), "coef": [], "peak_kb": peak_kb()}


# ---------------------------------------------------------------------------- driver


def run(command: list[str], threads: int, src: str | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    code = str(Path(src).resolve()) if src else str(ROOT / "src")
    env["RTOUTCOMES_BENCH_SRC"] = code
    env["PYTHONPATH"] = os.pathsep.join([code, env.get("PYTHONPATH", "")])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def python_worker(repeat: int, *args: str) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--repeat",
        str(repeat),
        "--worker",
        *args,
    ]


def fastest(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest (least CPU) of one tool's rounds, with every round's CPU seconds."""
    good = [r for r in results if "error" not in r]
    if not good:
        return results[0]
    best = dict(min(good, key=lambda r: r["cpu"]))
    best["rounds"] = [r["cpu"] for r in good]
    return best


def cox_rows(n: int, folder: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    npz, raw = write_data(make_data(n), folder, n)
    commands: dict[str, tuple[list[str], str | None]] = {
        "rtoutcomes": (python_worker(args.repeat, "rtoutcomes", str(npz)), None),
        "rtoutcomes + concordance": (python_worker(args.repeat, "rtoutcomes-c", str(npz)), None),
    }
    if args.compare:
        commands["rtoutcomes (--compare)"] = (
            python_worker(args.repeat, "rtoutcomes", str(npz)),
            args.compare,
        )
    if not args.skip_lifelines:
        commands["lifelines"] = (python_worker(args.repeat, "lifelines", str(npz)), None)
    if not args.skip_r and shutil.which("Rscript"):
        script = folder / "cox.R"
        script.write_text(R_WORKER)
        r_args = [str(raw), str(n), str(N_COVARIATES), str(args.repeat)]
        commands["R survival"] = (["Rscript", str(script), *r_args], None)
    results: dict[str, list[dict[str, Any]]] = {tool: [] for tool in commands}
    for _ in range(args.rounds):  # the tools take turns, so that load hits them alike
        for tool, (command, src) in commands.items():
            results[tool].append(run(command, args.threads, src))
    runs = {tool: fastest(found) for tool, found in results.items()}
    base = runs["rtoutcomes"]
    rows = []
    for tool, result in runs.items():
        row: dict[str, Any] = {"task": f"Cox Efron n={n:.0e} p={N_COVARIATES}", "tool": tool}
        if "error" in result:
            row["note"] = f"failed: {result['error']}"
        else:
            row["seconds"], row["cpu"] = result["seconds"], result["cpu"]
            row["peak_mb"] = result["peak_kb"] / 1024
            if len(result.get("rounds", [])) > 1:
                row["note"] = "rounds' cpu s: " + ", ".join(f"{c:.2f}" for c in result["rounds"])
            if "seconds" in base:
                row["ratio"] = result["cpu"] / base["cpu"]
                row["wall_ratio"] = result["seconds"] / base["seconds"]
                row["max_coef_diff"] = float(
                    np.max(np.abs(np.array(result["coef"]) - np.array(base["coef"])))
                )
        rows.append(row)
    return rows


def km_rows(n: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    import rtoutcomes.stats as stats  # to see which estimators are available on this tree

    rows = []
    for what in ("kaplan_meier", "logrank"):
        row: dict[str, Any] = {"task": f"{what} n={n:.0e}", "tool": "rtoutcomes"}
        if not hasattr(stats, what):
            row["note"] = "not in rtoutcomes.stats on this tree"
        else:
            result = run(python_worker(args.repeat, "km", str(n), what), args.threads)
            if "error" in result:
                row["note"] = f"failed: {result['error']}"
            else:
                row["seconds"], row["cpu"] = result["seconds"], result["cpu"]
                row["peak_mb"] = result["peak_kb"] / 1024
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = f"{'task':<26} {'tool':<25} {'cpu s':>7} {'x rtoutc.':>9} {'wall s':>7} "
    header += f"{'x rtoutc.':>9} {'peak MB':>8} {'max |coef diff|':>16}"
    print(header)
    print("-" * len(header))
    for row in rows:

        def cell(key: str, fmt: str, width: int, row: dict[str, Any] = row) -> str:
            return format(row[key], fmt).rjust(width) if key in row else " " * width

        line = f"{row['task']:<26} {row['tool']:<25} {cell('cpu', '.2f', 7)} "
        line += f"{cell('ratio', '.1f', 9)} {cell('seconds', '.2f', 7)} "
        line += f"{cell('wall_ratio', '.1f', 9)} {cell('peak_mb', '.0f', 8)} "
        line += f"{cell('max_coef_diff', '.1e', 16)}"
        if "note" in row:
            line += f"  {row['note']}"
        print(line)


def print_targets(rows: list[dict[str, Any]]) -> None:
    """The issue's speed goals, checked against this run's table."""
    by = {(row["task"], row["tool"]): row for row in rows if "seconds" in row}
    cox_task = f"Cox Efron n={1e6:.0e} p={N_COVARIATES}"
    base = by.get((cox_task, "rtoutcomes"))
    checks = []
    if base is not None:
        for tool, goal in (("lifelines", 8.0), ("R survival", 10.0)):
            if (cox_task, tool) in by:
                other = by[(cox_task, tool)]
                cpu, wall = other["cpu"] / base["cpu"], other["seconds"] / base["seconds"]
                holds = "yes" if min(cpu, wall) >= goal else "NO"
                checks.append(
                    f"Cox 1e6 x 10 vs {tool}: {cpu:.1f}x less CPU time, {wall:.1f}x less wall "
                    f"time (goal >= {goal:g}x in both): {holds}"
                )
        checks.append(f"Cox 1e6 x 10 peak memory: {base['peak_mb']:.0f} MB (goal < 1024 MB)")
    for what in ("kaplan_meier", "logrank"):
        for (task, _), row in by.items():
            if task.startswith(what):
                checks.append(f"{task}: {row['seconds']:.2f} s wall (goal < 2 s)")
    for line in checks:
        print("  " + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6])
    parser.add_argument("--km-size", type=float, default=1e7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed runs per tool in each of its processes; the fastest is reported",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="processes per tool, started in turns (tool 1, tool 2, ..., tool 1, ...)",
    )
    parser.add_argument(
        "--compare",
        metavar="SRC",
        help="the src folder of another rtoutcomes checkout, timed in the same rounds",
    )
    parser.add_argument("--skip-r", action="store_true")
    parser.add_argument("--skip-lifelines", action="store_true")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # the code of this checkout (or of --compare's) in every process
    sys.path.insert(0, os.environ.get("RTOUTCOMES_BENCH_SRC", str(ROOT / "src")))
    if args.worker:
        kind, *rest = args.worker
        if kind in ("rtoutcomes", "rtoutcomes-c"):
            result = worker_rtoutcomes(Path(rest[0]), kind == "rtoutcomes-c", args.repeat)
        elif kind == "lifelines":
            result = worker_lifelines(Path(rest[0]), args.repeat)
        else:
            result = worker_km(int(rest[0]), rest[1], args.repeat)
        print(json.dumps(result))
        return 0
    load_before = os.getloadavg()[0]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="rtoutcomes-bench-") as tmp:
        for size in args.sizes:
            rows += cox_rows(int(size), Path(tmp), args)
    rows += km_rows(int(args.km_size), args)
    print(
        f"cores: {os.cpu_count()}, BLAS threads per tool: {args.threads}, fastest of "
        f"{args.rounds} rounds x {args.repeat} runs per tool (tools in turns), load average: "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    print_table(rows)
    print("targets:")
    print_targets(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
