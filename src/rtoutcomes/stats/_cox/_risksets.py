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
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._ties import WHOLE_RANGE_PER_ROW, dense_rank, whole_number_codes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

CHUNK = 1 << 15  # rows per block for n x p products (a few MB: stays in cache)
BLOCK = 1 << 13  # rows per block of the sorted copy of x and of each likelihood pass
K_CHUNK = 1 << 14  # Efron sub-steps per chunk of the per-group sums (their temporaries in cache)


@dataclass(frozen=True)
class RiskSets:
    order: IntArray  # sorted position -> row of the (complete-case) input
    xt: FloatArray  # sorted covariates, centred and scaled, one row per covariate (p x n)
    means: FloatArray  # the centring (weighted means, unless given)
    scale: FloatArray  # the scaling (1 / weighted mean absolute deviation, unless given)
    weights: FloatArray  # sorted case weights (ones when unweighted)
    unweighted: bool  # every weight is 1 (no case weights given)
    event: BoolArray  # sorted
    event_weight: FloatArray  # weights * event, sorted
    seg_start: IntArray  # first sorted position of each segment
    seg_group: IntArray  # group of each segment
    group_seg: IntArray  # first segment of each group (G)
    stratum_bounds: IntArray  # first group of each stratum, then G
    ev_seg: IntArray  # the event segment of each event group (E)
    ev_groups: IntArray  # the group of each event group (E)
    weighted_x_events: FloatArray  # sum over events of w x (p)
    mult: FloatArray  # weight of each sub-step term: mean event weight (Efron), total (Breslow)
    n_terms: FloatArray  # number of sub-steps of each event group
    k_count: IntArray  # number of sub-steps of each event group (ties: its events; Breslow: 1)
    k_start: IntArray | None  # first sub-step of each event group (None: one sub-step each)
    k_frac: FloatArray  # fraction f_k of each sub-step
    k_chunks: IntArray  # bounds (in event groups) of chunks of about K_CHUNK sub-steps
    seg_len: IntArray  # rows of each segment
    # counting-process data: rows entering after their stratum's first group, sorted by the
    # group before their entry (late_group), and the runs of equal late_group
    late_row: IntArray  # sorted positions (empty for right-censored data)
    late_group: IntArray  # group just before entry of each late row
    late_start: IntArray  # first index into late_row of each run of equal late_group
    # scratch buffers reused by every likelihood evaluation (fresh arrays of 1e6 rows cost
    # page faults on each allocation); their contents are meaningless between calls
    work_n: FloatArray  # n: eta and the risk scores of an evaluation
    work_block: FloatArray  # p x BLOCK: the products of a block of rows, in cache

    @property
    def x(self) -> FloatArray:
        """The sorted, centred and scaled covariates as rows x columns (a view of ``xt``)."""
        out: FloatArray = self.xt.T
        return out

    @cached_property
    def ev_rows(self) -> IntArray:
        """Sorted positions of the events, grouped by event group (for residuals)."""
        return np.flatnonzero(self.event).astype(np.intp)

    @cached_property
    def ev_group_of_event(self) -> IntArray:
        """The event-group index of each event (for residuals)."""
        deaths = self.seg_len[self.ev_seg]
        return np.repeat(np.arange(deaths.shape[0], dtype=np.intp), deaths)

    @property
    def n_groups(self) -> int:
        return int(self.group_seg.shape[0])

    @property
    def seg_of_row(self) -> IntArray:
        """The segment of each sorted row (n)."""
        return np.repeat(np.arange(self.seg_len.shape[0], dtype=np.intp), self.seg_len)

    @property
    def group(self) -> IntArray:
        """The group of each sorted row (n)."""
        return np.repeat(self.seg_group, self.seg_len)


def _stable_argsort(key: NDArray[np.int64]) -> IntArray:
    """Stable order of non-negative integer keys: numpy's radix sort on 16-bit keys, in two
    such passes (least significant half first) for keys below 2**32, else a merge sort."""
    top = int(key.max()) if key.size else 0
    if top < 2**16:
        return np.argsort(key.astype(np.uint16), kind="stable").astype(np.intp, copy=False)
    if top < 2**32:
        low = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
        high = (key[low] >> 16).astype(np.uint16)
        return low[np.argsort(high, kind="stable")].astype(np.intp)
    return np.argsort(key, kind="stable").astype(np.intp)


def _segments(
    time: FloatArray, event: BoolArray, strata: IntArray | None
) -> tuple[IntArray, NDArray[np.int64], IntArray, int]:
    """Stable order by (stratum, time, event), and the sorted key and length of each segment
    (a run of rows with equal stratum, time and event), and the number of distinct times.

    The key is 2 x (stratum x times + time code) + event, the time code being the offset from
    the first time of whole-number times in a modest range (days), else the dense rank; when
    the key's range is a few per row the segments are counted with ``np.bincount``, else read
    off the sorted keys. "Distinct times" is then the range of the codes."""
    n = time.shape[0]
    coded = whole_number_codes(time)  # days: their offsets from the first are the ranks' order
    if coded is not None:
        rank, _, n_times = coded
    else:
        rank = dense_rank(time)
        n_times = int(rank.max()) + 1 if n else 1
    key = rank * 2 + event
    if strata is not None:
        key += strata.astype(np.int64) * (2 * n_times)
    order = _stable_argsort(key)
    top = int(key.max()) + 1 if n else 0
    if top <= WHOLE_RANGE_PER_ROW * n + 2**16:
        counts = np.bincount(key, minlength=top)
        seg_key = np.flatnonzero(counts)
        seg_len = counts[seg_key].astype(np.intp)
    else:
        sorted_key = key[order]
        seg_first = np.flatnonzero(np.concatenate(([True], sorted_key[1:] != sorted_key[:-1])))
        seg_key = sorted_key[seg_first]
        seg_len = np.diff(np.append(seg_first, n)).astype(np.intp)
    return order, seg_key.astype(np.int64), seg_len, n_times


def _sorted_covariates(
    x: FloatArray,
    order: IntArray,
    weights: FloatArray | None,
    means: FloatArray | None,
    scale: FloatArray | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """x in sorted row order, one row per covariate (p x n, so that every pass of the
    likelihood reads each covariate contiguously), centred and scaled; the means and scales
    are R's (weighted means, 1 / weighted mean absolute deviation) unless given.

    Rows are gathered a block at a time into a small buffer and transposed from there (a
    whole-matrix transposing copy is several times slower); the centring and the deviations
    are then blocked passes whose temporaries stay in cache."""
    n, p = x.shape
    xt = np.empty((p, n))
    w = weights
    total = float(n) if w is None else float(w.sum())
    sums = None if means is not None else np.zeros(p)
    if x.flags.f_contiguous and not x.flags.c_contiguous:  # e.g. a DataFrame's values
        for j in range(p):
            np.take(x[:, j], order, out=xt[j], mode="clip")  # order is in range: no checks
        if sums is not None:
            sums = xt.sum(axis=1) if w is None else xt @ w
    else:
        buf = np.empty((min(BLOCK, n), p))
        for lo in range(0, n, BLOCK):
            hi = min(lo + BLOCK, n)
            block = np.take(x, order[lo:hi], axis=0, out=buf[: hi - lo], mode="clip")
            xt[:, lo:hi] = block.T
            if sums is not None:  # the column sums while the block is in cache
                sums += block.sum(axis=0) if w is None else w[lo:hi] @ block
    if means is None:
        assert sums is not None
        means = sums / total
    if scale is None:
        spread = np.zeros(p)
        work = np.empty((p, min(BLOCK, n)))
        for lo in range(0, n, BLOCK):
            hi = min(lo + BLOCK, n)
            dev = np.subtract(xt[:, lo:hi], means[:, None], out=work[:, : hi - lo])
            np.abs(dev, out=dev)
            spread += dev.sum(axis=1) if w is None else dev @ w[lo:hi]
        spread /= total
        scale = np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1.0), 1.0)
    for lo in range(0, n, BLOCK):
        block = xt[:, lo : lo + BLOCK]
        block -= means[:, None]
        block *= scale[:, None]
    return xt, means, scale


def build(
    x: FloatArray,
    time: FloatArray,
    event: BoolArray,
    weights: FloatArray | None,
    strata: IntArray | None,
    *,
    efron: bool,
    means: FloatArray | None = None,
    scale: FloatArray | None = None,
    start: FloatArray | None = None,
) -> RiskSets:
    """Sort once and index groups and segments; x is stored as (x - means) * scale, which
    changes no estimate (Newton-Raphson is affine invariant) but keeps exp(eta) in range.
    ``means`` and ``scale``: R's coxph centring and scaling (weighted means, 1 / weighted mean
    absolute deviation) of these rows unless given (pooled over centres, say)."""
    n = time.shape[0]
    order, seg_key, seg_len, n_times = _segments(time, event, strata)
    n_seg = seg_len.shape[0]
    seg_start = (np.cumsum(seg_len) - seg_len).astype(np.intp)
    seg_event = (seg_key & 1).astype(bool)
    group_key = seg_key >> 1  # stratum x distinct times + time rank
    new_group = np.ones(n_seg, dtype=bool)
    new_group[1:] = group_key[1:] != group_key[:-1]
    group_seg = np.flatnonzero(new_group).astype(np.intp)
    seg_group = (np.cumsum(new_group) - 1).astype(np.intp)
    g_strat = group_key[group_seg] // n_times
    stratum_bounds = np.concatenate(
        ([0], np.flatnonzero(np.diff(g_strat) != 0) + 1, [group_seg.shape[0]])
    ).astype(np.intp)
    ev = np.repeat(seg_event, seg_len)
    ev_seg = np.flatnonzero(seg_event).astype(np.intp)
    deaths = seg_len[ev_seg]
    w_sorted = None if weights is None else weights[order]
    xt, means, scale = _sorted_covariates(x, order, w_sorted, means, scale)
    w = np.ones(n) if w_sorted is None else w_sorted
    event_weight = ev.astype(np.float64) if w_sorted is None else w * ev
    if w_sorted is None:
        death_weight = deaths.astype(np.float64)
    else:
        death_weight = np.add.reduceat(event_weight, seg_start)[ev_seg] if n else np.empty(0)
    n_ev_groups = ev_seg.shape[0]
    if efron:
        first_event = np.cumsum(deaths) - deaths
        k_start: IntArray | None = first_event.astype(np.intp)
        k_count = deaths
        within = np.arange(int(deaths.sum()), dtype=np.float64)
        within -= np.repeat(first_event.astype(np.float64), deaths)
        k_frac = within / np.repeat(deaths.astype(np.float64), deaths)
        mult = death_weight / deaths
        n_terms = deaths.astype(np.float64)
    else:
        k_count = np.ones(n_ev_groups, dtype=np.intp)
        k_frac = np.zeros(n_ev_groups)
        k_start = None
        mult = death_weight
        n_terms = np.ones(n_ev_groups)
    if start is None:
        late_row = late_group = np.zeros(0, dtype=np.intp)
    else:
        group_time = time[order[seg_start[group_seg]]]
        late_row, late_group = _late_entries(
            start[order], group_time, seg_start, group_seg, stratum_bounds
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
        xt=xt,
        means=means,
        scale=scale,
        weights=w,
        unweighted=w_sorted is None,
        event=ev,
        event_weight=event_weight,
        seg_start=seg_start,
        seg_group=seg_group,
        group_seg=group_seg,
        stratum_bounds=stratum_bounds,
        ev_seg=ev_seg,
        ev_groups=seg_group[ev_seg],
        weighted_x_events=xt @ event_weight,
        mult=mult,
        n_terms=n_terms,
        k_count=k_count,
        k_start=k_start,
        k_frac=k_frac,
        k_chunks=np.unique(
            np.concatenate(
                (np.searchsorted(k_start, np.arange(0, k_frac.shape[0], K_CHUNK)), [n_ev_groups])
            )
        ).astype(np.intp)
        if k_start is not None
        else np.zeros(0, dtype=np.intp),
        seg_len=seg_len,
        work_n=np.empty(n),
        work_block=np.empty((xt.shape[0], min(BLOCK, n))),
    )


def _late_entries(
    start: FloatArray,
    group_time: FloatArray,
    seg_start: IntArray,
    group_seg: IntArray,
    stratum_bounds: IntArray,
) -> tuple[IntArray, IntArray]:
    """Rows (sorted positions; ``start`` in sorted order) whose entry group is not their
    stratum's first, and the group just before their entry; sorted by that group."""
    n = start.shape[0]
    entry = np.empty(n, dtype=np.intp)
    first_row = seg_start[group_seg[stratum_bounds[:-1]]]
    row_bounds = np.append(first_row, n)
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
