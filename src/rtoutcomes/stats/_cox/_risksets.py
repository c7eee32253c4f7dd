"""Risk sets of a Cox model laid out once, for vectorised likelihood evaluations.

Rows are sorted by (stratum, time, event): a *group* is a run of rows with the same stratum and
time, and within a group the censored rows come first and the events last, so each group is one
or two contiguous *segments* (censored part, event part). One ``np.add.reduceat`` over segment
starts then gives both the group sums and the event sums. The risk set at a group's time is
that group and every later group of its stratum, so risk-set sums are reverse cumulative sums
over groups within each stratum. Only groups with an event (*event groups*) add likelihood terms.

Counting-process data (start, stop]: a row is at risk in the groups from its *entry group* (the
first group of its stratum with time > start) to its own (stop) group. A row that enters late
is taken out of the risk-set sums of the groups before its entry group by subtracting its
contribution at group entry - 1 before the reverse cumulative sum ("late" rows, sorted by that
group, so one ``reduceat`` per evaluation); a cumulative sum over event groups seen by such a
row is its value at its own group minus its value at entry - 1 (``row_cumulative``).

Ties among the d events of a group are expanded into d "sub-steps" k = 0..d-1 with fraction
f_k = k/d (Efron) or a single sub-step with f = 0 (Breslow), as in Therneau and Grambsch
(2000), section 3.3, and R's coxph. Every per-group quantity then is a sum over sub-steps.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._ties import dense_rank

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

CHUNK = 1 << 15  # rows per block for n x p products (a few MB: stays in cache)


@dataclass(frozen=True)
class RiskSets:
    order: IntArray  # sorted position -> row of the (complete-case) input
    x: FloatArray  # sorted covariates, centred and scaled (n x p), C-contiguous
    weights: FloatArray  # sorted case weights (ones when unweighted)
    event: BoolArray  # sorted
    event_weight: FloatArray  # weights * event, sorted
    group: IntArray  # group of each sorted row (n)
    seg_start: IntArray  # first sorted position of each segment
    seg_group: IntArray  # group of each segment
    group_seg: IntArray  # first segment of each group (G)
    stratum_bounds: IntArray  # first group of each stratum, then G
    ev_seg: IntArray  # the event segment of each event group (E)
    ev_groups: IntArray  # the group of each event group (E)
    ev_rows: IntArray  # sorted positions of the events, grouped by event group
    ev_group_of_event: IntArray  # event-group index of each event
    weighted_x_events: FloatArray  # sum over events of w x (p)
    mult: FloatArray  # weight of each sub-step term: mean event weight (Efron), total (Breslow)
    n_terms: FloatArray  # number of sub-steps of each event group
    k_group: IntArray  # event group of each sub-step
    k_start: IntArray | None  # first sub-step of each event group (None: one sub-step each)
    k_frac: FloatArray  # fraction f_k of each sub-step
    seg_of_row: IntArray  # segment of each sorted row (n)
    # counting-process data: rows entering after their stratum's first group, sorted by the
    # group before their entry (late_group), and the runs of equal late_group
    late_row: IntArray  # sorted positions (empty for right-censored data)
    late_group: IntArray  # group just before entry of each late row
    late_start: IntArray  # first index into late_row of each run of equal late_group
    # scratch buffers reused by every likelihood evaluation (fresh arrays of 1e6 rows cost
    # page faults on each allocation); their contents are meaningless between calls
    work_n: FloatArray  # 3 x n
    work_chunk: FloatArray  # CHUNK x p: n x p products are formed a block of rows at a time
    work_k: FloatArray  # 2 x number of sub-steps

    @property
    def n_groups(self) -> int:
        return int(self.group_seg.shape[0])


def _sort_order(time: FloatArray, event: BoolArray, strata: IntArray | None) -> IntArray:
    """Stable order by (stratum, time, event) via dense time ranks (radix sort when they fit)."""
    rank = dense_rank(time)
    n_times = int(rank.max()) + 1 if rank.size else 1
    key = rank * 2 + event
    if strata is not None:
        key += strata.astype(np.int64) * (2 * n_times)
    if key.size and key.max() < 2**16:
        return np.argsort(key.astype(np.uint16), kind="stable").astype(np.intp)
    return np.argsort(key, kind="stable").astype(np.intp)


def build(
    x: FloatArray,
    time: FloatArray,
    event: BoolArray,
    weights: FloatArray | None,
    strata: IntArray | None,
    *,
    efron: bool,
    means: FloatArray,
    scale: FloatArray,
    start: FloatArray | None = None,
) -> RiskSets:
    """Sort once and index groups and segments; x is stored as (x - means) * scale, which
    changes no estimate (Newton-Raphson is affine invariant) but keeps exp(eta) in range."""
    n = time.shape[0]
    order = _sort_order(time, event, strata)
    t, ev = time[order], event[order]
    new_group = np.diff(t) != 0
    if strata is not None:
        new_group |= np.diff(strata[order]) != 0
    new_seg = new_group | (np.diff(ev.astype(np.int8)) != 0)
    seg_start = np.concatenate(([0], np.flatnonzero(new_seg) + 1)).astype(np.intp)
    group = np.concatenate(([0], np.cumsum(new_group))).astype(np.intp)
    seg_group = group[seg_start]
    group_seg = np.concatenate(([0], np.flatnonzero(np.diff(seg_group) != 0) + 1)).astype(np.intp)
    g_strat = (
        np.zeros(group_seg.shape[0], dtype=np.intp)
        if strata is None
        else strata[order][seg_start[group_seg]]
    )
    stratum_bounds = np.concatenate(
        ([0], np.flatnonzero(np.diff(g_strat) != 0) + 1, [group_seg.shape[0]])
    ).astype(np.intp)
    seg_event = ev[seg_start]
    ev_seg = np.flatnonzero(seg_event).astype(np.intp)
    seg_end = np.append(seg_start[1:], n)
    deaths = (seg_end - seg_start)[ev_seg]
    ev_rows = np.flatnonzero(ev).astype(np.intp)
    xs = np.take(x, order, axis=0)  # several times faster than x[order] for n x p
    xs -= means
    xs *= scale
    w = np.ones(n) if weights is None else weights[order]
    event_weight = w * ev
    death_weight = np.add.reduceat(event_weight, seg_start)[ev_seg] if n else np.empty(0)
    n_ev_groups = ev_seg.shape[0]
    ev_group_of_event = np.repeat(np.arange(n_ev_groups, dtype=np.intp), deaths)
    if efron:
        k_group = ev_group_of_event
        first = np.repeat(np.cumsum(deaths) - deaths, deaths)
        k_frac = (np.arange(ev_rows.shape[0]) - first) / deaths[ev_group_of_event]
        k_start: IntArray | None = (np.cumsum(deaths) - deaths).astype(np.intp)
        mult = death_weight / deaths
        n_terms = deaths.astype(np.float64)
    else:
        k_group = np.arange(n_ev_groups, dtype=np.intp)
        k_frac = np.zeros(n_ev_groups)
        k_start = None
        mult = death_weight
        n_terms = np.ones(n_ev_groups)
    late_row, late_group = _late_entries(
        t, None if start is None else start[order], seg_start, group_seg, stratum_bounds
    )
    late_start = (
        np.concatenate(([0], np.flatnonzero(np.diff(late_group) != 0) + 1)).astype(np.intp)
        if late_row.size
        else np.zeros(0, dtype=np.intp)
    )
    return RiskSets(
        late_row=late_row,
        late_group=late_group,
        late_start=late_start,
        order=order,
        x=xs,
        weights=w,
        event=ev,
        event_weight=event_weight,
        group=group,
        seg_start=seg_start,
        seg_group=seg_group,
        group_seg=group_seg,
        stratum_bounds=stratum_bounds,
        ev_seg=ev_seg,
        ev_groups=seg_group[ev_seg],
        ev_rows=ev_rows,
        ev_group_of_event=ev_group_of_event,
        weighted_x_events=event_weight @ xs,
        mult=mult,
        n_terms=n_terms,
        k_group=k_group,
        k_start=k_start,
        k_frac=k_frac,
        seg_of_row=np.repeat(
            np.arange(seg_start.shape[0], dtype=np.intp), np.diff(np.append(seg_start, n))
        ),
        work_n=np.empty((3, n)),
        work_chunk=np.empty((min(CHUNK, n), xs.shape[1])),
        work_k=np.empty((2, k_frac.shape[0])),
    )


def _late_entries(
    t: FloatArray,
    start: FloatArray | None,
    seg_start: IntArray,
    group_seg: IntArray,
    stratum_bounds: IntArray,
) -> tuple[IntArray, IntArray]:
    """Rows (sorted positions) whose entry group is not their stratum's first, and the group
    just before their entry; sorted by that group."""
    if start is None:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    group_time = t[seg_start[group_seg]]
    entry = np.empty(t.shape[0], dtype=np.intp)
    first_row = seg_start[group_seg[stratum_bounds[:-1]]]
    row_bounds = np.append(first_row, t.shape[0])
    for s, (lo, hi) in enumerate(itertools.pairwise(stratum_bounds.tolist())):
        rows = slice(row_bounds[s], row_bounds[s + 1])
        entry[rows] = lo + np.searchsorted(group_time[lo:hi], start[rows], side="right")
    stratum_first = np.repeat(stratum_bounds[:-1], np.diff(row_bounds))
    late = np.flatnonzero(entry > stratum_first)
    before = entry[late] - 1
    by_group = np.argsort(before, kind="stable")
    return late[by_group].astype(np.intp), before[by_group].astype(np.intp)


def remove_late(rs: RiskSets, group_sums: FloatArray, late_values: FloatArray) -> None:
    """Subtract ``late_values`` (one per late row, in ``late_row`` order; or a row of p) from
    the group sums (G, or G x p) at the group before each row's entry, in place."""
    if rs.late_row.size:
        runs = np.add.reduceat(late_values, rs.late_start, axis=0)
        group_sums[rs.late_group[rs.late_start]] -= runs


def row_cumulative(rs: RiskSets, cumulative: FloatArray) -> FloatArray:
    """Per sorted row, a per-group running sum (G, or G x p) accumulated over the groups the
    row is at risk in: its value at the row's group, minus its value before the row entered."""
    out: FloatArray = cumulative[rs.group]
    if rs.late_row.size:
        out[rs.late_row] -= cumulative[rs.late_group]
    return out


def reverse_cumsum(values: FloatArray, bounds: IntArray) -> FloatArray:
    """Sum of each group and all later groups of its stratum (risk-set sums), along axis 0."""
    if bounds.shape[0] == 2:
        return np.cumsum(values[::-1], axis=0)[::-1]
    out = np.empty_like(values)
    for lo, hi in itertools.pairwise(bounds):
        out[lo:hi] = np.cumsum(values[lo:hi][::-1], axis=0)[::-1]
    return out


def forward_cumsum(values: FloatArray, bounds: IntArray) -> FloatArray:
    """Sum of each group and all earlier groups of its stratum, along axis 0."""
    if bounds.shape[0] == 2:
        return np.cumsum(values, axis=0)
    out = np.empty_like(values)
    for lo, hi in itertools.pairwise(bounds):
        out[lo:hi] = np.cumsum(values[lo:hi], axis=0)
    return out
