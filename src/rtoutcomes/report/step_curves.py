"""A survival curve's data as the figures draw it: results.json's lists (``Curve.km``) turned
into the step curve's vertices, its censor ticks and its confidence band, and read for the
numbers at risk and the curve's end.

``report.figures`` draws with these and keeps the look (line styles, greys, marker sizes);
this module only says where the vertices are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.lines import Line2D

    from rtoutcomes.report.figures import Curve


def at_risk(curve: Curve, times: Sequence[float]) -> list[int]:
    """Number at risk at each time: rows still followed (time >= t), as R's ``summary``."""
    import numpy as np

    source = curve.risk if curve.risk is not None else curve.km
    steps = np.asarray(source["time"], dtype=float)
    counts = np.asarray(source["n_risk"], dtype=int)
    index = np.searchsorted(steps, np.asarray(times, dtype=float), side="left")
    return [int(counts[i]) if i < len(counts) else 0 for i in index]


def end_time(curve: Curve) -> float:
    """The curve's last time: its last row or, if later, its ``end`` (last follow-up), >= 0."""
    import numpy as np

    end = curve.km.get("end")
    times = np.asarray(curve.km["time"], dtype=float)
    last = float(times.max()) if times.shape[0] else 0.0
    return max(last, float(end) if end is not None else 0.0, 0.0)


def floats(values: Sequence[float | None]) -> Any:
    """``values`` as a float array, None as NaN (the fast conversion when there is none)."""
    import numpy as np

    try:
        return np.asarray(values, dtype=float)
    except TypeError:  # a None among them
        return np.array([np.nan if v is None else v for v in values], dtype=float)


def steps(curve: Curve, start: float) -> tuple[Any, Any]:
    """The step curve's vertices: from (0, ``start``) a horizontal then a vertical segment to
    each estimate (rows without an estimate skipped), then flat to the curve's end."""
    import numpy as np

    times, values = estimates(curve)
    xs = np.empty(2 * len(times) + 1)
    ys = np.empty(2 * len(times) + 1)
    xs[0], ys[0] = 0.0, start
    xs[1::2] = xs[2::2] = times
    ys[2::2] = values
    ys[1::2] = np.concatenate(([start], values[:-1]))
    end = end_time(curve)
    if end > xs[-1]:
        xs, ys = np.append(xs, end), np.append(ys, ys[-1])
    return xs, ys


def estimates(curve: Curve) -> tuple[Any, Any]:
    """(time, estimate) of the rows with an estimate, as float arrays."""
    import numpy as np

    estimate = floats(curve.km["estimate"])
    keep = ~np.isnan(estimate)
    return np.asarray(curve.km["time"], dtype=float)[keep], estimate[keep]


def plot_steps(ax: Axes, curve: Curve, start: float, **style: Any) -> Line2D:
    """The step curve (``steps``) drawn on ``ax`` as one line in ``style`` (Line2D's
    properties); returns the line."""
    xs, ys = steps(curve, start)
    (line,) = ax.plot(xs, ys, **style)
    return line


def plot_censor_ticks(ax: Axes, curve: Curve, **style: Any) -> None:
    """One marker (``style``: Line2D's properties) on the curve at each time with censored
    rows and an estimate; nothing when there are none or the curve has no ``n_censor``."""
    import numpy as np

    if "n_censor" not in curve.km:
        return
    censored = np.asarray(curve.km["n_censor"]) > 0
    estimate = floats(curve.km["estimate"])
    censored &= ~np.isnan(estimate)
    if censored.any():
        ax.plot(
            np.asarray(curve.km["time"], dtype=float)[censored],
            estimate[censored],
            linestyle="none",
            **style,
        )


def plot_band(ax: Axes, curve: Curve, start: float, **style: Any) -> None:
    """The pointwise confidence band (``lower`` to ``upper``) filled under the step curve's
    steps from (0, ``start``) to the curve's end, up to the first row without a limit;
    ``style``: the fill's properties. Nothing when the curve has no limits."""
    lower, upper = curve.km.get("lower"), curve.km.get("upper")
    if not lower or not upper:
        return
    xs, lo, hi = [0.0], [start], [start]
    for t, a, b in zip(curve.km["time"], lower, upper, strict=True):
        if a is None or b is None:
            break
        xs.append(float(t))
        lo.append(float(a))
        hi.append(float(b))
    xs.append(end_time(curve))
    lo.append(lo[-1])
    hi.append(hi[-1])
    ax.fill_between(xs, lo, hi, step="post", **style)
