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
row weights omega, formed a block of rows at a time as (omega x)' x. No n x p x p array is ever
built. That one pass also gives the score (sum over events of w x, minus sum_i omega_i x_i)
and S1: omega_i is r_i = w_i exp(eta_i) times a weight shared by its segment (rows of one time
and event status), so a segment's sum of r x is its sum of omega x divided by that weight.

The covariates are stored one row per covariate (``RiskSets.xt``), so that the per-segment sums
(``np.add.reduceat``) and the matrix-vector products read contiguous memory.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._cox._risksets import (
    BLOCK,
    RiskSets,
    forward_cumsum,
    remove_late,
    reverse_cumsum,
    row_cumulative,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class GroupSums:
    """Per event group quantities at one beta, kept for residuals."""

    beta: FloatArray
    shift: float  # risk scores are exp(eta - shift)
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


def _sub_step_sums(
    rs: RiskSets, s0: FloatArray, d_s0: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per event group: sums over sub-steps of log den, 1/den, f/den, 1/den^2, f/den^2, f^2/den^2.

    Breslow has one sub-step per group (f = 0): the sums are the values themselves."""
    if rs.k_start is None:
        inv = 1.0 / s0
        zeros = np.zeros_like(s0)
        return np.log(s0), inv, zeros, inv * inv, zeros, zeros.copy()
    out = np.empty((6, s0.shape[0]))
    # in chunks of whole event groups of about K_CHUNK sub-steps: the temporaries stay in cache
    for g0, g1 in itertools.pairwise(rs.k_chunks.tolist()):
        k0 = rs.k_start[g0]
        k1 = rs.k_start[g1] if g1 < s0.shape[0] else rs.k_frac.shape[0]
        count, f = rs.k_count[g0:g1], rs.k_frac[k0:k1]
        starts = rs.k_start[g0:g1] - k0
        sums = out[:, g0:g1]  # rows: log den, 1/den, f/den, 1/den^2, f/den^2, f^2/den^2
        den = np.repeat(s0[g0:g1], count)  # an event group's sub-steps are contiguous
        tmp = np.repeat(d_s0[g0:g1], count)
        tmp *= f
        den -= tmp
        np.add.reduceat(np.log(den, out=tmp), starts, out=sums[0])
        np.divide(1.0, den, out=den)  # den now holds 1/den
        np.add.reduceat(den, starts, out=sums[1])
        np.add.reduceat(np.multiply(f, den, out=tmp), starts, out=sums[2])
        np.add.reduceat(np.multiply(tmp, den, out=tmp), starts, out=sums[4])
        np.add.reduceat(np.multiply(tmp, f, out=tmp), starts, out=sums[5])
        np.add.reduceat(np.multiply(den, den, out=tmp), starts, out=sums[3])
    log_den, a, b, c0, c1, c2 = out
    return log_den, a, b, c0, c1, c2


def _row_pass(rs: RiskSets, omega: FloatArray, information: bool) -> tuple[FloatArray, FloatArray]:
    """One pass over the sorted covariates, a block of rows at a time (the block and its
    products stay in cache): the segment sums of omega_i x_i (p x segments) and the
    information sum omega_i x_i x_i' (as (x omega) x', one matrix product per block)."""
    xt = rs.xt
    p, n = xt.shape
    seg_z = np.zeros((p, rs.seg_start.shape[0]))
    info = np.zeros((p, p))
    z_work = rs.work_block
    block_lo = np.arange(0, n, BLOCK)
    firsts = np.searchsorted(rs.seg_start, block_lo, side="right") - 1
    lasts = np.searchsorted(rs.seg_start, np.minimum(block_lo + BLOCK, n), side="left")
    for lo, first, last in zip(block_lo.tolist(), firsts.tolist(), lasts.tolist(), strict=True):
        hi = min(lo + BLOCK, n)
        x_block = xt[:, lo:hi]
        z = np.multiply(x_block, omega[lo:hi], out=z_work[:, : hi - lo])
        starts = np.maximum(rs.seg_start[first:last], lo) - lo
        seg_z[:, first:last] += np.add.reduceat(z, starts, axis=1)
        if information:
            info += z @ x_block.T
    return seg_z, info


def evaluate(rs: RiskSets, beta: FloatArray, *, information: bool = True) -> Evaluation:
    """Log partial likelihood, score and information at ``beta`` (in the scaled covariates)."""
    if beta.any():
        r = rs.work_n  # eta, then the risk scores w exp(eta - shift) in place
        np.matmul(beta, rs.xt, out=r)
        shift = float(r.max()) if r.size else 0.0  # exp(eta - shift) cannot overflow
        r -= shift
        np.exp(r, out=r)
        if not rs.unweighted:
            r *= rs.weights
    else:  # the first evaluation: every risk score is w (read only below)
        shift, r = 0.0, rs.weights
    event_eta = float(rs.weighted_x_events @ beta)  # sum over events of w x'beta
    seg_r = np.add.reduceat(r, rs.seg_start)
    group_r = np.add.reduceat(seg_r, rs.group_seg)
    if rs.late_row.size:  # counting-process data: rows not yet at risk leave the early sums
        late_r = r[rs.late_row]
        remove_late(rs, group_r, late_r)
    s0 = reverse_cumsum(group_r, rs.stratum_bounds)[rs.ev_groups]
    d_s0 = seg_r[rs.ev_seg]
    log_den, a, b, c0, c1, c2 = _sub_step_sums(rs, s0, d_s0)
    m = rs.mult
    loglik = event_eta - float(m @ (log_den + rs.n_terms * shift))

    ma = np.zeros(rs.n_groups)
    ma[rs.ev_groups] = m * a
    cum_a = forward_cumsum(ma, rs.stratum_bounds)
    seg_weight = cum_a[rs.seg_group]
    seg_weight[rs.ev_seg] -= m * b  # an event enters its own sub-steps with weight 1 - f_k
    omega = np.repeat(seg_weight, rs.seg_len)
    if rs.late_row.size:
        omega[rs.late_row] -= cum_a[rs.late_group]
    omega *= r
    # omega needs only the risk-set sums of r (s0); one pass over x then gives the segment
    # sums of omega x (for the score) and the information
    seg_z, info = _row_pass(rs, omega, information)
    score = rs.weighted_x_events - seg_z.sum(axis=1)
    # S1 needs the segment sums of r x: omega_i is r_i times its segment's weight, less the
    # groups before a late row's entry (added back here), so they are seg_z / seg_weight.
    # A segment of weight 0 (before its stratum's first event) is in no risk set.
    late_y = None
    if rs.late_row.size:
        late_y = rs.x[rs.late_row] * late_r[:, None]
        late_seg = np.searchsorted(rs.seg_start, rs.late_row, side="right") - 1
        entered = late_y * cum_a[rs.late_group][:, None]
        for j in range(seg_z.shape[0]):
            seg_z[j] += np.bincount(late_seg, weights=entered[:, j], minlength=seg_z.shape[1])
    seg_y = np.divide(seg_z, seg_weight, out=np.zeros_like(seg_z), where=seg_weight != 0)
    group_y = np.add.reduceat(seg_y, rs.group_seg, axis=1).T
    if late_y is not None:
        remove_late(rs, group_y, late_y)
    s1 = reverse_cumsum(group_y, rs.stratum_bounds)[rs.ev_groups]
    d_s1 = seg_y[:, rs.ev_seg].T
    if information:
        info -= s1.T @ (s1 * (m * c0)[:, None])
        cross = s1.T @ (d_s1 * (m * c1)[:, None])
        info += cross + cross.T
        info -= d_s1.T @ (d_s1 * (m * c2)[:, None])
        info = (info + info.T) / 2
    sums = GroupSums(
        beta=beta.copy(), shift=shift, s1=s1, d_s1=d_s1, a=a, b=b, c0=c0, c1=c1, c2=c2, cum_a=cum_a
    )
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
    xbar_terms[rs.ev_groups] = (sums.s1 * sums.c0[:, None] - sums.d_s1 * sums.c1[:, None]) * m[
        :, None
    ]
    cum_xbar = row_cumulative(rs, forward_cumsum(xbar_terms, rs.stratum_bounds))
    cum_a = row_cumulative(rs, sums.cum_a)
    g = rs.ev_group_of_event
    ebar = ((sums.s1 * sums.a[:, None] - sums.d_s1 * sums.b[:, None]) / rs.n_terms[:, None])[g]
    own = ((sums.s1 * sums.c1[:, None] - sums.d_s1 * sums.c2[:, None]) * m[:, None])[g]
    risk = np.exp(x @ sums.beta - sums.shift)
    risk_ev = risk[rs.ev_rows]
    mb_ev = (m * sums.b)[g]
    out = np.empty((n if cluster is None else n_clusters, p))
    for j in range(p):
        xj = x[:, j]
        col = xj * cum_a
        col -= cum_xbar[:, j]
        col *= -risk
        x_ev = xj[rs.ev_rows]
        col[rs.ev_rows] += x_ev - ebar[:, j] + risk_ev * (x_ev * mb_ev - own[:, j])
        col *= rs.weights
        out[:, j] = (
            col if cluster is None else np.bincount(cluster, weights=col, minlength=n_clusters)
        )
    return out
