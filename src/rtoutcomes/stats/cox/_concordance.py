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

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._result import TabularResult

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

if TYPE_CHECKING:
    import pandas as pd


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
            {"value": [self.concordance, self.std, self.concordant, self.discordant,
                       self.tied_x, self.tied_y, self.tied_xy]},
            index=["concordance", "std", "concordant", "discordant", "tied_x", "tied_y",
                   "tied_xy"],
        )

def _starts(flags: BoolArray) -> IntArray:
    return np.flatnonzero(flags).astype(np.intp)


def _within_block_sums(
    weights: FloatArray, run_start: IntArray, run_of: IntArray, block_start_run: IntArray,
    block_of_run: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per position: weight in its block at a lower score, at its score, at a higher score."""
    run_sum = np.add.reduceat(weights, run_start)
    before = np.concatenate(([0.0], np.cumsum(run_sum)))  # exclusive cumulative over runs
    first = block_start_run[block_of_run]  # first run of each run's block
    last = np.append(block_start_run[1:], run_sum.shape[0])[block_of_run]
    less_run = before[:-1] - before[first]
    greater_run = before[last] - before[:-1] - run_sum
    return less_run[run_of], run_sum[run_of], greater_run[run_of]


def _pair_influence(
    key: NDArray[np.int64], v: NDArray[np.int64], w: FloatArray, event: BoolArray, n_bits: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted concordant, discordant and score-tied comparable pairs each subject belongs to.

    A pair (i, j) is comparable when i is an event and key_j > key_i; it is concordant when
    v_i > v_j. The subjects are kept sorted by (key >> (b + 1), v) while b runs from the top bit
    down; every pair whose keys first differ at bit b sits in one block, the event in the 0-half
    and the later subject in the 1-half, and is counted there with cumulative sums. A stable
    partition of each block by bit b gives the order for the next bit.
    """
    n = key.shape[0]
    order = np.lexsort((v, key >> n_bits))
    sk, sv, sw, se = key[order], v[order], w[order], event[order]
    conc, disc, tied = np.zeros(n), np.zeros(n), np.zeros(n)
    position = np.arange(n)
    for b in range(n_bits - 1, -1, -1):
        block = sk >> (b + 1)
        upper = ((sk >> b) & 1).astype(bool)
        new_block = np.concatenate(([True], block[1:] != block[:-1]))
        new_run = new_block.copy()
        new_run[1:] |= sv[1:] != sv[:-1]
        run_start = _starts(new_run)
        run_of = np.cumsum(new_run) - 1
        block_start_run = _starts(new_block[run_start])
        block_of_run = np.cumsum(new_block[run_start]) - 1
        runs = (run_start, run_of, block_start_run, block_of_run)
        query = se & ~upper  # an event against later subjects (the 1-half)
        less, equal, greater = _within_block_sums(np.where(upper, sw, 0.0), *runs)
        conc += np.where(query, less, 0.0)
        disc += np.where(query, greater, 0.0)
        tied += np.where(query, equal, 0.0)
        # a later subject (the 1-half) against earlier events (the 0-half)
        less, equal, greater = _within_block_sums(np.where(query, sw, 0.0), *runs)
        conc += np.where(upper, greater, 0.0)
        disc += np.where(upper, less, 0.0)
        tied += np.where(upper, equal, 0.0)
        # stable partition of every block by bit b, the 0-half first
        block_id = np.cumsum(new_block) - 1
        base = _starts(new_block)[block_id]
        lower_before = np.concatenate(([0], np.cumsum(~upper)))
        lower_rank = lower_before[:-1] - lower_before[base]
        n_lower = np.add.reduceat((~upper).astype(np.intp), _starts(new_block))[block_id]
        target = np.where(upper, base + n_lower + (position - base - lower_rank),
                          base + lower_rank)
        moved = np.empty(n, dtype=np.intp)
        moved[target] = position
        order, sk, sv, sw, se = order[moved], sk[moved], sv[moved], sw[moved], se[moved]
        conc, disc, tied = conc[moved], disc[moved], tied[moved]
    out_c, out_d, out_t = np.empty(n), np.empty(n), np.empty(n)
    out_c[order], out_d[order], out_t[order] = conc, disc, tied
    return out_c, out_d, out_t


def _tied_event_pairs(keys: tuple[NDArray[np.float64], ...], w: FloatArray) -> float:
    """Weighted count of unordered pairs sharing all ``keys``: sum over groups (W^2 - sum w^2)/2."""
    if w.size == 0:
        return 0.0
    _, inverse = np.unique(np.column_stack(keys), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    total = np.bincount(inverse, weights=w)
    squares = np.bincount(inverse, weights=w * w)
    return float(((total * total - squares) / 2).sum())


def concordance(
    time: FloatArray,
    event: BoolArray,
    score: FloatArray,
    weights: FloatArray | None = None,
    strata: IntArray | None = None,
    cluster: IntArray | None = None,
) -> Concordance:
    """Concordance of risk ``score`` (higher = earlier event) with right-censored times."""
    n = time.shape[0]
    w = np.ones(n) if weights is None else weights
    _, time_rank = np.unique(time, return_inverse=True)
    _, score_rank = np.unique(score, return_inverse=True)
    # events before censorings at the same time: censored at t counts as surviving past t
    key = 2 * time_rank.reshape(-1).astype(np.int64) + (~event).astype(np.int64)
    n_bits = max(int(key.max()).bit_length(), 1) if n else 1
    if strata is not None:  # strata in the high bits: pairs across strata are never counted
        key += strata.astype(np.int64) << n_bits
    conc, disc, tied = _pair_influence(key, score_rank.reshape(-1).astype(np.int64), w,
                                       event, n_bits)
    ev = np.flatnonzero(event)
    groups: tuple[NDArray[np.float64], ...] = (time[ev],)
    if strata is not None:
        groups = (*groups, strata[ev].astype(np.float64))
    tied_time = _tied_event_pairs(groups, w[ev])
    tied_xy = _tied_event_pairs((*groups, score[ev]), w[ev])
    tied_y = tied_time - tied_xy
    # each pair is seen by both members: once as the event, once as the later subject
    n_conc, n_disc, n_tied = (float(w @ a) / 2 for a in (conc, disc, tied))
    npair = n_conc + n_disc + n_tied
    if npair == 0:
        return Concordance(np.nan, np.nan, 0.0, 0.0, 0.0, tied_y, tied_xy)
    somers = (n_conc - n_disc) / npair
    dfbeta = w * ((conc - disc) / npair - somers / npair * (conc + disc + tied))
    if cluster is not None:
        dfbeta = np.bincount(cluster, weights=dfbeta).astype(np.float64)
    std = float(np.sqrt((dfbeta @ dfbeta) / 4))
    return Concordance(
        concordance=(somers + 1) / 2, std=std, concordant=n_conc, discordant=n_disc,
        tied_x=n_tied, tied_y=tied_y, tied_xy=tied_xy,
    )
