"""Cox partial log-likelihood, score vector and information matrix (Efron or Breslow ties).

For an event group with risk-set sums S0, S1, S2 (of w exp(eta), w exp(eta) x, w exp(eta) x x')
and event sums dS0, dS1, dS2, each sub-step k has denominator den_k = S0 - f_k dS0 and mean
a_k = (S1 - f_k dS1) / den_k. With the group's sub-step weight m:

    loglik -= m sum_k log den_k
    score  -= m sum_k a_k
    info   += m sum_k [(S2 - f_k dS2) / den_k - a_k a_k']

Expanding the sums leaves six scalars per group (sums over k of log den, 1/den, f/den, 1/den^2,
f/den^2, f^2/den^2) times a handful of vectors. The S2 and dS2 terms never need forming: summed
over groups they equal sum_i omega_i x_i x_i', where omega_i = w_i exp(eta_i) (H_i - [event]
m B_g) with H_i the cumulative sum of m/den over event times up to row i's time: one X'X with
row weights omega >= 0, i.e. Z'Z for Z = sqrt(omega) X. No n x p x p array is ever built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats.cox._risksets import RiskSets, forward_cumsum, reverse_cumsum

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class GroupSums:
    """Per event group quantities at one beta, kept for residuals (risk scores shifted by c)."""

    risk: FloatArray  # exp(eta - c) per sorted row
    s1: FloatArray  # risk-set S1 per event group (E x p)
    d_s1: FloatArray  # event S1 per event group (E x p)
    a: FloatArray  # sum_k 1/den_k (E)
    b: FloatArray  # sum_k f_k/den_k
    c0: FloatArray  # sum_k 1/den_k^2
    c1: FloatArray  # sum_k f_k/den_k^2
    c2: FloatArray  # sum_k f_k^2/den_k^2
    cum_a: FloatArray  # per group: sum of m*a over event groups up to its time (G)


@dataclass(frozen=True)
class Evaluation:
    loglik: float
    score: FloatArray  # p
    information: FloatArray  # p x p
    sums: GroupSums


def evaluate(rs: RiskSets, beta: FloatArray, *, information: bool = True) -> Evaluation:
    """Log partial likelihood, score and information at ``beta`` (in the scaled covariates)."""
    x = rs.x
    p = x.shape[1]
    eta = x @ beta
    shift = float(eta.max()) if eta.size else 0.0  # exp(eta - shift) cannot overflow
    risk = np.exp(eta - shift)
    r = rs.weights * risk
    y = x * r[:, None]
    seg_r = np.add.reduceat(r, rs.seg_start)
    seg_y = np.add.reduceat(y, rs.seg_start, axis=0)
    s0 = reverse_cumsum(np.add.reduceat(seg_r, rs.group_seg), rs.stratum_bounds)[rs.ev_groups]
    s1 = reverse_cumsum(np.add.reduceat(seg_y, rs.group_seg, axis=0),
                        rs.stratum_bounds)[rs.ev_groups]
    d_s0, d_s1 = seg_r[rs.ev_seg], seg_y[rs.ev_seg]
    n_ev = rs.ev_groups.shape[0]
    kg, f = rs.k_group, rs.k_frac
    den = s0[kg] - f * d_s0[kg]
    inv = 1.0 / den
    inv2 = inv * inv

    def per_group(values: FloatArray) -> FloatArray:
        if rs.k_start is None:  # Breslow: one sub-step per group
            return values
        return np.add.reduceat(values, rs.k_start) if n_ev else np.zeros(0)

    a, b = per_group(inv), per_group(f * inv)
    c0, c1, c2 = per_group(inv2), per_group(f * inv2), per_group(f * f * inv2)
    m = rs.mult
    loglik = float(rs.event_weight @ eta - m @ (per_group(np.log(den)) + rs.n_terms * shift))

    ma = np.zeros(rs.n_groups)
    ma[rs.ev_groups] = m * a
    cum_a = forward_cumsum(ma, rs.stratum_bounds)
    seg_weight = cum_a[rs.seg_group]
    seg_weight[rs.ev_seg] -= m * b  # an event enters its own sub-steps with weight 1 - f_k
    omega = r * np.repeat(seg_weight, np.diff(np.append(rs.seg_start, x.shape[0])))
    score = rs.weighted_x_events - omega @ x
    info = np.zeros((p, p))
    if information:
        np.multiply(x, np.sqrt(np.maximum(omega, 0.0))[:, None], out=y)
        info = y.T @ y
        info -= s1.T @ (s1 * (m * c0)[:, None])
        cross = s1.T @ (d_s1 * (m * c1)[:, None])
        info += cross + cross.T
        info -= d_s1.T @ (d_s1 * (m * c2)[:, None])
        info = (info + info.T) / 2
    sums = GroupSums(risk=risk, s1=s1, d_s1=d_s1, a=a, b=b, c0=c0, c1=c1, c2=c2, cum_a=cum_a)
    return Evaluation(loglik=loglik, score=score, information=info, sums=sums)


def score_residual_sums(
    rs: RiskSets, sums: GroupSums, cluster: IntArray | None, n_clusters: int
) -> FloatArray:
    """Weighted score residuals (R's ``residuals(type = "score", weighted = TRUE)``) summed
    within clusters (n_clusters x p; one row per sorted row when ``cluster`` is None).

    A row's residual is its event term x_i - mean_k a_k (events only) minus its share of every
    sub-step whose risk set holds it: exp(eta_i) m / den_k (x_i - a_k); an event enters the
    sub-steps of its own tied group with weight 1 - f_k (Efron's approximation). Built one
    covariate at a time, so no n x p temporary is needed when clusters are given.
    """
    x, m = rs.x, rs.mult
    n, p = x.shape
    xbar_terms = np.zeros((rs.n_groups, p))
    xbar_terms[rs.ev_groups] = (sums.s1 * sums.c0[:, None] - sums.d_s1 * sums.c1[:, None]) \
        * m[:, None]
    cum_xbar = forward_cumsum(xbar_terms, rs.stratum_bounds)
    cum_a = sums.cum_a[rs.group]
    g = rs.ev_group_of_event
    ebar = ((sums.s1 * sums.a[:, None] - sums.d_s1 * sums.b[:, None])
            / rs.n_terms[:, None])[g]
    own = ((sums.s1 * sums.c1[:, None] - sums.d_s1 * sums.c2[:, None]) * m[:, None])[g]
    risk_ev = sums.risk[rs.ev_rows]
    mb_ev = (m * sums.b)[g]
    out = np.empty((n if cluster is None else n_clusters, p))
    for j in range(p):
        xj = x[:, j]
        col = xj * cum_a
        col -= cum_xbar[:, j][rs.group]
        col *= -sums.risk
        x_ev = xj[rs.ev_rows]
        col[rs.ev_rows] += x_ev - ebar[:, j] + risk_ev * (x_ev * mb_ev - own[:, j])
        col *= rs.weights
        out[:, j] = col if cluster is None else np.bincount(cluster, weights=col,
                                                            minlength=n_clusters)
    return out
