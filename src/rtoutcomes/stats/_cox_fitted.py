"""A fitted Cox model's risk sets and per-time sums at its estimate, for residuals and cox_zph.

The fit keeps its complete cases (``CoxResult.data``); this module lays out the risk sets again
exactly as the fit did (same centring and scaling) and evaluates the partial likelihood once at
the estimate. Everything here is in the *scaled* covariates ``(x - means) * scale`` of the fit;
callers convert back (a residual in scaled units is the original one times ``scale``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._cox._input import CoxData, CoxInputError
from rtoutcomes.stats._cox._likelihood import Evaluation, evaluate
from rtoutcomes.stats._cox._model import risk_sets
from rtoutcomes.stats._cox._risksets import CHUNK, RiskSets, forward_cumsum
from rtoutcomes.stats._cox.result import CoxResult

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class FittedRiskSets:
    data: CoxData
    columns: BoolArray  # which covariates of the fit are laid out (all, or the non-aliased)
    coef: FloatArray  # coefficients of those columns, original units (aliased ones as 0)
    scale: FloatArray  # of those columns
    rs: RiskSets
    at_estimate: Evaluation  # loglik, score, information and group sums at the estimate


def fitted_risk_sets(fit: CoxResult, *, drop_aliased: bool = False) -> FittedRiskSets:
    """Risk sets of ``fit`` evaluated at its coefficients (aliased ones count as 0, as R)."""
    data = fit.data
    if data is None:
        raise CoxInputError(
            "this Cox result does not hold the data it was fitted to; "
            "refit it with rtoutcomes.stats.cox"
        )
    columns = ~np.isnan(fit.coef) if drop_aliased else np.ones(fit.coef.shape[0], dtype=bool)
    coef = np.where(np.isnan(fit.coef), 0.0, fit.coef)[columns]
    if fit._fitted is not None and columns.all():  # the fit's own risk sets, sorted once
        rs, scale, final = fit._fitted
        beta = coef / scale
        # its last evaluation is at the estimate unless coef / scale rounds differently
        at_estimate = final if np.array_equal(beta, final.sums.beta) else evaluate(rs, beta)
        return FittedRiskSets(
            data=data, columns=columns, coef=coef, scale=scale, rs=rs, at_estimate=at_estimate
        )
    x = data.x if columns.all() else data.x[:, columns]
    subset = replace(
        data, x=x, names=tuple(n for n, k in zip(data.names, columns, strict=True) if k)
    )
    rs = risk_sets(subset, fit.ties)
    scale = rs.scale
    at_estimate = evaluate(rs, coef / scale)
    return FittedRiskSets(
        data=data, columns=columns, coef=coef, scale=scale, rs=rs, at_estimate=at_estimate
    )


def risk_scores(f: FittedRiskSets) -> FloatArray:
    """exp(eta - shift) per sorted row, unweighted (the shift of the group sums)."""
    s = f.at_estimate.sums
    out: FloatArray = np.exp(f.rs.x @ s.beta - s.shift)
    return out


def schoenfeld_sorted(f: FittedRiskSets) -> FloatArray:
    """Unweighted Schoenfeld residuals of the events in sorted order (scaled units).

    An event's residual is its covariates minus the risk-set mean at its time; with Efron ties
    the mean is averaged over the d sub-steps of its tied group (R's coxscho and zph1).
    """
    rs, s = f.rs, f.at_estimate.sums
    ebar = (s.s1 * s.a[:, None] - s.d_s1 * s.b[:, None]) / rs.n_terms[:, None]
    out: FloatArray = rs.x[rs.ev_rows] - ebar[rs.ev_group_of_event]
    return out


def weighted_information(
    f: FittedRiskSets, h: FloatArray, risk: FloatArray | None = None
) -> FloatArray:
    """sum_g h_g V_g over event groups g, V_g the group's term of the information matrix.

    V_g = m sum_k [(S2 - f_k dS2) / den_k - a_k a_k'] (scaled units). As in the fit, the S2
    terms are gathered per row: row i enters with r_i (H_i - [event] h_g m b_g), H_i the
    cumulative sum of h m a over the event groups up to its time; h may be negative (a centred
    time function), so the rows are summed as (x * omega)' x in blocks instead of Z'Z.
    ``risk``: ``risk_scores(f)`` when the caller has them.
    """
    rs, s = f.rs, f.at_estimate.sums
    m = rs.mult * h
    hma = np.zeros(rs.n_groups)
    hma[rs.ev_groups] = m * s.a
    cum = forward_cumsum(hma, rs.stratum_bounds)
    seg_weight = cum[rs.seg_group]
    seg_weight[rs.ev_seg] -= m * s.b
    row_weight = np.repeat(seg_weight, rs.seg_len)
    if rs.late_row.size:  # counting-process data: only the groups since entry
        row_weight[rs.late_row] -= cum[rs.late_group]
    omega = row_weight * (risk_scores(f) if risk is None else risk) * rs.weights
    x = rs.x
    p = x.shape[1]
    info = np.zeros((p, p))
    for lo in range(0, x.shape[0], CHUNK):
        block = x[lo : lo + CHUNK]
        info += (block * omega[lo : lo + CHUNK, None]).T @ block
    info -= s.s1.T @ (s.s1 * (m * s.c0)[:, None])
    cross = s.s1.T @ (s.d_s1 * (m * s.c1)[:, None])
    info += cross + cross.T
    info -= s.d_s1.T @ (s.d_s1 * (m * s.c2)[:, None])
    out: FloatArray = (info + info.T) / 2
    return out
