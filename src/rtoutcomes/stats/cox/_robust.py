"""Robust (sandwich) variance of a Cox model, as R's coxph with ``cluster()``.

The weighted dfbeta residuals (score residual x weight x naive variance) are summed within each
cluster, and the robust variance is D'D for the n_clusters x p matrix D of those sums (Lin and
Wei 1989). The robust score test uses the same construction at beta = 0: U0'U0 from the
cluster-summed weighted score residuals, tested against their total.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats.cox._likelihood import evaluate, score_residuals
from rtoutcomes.stats.cox._linalg import quadratic_test
from rtoutcomes.stats.cox._risksets import RiskSets

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def _by_cluster(values: FloatArray, cluster_sorted: IntArray, n_clusters: int) -> FloatArray:
    columns = [np.bincount(cluster_sorted, weights=values[:, j], minlength=n_clusters)
               for j in range(values.shape[1])]
    return np.column_stack(columns) if columns else np.zeros((n_clusters, 0))


def robust_variance(
    rs: RiskSets,
    beta: FloatArray,
    naive_var: FloatArray,
    cluster_sorted: IntArray,
    n_clusters: int,
    toler_chol: float,
) -> tuple[FloatArray, float]:
    """Robust variance at ``beta`` and the robust score statistic (both in scaled units)."""
    final = evaluate(rs, beta, information=False)
    resid = score_residuals(rs, final.sums) * rs.weights[:, None]
    dfbeta = _by_cluster(resid, cluster_sorted, n_clusters) @ naive_var
    var = dfbeta.T @ dfbeta
    null = evaluate(rs, np.zeros_like(beta), information=False)
    u0 = _by_cluster(score_residuals(rs, null.sums) * rs.weights[:, None], cluster_sorted,
                     n_clusters)
    statistic, _ = quadratic_test(u0.T @ u0, u0.sum(axis=0), toler_chol)
    return (var + var.T) / 2, statistic
