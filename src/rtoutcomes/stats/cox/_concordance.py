"""Harrell's concordance of a Cox model as R's coxph reports it (survival 3.x ``concordancefit``).

A pair is comparable when the shorter time is an event: an event at t against any subject whose
time is later, or censored at the same t (censored at t counts as surviving past t). Two events
at the same time are tied on time and excluded. Case weights multiply (w_i w_j). A comparable
pair is concordant when the event has the higher risk score, discordant when lower, and tied on
the score otherwise (it counts 1/2). Strata: only pairs within a stratum.

The standard error is R's infinitesimal jackknife: each subject's influence is the weighted count
of concordant, discordant and tied pairs it belongs to; the dfbeta of Somers' d per subject
(summed within clusters when given) gives var(C) = sum(dfbeta^2) / 4.

Counting uses a vectorised divide and conquer over the bits of the time order: at bit b, pairs
whose time ranks first differ at that bit are counted by one sort and binary searches within
blocks, so the cost is O(n log^2 n) numpy work and no Python loop over subjects or times.
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


def _cross_sums(
    kq: IntArray, vq: IntArray, kp: IntArray, vp: IntArray, wp: FloatArray, later: bool
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For each query: total weight of points with key > kq (``later``) or key < kq, split into
    points with score rank below, equal to and above the query's."""
    nq = kq.shape[0]
    less, equal, greater = np.zeros(nq), np.zeros(nq), np.zeros(nq)
    if nq == 0 or kp.shape[0] == 0:
        return less, equal, greater
    width = int(max(vq.max(), vp.max())) + 1
    q_bit, p_bit = (0, 1) if later else (1, 0)
    for b in range(int(max(kq.max(), kp.max())).bit_length()):
        qsel = np.flatnonzero(((kq >> b) & 1) == q_bit)
        psel = ((kp >> b) & 1) == p_bit
        if qsel.size == 0 or not psel.any():
            continue
        pkey = (kp[psel] >> (b + 1)) * width + vp[psel]
        order = np.argsort(pkey, kind="stable")
        sorted_key = pkey[order]
        cum = np.concatenate(([0.0], np.cumsum(wp[psel][order])))
        block = (kq[qsel] >> (b + 1)) * width
        qkey = block + vq[qsel]
        lo = np.searchsorted(sorted_key, qkey, "left")
        hi = np.searchsorted(sorted_key, qkey, "right")
        first = np.searchsorted(sorted_key, block, "left")
        last = np.searchsorted(sorted_key, block + width, "left")
        less[qsel] += cum[lo] - cum[first]
        equal[qsel] += cum[hi] - cum[lo]
        greater[qsel] += cum[last] - cum[hi]
    return less, equal, greater


def _tied_event_pairs(keys: tuple[NDArray[np.float64], ...], w: FloatArray) -> float:
    """Weighted count of unordered pairs sharing all ``keys``: sum over groups (W^2 - sum w^2)/2."""
    if w.size == 0:
        return 0.0
    _, inverse = np.unique(np.column_stack(keys), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    total = np.bincount(inverse, weights=w)
    squares = np.bincount(inverse, weights=w * w)
    return float(((total * total - squares) / 2).sum())


def _stratum_counts(
    time: FloatArray, event: BoolArray, score: FloatArray, w: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, float, float]:
    """Per-subject influence (concordant, discordant, tied) and the time-tied pair counts."""
    _, time_rank = np.unique(time, return_inverse=True)
    _, score_rank = np.unique(score, return_inverse=True)
    key = 2 * time_rank.reshape(-1).astype(np.int64) + (~event).astype(np.int64)
    v = score_rank.reshape(-1).astype(np.int64)
    ev = np.flatnonzero(event)
    # subject i as the event of a pair, against everyone later
    p_less, p_eq, p_gt = _cross_sums(key[ev], v[ev], key, v, w, later=True)
    # subject j as the later member of a pair, against every earlier event
    q_less, q_eq, q_gt = _cross_sums(key, v, key[ev], v[ev], w[ev], later=False)
    conc, disc, tied = q_gt, q_less, q_eq
    conc[ev] += p_less
    disc[ev] += p_gt
    tied[ev] += p_eq
    tied_time = _tied_event_pairs((time[ev],), w[ev])
    tied_both = _tied_event_pairs((time[ev], score[ev]), w[ev])
    return conc, disc, tied, tied_time - tied_both, tied_both


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
    conc, disc, tied = np.zeros(n), np.zeros(n), np.zeros(n)
    tied_y = tied_xy = 0.0
    strata_codes = np.zeros(n, dtype=np.intp) if strata is None else strata
    for s in np.unique(strata_codes):
        rows = np.flatnonzero(strata_codes == s)
        c, d, t, ty, txy = _stratum_counts(time[rows], event[rows], score[rows], w[rows])
        conc[rows], disc[rows], tied[rows] = c, d, t
        tied_y += ty
        tied_xy += txy
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
