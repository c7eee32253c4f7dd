"""Risk sets of a Cox model laid out once, for vectorised likelihood evaluations.

Rows are sorted by (stratum, time). A *group* is a run of rows with the same stratum and time;
the risk set at a group's time is that group and every later group of its stratum, so risk-set
sums are reverse cumulative sums over groups within each stratum. Only groups with at least one
event (*event groups*) contribute terms to the partial likelihood.

Ties among the d events of a group are expanded into d "sub-steps" k = 0..d-1 with fraction
f_k = k/d (Efron) or a single sub-step with f = 0 (Breslow), as in Therneau and Grambsch
(2000), section 3.3, and R's coxph. Every per-group quantity then is a sum over sub-steps.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class RiskSets:
    order: IntArray  # sorted position -> row of the (complete-case) input
    x: FloatArray  # sorted covariates, centred and scaled (n x p), C-contiguous
    weights: FloatArray  # sorted case weights (ones when unweighted)
    event: BoolArray  # sorted
    start: IntArray  # first sorted position of each group (G)
    group: IntArray  # group of each sorted row (n)
    stratum_bounds: IntArray  # first group of each stratum, then G
    ev_rows: IntArray  # sorted positions of the events
    ev_start: IntArray  # first index into ev_rows of each event group (E)
    ev_groups: IntArray  # the group of each event group (E)
    ev_group_of_event: IntArray  # event-group index of each event (len(ev_rows))
    x_ev: FloatArray  # x[ev_rows]
    w_ev: FloatArray  # weights[ev_rows]
    mult: FloatArray  # weight of each sub-step term: mean event weight (Efron), total (Breslow)
    n_terms: FloatArray  # number of sub-steps of each event group
    k_group: IntArray  # event group of each sub-step
    k_frac: FloatArray  # fraction f_k of each sub-step

    @property
    def n_groups(self) -> int:
        return int(self.start.shape[0])


def build(
    x: FloatArray,
    time: FloatArray,
    event: BoolArray,
    weights: FloatArray | None,
    strata: IntArray | None,
    *,
    efron: bool,
) -> RiskSets:
    """Sort once and index the groups; ``x`` should already be centred (and scaled)."""
    n = time.shape[0]
    if strata is None:
        order = np.argsort(time, kind="stable")
        new = np.diff(time[order]) != 0
        strat_sorted = np.zeros(n, dtype=np.intp)
    else:
        order = np.lexsort((time, strata))
        strat_sorted = strata[order]
        new = (np.diff(time[order]) != 0) | (np.diff(strat_sorted) != 0)
    start = np.concatenate(([0], np.flatnonzero(new) + 1)).astype(np.intp)
    group = np.concatenate(([0], np.cumsum(new))).astype(np.intp)
    g_strat = strat_sorted[start]
    stratum_bounds = np.concatenate(
        ([0], np.flatnonzero(np.diff(g_strat) != 0) + 1, [start.shape[0]])
    ).astype(np.intp)
    xs = np.ascontiguousarray(x[order])
    w = np.ones(n) if weights is None else weights[order]
    ev = event[order]
    ev_rows = np.flatnonzero(ev)
    ev_grp = group[ev_rows]
    ev_start = np.concatenate(([0], np.flatnonzero(np.diff(ev_grp) != 0) + 1)).astype(np.intp)
    ev_groups = ev_grp[ev_start] if ev_rows.size else np.empty(0, dtype=np.intp)
    deaths = np.diff(np.append(ev_start, ev_rows.shape[0])).astype(np.intp)
    w_ev = w[ev_rows]
    death_weight = np.add.reduceat(w_ev, ev_start) if ev_rows.size else np.empty(0)
    n_ev_groups = ev_groups.shape[0]
    ev_group_of_event = np.repeat(np.arange(n_ev_groups, dtype=np.intp), deaths)
    if efron:
        k_group = ev_group_of_event
        k_index = np.arange(ev_rows.shape[0]) - ev_start[ev_group_of_event]
        k_frac = k_index / deaths[ev_group_of_event]
        mult = death_weight / deaths
        n_terms = deaths.astype(np.float64)
    else:
        k_group = np.arange(n_ev_groups, dtype=np.intp)
        k_frac = np.zeros(n_ev_groups)
        mult = death_weight
        n_terms = np.ones(n_ev_groups)
    return RiskSets(
        order=order.astype(np.intp), x=xs, weights=w, event=ev, start=start, group=group,
        stratum_bounds=stratum_bounds, ev_rows=ev_rows, ev_start=ev_start, ev_groups=ev_groups,
        ev_group_of_event=ev_group_of_event, x_ev=np.ascontiguousarray(xs[ev_rows]), w_ev=w_ev,
        mult=mult, n_terms=n_terms, k_group=k_group, k_frac=k_frac,
    )


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
