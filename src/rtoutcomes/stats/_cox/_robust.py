"""Robust (sandwich) variance of a Cox model, as R's coxph with ``cluster()``.

The weighted dfbeta residuals (score residual x weight x naive variance) are summed within each
cluster, and the robust variance is D'D for the n_clusters x p matrix D of those sums (Lin and
Wei 1989); with U the cluster sums of the weighted score residuals, D = U V and so
D'D = V (U'U) V. The robust score test uses the same construction at beta = 0: U0'U0 against
the total of U0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._cox._likelihood import GroupSums, score_residual_sums
from rtoutcomes.stats._cox._linalg import quadratic_test
from rtoutcomes.stats._cox._risksets import RiskSets

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def robust_variance(
    rs: RiskSets,
    null: GroupSums,
    final: GroupSums,
    naive_var: FloatArray,
    cluster_sorted: IntArray | None,
    n_clusters: int,
    toler_chol: float,
) -> tuple[FloatArray, float]:
    """Robust variance at the estimate and the robust score statistic (scaled units).

    ``cluster_sorted``: cluster codes in the sorted row order, or None for one row per cluster.
    """
    u = score_residual_sums(rs, final, cluster_sorted, n_clusters)
    var = naive_var @ (u.T @ u) @ naive_var
    u0 = score_residual_sums(rs, null, cluster_sorted, n_clusters)
    statistic, _ = quadratic_test(u0.T @ u0, u0.sum(axis=0), toler_chol)
    return (var + var.T) / 2, statistic
