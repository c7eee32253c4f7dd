"""The demo's figures drawn in one process, CPU seconds per format: the 29 figures of the stored
demo results (tests/data/stored_outputs/demo/results.json; the main ones in PNG, SVG, TIFF and
PDF, the single panels in PNG and SVG), as the report draws them (``build.figure_tasks``, run
here one after the other, no workers, no profiler).

    PYTHONPATH=src:. python -m benchmarks.figure_cpu [--runs 3] [--compare OTHER/src]

Each run is its own process: it imports what the report process imports before it forks the
figure workers (``study.forked.PRELOAD``), then draws the figures twice: "cold" (as each figure
worker starts, with empty text caches) and "warm" (the same process again: the caches full). It
reports the CPU time of each drawing and of its parts: building the figures (axes,
curves, texts, legend placement), the rasters (Agg drawing, PNG and TIFF encoding), the SVG and
the PDF. ``--compare`` runs another source tree (e.g. the session start's ``src``) in
alternate runs, so both see the same load, and checks that both drew the same bytes (a digest
of every file). Goal (issue 11, seventh pass): the figures at least 1 CPU s cheaper than the
compared tree's with the same bytes, judged on the median of the runs' pairs (the machine's
speed drifts by more than that between runs; each pair runs seconds apart).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "tests" / "data" / "stored_outputs" / "demo" / "results.json"
GOAL_S = 1.0


def _draw_once(results: Any) -> tuple[dict[str, float], str, int]:
    """Every figure task drawn here, timed by part; the digest of every file and their count."""
    import matplotlib.figure

    from rtoutcomes.report import figures
    from rtoutcomes.report.build import figure_tasks

    spent = {"raster": 0.0, "svg": 0.0, "pdf": 0.0}
    raster, savefig = figures._raster, matplotlib.figure.Figure.savefig

    def timed_raster(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return raster(*args, **kwargs)
        finally:
            spent["raster"] += time.process_time() - start

    def timed_savefig(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return savefig(self, *args, **kwargs)
        finally:
            part = kwargs.get("format")
            if part in ("svg", "pdf"):
                spent[part] += time.process_time() - start

    figures._raster = timed_raster  # type: ignore[assignment]
    matplotlib.figure.Figure.savefig = timed_savefig  # type: ignore[method-assign]
    try:
        tasks, _, _ = figure_tasks(results, 1)
        start = time.process_time()
        drawn = [figure for task in tasks for figure in task()]
        total = time.process_time() - start
    finally:
        figures._raster = raster  # type: ignore[assignment]
        matplotlib.figure.Figure.savefig = savefig  # type: ignore[method-assign]
    spent["total"] = total
    spent["build"] = total - spent["raster"] - spent["svg"] - spent["pdf"]
    digest, count = _digest(drawn)
    return spent, digest, count


def _digest(drawn: Any) -> tuple[str, int]:
    """One digest of every file drawn (figure key, format, length and bytes) and their count."""
    digest = hashlib.sha256()
    count = 0
    for figure in drawn:
        for kind, data in sorted(figure.rendered.files.items()):
            digest.update(f"{figure.key}.{kind}:{len(data)}:".encode())
            digest.update(hashlib.sha256(data).digest())
            count += 1
    return digest.hexdigest(), count


def child() -> None:
    """One run (in its own process): the figures drawn twice, the second time reported."""
    import gc
    import importlib

    from rtoutcomes.io.outputs import xml_safe_tree
    from rtoutcomes.study.forked import PRELOAD

    for module in PRELOAD:  # as the report process imports them before the workers fork
        importlib.import_module(module)

    results = xml_safe_tree(json.loads(STORED.read_text(encoding="utf-8")))
    pool = _pool(results)
    gc.disable()  # as the report's figure tasks run (collector paused, collected after each)
    cold, digest, count = _draw_once(results)
    gc.collect()
    warm, again, _ = _draw_once(results)
    assert again == digest, "the second drawing differs from the first"
    assert pool["digest"] == digest, "the figure workers drew other bytes"
    print(json.dumps({"cold": cold, "warm": warm, "pool": pool, "digest": digest, "files": count}))


def _pool(results: Any) -> dict[str, Any]:
    """The figures drawn as the demo draws them: by two workers forked from this process
    (``parallel_figures.start``, the main figures first); their CPU seconds (from
    ``getrusage``) and the files' digest."""
    import resource

    from rtoutcomes.report import parallel_figures
    from rtoutcomes.report.build import figure_tasks

    def children() -> float:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime

    before = children()
    tasks, costs, main = figure_tasks(results, 2)
    drawn = parallel_figures.start(tasks, 2, costs, first=range(main))()
    return {"cpu": children() - before, "digest": _digest(drawn)[0]}


def run(src: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=f"{src}{os.pathsep}{ROOT}", MPLBACKEND="agg")
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.figure_cpu", "--child"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    parsed: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return parsed


PARTS = ("total", "build", "raster", "svg", "pdf")


def _cpu(run: dict[str, Any], when: str) -> float:
    """A run's CPU seconds: its cold or warm drawing's, or its two workers'."""
    return float(run["pool"]["cpu"] if when == "pool" else run[when]["total"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", type=Path, help="another source tree, timed alike")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child()
        return 0
    trees = [("this", ROOT / "src")] + ([("compare", args.compare)] if args.compare else [])
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
    header = " ".join(f"{p:>7}" for p in PARTS)
    print(f"{'tree':<8} {'run':>3} {'drawing':<7} {header}  files  load")
    print(f"{'':<8} {'':>3} {'pool':<7} {'(two workers forked as the demo forks them: CPU s)'}")
    for i in range(args.runs):
        for name, src in trees:
            load = os.getloadavg()[0]
            measured = run(src)
            runs[name].append(measured)
            for when in ("cold", "warm"):
                spent = measured[when]
                print(
                    f"{name:<8} {i + 1:>3} {when:<7} "
                    + " ".join(f"{spent[p]:7.3f}" for p in PARTS)
                    + f"  {measured['files']:>5} {load:5.1f}"
                )
            print(f"{name:<8} {i + 1:>3} {'pool':<7} {measured['pool']['cpu']:7.3f}")
    fastest = {
        name: {when: min(_cpu(r, when) for r in rs) for when in ("cold", "warm", "pool")}
        for name, rs in runs.items()
    }
    for name, best in fastest.items():
        print(
            f"{name}: fastest {best['cold']:.3f} CPU s cold, {best['warm']:.3f} s warm, "
            f"{best['pool']:.3f} s in two workers"
        )
    if args.compare:
        digests = {r["digest"] for rs in runs.values() for r in rs}
        same = len(digests) == 1
        print(f"same bytes in every run of both trees: {'yes' if same else 'NO'}")
        # each run's pair (this tree, then the other, a few seconds apart) sees about the same
        # machine; the machine's speed drifts by more than the difference between runs
        for when, how in (
            ("cold", "in one process, cold"),
            ("warm", "in one process, warm"),
            ("pool", "in two workers"),
        ):
            pairs = [
                _cpu(other, when) - _cpu(mine, when)
                for mine, other in zip(runs["this"], runs["compare"], strict=True)
            ]
            saved = statistics.median(pairs)
            share = saved / statistics.median(_cpu(r, when) for r in runs["compare"])
            holds = same and saved >= GOAL_S
            print(
                f"goal: the figures ({how}) at least {GOAL_S:.1f} CPU s cheaper with the "
                f"same bytes: {'holds' if holds else 'not met'} (median of the runs' pairs "
                f"{saved:.3f} CPU s saved, {share:.0%}; "
                f"pairs {', '.join(f'{p:.2f}' for p in pairs)})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
