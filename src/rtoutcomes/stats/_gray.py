"""Gray's K-sample test for equality of cumulative incidence curves, as ``cmprsk::cuminc``'s Tests.

Gray (1988, Ann. Stat. 16:1141). For a cause c, groups k = 1..K, within a stratum, at each distinct
time t with an event of any cause: S_k and F_k are group k's overall Kaplan-Meier and cause-c
incidence, n_k its risk set, and (for groups with n_k > 0)

    h_k = n_k / S_k(t-),  R_k = n_k (1 - F_k(t-)) / S_k(t-),  H = sum h_k,  R = sum R_k,
    F_0(t) = F_0(t-) + d_c / H   (the pooled incidence),   weight W = (1 - F_0(t-))^rho.

The score of group k is sum over t of W (d_ck - d_c R_k / R): the cause-c events a group has,
minus its share under equal "subdistribution hazards". The variance of the first K - 1 scores
is Gray's estimator, built from a_ij = W h_i (δ_ij - h_j / H), its running sum
c_ij(t) = sum a_ij d_c / (H (1 - F_0(s-))) and, per group, the variance contributions of the
cause-c events (through 1 - (1 - F_0(t)) / S_k(t)) and of the competing events (through
(1 - F_0(t)) / S_k(t)), with cmprsk's tie corrections. Scores and variances add over strata;
the statistic s' V^-1 s is chi-square on K - 1 df.

One difference from cmprsk: when V is singular (cmprsk's qr rank test, tolerance 1e-7) cmprsk
reports the statistic -1 (p-value 1); here statistic and p are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._competing_data import CompetingData, competing_data, optional_labels
from rtoutcomes.stats._distributions import chi2_sf
from rtoutcomes.stats._ties import at_risk, partition, slices_time_table
from rtoutcomes.stats._validate import (
    BoolArray,
    FloatArray,
    IntArray,
    SurvivalInputError,
    as_labels,
    omit_missing,
)
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

RANK_TOLERANCE = 1e-7  # R's qr() default, which cmprsk uses to decide that V is singular


@dataclass(frozen=True, repr=False)
class GrayTest(TabularResult):
    """Gray's test per cause: statistic, df, p; scores and variance of the first K - 1 groups."""

    causes: NDArray[Any]
    groups: NDArray[Any]
    strata: NDArray[Any] | None
    rho: float
    statistic: FloatArray
    df: int
    p: FloatArray
    scores: FloatArray  # causes x (K - 1)
    variance: FloatArray  # causes x (K - 1) x (K - 1)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "cause": self.causes,
                "statistic": self.statistic,
                "df": np.full(self.causes.shape[0], self.df),
                "p": self.p,
            }
        )

    def _headline(self) -> str:
        return (
            f"Gray's test, {self.groups.shape[0]} groups, {self.causes.shape[0]} cause(s), "
            f"rho = {self.rho:g}"
        )


def gray_test(
    time: ArrayLike,
    status: ArrayLike,
    group: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    cause_codes: ArrayLike | None = None,
    censor_code: Any = 0,
    rho: float = 0.0,
    nan_policy: str = "omit",
) -> GrayTest:
    """Compare cumulative incidence between groups, per cause (``cuminc(...)$Tests``).

    ``time`` (>= 0), ``status`` coded as for ``cumulative_incidence``; ``group``, ``strata``
    any labels; ``rho``: the weight (1 - F_0(t-))^rho (0: cmprsk's default). ``nan_policy``:
    "omit" drops rows with a missing value, "raise" refuses them.
    """
    given, _ = omit_missing(nan_policy, time=time, status=status, group=group, strata=strata)
    time, status, group, strata = given["time"], given["status"], given["group"], given["strata"]
    data = competing_data(time, status, cause_codes, censor_code)
    codes, levels = as_labels(group, data.n, "group")
    if levels.shape[0] < 2:
        raise SurvivalInputError(f"group: Gray's test needs two or more groups, got {levels}")
    return gray_scores(data, codes, levels, strata, rho)


def gray_scores(
    data: CompetingData,
    group_codes: IntArray,
    group_levels: NDArray[Any],
    strata: ArrayLike | None,
    rho: float,
) -> GrayTest:
    """Gray's test for every reported cause of checked data (see ``gray_test``)."""
    rho = float(rho)
    if not (np.isfinite(rho) and rho >= 0):
        raise SurvivalInputError(f"rho: {rho!r} must be a finite number >= 0")
    stratum_codes, stratum_levels = optional_labels(strata, data.n, "strata")
    k = group_levels.shape[0]
    n_strata = 1 if stratum_levels is None else stratum_levels.shape[0]
    order, bounds = partition(stratum_codes * k + group_codes, n_strata * k)
    time, event = data.time[order], data.event[order]
    scores = np.zeros((data.causes.shape[0], k - 1))
    variance = np.zeros((data.causes.shape[0], k - 1, k - 1))
    for j in range(data.causes.shape[0]):
        cause = data.is_cause(j)[order]
        other = event & ~cause
        for s in range(n_strata):
            slices = bounds[s * k : (s + 1) * k + 1]
            times, rows, d_cause = slices_time_table(time, cause, slices)
            _, _, d_other = slices_time_table(time, other, slices)
            del times
            score, var = _stratum(rows, d_cause, d_other, rho)
            scores[j] += score
            variance[j] += var
    statistic = np.array([_quadratic_form(scores[j], variance[j]) for j in range(len(scores))])
    with np.errstate(invalid="ignore"):
        p = chi2_sf(statistic, k - 1)
    return GrayTest(
        data.causes, group_levels, stratum_levels, rho, statistic, k - 1, p, scores, variance
    )


def _quadratic_form(score: FloatArray, var: FloatArray) -> float:
    """s' V^-1 s, or NaN when V is rank deficient by R's qr criterion (cmprsk's -1)."""
    norms = np.linalg.norm(var, axis=0)
    r = np.linalg.qr(var, mode="r")
    if not np.all(np.abs(np.diag(r)) > RANK_TOLERANCE * norms):
        return float("nan")
    return float(score @ np.linalg.solve(var, score))


def _stratum(
    rows: FloatArray, d_cause: FloatArray, d_other: FloatArray, rho: float
) -> tuple[FloatArray, FloatArray]:
    """Scores (K - 1) and their variance of one stratum from per-group, per-time counts.

    Inputs are groups x distinct times (ascending). Everything is a vectorised pass over the
    times with events: (times x K x K) arrays, K being small.
    """
    n_all = at_risk(rows)
    d_all = d_cause + d_other
    with np.errstate(divide="ignore", invalid="ignore"):
        factor: FloatArray = np.where(n_all > 0, (n_all - d_all) / n_all, 1.0)
        alive: FloatArray = np.cumprod(factor, axis=1, dtype=np.float64)
        before: FloatArray = np.concatenate((np.ones((rows.shape[0], 1)), alive[:, :-1]), axis=1)
        inc = np.cumsum(np.where(n_all > 0, before * d_cause / n_all, 0.0), axis=1)
    inc_before = np.concatenate((np.zeros((rows.shape[0], 1)), inc[:, :-1]), axis=1)
    keep = d_all.sum(axis=0) > 0
    # From here on: times with an event (rows) x groups (columns).
    n: FloatArray = n_all[:, keep].T
    s_before, s_after = before[:, keep].T, alive[:, keep].T
    f_before, d1, d2 = inc_before[:, keep].T, d_cause[:, keep].T, d_other[:, keep].T
    active = n > 0
    total1: FloatArray = d1.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(active, n / s_before, 0.0)
        r = np.where(active, n * (1.0 - f_before) / s_before, 0.0)
        h_sum, r_sum = h.sum(axis=1), r.sum(axis=1)
        pooled: FloatArray = np.cumsum(total1 / h_sum)
        pooled_before = np.concatenate(([0.0], pooled[:-1]))
        weight = (1.0 - pooled_before) ** rho
        score = (weight[:, None] * (d1 - total1[:, None] * r / r_sum[:, None])).sum(axis=0)
        a = weight[:, None, None] * (
            np.eye(h.shape[1])[None] * h[:, :, None]
            - h[:, :, None] * h[:, None, :] / h_sum[:, None, None]
        )
        c = np.cumsum(a * (total1 / (h_sum * (1.0 - pooled_before)))[:, None, None], axis=0)
        t4_cause, t3_cause = _cause_terms(active, n, s_before, s_after, pooled, total1, h_sum)
        t4_other, t3_other = _other_terms(active, n, s_before, s_after, pooled, d2)
    k1 = h.shape[1] - 1
    a, c = a[:, :k1, :], c[:, :k1, :]
    b_cause = a - t4_cause[:, None, :] * c
    b_other = -t4_other[:, None, :] * c
    v3 = (t4_cause**2 * t3_cause + t4_other**2 * t3_other).sum(axis=0)
    v2 = np.einsum("tik,tk->ik", b_cause, t4_cause * t3_cause) + np.einsum(
        "tik,tk->ik", b_other, t4_other * t3_other
    )
    var = np.einsum("tik,tjk,tk->ij", b_cause, b_cause, t3_cause) + np.einsum(
        "tik,tjk,tk->ij", b_other, b_other, t3_other
    )
    c_end = c[-1] if c.shape[0] else np.zeros((k1, h.shape[1]))
    var += (c_end * v3) @ c_end.T + c_end @ v2.T + v2 @ c_end.T
    return score[:k1], var


def _cause_terms(
    active: BoolArray,
    n: FloatArray,
    s_before: FloatArray,
    s_after: FloatArray,
    pooled: FloatArray,
    total1: FloatArray,
    h_sum: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Per (time, group): the factor and weight of the cause-c events' variance contribution."""
    t4 = np.where(s_after > 0, 1.0 - (1.0 - pooled[:, None]) / s_after, 1.0)
    ties = np.where(
        total1[:, None] > 1, 1.0 - (total1[:, None] - 1.0) / (h_sum[:, None] * s_before - 1.0), 1.0
    )
    t3 = np.where(
        active & (total1[:, None] > 0),
        ties * s_before * total1[:, None] / (h_sum[:, None] * n),
        0.0,
    )
    return t4, t3


def _other_terms(
    active: BoolArray,
    n: FloatArray,
    s_before: FloatArray,
    s_after: FloatArray,
    pooled: FloatArray,
    d2: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Per (time, group): the same for the competing events of the group."""
    used = active & (s_after > 0) & (d2 > 0)
    t4 = np.where(used, (1.0 - pooled[:, None]) / s_after, 0.0)
    ties = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (n - 1.0), 1.0)
    t3 = np.where(used, ties * s_before * s_before * d2 / (n * n), 0.0)
    return t4, t3
