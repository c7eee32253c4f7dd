"""The timeline of one ``rtoutcomes demo`` run on both cores: what each process does when, and
where a core is idle.

    PYTHONPATH=src:. python -m benchmarks.demo_timeline [--src OTHER/src] [--bin 0.05]

The demo runs in a child process (``--src``: another source tree) with its stages wrapped as
``analyze_timeline.py`` wraps analyze's: each start and end is logged with the seconds since
the start, the process id and that process' CPU seconds. This process meanwhile samples the
on-CPU time of the demo's every process (``/proc/PID/schedstat``, nanoseconds, every ~2 ms,
the process tree found through ``/proc/PID/task/PID/children``), and prints, after the stage
log, one row per time bin: how busy each process was and how many of the machine's cores the
demo used, then the idle core-seconds before the first figure task, while figures are drawn
and after the last. Not a test; the logging and the sampling cost a little (~2 % of a core).
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from subprocess import PIPE

ROOT = Path(__file__).resolve().parents[1]
PYCACHE = Path(tempfile.gettempdir()) / "rtoutcomes-benchmark-pycache"  # as end_to_end's

STAGES = {
    "rtoutcomes.demo": ["_import_demo", "summarise_tables"],
    "rtoutcomes.study.forked": ["_preload_and_run"],
    "rtoutcomes.registry.audit": ["snapshot"],
    "rtoutcomes.registry.tables": ["frames_of_rows"],
    "rtoutcomes.study.run": [
        "run_on_tables",
        "_finish",
        "write_report",
        "_write_analysis_csvs",
        "tables_sha256",
    ],
    "rtoutcomes.study.registry_table": ["build_registry_data", "endpoint_tables"],
    "rtoutcomes.study.cohort": ["cohort_facts", "lost_to_follow_up"],
    "rtoutcomes.study.response": ["response_facts", "swimmer_lanes"],
    "rtoutcomes.study.analysis": ["run_analyses"],
    "rtoutcomes.report.provenance": ["provenance"],
    "rtoutcomes.report.cohort_tables": ["cohort_tables"],
    "rtoutcomes.report.build": [
        "start_figures",
        "_write_tables",
        "_write_docx",
        "_write_figures_and_html",
    ],
    "rtoutcomes.report.parallel_figures": ["_run"],
    "rtoutcomes.report.early_figures": ["early_figures"],
}
LIBRARIES = (
    "numpy",
    "sqlalchemy",
    "alembic",
    "pandas",
    "scipy.stats",
    "matplotlib",
    "docx",
    "rtoutcomes.registry.importer",
)

CHILD = """
import sys
sys.path[:0] = [{root!r}, {src!r}]
from benchmarks import analyze_timeline as t
t.STAGES.clear(); t.STAGES.update({stages!r})
t.LIBRARIES = {libraries!r}
import os
t.START = {start!r}
t._FD = os.open({log!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
sys.meta_path.insert(0, t.Stages())
t.log("start")
import gc
from rtoutcomes.cli import main
status = main(["demo", "--out", {out!r}, "--quiet"])
t.log("end")
gc.freeze()  # as the console script does (rtoutcomes.cli.run)
sys.stdout.flush()
t.log("exit")
raise SystemExit(status)
"""


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (read from /proc; those gone meanwhile left out)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return found


def on_cpu(pid: int) -> float | None:
    """Seconds ``pid`` has run on a CPU (its main thread's, ``schedstat``)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def sample(process: subprocess.Popen[bytes], start: float) -> dict[int, list[tuple[float, float]]]:
    """(seconds since ``start``, on-CPU seconds) of every process of the tree, until it ends."""
    series: dict[int, list[tuple[float, float]]] = {}
    while process.poll() is None:
        now = time.monotonic() - start
        for pid in descendants(process.pid):
            cpu = on_cpu(pid)
            if cpu is not None:
                series.setdefault(pid, []).append((now, cpu))
        time.sleep(0.002)
    return series


def busy_per_bin(
    series: dict[int, list[tuple[float, float]]], width: float, end: float
) -> dict[int, list[float]]:
    """Each process' on-CPU seconds in each ``width``-second bin (spread linearly between
    samples; the first sample of a process counts from its fork, what it ran before is its
    parent's)."""
    bins = int(end / width) + 1
    busy: dict[int, list[float]] = {}
    for pid, points in series.items():
        row = [0.0] * bins
        for (t0, c0), (t1, c1) in itertools.pairwise(points):
            if t1 <= t0 or c1 <= c0:
                continue
            rate = (c1 - c0) / (t1 - t0)
            b = int(t0 / width)
            while b * width < t1 and b < bins:
                lo, hi = max(t0, b * width), min(t1, (b + 1) * width)
                row[b] += rate * max(hi - lo, 0.0)
                b += 1
        busy[pid] = row
    return busy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--bin", type=float, default=0.05, help="seconds per row of the chart")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    # rtoutcomes' modules byte-compiled once, as an installed package has them (and as
    # demo_speed runs them): with PYTHONDONTWRITEBYTECODE set, every run's processes would
    # compile each module they import again; an untimed first run fills the cache
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "timeline.log"

        def demo(out: str, start: float) -> str:
            return CHILD.format(
                root=str(ROOT),
                src=str(args.src.resolve()),
                stages=STAGES,
                libraries=LIBRARIES,
                start=start,
                log=str(log_path),
                out=str(Path(tmp) / out),
            )

        warm = demo("warm", time.monotonic())
        subprocess.run([sys.executable, "-c", warm], env=env, check=True, stdout=PIPE)
        log_path.unlink()
        start = time.monotonic()
        process = subprocess.Popen([sys.executable, "-c", demo("out", start)], env=env)
        series = sample(process, start)
        end = time.monotonic() - start
        lines = sorted(log_path.read_text().splitlines(), key=lambda line: float(line.split()[0]))
    print(f"{'seconds':>8} {'pid':>8} {'user':>6} {'system':>6}  stage")
    for line in lines:
        print(line)
    busy = busy_per_bin(series, args.bin, end)
    pids = sorted(busy, key=lambda p: series[p][0][0])
    names = {pid: f"p{i}" for i, pid in enumerate(pids)}
    print("\nprocesses: " + ", ".join(f"{names[p]}={p}" for p in pids))
    print(f"{'from s':>7} {'cores':>5}  " + " ".join(f"{names[p]:>4}" for p in pids))
    figures = [float(line.split()[0]) for line in lines if "> _run[" in line]
    first = min(figures) if figures else end
    last = max((float(x.split()[0]) for x in lines if "< _run[" in x), default=end)
    idle = {"before the first figure": 0.0, "while figures": 0.0, "after the last figure": 0.0}
    for b in range(len(next(iter(busy.values())))):
        used = sum(busy[p][b] for p in pids) / args.bin
        t = b * args.bin
        phase = (
            "before the first figure"
            if t < first
            else "while figures"
            if t < last
            else "after the last figure"
        )
        idle[phase] += max(cores - used, 0.0) * min(args.bin, max(end - t, 0.0))
        cells = " ".join(f"{100 * busy[p][b] / args.bin:4.0f}" for p in pids)
        print(f"{t:7.2f} {used:5.2f}  {cells}")
    total = sum(c for points in series.values() for c in (points[-1][1] - points[0][1],))
    print(
        f"\nwall {end:.2f} s, on-CPU {total:.2f} s (sampled; before a process' first sample "
        f"not counted), first figure task at {first:.2f} s, last ends at {last:.2f} s"
    )
    for phase, seconds in idle.items():
        print(f"idle core-seconds {phase}: {seconds:.2f}")
    print(
        "\nCPU seconds per process (user + system at its last logged stage; its first stage "
        "names it):"
    )
    for pid, (first_stage, cpu) in per_process(lines).items():
        print(f"  {names.get(pid, '-'):>3} {pid:>8} {cpu:6.2f}  {first_stage}")
    return process.returncode


def per_process(lines: list[str]) -> dict[int, tuple[str, float]]:
    """Each logged process' first stage and its CPU seconds (user + system, counted from its
    fork: os.times) at its last logged line."""
    found: dict[int, tuple[str, float]] = {}
    for line in lines:
        _, pid, user, system, stage = line.split(maxsplit=4)
        first = found.get(int(pid), (stage, 0.0))[0]
        found[int(pid)] = (first, float(user) + float(system))
    return found


if __name__ == "__main__":
    raise SystemExit(main())
