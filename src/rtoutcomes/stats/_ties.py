"""Collapsing survival data to distinct times: the vectorised core of every estimator.

Everything downstream works on per-time totals, so an estimator costs a sort plus a few linear
passes (cumulative sums, ``np.add.reduceat``), never a Python loop over times. Unweighted data
need only ``np.sort`` of the times (numpy's SIMD sort, several times faster than ``argsort``);
case weights need one ``argsort`` to carry the weights along.
Times are equal only if they are bitwise equal (R's survfit/survdiff also merge times that differ
by floating-point noise, ``timefix``; compute times consistently, e.g. days / 30.4375).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from rtoutcomes.stats._validate import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class TimeTable:
    """Per distinct time (ascending): totals of all rows and of events, weighted if asked.

    With weights, ``total_sq`` and ``events_sq`` hold the sums of squared weights (needed by
    the infinitesimal-jackknife variance); without, they are ``None``.
    """

    time: FloatArray
    total: FloatArray
    events: FloatArray
    total_sq: FloatArray | None = None
    events_sq: FloatArray | None = None


def group_starts(*sorted_keys: np.ndarray) -> IntArray:
    """Positions where any of the (already sorted) key arrays changes value."""
    n = sorted_keys[0].shape[0]
    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
    for key in sorted_keys:
        new[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(new)


def _distinct(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Distinct values of ``values`` and how often each occurs (one SIMD sort)."""
    ordered = np.sort(values)
    starts = group_starts(ordered)
    counts = np.diff(np.append(starts, ordered.shape[0])).astype(np.float64)
    return ordered[starts], counts


def time_table(time: FloatArray, event: BoolArray, weights: FloatArray | None) -> TimeTable:
    """Collapse rows to distinct times."""
    if weights is not None:
        return _weighted_time_table(time, event, weights)
    times, total = _distinct(time)
    event_times, event_counts = _distinct(time[event])
    events = np.zeros(times.shape[0])
    events[np.searchsorted(times, event_times)] = event_counts
    return TimeTable(times, total, events)


def _weighted_time_table(time: FloatArray, event: BoolArray, weights: FloatArray) -> TimeTable:
    order = np.argsort(time)
    sorted_time = time[order]
    starts = group_starts(sorted_time)
    w = weights[order]
    w_event = np.where(event[order], w, 0.0)
    return TimeTable(
        sorted_time[starts],
        np.add.reduceat(w, starts),
        np.add.reduceat(w_event, starts),
        np.add.reduceat(w * w, starts),
        np.add.reduceat(w * w_event, starts),
    )


def partition(codes: IntArray, n_codes: int) -> tuple[IntArray, IntArray]:
    """Order that makes rows of equal code (0..n_codes-1) contiguous, and the slice bounds.

    A stable radix sort of the codes in the smallest unsigned type: linear, and much faster
    than sorting by time within code.
    """
    order = np.argsort(codes.astype(_code_dtype(n_codes)), kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=n_codes))))
    return order, bounds


def slices_time_table(
    time: FloatArray, event: BoolArray, bounds: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Distinct times over consecutive slices (groups) of rows; rows and events per slice.

    Returns (times, rows, events); rows/events have one row per slice ``bounds[j]:bounds[j+1]``
    and one column per time (slice-major, so per-slice vectors are contiguous).
    """
    per_slice = [
        (_distinct(time[a:b]), _distinct(time[a:b][event[a:b]]))
        for a, b in itertools.pairwise(bounds.tolist())
    ]
    times = np.unique(np.concatenate([piece[0][0] for piece in per_slice]))
    rows = np.zeros((len(per_slice), times.shape[0]))
    events = np.zeros((len(per_slice), times.shape[0]))
    for j, ((s_times, s_rows), (e_times, e_counts)) in enumerate(per_slice):
        rows[j, np.searchsorted(times, s_times)] = s_rows
        events[j, np.searchsorted(times, e_times)] = e_counts
    return times, rows, events


def _code_dtype(n_codes: int) -> type[np.unsignedinteger]:
    """The smallest unsigned type for codes 0..n-1 (numpy radix-sorts small integer types)."""
    return np.uint8 if n_codes <= 256 else np.uint16 if n_codes <= 65536 else np.uint64


def at_risk(total: FloatArray) -> FloatArray:
    """At risk at each distinct time (last axis): rows with time >= t, summed from the end."""
    out: FloatArray = np.cumsum(total[..., ::-1], axis=-1)[..., ::-1]
    return out
