"""Drawing Kaplan-Meier figures at 1e3 to 1e6 rows: is their time flat in the rows?

    PYTHONPATH=src:. python -m benchmarks.figure_scale [--rows 1e3 1e4 1e5 1e6] [--repeat 3]
        [--tiff-dpi 300|600] [--no-censoring] [--bands] [--before] [--lists]
        [--compare OLD/src]

One curve of ``n`` rows (Weibull event times, uniform censoring to 60 months: about half the
rows censored, each at its own time; ``--no-censoring``: every row an event, no censor ticks, as
an incidence curve is drawn; ``--bands``: with its confidence band), drawn as the report draws
a panel: the figure built (curve, censor ticks, numbers at risk) and rendered to PNG, SVG, PDF
and TIFF (at ``--tiff-dpi``; PNG is always 300), each timed in CPU seconds of this process
(the fastest of ``--repeat``), with the file sizes. Then a grouped panel as every "by group"
figure is drawn: ``GROUPS`` curves of n / ``GROUPS`` rows each (their times on other scales),
with the legend and the test's p placed where no data are (``figure_layout.place_clear``),
built and rendered to PNG and TIFF. The curves' data are made before the clock starts (the
analysis is not the figure), as the in-memory results hold them (lists with their arrays,
``results.columns``); ``--lists``: as results.json read back gives them (plain lists, which
the build converts). Before each timed step a full garbage collection runs, so that one
due (a million-row curve's lists make a full collection ~0.1 s: the process's heap, not the
step's work) does not land inside a step at random. ``--before`` also draws each raster from
every step (the step curves not thinned: the code before report/raster_thinning.py),
alternating with the thinned drawing in the same run, and builds the grouped panel once
with its legend and p placed from every point of its curves (the code before
``raster_thinning.for_layout``), saying whether they land where the thinned points put them.
``--compare OLD/src``: the same measurements by the code in OLD/src (this script run there
in a child process), row count by row count, alternating with this tree's, and both
verdicts.

Goal (issue 11, the figures' item): building the figures from the results and drawing PNG and
TIFF take a time independent of the row count. Rule, per step: flat if no row count measured
(1e4, 1e5, 1e6) takes more than ``MARGIN_S`` CPU seconds more than the smallest (1e3): the
largest excess over the smallest size is judged, wherever it is. Each repeat builds
from new ``Curve`` objects (each reads its lists once, see report/step_curves.py).

What still grows with the rows: the build makes the curves' vertices and reads the arrays a few
times (the censored rows, the band's points and extremes); Agg draws a dense curve from a
bounded number of steps (at most ``2 * SUBSTEPS`` per 1/``CELLS_PER_INCH`` inch of the curve's
width plus height, whatever the rows), found by binary search, as are the censor ticks sharing
a pixel and the grouped panel's placement points; of those steps, Agg strokes only what the
censor ticks drawn after a curve do not cover whole (report/hidden_strokes.py: the same
pixels; at these sizes, ticks on every pixel, most of each curve). The ratio for ten times
the rows (1e6 against 1e5, both dense) is printed beside it for information. The vector files
are printed with the same ratios, for information.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

MARGIN_S = 0.1  # flat: no size takes more than this much more CPU time than the smallest
RASTERS = ("png", "tiff")
GROUPS = 3  # the grouped panel's curves
P_TEXT = "Log-rank p = 0.02"
# what the goal's verdict reads: the one-curve panel's build and rasters, the grouped panel's
GOAL = ("build", *RASTERS, "grouped build", *(f"grouped {kind}" for kind in RASTERS))


def _curve(n: int, censoring: bool = True, seed: int = 0, scale: float = 20.0) -> dict[str, Any]:
    import numpy as np

    from rtoutcomes.study.spec import KMOptions
    from rtoutcomes.study.summaries import km_summary

    rng = np.random.default_rng(n + seed)
    event_time = rng.weibull(1.0, n) * scale
    censor_time = rng.uniform(0.0, 60.0, n) if censoring else np.full(n, np.inf)
    time_ = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(float)
    return dict(km_summary(time_, event, KMOptions(), ())["km"])


def _plain(km: dict[str, Any]) -> dict[str, Any]:
    """``km`` as results.json read back gives it: plain lists, no arrays beside them."""
    import json

    from rtoutcomes.report.jsonio import dumps

    return dict(json.loads(dumps(km)))


def _panels(n: int, censoring: bool, lists: bool) -> tuple[Any, Any]:
    """The one-curve panel and the grouped one (``GROUPS`` curves of n / ``GROUPS`` rows,
    with a legend and the test's p): (curve dicts, function making the panels from them)."""
    from rtoutcomes.report.figures import Curve, Panel

    single = _curve(n, censoring)
    groups = [_curve(n // GROUPS, censoring, g + 1, 20.0 * (g + 1)) for g in range(GROUPS)]
    if lists:
        single, groups = _plain(single), [_plain(km) for km in groups]

    def make() -> tuple[Any, Any]:
        # new Curves each time: each reads its lists once (Curve.arrays), as part of the build
        one = Panel([Curve("All", single, n)], "Overall survival", "Overall survival")
        curves = [Curve(f"Grade {g + 1}", km, n // GROUPS) for g, km in enumerate(groups)]
        grouped = Panel(curves, "Overall survival by grade", "Overall survival", P_TEXT, "Grade")
        return one, grouped

    return (single, groups), make


def _placed(fig: Any) -> tuple[Any, ...]:
    """Where the grouped panel's legend and p label were placed, and the axes' y range."""
    ax = fig.axes[0]
    legend = ax.get_legend()
    label = next(t for t in ax.texts if t.get_text() == P_TEXT)
    return (legend._loc, legend.get_bbox_to_anchor().bounds, label.get_position(), ax.get_ylim())


def measure(
    n: int,
    repeat: int,
    tiff_dpi: int = 300,
    censoring: bool = True,
    bands: bool = False,
    before: bool = False,
    lists: bool = False,
) -> dict[str, tuple[float, Any]]:
    """Step -> (fastest CPU seconds, bytes written); with ``before``, also "png before" and
    "tiff before": the rasters drawn from every step, alternating with the thinned ones, and
    "grouped build before": the grouped panel built with its legend and p placed from every
    point of its curves (once; its "size" says whether they land where the thinned points put
    them). ``lists``: the curves as results.json read back gives them (plain lists)."""
    from rtoutcomes.report import raster_thinning
    from rtoutcomes.report.figures import Axis, Style, render, survival_figure

    _, panels = _panels(n, censoring, lists)
    thinned_from = raster_thinning.MIN_VERTICES
    best: dict[str, tuple[float, Any]] = {}
    style = Style(bands=bands)
    for attempt in range(repeat):
        one, grouped = panels()
        steps: dict[str, tuple[float, Any]] = {}
        for name, panel in (("", one), ("grouped ", grouped)):
            gc.collect()  # a collection due now lands before the clock starts
            start = time.process_time()
            fig = survival_figure([panel], Axis("months"), style)
            steps[f"{name}build"] = (time.process_time() - start, 0)
            for kind in ("png", "svg", "pdf", "tiff") if not name else RASTERS:
                gc.collect()  # a collection due now lands before the clock starts
                start = time.process_time()
                data = render(fig, (kind,), tiff_dpi=tiff_dpi).files[kind]
                steps[f"{name}{kind}"] = (time.process_time() - start, len(data))
            if not before:
                continue
            raster_thinning.MIN_VERTICES = 2**62  # no curve thinned
            try:
                if name and attempt == 0:  # the layout from every point: once (slow)
                    placed = _placed(fig)
                    gc.collect()  # a collection due now lands before the clock starts
                    start = time.process_time()
                    full = survival_figure([panels()[1]], Axis("months"), style)
                    elapsed = time.process_time() - start
                    steps["grouped build before"] = (elapsed, _placed(full) == placed)
                for kind in RASTERS if not name else ():
                    gc.collect()  # a collection due now lands before the clock starts
                    start = time.process_time()
                    data = render(fig, (kind,), tiff_dpi=tiff_dpi).files[kind]
                    steps[f"{kind} before"] = (time.process_time() - start, len(data))
            finally:
                raster_thinning.MIN_VERTICES = thinned_from
        for step, (cpu, size) in steps.items():
            if step not in best or cpu < best[step][0]:
                best[step] = (cpu, size)
    return best


def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=float, default=[1e3, 1e4, 1e5, 1e6])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tiff-dpi", type=int, default=300, choices=(300, 600))
    parser.add_argument("--no-censoring", action="store_true", help="no censor ticks")
    parser.add_argument("--bands", action="store_true", help="with the confidence band")
    parser.add_argument("--before", action="store_true", help="also draw from every step")
    parser.add_argument(
        "--lists", action="store_true", help="the curves as read back from results.json"
    )
    parser.add_argument(
        "--compare",
        metavar="SRC",
        help="also measure the code in SRC (another checkout's src folder) in a child process, "
        "alternating with this one row count by row count, and print both verdicts",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rows = sorted({int(n) for n in args.rows})
    if len(rows) < 2 and not args.child:
        parser.error("give at least two row counts")
    options = {
        "tiff_dpi": args.tiff_dpi,
        "censoring": not args.no_censoring,
        "bands": args.bands,
        "lists": args.lists,
    }
    measure(rows[0], 1, **options)  # warm-up: imports and font caches
    if args.child:  # one row count for --compare: its results as JSON
        import json

        print(json.dumps(measure(rows[0], args.repeat, before=args.before, **options)))
        return 0
    results, compared = {}, {}
    for n in rows:
        if args.compare:
            compared[n] = _in_child(args.compare, n, argv)
        results[n] = measure(n, args.repeat, before=args.before, **options)
    steps = list(results[rows[0]])
    print(
        f"CPU seconds, fastest of {args.repeat}; TIFF at {args.tiff_dpi} dpi; "
        f"{'no censoring' if args.no_censoring else 'half the rows censored'}; "
        f"{'with' if args.bands else 'no'} confidence band; grouped: {GROUPS} curves of "
        f"rows / {GROUPS}, legend and p; "
        f"{'plain lists (results.json read back)' if args.lists else 'in-memory results'}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'step':>22} " + " ".join(f"{n:>9.0e}" for n in rows) + "  kB at the most rows")
    for step in steps:
        cells = " ".join(f"{results[n][step][0]:9.3f}" for n in rows)
        size = results[rows[-1]][step][1]
        if step == "grouped build before":
            same = all(results[n][step][1] for n in rows)
            note = f"  labels placed as from the thinned points: {'yes' if same else 'NO'}"
        else:
            note = f"  {size / 1000:.0f}" if size else ""
        print(f"{step:>22} {cells}{note}")
    low, previous, high = rows[0], rows[-2], rows[-1]
    goal = True
    for step in steps:
        t_previous, t_high = (results[n][step][0] for n in (previous, high))
        worst, excess = largest_excess({n: results[n][step][0] for n in rows})
        flat = excess <= MARGIN_S
        if step in GOAL:
            goal &= flat
        print(
            f"  {step}: {t_high:.3f} s at {high:.0e} rows, x{t_high / t_previous:.2f} of "
            f"{previous:.0e} rows; largest excess over {low:.0e} rows +{excess:.3f} s at "
            f"{worst:.0e} rows: {'flat' if flat else 'NOT flat'}"
            + ("" if step in GOAL else " (for information)")
        )
    if compared:
        print(f"side by side with {args.compare} (measured alternately, row count by row count):")
        print(f"{'step':>22} " + " ".join(f"{n:>9.0e} {'that':>6}" for n in rows))
        that_goal = True
        for step in GOAL:
            cells = " ".join(
                f"{results[n][step][0]:9.3f} {compared[n][step][0]:6.3f}" for n in rows
            )
            that_goal &= largest_excess({n: compared[n][step][0] for n in rows})[1] <= MARGIN_S
            print(f"{step:>22} {cells}")
        print(f"  {args.compare}: {'holds' if that_goal else 'not met'}")
    verdict = "holds" if goal else "not met"
    print(
        f"issue 11: building the figures (one curve; {GROUPS} groups with legend and p) and "
        f"drawing PNG and TIFF independent of the rows (at most +{MARGIN_S} CPU s over "
        f"{low:.0e} rows at every size measured, up to {high:.0e}): {verdict}"
    )
    return 0


def largest_excess(times: dict[int, float]) -> tuple[int, float]:
    """(row count, CPU s): the size whose time exceeds the smallest size's the most, and by
    how much (every size measured is judged, not only the largest: a step may peak between)."""
    low = min(times)
    worst = max((n for n in times if n != low), key=lambda n: times[n] - times[low])
    return worst, times[worst] - times[low]


def _in_child(src: str, n: int, argv: list[str] | None) -> dict[str, list[Any]]:
    """``measure`` at ``n`` rows run by the code in ``src`` (this script, in a child process
    importing rtoutcomes from there), with this run's options."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    args = list(sys.argv[1:] if argv is None else argv)
    kept, skip = [], False
    for arg in args:  # drop --rows and --compare with their values
        if arg in ("--rows", "--compare"):
            skip = True
            continue
        if skip and not arg.startswith("--"):
            continue
        skip = False
        kept.append(arg)
    here = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(Path(src).resolve()), str(here)))}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.figure_scale", *kept, "--child", "--rows", str(n)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=here,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


if __name__ == "__main__":
    raise SystemExit(main())
