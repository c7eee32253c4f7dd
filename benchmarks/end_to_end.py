"""End to end: the commands users run, at registry scale, against an R script doing the same.

    python benchmarks/end_to_end.py [--sizes 1e5 1e6] [--registry-copies 8 100] [--skip-r]
        [--repeat N] [--skip-commands]

Each command runs in its own process, timed as a user would see it (imports included). For each
process: CPU seconds (user + system, from ``wait4``: its own, robust to other jobs on a shared
machine), wall seconds and peak resident memory. Rows:

- ``analyze`` on a synthetic flat table of 1e5 and 1e6 patients (whole-day times, a few missing
  grades; ``write_analysis_table``) with a study file of four covariates: Kaplan-Meier overall
  and by two groups with log-rank, four univariate Cox models and a multivariate one, each with
  its proportional-hazards test. Once as the command (report, tables, figures, Word, Excel) and
  once as the analyses alone (read the table, run them, write results.json; no figures), which
  is what the R script does: data.table::fread (read.csv when data.table is absent), survfit,
  survdiff, coxph per covariate and multivariate, cox.zph.
- the model study (``rtoutcomes run`` with feng2022.yaml) on the demo registry copied 8 times
  (296 patients, a department) and 100 times (3,700 patients, 5,800 lesions: the registry
  benchmark's size), and the import of those registries;
- ``demo``, ``--help`` and ``dosimetry`` on the breast-boost plan (fastest of 3 for the last two).

Then each goal of the speed issue with the measured value and whether it holds. BLAS threads are
capped at ``--threads`` for every tool alike. Not a test: it takes minutes and needs R.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
REGISTRY_COPIES = (8, 100)
SEED = 20261130
PYCACHE = Path(tempfile.gettempdir()) / "rtoutcomes-benchmark-pycache"


STUDY = """\
title: End-to-end benchmark (synthetic)
data: {data}
time_unit: days
rates_at: [365, 730, 1095]
km: {{conf_type: log, conf_level: 0.95}}
cox: {{ties: efron}}
endpoints:
  OS: {{time: time, event: status, event_values: [1]}}
covariates:
  grade: {{column: grade, type: categorical, reference: "G1", recode: {{G1: [1], G2-G3: [2, 3]}}}}
  size: {{column: size_cm, type: binary, cut: 5, labels: ["<=5 cm", ">5 cm"]}}
  age: {{column: age, type: continuous, per: 10, unit: years}}
  sex: {{column: sex, type: categorical, reference: male}}
analyses:
  groups: [grade, size]
  univariate: [grade, size, age, sex]
  multivariate: {{OS: [grade, size, age, sex]}}
"""


def write_analysis_table(n: int, path: Path, seed: int = SEED) -> None:
    """One row per patient: whole-day times (many ties), ~30% censored, a few missing cells."""
    rng = np.random.default_rng(seed)
    grade = rng.integers(1, 4, n)
    size = np.round(rng.lognormal(1.4, 0.5, n), 1)
    age = rng.integers(18, 90, n)
    male = rng.random(n) < 0.55
    risk = 0.3 * (grade - 1) + 0.4 * (size > 5) + 0.02 * (age - 60) + 0.1 * male
    event_day = np.ceil(rng.exponential(900.0 * np.exp(-risk)))
    censor_day = np.ceil(rng.uniform(30.0, 3650.0, n))
    time = np.minimum(event_day, censor_day)
    status = (event_day <= censor_day).astype(int)
    grade_text = grade.astype(str).astype(object)
    grade_text[rng.random(n) < 0.02] = ""  # unknown grade: dropped per model
    sex = np.where(male, "male", "female")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("patient_id,time,status,grade,size_cm,age,sex\n")
        rows = zip(
            range(1, n + 1), time.astype(int), status, grade_text, size, age, sex, strict=True
        )
        f.writelines(f"P{i},{t},{s},{g},{z},{a},{x}\n" for i, t, s, g, z, a, x in rows)


def write_study(path: Path, data: Path) -> None:
    path.write_text(STUDY.format(data=data), encoding="utf-8")


R_SCRIPT = r"""
# The same analyses as rtoutcomes analyze with the benchmark's study file, no figures.
suppressPackageStartupMessages(library(survival))
path <- commandArgs(trailingOnly = TRUE)[1]
if (requireNamespace("data.table", quietly = TRUE)) {
  d <- as.data.frame(data.table::fread(path)); reader <- "data.table::fread"
} else {
  d <- read.csv(path); reader <- "read.csv"
}
d$grade <- factor(ifelse(d$grade == 1, "G1", "G2-G3"), levels = c("G1", "G2-G3"))
d$size <- factor(ifelse(d$size_cm > 5, ">5 cm", "<=5 cm"), levels = c("<=5 cm", ">5 cm"))
d$age <- d$age / 10
d$sex <- factor(d$sex, levels = c("male", "female"))
km <- survfit(Surv(time, status) ~ 1, data = d)
rates <- summary(km, times = c(365, 730, 1095))
follow_up <- survfit(Surv(time, 1 - status) ~ 1, data = d)
for (g in c("grade", "size")) {
  f <- as.formula(paste("Surv(time, status) ~", g))
  by_group <- survfit(f, data = d)
  by_group_rates <- summary(by_group, times = c(365, 730, 1095))
  test <- survdiff(f, data = d)
}
fits <- lapply(c(grade = "grade", size = "size", age = "age", sex = "sex"), function(v)
  coxph(as.formula(paste("Surv(time, status) ~", v)), data = d, ties = "efron"))
fits$multivariate <- coxph(Surv(time, status) ~ grade + size + age + sex, data = d,
                           ties = "efron")
ph <- lapply(fits, cox.zph)
cat(reader, "\n")
"""

NO_FIGURES = """
import json, sys
from pathlib import Path
from rtoutcomes.study import load_study
from rtoutcomes.study import analysis
from rtoutcomes.study.table import read_table
from rtoutcomes.report.jsonio import dumps
study = load_study(Path(sys.argv[1]))
table = read_table(Path(sys.argv[2]))
results = analysis.run_analyses(study, {name: table for name in study.endpoints})
if hasattr(analysis, "strip_fits"):  # releases before the typed results model kept fits in it
    results = analysis.strip_fits(results)
Path(sys.argv[3]).write_text(dumps(results), encoding="utf-8")
"""


@dataclass
class Measured:
    """One process: CPU seconds (user + system), wall seconds, peak resident set (MB)."""

    cpu: float
    wall: float
    peak_mb: float
    ok: bool = True
    note: str = ""


def measure(
    command: list[str], threads: int, cwd: Path | None = None, src: Path = ROOT / "src"
) -> Measured:
    """Run ``command`` with rtoutcomes from ``src``; its own CPU time (worker processes
    included) and peak memory from wait4, not the machine's."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)  # compiled once (warm_bytecode)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd
    )
    assert process.stderr is not None
    error = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    note = "" if status == 0 else (error.strip().splitlines() or ["failed"])[-1][:80]
    return Measured(
        usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, status == 0, note
    )


def fastest(command: list[str], args: argparse.Namespace, repeat: int = 1) -> Measured:
    runs = [measure(command, args.threads) for _ in range(max(repeat, 1))]
    return min(runs, key=lambda m: m.cpu)


def fastest_each(
    commands: list[list[str]], args: argparse.Namespace, repeat: int, srcs: list[Path] | None = None
) -> list[Measured]:
    """Each command's fastest (by CPU) of ``repeat`` runs, the commands alternating run by
    run, so that a change of the machine's load falls on all of them alike (``srcs``: the
    rtoutcomes source tree of each command, default this one's)."""
    runs: list[list[Measured]] = [[] for _ in commands]
    trees = srcs or [ROOT / "src"] * len(commands)
    for _ in range(max(repeat, 1)):
        for done, command, src in zip(runs, commands, trees, strict=True):
            done.append(measure(command, args.threads, src=src))
    return [min(done, key=lambda m: m.cpu) for done in runs]


def warm_bytecode(trees: list[Path], folder: Path, args: argparse.Namespace) -> None:
    """Run ``analyze`` and the analyses alone once on a small table with each tree, unmeasured,
    so that every module they import is byte-compiled (into PYCACHE, the
    ``PYTHONPYCACHEPREFIX`` of every measured process: no tree is written), as an installed
    package is. In a shell with PYTHONDONTWRITEBYTECODE set every run would otherwise compile
    the modules it imports again (~0.2 CPU s of an ``analyze``), which no user's run does."""
    data, study = folder / "warm.csv", folder / "warm.yaml"
    write_analysis_table(1000, data)
    write_study(study, data)
    for tree in trees:
        measure(
            rtoutcomes("analyze", str(data), "--config", str(study), "--out", str(folder / "w")),
            args.threads,
            src=tree / "src",
        )
        measure(
            [sys.executable, "-c", NO_FIGURES, str(study), str(data), str(folder / "w.json")],
            args.threads,
            src=tree / "src",
        )


def rtoutcomes(*args: str) -> list[str]:
    return [sys.executable, "-m", "rtoutcomes", *args]


@dataclass
class Row:
    task: str
    tool: str
    result: Measured
    base: Measured | None = None  # the row this one is compared with (x rtoutcomes)


@dataclass
class Goal:
    what: str
    measured: str
    holds: bool | None  # None: not measured in this run


def table_rows(n: int, folder: Path, args: argparse.Namespace) -> tuple[list[Row], list[Goal]]:
    data, study = folder / f"table_{n}.csv", folder / f"study_{n}.yaml"
    write_analysis_table(n, data)
    write_study(study, data)
    label = f"analyze n={n:.0e}"

    def ours(suffix: str) -> list[list[str]]:
        """``analyze`` and the analyses alone, writing to names ending in ``suffix``."""
        out, results = folder / f"out_{n}{suffix}", folder / f"results_{n}{suffix}.json"
        return [
            rtoutcomes("analyze", str(data), "--config", str(study), "--out", str(out), "--quiet"),
            [sys.executable, "-c", NO_FIGURES, str(study), str(data), str(results)],
        ]

    commands = ours("")
    srcs = [ROOT / "src"] * 2
    if args.baseline is not None:  # the same two commands on another tree, alternating
        commands += ours("_baseline")
        srcs += [args.baseline / "src"] * 2
    with_r = not args.skip_r and shutil.which("Rscript") is not None
    if with_r:
        script = folder / "analyses.R"
        script.write_text(R_SCRIPT, encoding="utf-8")
        commands.append(["Rscript", str(script), str(data)])
        srcs.append(ROOT / "src")
    measured = fastest_each(commands, args, args.repeat, srcs)
    full, bare = measured[0], measured[1]
    rows = [
        Row(label, "rtoutcomes analyze (report, figures)", full),
        Row(label, "rtoutcomes analyses (no figures)", bare),
    ]
    if args.baseline is not None:
        base_full, base_bare = measured[2], measured[3]
        rows += [
            Row(label, "  baseline: analyze (report, figures)", base_full),
            Row(label, "  baseline: analyses (no figures)", base_bare),
        ]
        measured = [*measured[:2], *measured[4:]]
    goals = []
    if n == 10**6:
        goals += [
            Goal(
                "analyze 1e6: wall < 8 s",
                f"{full.wall:.1f} s ({full.cpu:.1f} CPU s)",
                full.ok and full.wall < 8,
            ),
            Goal(
                "analyze 1e6: peak < 1 GB",
                f"{full.peak_mb:.0f} MB",
                full.ok and full.peak_mb < 1024,
            ),
        ]
    if n == 10**5:
        goals.append(
            Goal(
                "analyze 1e5: wall < 1.5 s",
                f"{full.wall:.2f} s ({full.cpu:.2f} CPU s)",
                full.ok and full.wall < 1.5,
            )
        )
    if with_r:
        r = measured[2]
        rows.append(Row(label, f"R survival ({r_reader()})", r, bare))
        if n == 10**6:
            ratio = r.wall / bare.wall
            goals.append(
                Goal(
                    "analyses 1e6: >= 10x faster than R (wall)",
                    f"x{ratio:.1f}",
                    r.ok and bare.ok and ratio >= 10,
                )
            )
            goals.append(  # not the goal (wall is): CPU seconds of every process, for reference
                Goal(
                    "(for reference) the same in CPU seconds",
                    f"x{r.cpu / bare.cpu:.1f}",
                    None,
                )
            )
    return rows, goals


def r_reader() -> str:
    done = subprocess.run(
        ["Rscript", "-e", "cat(requireNamespace('data.table', quietly=TRUE))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "fread" if done.stdout.strip() == "TRUE" else "read.csv; data.table absent"


def registry_rows(
    copies: int, folder: Path, args: argparse.Namespace
) -> tuple[list[Row], list[Goal]]:
    from benchmarks.registry_import import replicate

    csv_folder = folder / f"registry_{copies}"
    replicate(copies, csv_folder)
    patients = 37 * copies
    label = f"registry {patients} patients, {58 * copies} lesions"
    db = folder / f"registry_{copies}.db"
    imported = fastest(rtoutcomes("import", str(csv_folder), "--db", str(db)), args)
    study = ROOT / "src" / "rtoutcomes" / "study" / "data" / "feng2022.yaml"
    ran = fastest(
        rtoutcomes(
            "run",
            str(study),
            "--db",
            str(db),
            "--out",
            str(folder / f"registry_out_{copies}"),
            "--quiet",
        ),
        args,
    )
    rows = [
        Row(label, "rtoutcomes import", imported),
        Row(label, "rtoutcomes run (model study)", ran),
    ]
    goals = []
    if copies == REGISTRY_COPIES[-1]:
        goals = [
            Goal(
                f"registry import ({patients} patients): < 2 s wall",
                f"{imported.wall:.1f} s ({imported.cpu:.1f} CPU)",
                imported.ok and imported.wall < 2,
            ),
            Goal(
                f"model study ({patients} patients): < 10 s wall",
                f"{ran.wall:.1f} s ({ran.cpu:.1f} CPU)",
                ran.ok and ran.wall < 10,
            ),
        ]
    return rows, goals


def command_rows(folder: Path, args: argparse.Namespace) -> tuple[list[Row], list[Goal]]:
    demo = fastest(rtoutcomes("demo", "--out", str(folder / "demo"), "--quiet"), args)
    helped = fastest(rtoutcomes("--help"), args, repeat=3)
    rows = [Row("demo", "rtoutcomes demo", demo), Row("--help", "rtoutcomes --help", helped)]
    goals = [
        Goal("demo: wall < 3 s", f"{demo.wall:.1f} s", demo.ok and demo.wall < 3),
        Goal("--help: wall < 0.3 s", f"{helped.wall:.2f} s", helped.ok and helped.wall < 0.3),
    ]
    plan = ROOT.parent / "shared" / "data" / "dicom" / "breast-boost"
    if plan.is_dir():
        dosimetry = fastest(
            rtoutcomes(
                "dosimetry",
                "--rtstruct",
                str(plan / "rtss.dcm"),
                "--rtdose",
                str(plan / "rtdose.dcm"),
                "--rtplan",
                str(plan / "rtplan.dcm"),
            ),
            args,
            repeat=3,
        )
        rows.append(Row("dosimetry breast-boost", "rtoutcomes dosimetry", dosimetry))
        goals.append(
            Goal(
                "dosimetry breast-boost: wall < 1 s",
                f"{dosimetry.wall:.2f} s ({dosimetry.cpu:.2f} CPU)",
                dosimetry.ok and dosimetry.wall < 1,
            )
        )
    else:
        goals.append(Goal("dosimetry breast-boost: wall < 1 s", f"no {plan}", None))
    return rows, goals


def print_report(rows: list[Row], goals: list[Goal]) -> None:
    print(
        f"{'task':<36} {'tool':<40} {'cpu s':>7} {'wall s':>7} {'peak MB':>8} "
        f"{'R/ours cpu':>10} {'R/ours wall':>11}"
    )
    for row in rows:
        m = row.result
        if not m.ok:
            print(f"{row.task:<36} {row.tool:<40} failed: {m.note}")
            continue
        ratios = ""
        if row.base is not None and row.base.ok:
            ratios = f"{m.cpu / row.base.cpu:>10.1f} {m.wall / row.base.wall:>11.1f}"
        print(
            f"{row.task:<36} {row.tool:<40} {m.cpu:>7.2f} {m.wall:>7.2f} {m.peak_mb:>8.0f} {ratios}"
        )
    print()
    print(f"{'goal':<52} {'measured':>22}  holds")
    for goal in goals:
        if goal.holds is None:  # a figure for reference is no goal
            holds = "-" if goal.what.startswith("(") else "not measured"
        else:
            holds = "yes" if goal.holds else "NO"
        print(f"{goal.what:<52} {goal.measured:>22}  {holds}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=float, default=[1e5, 1e6])
    parser.add_argument("--registry-copies", nargs="*", type=int, default=list(REGISTRY_COPIES))
    parser.add_argument("--skip-r", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each analyze row (and R), alternating; the fastest (by CPU) is shown",
    )
    parser.add_argument(
        "--skip-commands", action="store_true", help="no demo, --help or dosimetry rows"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another rtoutcomes checkout (e.g. /work/main): its analyze rows run too, "
        "alternating with this tree's",
    )
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} "
        "cores (wall times count other jobs; CPU times are each process's own)"
    )
    rows: list[Row] = []
    goals: list[Goal] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warm_bytecode([ROOT] + ([args.baseline] if args.baseline else []), folder, args)
        for part in (
            [table_rows(int(n), folder, args) for n in args.sizes]
            + [registry_rows(k, folder, args) for k in args.registry_copies]
            + ([] if args.skip_commands else [command_rows(folder, args)])
        ):
            rows += part[0]
            goals += part[1]
    load = os.getloadavg()
    print_report(rows, goals)
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
