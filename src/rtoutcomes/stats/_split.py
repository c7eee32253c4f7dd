"""Split follow-up at given times into counting-process rows (R's ``survSplit``).

Each row (start, stop] with its event becomes one row per interval between consecutive cut
points that fall strictly inside it; only the last piece keeps the event. The pieces are what a
Cox model with a covariate that changes at the cuts (a time-varying effect, a landmark, a dose
phase) is fitted to: ``cox(X[split.row], (split.start, split.stop), split.event)``; the fit is
the same as on the unsplit rows when nothing else changes (tests check this against R).
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
    as_events,
    as_float,
    as_times,
)
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, repr=False)
class SplitFollowUp(TabularResult):
    """Counting-process rows: ``row`` (0-based input row each piece comes from, to take its
    covariates with ``table.iloc[split.row]``), ``start``, ``stop``, ``event`` and ``episode``
    (1 + the number of cut points at or before the piece's start, R's ``episode``)."""

    row: IntArray
    start: FloatArray
    stop: FloatArray
    event: BoolArray
    episode: IntArray
    cut: FloatArray

    def _headline(self) -> str:
        return (
            f"{self.row.shape[0]} rows from {np.unique(self.row).shape[0]} subjects, "
            f"cut at {self.cut.tolist()}"
        )

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "row": self.row,
                "start": self.start,
                "stop": self.stop,
                "event": self.event.astype(np.int64),
                "episode": self.episode,
            }
        )


def split_follow_up(
    time: ArrayLike, event: ArrayLike, cut: ArrayLike, *, start: ArrayLike | None = None
) -> SplitFollowUp:
    """Split each row's follow-up (``start``, default 0, to ``time``] at the ``cut`` times.

    Times in any unit (the cut points in the same one). A cut point equal to a row's start or
    stop does not split it, as R's ``survSplit(Surv(time, event) ~ ., cut = cut)``.
    """
    stop = as_times(time, "time")
    e = as_events(event, stop.shape[0])
    begin = np.zeros_like(stop) if start is None else as_float(start, "start")
    if begin.shape[0] != stop.shape[0]:
        raise SurvivalInputError(f"start: has {begin.shape[0]} rows but time has {stop.shape[0]}")
    bad = begin >= stop
    if start is not None and bad.any():
        first_bad = int(np.flatnonzero(bad)[0])
        raise SurvivalInputError(
            f"start: row {first_bad} (0-based) starts at {begin[first_bad]!r}, not before its "
            f"stop time {stop[first_bad]!r}"
        )
    cuts = np.unique(as_float(cut, "cut"))
    first = np.searchsorted(cuts, begin, side="right")  # cuts <= start
    inside = np.maximum(np.searchsorted(cuts, stop, side="left") - first, 0)  # start < c < stop
    pieces = inside + 1
    row = np.repeat(np.arange(stop.shape[0], dtype=np.intp), pieces)
    offset = np.arange(row.shape[0]) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    index = first[row] + offset  # cut index ending the piece (if it is not the last)
    last = offset == inside[row]
    padded = np.append(cuts, np.inf)
    piece_start = np.where(offset == 0, begin[row], padded[np.maximum(index - 1, 0)])
    piece_stop = np.where(last, stop[row], padded[np.minimum(index, cuts.shape[0])])
    return SplitFollowUp(
        row=row,
        start=piece_start,
        stop=piece_stop,
        event=e[row] & last,
        episode=(index + 1).astype(np.intp),
        cut=cuts,
    )
