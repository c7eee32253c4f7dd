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
from numpy.typing import NDArray

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


WHOLE_RANGE_PER_ROW = 4  # counting instead of sorting while max - min <= this x rows (+ a few)


def whole_number_codes(values: FloatArray) -> tuple[NDArray[np.int64], int, int] | None:
    """``values - min`` as integers and their range, when every value is a whole number and
    the range is at most a few per row (follow-up in days, say): distinct values are then
    counted with ``np.bincount`` in O(n + range) instead of sorted. ``None`` otherwise."""
    n = values.shape[0]
    if n == 0:
        return None
    low, high = float(values.min()), float(values.max())
    if not (-(2.0**52) <= low <= high <= 2.0**52) or high - low > WHOLE_RANGE_PER_ROW * n + 2**16:
        return None  # NaN, huge or spread-out values
    whole = values.astype(np.int64)
    if not np.array_equal(whole, values):
        return None
    whole -= int(low)
    return whole, int(low), int(high - low) + 1


def dense_rank(values: FloatArray) -> NDArray[np.int64]:
    """0 for the smallest value, +1 at each larger distinct value (equal = bitwise equal, or
    0.0 and -0.0)."""
    coded = whole_number_codes(values)
    if coded is not None:
        codes, _, size = coded
        present = np.zeros(size, dtype=np.int64)
        present[codes] = 1
        np.cumsum(present, out=present)
        out: NDArray[np.int64] = present[codes] - 1
        return out
    order = np.argsort(values)
    step = np.concatenate(([0], np.diff(values[order]) != 0)).astype(np.int64)
    rank = np.empty(values.shape[0], dtype=np.int64)
    rank[order] = np.cumsum(step)
    return rank


def _distinct_with_events(
    time: FloatArray, event: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Distinct times with their numbers of rows and of events, from a single integer sort.

    The bits of a float >= 0 sort like the float itself and the sign bit is 0, so shifting
    them left by one frees the lowest bit for the event flag: sorting these uint64 keys orders
    the rows by time and carries the events along, with no argsort and no second sort.
    (-0.0 differs from 0.0 only in the sign bit, which the shift drops: they merge, rightly.)
    Whole-number times in a modest range (days) are counted instead (``whole_number_codes``).
    """
    coded = whole_number_codes(time)
    if coded is not None:
        codes, low, size = coded
        rows = np.bincount(codes, minlength=size)
        events = np.bincount(codes[event.astype(bool, copy=False)], minlength=size)
        seen = np.flatnonzero(rows)
        return (
            (seen + low).astype(np.float64),
            rows[seen].astype(np.float64),
            events[seen].astype(np.float64),
        )
    keys = np.ascontiguousarray(time, dtype=np.float64).view(np.uint64) << np.uint64(1)
    keys |= event.astype(np.uint64)
    keys.sort()
    time_bits = keys >> np.uint64(1)
    starts = group_starts(time_bits)
    ends = np.append(starts[1:], keys.shape[0])
    events_before = np.concatenate(([0], np.cumsum(keys & np.uint64(1))))
    return (
        time_bits[starts].view(np.float64),
        (ends - starts).astype(np.float64),
        (events_before[ends] - events_before[starts]).astype(np.float64),
    )


def time_table(time: FloatArray, event: BoolArray, weights: FloatArray | None) -> TimeTable:
    """Collapse rows to distinct times."""
    if weights is not None:
        return _weighted_time_table(time, event, weights)
    return TimeTable(*_distinct_with_events(time, event))


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
        _distinct_with_events(time[a:b], event[a:b]) for a, b in itertools.pairwise(bounds.tolist())
    ]
    # Merge the slices' sorted time lists: a stable argsort of sorted runs is a linear merge.
    joined = np.concatenate([piece[0] for piece in per_slice])
    perm = np.argsort(joined, kind="stable")
    merged = joined[perm]
    new = np.ones(merged.shape[0], dtype=bool)
    new[1:] = merged[1:] != merged[:-1]
    times = merged[new]
    position = np.empty(joined.shape[0], dtype=np.intp)
    position[perm] = np.cumsum(new) - 1
    rows = np.zeros((len(per_slice), times.shape[0]))
    events = np.zeros((len(per_slice), times.shape[0]))
    offset = 0
    for j, (s_times, s_rows, s_events) in enumerate(per_slice):
        where = position[offset : offset + s_times.shape[0]]
        offset += s_times.shape[0]
        rows[j, where] = s_rows
        events[j, where] = s_events
    return times, rows, events


def _code_dtype(n_codes: int) -> type[np.unsignedinteger]:
    """The smallest unsigned type for codes 0..n-1 (numpy radix-sorts small integer types)."""
    return np.uint8 if n_codes <= 256 else np.uint16 if n_codes <= 65536 else np.uint64


def at_risk(total: FloatArray) -> FloatArray:
    """At risk at each distinct time (last axis): rows with time >= t, summed from the end."""
    out: FloatArray = np.cumsum(total[..., ::-1], axis=-1)[..., ::-1]
    return out
