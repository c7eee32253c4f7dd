"""Quantiles of a survival curve with confidence limits, exactly as R's quantile.survfit.

R's convention: the p-th quantile is the first time at which 1 - S(t) reaches p, so p = 0.5 is
the median and p = 0.25 the time by which a quarter of the cohort has had the event (S = 0.75).
The confidence limits are the same rule applied to the lower and upper confidence curves.

Two rules of R are reproduced on purpose. If the curve is flat at exactly 1 - p (within
sqrt(machine epsilon)) the quantile is the midpoint of that flat stretch: between the time it was
reached and the next event time, or the last follow-up time if the curve stays flat to the end.
If the curve never reaches 1 - p the quantile is NaN (R's NA, "not reached").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from rtoutcomes.stats._validate import FloatArray, SurvivalInputError
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))


@dataclass(frozen=True)
class QuantileEstimate:
    """One survival quantile: the time (NaN if not reached) and its confidence limits."""

    prob: float
    estimate: float
    lower: float
    upper: float


@dataclass(frozen=True, repr=False)
class SurvivalQuantiles(TabularResult):
    """Quantiles of a survival curve: ``prob`` (fraction with the event), time and limits."""

    prob: FloatArray
    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray

    def __getitem__(self, i: int) -> QuantileEstimate:
        return QuantileEstimate(
            float(self.prob[i]),
            float(self.estimate[i]),
            float(self.lower[i]),
            float(self.upper[i]),
        )

    def __len__(self) -> int:
        return int(self.prob.shape[0])

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {"prob": self.prob, "time": self.estimate, "lower": self.lower, "upper": self.upper}
        )


def check_probs(probs: ArrayLike) -> FloatArray:
    p = np.atleast_1d(np.asarray(probs, dtype=np.float64))
    if p.ndim != 1 or np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise SurvivalInputError(f"probs: {probs!r} must be probabilities in [0, 1]")
    return p


def _first_at_least(knots: FloatArray, probs: FloatArray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first knot >= each prob (R approx(method="constant", f=1), NA outside)."""
    pos = np.searchsorted(knots, probs, side="left")
    inside = pos < knots.shape[0]
    inside &= ~((pos == 0) & (probs < knots[0]))
    return np.minimum(pos, knots.shape[0] - 1), inside


def curve_quantiles(time: FloatArray, curve: FloatArray, probs: FloatArray) -> FloatArray:
    """Times at which the step ``curve`` (survival or a confidence curve) falls to 1 - probs.

    ``time`` are the curve's step times (increasing); ``curve`` may hold NaN where a limit is
    undefined (those points are skipped, as R does).
    """
    x = np.concatenate(([0.0], time))
    y = np.concatenate(([0.0], 1.0 - curve))
    out = np.full(probs.shape, np.nan)
    finite = ~np.isnan(y)
    if not finite.any() or np.max(y[finite]) < np.min(probs):
        return out
    x_max = x[-1]
    # Keep the first point of each distinct value (R duplicated(): NaN repeats count as dups).
    first = np.ones(y.shape, dtype=bool)
    order = np.argsort(y, kind="stable")
    ys = y[order]
    same = (ys[1:] == ys[:-1]) | (np.isnan(ys[1:]) & np.isnan(ys[:-1]))
    first[order[1:][same]] = False
    x, y = x[first], y[first]
    usable = np.flatnonzero(~np.isnan(y))
    if usable.shape[0] < 2:
        return out
    # approx() orders its knots by value; the curve is monotone, so this keeps time order.
    knot_order = usable[np.argsort(y[usable], kind="stable")]
    knots = y[knot_order]
    pos1, ok1 = _first_at_least(knots + TOLERANCE, probs)
    pos2, ok2 = _first_at_least(knots - TOLERANCE, probs)
    idx1, idx2 = knot_order[pos1], knot_order[pos2]
    both = ok1 & ok2
    out[both] = (x[idx1[both]] + x[idx2[both]]) / 2.0
    out[probs == 0] = x[0]
    if not np.isnan(y[-1]):
        last = (np.abs(probs - y[-1]) < TOLERANCE) & ok1
        out[last] = (x[idx1[last]] + x_max) / 2.0
    return out
