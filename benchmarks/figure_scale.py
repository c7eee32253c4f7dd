"""Drawing one Kaplan-Meier figure at 1e3 to 1e6 rows: is its time flat in the rows?

    PYTHONPATH=src:. python -m benchmarks.figure_scale [--rows 1e3 1e4 1e5 1e6] [--repeat 3]
        [--tiff-dpi 300|600] [--no-censoring] [--bands] [--before]

One curve of ``n`` rows (Weibull event times, uniform censoring to 60 months: about half the
rows censored, each at its own time; ``--no-censoring``: every row an event, no censor ticks, as
an incidence curve is drawn; ``--bands``: with its confidence band), drawn as the report draws
a panel: the figure built (curve,
censor ticks, numbers at risk, placement) and rendered to PNG, SVG, PDF and TIFF (at
``--tiff-dpi``; PNG is always 300), each timed in CPU seconds of this process (the fastest of
``--repeat``), with the file sizes. The curve's data are made before the clock starts (the
analysis is not the figure). ``--before`` also draws each raster from every step (the step
curves not thinned: the code before report/raster_thinning.py), alternating with the thinned
drawing in the same run, and prints both side by side.

Goal (issue 11, the figures' item): building the figure from the results' lists and drawing
PNG and TIFF take a time independent of the row count. Rule, per step: flat if the largest row
count (1e6) takes at most ``MARGIN_S`` CPU seconds more than the smallest (1e3). The build
starts from the curve dict as results.json holds it (lists; a new ``Curve`` each repeat, so
each build reads them, see report/step_curves.py).

What still grows with the rows: the build converts each list the figure draws to an array once
(~15 ns a row and list: time, estimate and n_censor, and lower and upper with a band) and
makes the curve's vertices; Agg draws a dense curve from a bounded number of steps (at most
``2 * SUBSTEPS`` per 1/``CELLS_PER_INCH`` inch of the curve's width plus height, whatever the
rows), found by binary search, as are the censor ticks sharing a pixel. The ratio for ten times
the rows (1e6 against 1e5, both dense) is printed beside it for information.
The vector files are printed with the same ratios, for information.
"""

from __future__ import annotations

import argparse
import time

MARGIN_S = 0.1  # flat: at most this much more CPU time at the largest rows than at the smallest
RASTERS = ("png", "tiff")
GOAL = ("build", *RASTERS)  # what the goal's verdict reads


def _curve(n: int, censoring: bool = True) -> dict[str, object]:
    import numpy as np

    from rtoutcomes.study.spec import KMOptions
    from rtoutcomes.study.summaries import km_summary

    rng = np.random.default_rng(n)
    event_time = rng.weibull(1.0, n) * 20.0
    censor_time = rng.uniform(0.0, 60.0, n) if censoring else np.full(n, np.inf)
    time_ = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(float)
    return dict(km_summary(time_, event, KMOptions(), ())["km"])


def measure(
    n: int,
    repeat: int,
    tiff_dpi: int = 300,
    censoring: bool = True,
    bands: bool = False,
    before: bool = False,
) -> dict[str, tuple[float, int]]:
    """Step -> (fastest CPU seconds, bytes written); with ``before``, also "png before" and
    "tiff before": the rasters drawn from every step, alternating with the thinned ones."""
    from rtoutcomes.report import raster_thinning
    from rtoutcomes.report.figures import Axis, Curve, Panel, Style, render, survival_figure

    km = _curve(n, censoring)
    thinned_from = raster_thinning.MIN_VERTICES
    best: dict[str, tuple[float, int]] = {}
    for _ in range(repeat):
        # a new Curve each time: it converts its lists to arrays once (Curve.arrays), and
        # that conversion is part of building the figure
        panel = Panel([Curve("All", km, n)], "Overall survival", "Overall survival")
        start = time.process_time()
        fig = survival_figure([panel], Axis("months"), Style(bands=bands))
        steps = {"build": (time.process_time() - start, 0)}
        for kind in ("png", "svg", "pdf", "tiff"):
            start = time.process_time()
            data = render(fig, (kind,), tiff_dpi=tiff_dpi).files[kind]
            steps[kind] = (time.process_time() - start, len(data))
        if before:
            raster_thinning.MIN_VERTICES = 2**62  # no curve thinned
            try:
                for kind in RASTERS:
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
    args = parser.parse_args(argv)
    rows = sorted({int(n) for n in args.rows})
    if len(rows) < 2:
        parser.error("give at least two row counts")
    options = {"tiff_dpi": args.tiff_dpi, "censoring": not args.no_censoring, "bands": args.bands}
    measure(rows[0], 1, **options)  # warm-up: imports and font caches
    results = {n: measure(n, args.repeat, before=args.before, **options) for n in rows}
    steps = list(results[rows[0]])
    print(
        f"CPU seconds, fastest of {args.repeat}; TIFF at {args.tiff_dpi} dpi; "
        f"{'no censoring' if args.no_censoring else 'half the rows censored'}; "
        f"{'with' if args.bands else 'no'} confidence band; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'rows':>9} " + " ".join(f"{s + ' s':>13} {'kB':>5}" for s in steps))
    for n, best in results.items():
        cells = " ".join(f"{best[s][0]:13.3f} {best[s][1] / 1000:5.0f}" for s in steps)
        print(f"{n:>9} {cells}")
    low, previous, high = rows[0], rows[-2], rows[-1]
    goal = True
    for step in steps:
        t_low, t_previous, t_high = (results[n][step][0] for n in (low, previous, high))
        flat = t_high - t_low <= MARGIN_S
        if step in GOAL:
            goal &= flat
        print(
            f"  {step}: {t_high:.3f} s at {high:.0e} rows, x{t_high / t_previous:.2f} of "
            f"{previous:.0e} rows, +{t_high - t_low:.3f} s over {low:.0e} rows (x"
            f"{t_high / t_low:.1f}): {'flat' if flat else 'NOT flat'}"
            + ("" if step in GOAL else " (for information)")
        )
    verdict = "holds" if goal else "not met"
    print(
        f"issue 11: building the figure and drawing PNG and TIFF independent of the rows (at most "
        f"+{MARGIN_S} CPU s from {low:.0e} to {high:.0e} rows): {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
