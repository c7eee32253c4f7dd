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
    u0 = score_residual_sums(rs, null, cluster_sorted, n_clusters)
    return robust_from_sums(u.T @ u, u0.T @ u0, u0.sum(axis=0), naive_var, toler_chol)


def robust_from_sums(
    utu: FloatArray,
    u0tu0: FloatArray,
    u0_total: FloatArray,
    naive_var: FloatArray,
    toler_chol: float,
) -> tuple[FloatArray, float]:
    """Robust variance V (U'U) V and the robust score statistic from the cluster sums' cross
    products U'U (at the estimate) and U0'U0 and column totals of U0 (at beta = 0).

    These are sums over clusters, so centres whose patients are disjoint may each send their
    own and the sums give the pooled model's values exactly (``rtoutcomes.federated``).
    """
    var = naive_var @ utu @ naive_var
    statistic, _ = quadratic_test(u0tu0, u0_total, toler_chol)
    return (var + var.T) / 2, statistic
