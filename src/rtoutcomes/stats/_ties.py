"""Sorting survival data once and collapsing it to distinct times (the vectorised core).

Everything downstream works on per-time totals, so an estimator costs one argsort plus a few
linear passes (``np.add.reduceat``, cumulative sums), never a Python loop over times.
Times are equal only if they are bitwise equal (R's survfit/survdiff also merge times that differ
by floating-point noise, ``timefix``; compute times consistently, e.g. days / 30.4375).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtoutcomes.stats._validate import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class TimeTable:
    """Per distinct time (ascending): totals of all rows and of events, weighted if asked."""

    time: FloatArray
    total: FloatArray  # rows (or their weights) with exactly this time
    events: FloatArray  # events (or their weights) at this time
    starts: IntArray  # first position of each time in the sorted rows
    order: IntArray  # the sort permutation of the rows


def group_starts(*sorted_keys: np.ndarray) -> IntArray:
    """Positions where any of the (already sorted) key arrays changes value."""
    n = sorted_keys[0].shape[0]
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for key in sorted_keys:
        new[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(new)


def time_table(time: FloatArray, event: BoolArray, weights: FloatArray | None) -> TimeTable:
    """Collapse rows to distinct times: one stable argsort and a few linear passes."""
    order = np.argsort(time, kind="stable")
    sorted_time = time[order]
    starts = group_starts(sorted_time)
    sorted_event = event[order]
    if weights is None:
        total = np.diff(np.append(starts, time.shape[0])).astype(np.float64)
        events = np.add.reduceat(sorted_event.astype(np.float64), starts)
    else:
        sorted_w = weights[order]
        total = np.add.reduceat(sorted_w, starts)
        events = np.add.reduceat(np.where(sorted_event, sorted_w, 0.0), starts)
    return TimeTable(sorted_time[starts], total, events, starts, order)


def at_risk(total: FloatArray) -> FloatArray:
    """Numbers at risk at each distinct time: rows with time >= t (summed from the end, as R)."""
    out: FloatArray = np.cumsum(total[::-1])[::-1]
    return out
