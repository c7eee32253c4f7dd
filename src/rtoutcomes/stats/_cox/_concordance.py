"""Harrell's concordance of a Cox model as R's coxph reports it (survival 3.x ``concordancefit``).

A pair is comparable when the shorter time is an event: an event at t against any subject whose
time is later, or censored at the same t (censored at t counts as surviving past t). Two events
at the same time are tied on time and excluded. Case weights multiply (w_i w_j). A comparable
pair is concordant when the event has the higher risk score, discordant when lower, and tied on
the score otherwise (it counts 1/2). Strata: only pairs within a stratum.

The standard error is R's infinitesimal jackknife: each subject's influence is the weighted count
of concordant, discordant and tied pairs it belongs to; the dfbeta of Somers' d per subject
(summed within clusters when given) gives var(C) = sum(dfbeta^2) / 4.

Counting uses a vectorised divide and conquer over the bits of the time rank (see
``_pair_influence``): O(n log T) numpy work for T distinct times, with no Python loop over
subjects or times.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._ties import dense_rank
from rtoutcomes.tabular_result import TabularResult

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

if TYPE_CHECKING:
    import pandas as pd

RADIX_LIMIT = 2**16  # block keys below this are partitioned by a radix sort


@dataclass(frozen=True)
class Concordance(TabularResult):
    """Concordance (C-index) with its standard error and the weighted pair counts."""

    concordance: float
    std: float
    concordant: float
    discordant: float
    tied_x: float  # comparable pairs tied on the risk score
    tied_y: float  # event pairs tied on time (not comparable), scores differ
    tied_xy: float  # event pairs tied on time and score

    def __float__(self) -> float:
        return self.concordance

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "value": [
                    self.concordance,
                    self.std,
                    self.concordant,
                    self.discordant,
                    self.tied_x,
                    self.tied_y,
                    self.tied_xy,
                ]
            },
            index=["concordance", "std", "concordant", "discordant", "tied_x", "tied_y", "tied_xy"],
        )


def _dense_rank(values: FloatArray) -> tuple[NDArray[np.int64], IntArray]:
    """0 for the smallest value, +1 at each larger distinct value; and the sorting order."""
    order = np.argsort(values)
    step = np.concatenate(([0], np.diff(values[order]) != 0)).astype(np.int64)
    rank = np.empty(values.shape[0], dtype=np.int64)
    rank[order] = np.cumsum(step)
    return rank, order.astype(np.intp)


def _score_rank(score: FloatArray) -> NDArray[np.int64]:
    """A rank of each score that orders them as the scores (equal scores, equal ranks; the
    ranks may skip a number, which no pair count sees): from the distinct scores by hashing,
    without sorting the rows. A categorical model's linear predictor has a few values."""
    try:
        distinct = np.unique(score, sorted=False)  # a hash table (numpy >= 2.3)
    except TypeError:
        return _dense_rank(score)[0]
    distinct.sort()
    if distinct.shape[0] <= 8:  # a few comparisons per row beat a binary search
        rank = np.zeros(score.shape[0], dtype=np.int64)
        for value in distinct[:-1]:
            rank += score > value
        return rank
    return np.searchsorted(distinct, score).astype(np.int64)


def _stable_order(values: NDArray[np.int64]) -> IntArray:
    """Stable argsort; a radix sort when the values fit in 16 bits."""
    if values.size and values.min() >= 0 and values.max() < RADIX_LIMIT:
        return np.argsort(values.astype(np.uint16), kind="stable").astype(np.intp)
    return np.argsort(values, kind="stable").astype(np.intp)


def _spans(flags: BoolArray, n: int) -> tuple[IntArray, IntArray]:
    """Per position: start and end (exclusive) of the run it belongs to; runs begin at flags."""
    starts = np.flatnonzero(flags)
    lengths = np.diff(np.append(starts, n))
    return np.repeat(starts, lengths), np.repeat(starts + lengths, lengths)


def _partners(
    key: NDArray[np.int64], w: FloatArray, event: BoolArray, n_bits: int
) -> tuple[FloatArray, FloatArray]:
    """Per subject: weight of the later subjects of its stratum (its partners when it is the
    event) and of the earlier events (its partners as the later subject)."""
    order = _stable_order(key)
    sorted_key = key[order]
    new = np.concatenate(([True], sorted_key[1:] != sorted_key[:-1]))
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    weight = np.add.reduceat(w[order], starts)
    event_weight = np.add.reduceat(np.where(event[order], w[order], 0.0), starts)
    stratum = sorted_key[starts] >> n_bits
    later, earlier = np.empty_like(weight), np.empty_like(weight)
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(stratum) != 0) + 1, [weight.size]))
    for lo, hi in itertools.pairwise(bounds):
        later[lo:hi] = np.cumsum(weight[lo:hi][::-1])[::-1] - weight[lo:hi]
        earlier[lo:hi] = np.cumsum(event_weight[lo:hi]) - event_weight[lo:hi]
    out_later, out_earlier = np.empty(key.shape[0]), np.empty(key.shape[0])
    out_later[order], out_earlier[order] = later[group], earlier[group]
    return out_later, out_earlier


def _stable_partition(
    sk: NDArray[np.int64],
    b: int,
    upper: BoolArray,
    block_start: IntArray,
    block_end: IntArray,
    position: IntArray,
) -> IntArray:
    """The permutation that puts, in each block, the 0-half (by bit b) before the 1-half."""
    if (sk[-1] >> (b + 1)) * 2 + 1 < RADIX_LIMIT:  # numpy's stable uint16 sort is a radix sort
        return np.argsort((sk >> b).astype(np.uint16), kind="stable").astype(np.intp)
    lower_before = np.concatenate(([0], np.cumsum(~upper)))
    lower_rank = lower_before[:-1] - lower_before[block_start]
    n_lower = lower_before[block_end] - lower_before[block_start]
    target = np.where(
        upper,
        block_start + n_lower + (position - block_start - lower_rank),
        block_start + lower_rank,
    )
    moved = np.empty_like(position)
    moved[target] = position
    return moved


def _pair_influence(
    key: NDArray[np.int64],
    v: NDArray[np.int64],
    by_score: IntArray,
    w: FloatArray | None,
    n_bits: int,
) -> tuple[FloatArray, float, float]:
    """Per subject, the sum over the comparable pairs it belongs to of the partner's weight times
    (+1 concordant, -1 discordant, 0 tied score) counted at score ranks below and at-or-below;
    and, over events, the weighted pairs with the later subject at a lower score and at a lower
    or equal score.

    A pair (i, j) is comparable when i is an event and key_j > key_i (the lowest bit of a key
    is 1 for a censored subject); it is concordant when v_i > v_j. Subjects are kept sorted by
    (key >> (b + 1), v) while b runs from the top bit down; every pair whose keys first differ
    at bit b sits in one block, the event in the 0-half and the later subject in the 1-half, and
    is counted there with cumulative sums. A stable partition of each block by bit b gives the
    order for the next bit. The returned per-subject sum is sum(less + less_or_equal) for an
    event's own pairs minus the same for its pairs as the later subject; ``_partners`` supplies
    the pair totals that turn it into concordant - discordant.
    """
    n = key.shape[0]
    order = by_score[_stable_order(key[by_score] >> n_bits)]  # by (stratum, score)
    sk, sv = key[order], v[order]
    se = (sk & 1) == 0  # events
    sw = None if w is None else w[order]
    acc = np.zeros(n)
    below = below_or_equal = 0.0
    position = np.arange(n, dtype=np.intp)
    for b in range(n_bits - 1, -1, -1):
        upper = ((sk >> b) & 1).astype(bool)
        new_block = np.empty(n, dtype=bool)
        new_block[0] = True
        np.not_equal(sk[1:] >> (b + 1), sk[:-1] >> (b + 1), out=new_block[1:])
        new_run = new_block.copy()
        new_run[1:] |= sv[1:] != sv[:-1]
        block = _spans(new_block, n)
        run = _spans(new_run, n)
        query = se & ~upper  # events in the 0-half
        # events of the 0-half against the later subjects (the 1-half) of their block
        cum = np.concatenate(([0.0], np.cumsum(upper if sw is None else np.where(upper, sw, 0))))
        first = cum[block[0]]
        less, less_equal = cum[run[0]] - first, cum[run[1]] - first
        weight = query if sw is None else np.where(query, sw, 0.0)
        below += float(np.dot(weight, less))
        below_or_equal += float(np.dot(weight, less_equal))
        # the later subjects against the earlier events (the 0-half) of their block
        cum = np.concatenate(([0.0], np.cumsum(weight)))
        both = cum[run[0]] + cum[run[1]] - 2 * cum[block[0]]
        acc += np.where(query, less + less_equal, np.where(upper, -both, 0.0))
        if b == 0:
            break
        moved = _stable_partition(sk, b, upper, block[0], block[1], position)
        order, sk, sv, se, acc = order[moved], sk[moved], sv[moved], se[moved], acc[moved]
        if sw is not None:
            sw = sw[moved]
    out = np.empty(n)
    out[order] = acc
    return out, below, below_or_equal


def _tied_event_pairs(group: NDArray[np.int64], w: FloatArray) -> float:
    """Weighted count of unordered pairs in the same group: sum over groups (W^2 - sum w^2)/2."""
    if w.size == 0:
        return 0.0
    _, inverse = np.unique(group, return_inverse=True)
    inverse = inverse.reshape(-1)
    total = np.bincount(inverse, weights=w)
    squares = np.bincount(inverse, weights=w * w)
    return float(((total * total - squares) / 2).sum())


def _counting_concordance(
    time: FloatArray,
    event: BoolArray,
    score: FloatArray,
    weights: FloatArray | None,
    strata: IntArray | None,
    cluster: IntArray | None,
    start: FloatArray,
) -> Concordance:
    """Counting-process concordance through pseudo-subjects (see ``concordance``)."""
    n = time.shape[0]
    w = np.ones(n) if weights is None else weights
    rows = np.arange(n, dtype=np.intp)
    owner = rows if cluster is None else cluster
    return concordance(
        np.concatenate((time, start)),
        np.concatenate((event, np.zeros(n, dtype=bool))),
        np.concatenate((score, score)),
        np.concatenate((w, -w)),
        None if strata is None else np.concatenate((strata, strata)),
        np.concatenate((owner, owner)),
    )


def concordance(
    time: FloatArray,
    event: BoolArray,
    score: FloatArray,
    weights: FloatArray | None = None,
    strata: IntArray | None = None,
    cluster: IntArray | None = None,
    *,
    start: FloatArray | None = None,
) -> Concordance:
    """Concordance of risk ``score`` (higher = earlier event) with right-censored times, or
    with counting-process intervals (``start``, ``time``].

    With intervals, a subject is a partner of an event at t only while at risk (start < t). Its
    pairs with the events at or before its start are removed by a pseudo-subject censored at its
    start with the opposite weight: censored at s, it is "later" than exactly the events at
    times <= s, so its pairs cancel those of the subject; its influence is the subject's.
    """
    if start is not None:
        return _counting_concordance(time, event, score, weights, strata, cluster, start)
    n = time.shape[0]
    w = np.ones(n) if weights is None else weights
    # events before censorings at the same time: censored at t counts as surviving past t
    key = 2 * dense_rank(time) + (~event).astype(np.int64)
    v, by_score = _dense_rank(score)
    n_bits = max(int(key.max()).bit_length(), 1) if n else 1
    if strata is not None:  # strata in the high bits: pairs across strata are never counted
        key += strata.astype(np.int64) << n_bits
    acc, below, below_or_equal = _pair_influence(key, v, by_score, weights, n_bits)
    later, earlier_events = _partners(key, w, event, n_bits)
    # concordant - discordant = (less + less_or_equal) - all, for each side of each pair
    diff = acc - np.where(event, later, 0.0) + earlier_events
    total = np.where(event, later, 0.0) + earlier_events
    n_conc = below
    n_tied = below_or_equal - below
    n_disc = float(np.dot(np.where(event, w, 0.0), later)) - below_or_equal
    ev = np.flatnonzero(event)
    same_time = key[ev]  # (stratum, time) of each event
    tied_time = _tied_event_pairs(same_time, w[ev])
    tied_xy = _tied_event_pairs(same_time * n + v[ev], w[ev])
    tied_y = tied_time - tied_xy
    npair = n_conc + n_disc + n_tied
    if npair == 0:
        return Concordance(np.nan, np.nan, 0.0, 0.0, 0.0, tied_y, tied_xy)
    somers = (n_conc - n_disc) / npair
    dfbeta = w * (diff / npair - somers / npair * total)
    if cluster is not None:
        dfbeta = np.bincount(cluster, weights=dfbeta).astype(np.float64)
    std = float(np.sqrt((dfbeta @ dfbeta) / 4))
    return Concordance(
        concordance=(somers + 1) / 2,
        std=std,
        concordant=n_conc,
        discordant=n_disc,
        tied_x=n_tied,
        tied_y=tied_y,
        tied_xy=tied_xy,
    )


def _ordered_pairs_by_score_bits(
    key: NDArray[np.int64], rank: NDArray[np.int64], w: FloatArray | None, n_bits: int
) -> tuple[float, float]:
    """Weighted comparable pairs (i an event, key_j > key_i) with the event's score rank above
    (concordant) and below (discordant) its partner's; ``rank`` holds the stratum in its bits
    above ``n_bits``, so pairs across strata are never counted.

    The divide and conquer of ``_pair_influence`` with the roles swapped: subjects kept sorted
    by (rank >> (b + 1), key) while b runs from the top bit of the score rank down; a pair whose
    ranks first differ at bit b sits in one block, one in each half, and is counted there from
    the cumulative weight of the other half after its key. Its cost is O(n) per bit of the
    number of distinct scores: one pass for a binary covariate, where the time bits take ~13.
    """
    n = key.shape[0]
    order = np.lexsort((key, rank >> n_bits))  # by (stratum, key)
    sk, sr = key[order], rank[order]
    se = (sk & 1) == 0  # events
    sw = np.ones(n) if w is None else w[order]
    concordant = discordant = 0.0
    position = np.arange(n, dtype=np.intp)
    for b in range(n_bits - 1, -1, -1):
        upper = ((sr >> b) & 1).astype(bool)
        new_block = np.empty(n, dtype=bool)
        new_block[0] = True
        np.not_equal(sr[1:] >> (b + 1), sr[:-1] >> (b + 1), out=new_block[1:])
        new_run = new_block.copy()
        new_run[1:] |= sk[1:] != sk[:-1]
        block_start, block_end = _spans(new_block, n)
        run_end = _spans(new_run, n)[1]
        for half, sign in ((upper, 1.0), (~upper, -1.0)):
            # events of this half against the other half's subjects later in their block
            cum = np.concatenate(([0.0], np.cumsum(np.where(half, 0.0, sw))))
            later = cum[block_end] - cum[run_end]
            count = float(np.dot(np.where(half & se, sw, 0.0), later))
            if sign > 0:
                concordant += count
            else:
                discordant += count
        if b == 0:
            break
        moved = _stable_partition(sr, b, upper, block_start, block_end, position)
        sk, sr, se, sw = sk[moved], sr[moved], se[moved], sw[moved]
    return concordant, discordant


def _pair_counts_by_table(
    time_rank: NDArray[np.int64],
    event: BoolArray,
    v: NDArray[np.int64],
    weights: FloatArray | None,
    strata: IntArray | None,
    n_times: int,
    n_scores: int,
    n_strata: int,
) -> tuple[float, float, float]:
    """Comparable, concordant and discordant pairs from a (stratum, time, score) table of
    counts: O(n + cells). Exact integer arithmetic (whole-number weights only), so the counts
    are the same floats as the divide and conquer's.

    An event at time rank r pairs with every subject of its stratum at a later rank and with
    the censored ones at rank r; with those partners tallied per score (``later``), the
    concordant ones are those at a lower score (a cumulative sum over scores), the discordant
    ones at a higher score.
    """
    cell = time_rank * n_scores + v
    if strata is not None:
        cell += strata.astype(np.int64) * (n_times * n_scores)
    size = n_strata * n_times * n_scores
    shape = (n_strata, n_times, n_scores)

    def tally(rows: BoolArray | None) -> NDArray[np.int64]:
        cells = cell if rows is None else cell[rows]
        if weights is None:
            counts = np.bincount(cells, minlength=size)
        else:
            counts = np.bincount(
                cells, weights=weights if rows is None else weights[rows], minlength=size
            ).astype(np.int64)
        return counts.reshape(shape)

    everyone, events = tally(None), tally(event)
    later = np.cumsum(everyone[:, ::-1], axis=1)[:, ::-1]
    later -= everyone  # subjects at later times
    later += everyone - events  # and the censored at the same time
    lower = np.cumsum(later, axis=2)
    comparable = int(np.vdot(events.sum(axis=2), lower[:, :, -1]))
    lower -= later  # partners at a lower score
    concordant = int(np.vdot(events, lower))
    lower += later  # at a lower or equal score
    discordant = comparable - int(np.vdot(events, lower))
    return float(comparable), float(concordant), float(discordant)


# the count table is used while it has at most this many cells per row, plus a few (more
# cells cost more in memory than they save: a multivariate model at 1e5 rows, 3,650 days x
# 576 scores, counted from 2.1 million cells took ~0.1 CPU s less user time but ~85 MB of
# fresh pages, ~0.08 s more system time, in a forked child whose pages are all new)
TABLE_CELLS_PER_ROW, TABLE_CELLS_FREE = 4, 2**16


def concordance_index(
    time: FloatArray,
    event: BoolArray,
    score: FloatArray,
    weights: FloatArray | None = None,
    strata: IntArray | None = None,
) -> float:
    """Harrell's C alone: ``concordance(...).concordance`` without the standard error.

    Few distinct scores and times (a categorical model, day-resolution times): pairs counted
    from a table of counts per (stratum, time, score), O(n) after the ranks; otherwise over the
    bits of the score's rank when they are fewer than the time's (one or two passes over the
    rows instead of ~13 for day-resolution times)."""
    n = time.shape[0]
    if n == 0:
        return float("nan")
    w = np.ones(n) if weights is None else weights
    time_rank = dense_rank(time)
    v = _score_rank(score)
    n_times, n_scores = int(time_rank.max()) + 1, int(v.max()) + 1
    n_strata = 1 if strata is None else int(strata.max()) + 1
    # exact counts: whole-number weights (none, or e.g. frequencies), codes as strata
    exact = weights is None or bool(np.all(weights % 1 == 0) and weights.sum() ** 2 < 2.0**52)
    exact &= strata is None or int(strata.min()) >= 0
    if exact and n_strata * n_times * n_scores <= TABLE_CELLS_PER_ROW * n + TABLE_CELLS_FREE:
        comparable, n_conc, n_disc = _pair_counts_by_table(
            time_rank, event, v, weights, strata, n_times, n_scores, n_strata
        )
        n_tied = comparable - n_conc - n_disc
        npair = n_conc + n_disc + n_tied
        if npair == 0:
            return float("nan")
        return ((n_conc - n_disc) / npair + 1) / 2
    key = 2 * time_rank + (~event).astype(np.int64)
    key_bits = max(int(key.max()).bit_length(), 1)
    n_bits = max(int(v.max()).bit_length(), 1)
    if n_bits > key_bits:  # more distinct scores than times: the time bits are fewer passes
        return concordance(time, event, score, weights, strata).concordance
    if strata is not None:
        key += strata.astype(np.int64) << key_bits
        v += strata.astype(np.int64) << n_bits
    n_conc, n_disc = _ordered_pairs_by_score_bits(key, v, weights, n_bits)
    later, _ = _partners(key, w, event, key_bits)
    comparable = float(np.dot(np.where(event, w, 0.0), later))
    n_tied = comparable - n_conc - n_disc
    npair = n_conc + n_disc + n_tied
    if npair == 0:
        return float("nan")
    return ((n_conc - n_disc) / npair + 1) / 2
