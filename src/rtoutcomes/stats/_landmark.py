"""Landmark analysis: keep the subjects still at risk at a landmark time.

A covariate known only after time zero (response at 3 months, a toxicity, a second course)
must not be compared from time zero: patients who die before it is known are counted in the
"no response" group (immortal time bias). The landmark method (Anderson et al. 1983, J Clin
Oncol 1:710) starts the clock at a landmark L: only subjects still at risk at L (follow-up > L)
are analysed, with the covariate as known at L. ``landmark`` gives those rows and either the
time from the landmark (``reset_time=True``, for Kaplan-Meier and log-rank) or the original
time scale with entry at L (``(start, stop)`` for ``cox``, which gives the same Cox model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from rtoutcomes.stats._validate import (
    BoolArray,
    FloatArray,
    IntArray,
    SurvivalInputError,
    survival_data,
)
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, repr=False)
class Landmark(TabularResult):
    """Rows at risk at the landmark: ``row`` (0-based input rows, for the covariates), their
    ``time`` from the landmark, ``event``, and ``start``/``stop`` on the original scale."""

    landmark: float
    row: IntArray
    time: FloatArray  # follow-up from the landmark: stop - landmark
    event: BoolArray
    start: FloatArray  # the landmark, for counting-process fits
    stop: FloatArray  # the original follow-up
    n_excluded: int  # rows with follow-up <= landmark (event or censored before it)

    def _headline(self) -> str:
        return (
            f"landmark {self.landmark:g}: {self.row.shape[0]} at risk, "
            f"{int(self.event.sum())} events after it, {self.n_excluded} excluded"
        )

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "row": self.row,
                "time": self.time,
                "event": self.event.astype(np.int64),
                "start": self.start,
                "stop": self.stop,
            }
        )


def landmark(time: ArrayLike, event: ArrayLike, at: float) -> Landmark:
    """The rows still at risk at time ``at`` (follow-up > ``at``), timed from it.

    ``time``/``event`` as for ``kaplan_meier``; ``at`` in the same unit (e.g. 3 months).
    Use ``kaplan_meier(lm.time, lm.event, group=response[lm.row])``, or
    ``cox(X[lm.row], (lm.start, lm.stop), lm.event)`` on the original time scale.
    """
    t, e, _ = survival_data(time, event)
    at = float(at)
    if not np.isfinite(at) or at < 0:
        raise SurvivalInputError(f"at: {at!r} must be a finite time >= 0")
    keep = np.flatnonzero(t > at).astype(np.intp)
    if keep.size == 0:
        raise SurvivalInputError(
            f"at: no row is still at risk at {at:g} (latest follow-up {float(t.max()):g})"
        )
    stop = t[keep]
    return Landmark(
        landmark=at,
        row=keep,
        time=stop - at,
        event=e[keep],
        start=np.full(keep.shape[0], at),
        stop=stop,
        n_excluded=int(t.shape[0] - keep.shape[0]),
    )
