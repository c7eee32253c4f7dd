"""``rtoutcomes demo`` timed as a user sees it: the demo registry built and the model study's
whole report written (tables, 29 figures in PNG/SVG and the main ones also TIFF/PDF, Word,
Excel, HTML, results.json, analysis CSVs).

    PYTHONPATH=src:. python -m benchmarks.demo_speed [--runs 3] [--compare OTHER/src]

Each run is its own process: CPU seconds (user + system of the process, its helper process and
the figure workers, from ``wait4``), wall seconds, peak memory, and the machine's 1-minute load
average before it (the development machine is shared: wall time includes waiting for other
jobs, CPU time mostly does not). ``--compare`` times another source tree (e.g. an earlier
commit's ``src``) in alternate runs, so both see the same load, and prints the pairs' median
difference (each run against the other tree's run beside it). Goals: issue 12, under 5 s;
issue 11, under 3 s wall RELIABLY: each verdict counts the runs under the limit ("holds in every
run", "in the fastest runs only", "not met") with the median and the fastest; a load above the
machine's cores before any run makes the verdict say so (the goals are for a quiet machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.end_to_end import ROOT, Measured, measure

ISSUE_11_S = 3.0  # issue 11: the demo under this many seconds wall
GOALS = (("issue 12: demo under 5 s wall", 5.0), ("issue 11: demo under 3 s wall", ISSUE_11_S))
# "reliably" made measurable (session 23): every run under 3 s with the median this far below
MARGIN_MEDIAN = 2.5


def run(src: Path, out: Path) -> tuple[Measured, float]:
    load = os.getloadavg()[0]
    command = [sys.executable, "-m", "rtoutcomes", "demo", "--out", str(out), "--quiet"]
    return measure(command, threads=1, src=src), load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", type=Path, help="another source tree, timed alike")
    args = parser.parse_args(argv)
    trees = [("this", ROOT / "src")] + ([("compare", args.compare)] if args.compare else [])
    results: dict[str, list[tuple[Measured, float]]] = {name: [] for name, _ in trees}
    print(f"{'tree':<8} {'run':>3} {'CPU s':>7} {'wall s':>7} {'peak MB':>8} {'load':>5}")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for name, src in trees:
                measured, load = run(src, Path(tmp) / f"{name}{i}")
                results[name].append((measured, load))
                note = "" if measured.ok else f"  FAILED: {measured.note}"
                print(
                    f"{name:<8} {i + 1:>3} {measured.cpu:7.2f} {measured.wall:7.2f} "
                    f"{measured.peak_mb:8.0f} {load:5.1f}{note}"
                )
    cores = os.cpu_count() or 1
    for name, runs in results.items():
        cpu = min(m.cpu for m, _ in runs)
        fastest, load = min(runs, key=lambda run: run[0].wall)
        median = statistics.median(m.wall for m, _ in runs)
        print(
            f"{name}: fastest CPU {cpu:.2f} s, fastest wall {fastest.wall:.2f} s "
            f"(load {load:.1f} on {cores} cores), median wall {median:.2f} s"
        )
        if name == "this":
            busy = max(load for _, load in runs)
            note = "" if busy < cores else f"; the machine was busy (load up to {busy:.1f})"
            for goal, limit in GOALS:
                held = sum(1 for m, _ in runs if m.wall < limit)
                verdict = (
                    "holds in every run"
                    if held == len(runs)
                    else "holds in the fastest runs only"
                    if held
                    else "not met"
                )
                print(
                    f"  {goal}: {verdict} ({held} of {len(runs)} runs under {limit:.0f} s; "
                    f"median {median:.2f} s, fastest {fastest.wall:.2f} s{note})"
                )
            held = sum(1 for m, _ in runs if m.wall < ISSUE_11_S)
            margin = "holds" if held == len(runs) and median <= MARGIN_MEDIAN else "not met"
            print(
                f"  issue 11 with a margin (median <= {MARGIN_MEDIAN} s and every run under "
                f"{ISSUE_11_S:.0f} s): {margin} (median {median:.2f} s, {held} of {len(runs)} "
                f"under {ISSUE_11_S:.0f} s{note})"
            )
    if args.compare:
        pairs = [
            (m.wall - o.wall, m.cpu - o.cpu)
            for (m, _), (o, _) in zip(results["this"], results["compare"], strict=True)
        ]
        faster = sum(1 for wall, _ in pairs if wall < 0)
        print(
            f"pairs (this - compare, run by run): this faster in {faster} of {len(pairs)}; "
            f"median wall {statistics.median(w for w, _ in pairs):+.2f} s, "
            f"median CPU {statistics.median(c for _, c in pairs):+.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
