"""Drawing one Kaplan-Meier figure at 1e3, 1e5 and 1e6 rows: is its time flat in the rows?

    PYTHONPATH=src:. python -m benchmarks.figure_scale [--rows 1e3 1e5 1e6] [--repeat 3]

One curve of ``n`` rows (Weibull event times, uniform censoring to 60 months: about half the
rows censored, each at its own time), drawn as the report draws a panel: the figure built
(curve, censor ticks, numbers at risk, placement) and rendered to PNG, SVG, PDF and TIFF, each
timed in CPU seconds of this process (the fastest of ``--repeat``), with the file sizes. The
curve's data are made before the clock starts (the analysis is not the figure). TIFF is drawn at
``--tiff-dpi`` (300 or 600; PNG is always 300).

Goal (issue 11): drawing time independent of the row count. Rule, per step: flat if its time at
the largest row count is at most ``FLAT`` times its time at the smallest, or at most ``SLACK_S``
CPU seconds more (timer noise on a step of a few hundredths of a second). The verdict of the
goal is PNG and TIFF (the raster drawing, issue 11's item); the build and the vector files are
printed with their own verdicts. Pass ``--unthinned`` to draw every step in the rasters (the
times before report/raster_thinning.py), for a side-by-side run.
"""

from __future__ import annotations

import argparse
import time

FLAT = 1.5  # at most this ratio (largest rows / smallest rows) counts as flat
SLACK_S = 0.05  # ... or at most this much more CPU time (timer noise on a small step)


def _curve(n: int) -> dict[str, object]:
    import numpy as np

    from rtoutcomes.study.spec import KMOptions
    from rtoutcomes.study.summaries import km_summary

    rng = np.random.default_rng(n)
    event_time = rng.weibull(1.0, n) * 20.0
    censor_time = rng.uniform(0.0, 60.0, n)
    time_ = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(float)
    return dict(km_summary(time_, event, KMOptions(), ())["km"])


def measure(n: int, repeat: int, tiff_dpi: int = 300) -> dict[str, tuple[float, int]]:
    """Step -> (fastest CPU seconds, bytes written)."""
    from rtoutcomes.report.figures import Axis, Curve, Panel, render, survival_figure

    panel = Panel([Curve("All", _curve(n), n)], "Overall survival", "Overall survival")
    best: dict[str, tuple[float, int]] = {}
    for _ in range(repeat):
        start = time.process_time()
        fig = survival_figure([panel], Axis("months"))
        steps = {"build": (time.process_time() - start, 0)}
        for kind in ("png", "svg", "pdf", "tiff"):
            start = time.process_time()
            data = render(fig, (kind,), tiff_dpi=tiff_dpi).files[kind]
            steps[kind] = (time.process_time() - start, len(data))
        for step, (cpu, size) in steps.items():
            if step not in best or cpu < best[step][0]:
                best[step] = (cpu, size)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=float, default=[1e3, 1e5, 1e6])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tiff-dpi", type=int, default=300, choices=(300, 600))
    parser.add_argument("--unthinned", action="store_true", help="rasters from every step")
    args = parser.parse_args(argv)
    if args.unthinned:
        from rtoutcomes.report import raster_thinning

        raster_thinning.MIN_VERTICES = 10**12
    rows = sorted(int(n) for n in args.rows)
    measure(rows[0], 1, args.tiff_dpi)  # warm-up: imports and font caches
    results = {n: measure(n, args.repeat, args.tiff_dpi) for n in rows}
    steps = list(results[rows[0]])
    print(f"{'rows':>9} " + " ".join(f"{s + ' s':>8} {s + ' kB':>9}" for s in steps))
    for n, best in results.items():
        cells = " ".join(f"{best[s][0]:8.3f} {best[s][1] / 1000:9.0f}" for s in steps)
        print(f"{n:>9} {cells}")
    low, high = results[rows[0]], results[rows[-1]]
    total = {n: sum(cpu for cpu, _ in best.values()) for n, best in results.items()}
    goal = True
    for step in [*steps, "all"]:
        a = total[rows[0]] if step == "all" else low[step][0]
        b = total[rows[-1]] if step == "all" else high[step][0]
        flat = b <= FLAT * a or b - a <= SLACK_S
        if step in ("png", "tiff"):
            goal &= flat
        print(
            f"  {step}: {b:.3f} s at {rows[-1]:.0e} rows against {a:.3f} s at {rows[0]:.0e} "
            f"(x{b / a:.1f}): {'flat' if flat else 'NOT flat'}"
        )
    verdict = "holds" if goal else "not met"
    print(
        f"issue 11: PNG and TIFF ({args.tiff_dpi} dpi) drawing time independent of the rows "
        f"(x{FLAT} or +{SLACK_S} CPU s from {rows[0]:.0e} to {rows[-1]:.0e}): {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
