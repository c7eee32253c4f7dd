"""Log-rank test and its G-rho family for k groups, optionally stratified, as R's survdiff.

At each distinct event time (within a stratum) the deaths are compared with what each group's
share of the risk set predicts, weighted by S(t-)^rho where S is the pooled Kaplan-Meier of the
stratum (rho = 0: log-rank; rho = 1: Peto-Peto's Wilcoxon). As in R, ``observed`` is the weighted
count of events (equal to the plain count only for rho = 0), ``expected`` its expectation, and
``variance`` the hypergeometric variance matrix of observed - expected, summed over strata. The
chi-square uses the groups with expected > 0 minus the first of them; df = their number - 1.

The trend test for ordered groups (``LogRank.trend``) is the 1-df score statistic
U^2 / V with U = s'(O - E) and V = s' var s for group scores s (default: the group labels if they
are numbers, else 0, 1, ..., k-1 in label order); it does not depend on adding a constant to s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._distributions import chi2_sf
from rtoutcomes.stats._ties import at_risk, partition, slices_time_table
from rtoutcomes.stats._validate import (
    FloatArray,
    SurvivalInputError,
    as_labels,
    omit_missing,
    survival_data,
)
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, repr=False)
class TrendTest(TabularResult):
    """Log-rank test for trend across ordered groups (1 df)."""

    scores: FloatArray
    u: float
    v: float
    statistic: float
    p: float
    df: int = 1

    def _headline(self) -> str:
        return f"chisq = {self.statistic:.6g} on {self.df} df, p = {self.p:.4g}"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "u": [self.u],
                "v": [self.v],
                "chisq": [self.statistic],
                "df": [self.df],
                "p": [self.p],
            }
        )


@dataclass(frozen=True, repr=False)
class LogRank(TabularResult):
    """Result of ``logrank``: per-group observed/expected, variance matrix, chi-square, p."""

    levels: NDArray[Any]  # group labels, sorted; every per-group array follows this order
    n: FloatArray
    observed: FloatArray
    expected: FloatArray
    variance: FloatArray  # k x k
    statistic: float  # chi-square
    df: int
    p: float
    rho: float
    strata: NDArray[Any] | None
    observed_by_stratum: FloatArray  # strata x k
    expected_by_stratum: FloatArray
    n_dropped: int = 0  # rows with a missing value, dropped (nan_policy="omit")

    @property
    def chisq(self) -> float:
        return self.statistic

    def trend(self, scores: ArrayLike | Mapping[Any, float] | None = None) -> TrendTest:
        """Test for trend with ``scores`` per group (array in ``levels`` order, or a mapping)."""
        s = _scores(self.levels, scores)
        u = float(s @ (self.observed - self.expected))
        v = float(s @ self.variance @ s)
        if not v > 0:
            raise SurvivalInputError("scores: the trend statistic has zero variance")
        stat = u * u / v
        return TrendTest(s, u, v, stat, float(chi2_sf(stat, 1)))

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        diff2 = (self.observed - self.expected) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.DataFrame(
                {
                    "group": self.levels,
                    "n": self.n,
                    "observed": self.observed,
                    "expected": self.expected,
                    "(O-E)^2/E": diff2 / self.expected,
                    "(O-E)^2/V": diff2 / np.diag(self.variance),
                }
            )

    def _headline(self) -> str:
        return (
            f"{self.levels.shape[0]} groups, n = {self.n.sum():g}, "
            f"chisq = {self.statistic:.6g} on {self.df} df, p = {self.p:.4g}"
        )

    def summary(self) -> str:
        return f"{super().summary()}\nrho = {self.rho:g}"


def logrank(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    rho: float = 0.0,
    nan_policy: str = "omit",
) -> LogRank:
    """Compare survival between groups (R ``survdiff(Surv(time, event) ~ group + strata(s))``).

    ``time`` in any unit (>= 0); ``event`` 1/0; ``group`` and ``strata`` any labels.
    ``nan_policy``: "omit" drops rows with a missing value anywhere (``n_dropped``), "raise"
    refuses them.
    """
    given, n_dropped = omit_missing(nan_policy, time=time, event=event, group=group, strata=strata)
    time, event, group, strata = given["time"], given["event"], given["group"], given["strata"]
    t, e, _ = survival_data(time, event)
    n_rows = t.shape[0]
    codes, levels = as_labels(group, n_rows, "group")
    rho = float(rho)
    if not (np.isfinite(rho) and rho >= 0):
        raise SurvivalInputError(f"rho: {rho!r} must be a finite number >= 0")
    k = levels.shape[0]
    if strata is None:
        stratum_codes, stratum_levels = np.zeros(n_rows, dtype=np.intp), None
    else:
        stratum_codes, stratum_levels = as_labels(strata, n_rows, "strata")
    n_strata = 1 if stratum_levels is None else stratum_levels.shape[0]
    # One radix partition by (stratum, group); each stratum is then k consecutive slices.
    order, bounds = partition(stratum_codes * k + codes, n_strata * k)
    ts, es = t[order], e[order]
    pieces = [
        _one_stratum(*slices_time_table(ts, es, bounds[i * k : (i + 1) * k + 1])[1:], rho)
        for i in range(n_strata)
    ]
    obs = np.array([p[0] for p in pieces])
    exp = np.array([p[1] for p in pieces])
    var = np.sum([p[2] for p in pieces], axis=0)
    observed, expected = obs.sum(axis=0), exp.sum(axis=0)
    statistic, df = _chisq(observed, expected, var)
    return LogRank(
        levels=levels,
        n=np.bincount(codes, minlength=k).astype(np.float64),
        observed=observed,
        expected=expected,
        variance=var,
        statistic=statistic,
        df=df,
        # Fewer than two groups with expected events: no test; R reports chisq 0 on 0 df, p 1.
        p=float(chi2_sf(statistic, df)) if df > 0 else 1.0,
        rho=rho,
        strata=stratum_levels,
        observed_by_stratum=obs,
        expected_by_stratum=exp,
        n_dropped=n_dropped,
    )


def _one_stratum(
    rows: FloatArray, deaths_k: FloatArray, rho: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Observed, expected (length k) and variance (k x k) of one stratum from per-time counts.

    ``rows``/``deaths_k``: rows and events per group (row) and distinct time (column,
    ascending). Only event times contribute, so once the risk sets are formed everything runs on
    those times alone; k is small, so the k x k variance is k (k + 1) / 2 dot products.
    """
    k = rows.shape[0]
    risk_all = at_risk(rows)  # per group: rows with time >= t
    dead = np.flatnonzero(deaths_k.sum(axis=0) > 0)
    risk, deaths_k = risk_all[:, dead], deaths_k[:, dead]
    del risk_all
    n = risk.sum(axis=0)
    d = deaths_k.sum(axis=0)
    if rho == 0.0:
        weight = np.ones(d.shape[0])
    else:  # pooled Kaplan-Meier just before each event time, to the power rho
        km_before = np.cumprod(np.concatenate(([1.0], 1.0 - d[:-1] / n[:-1])))
        weight = km_before[: d.shape[0]] ** rho  # (a stratum may have no event time)
    observed = deaths_k @ weight
    expected = risk @ (weight * d / n)
    with np.errstate(divide="ignore", invalid="ignore"):  # n = 1: no variance (R skips it)
        c = np.where(n > 1, weight * weight * d * (n - d) / (n * (n - 1.0)), 0.0)
    c_over_n = c / n
    variance = np.empty((k, k))
    for j in range(k):
        scaled = risk[j] * c_over_n
        for m in range(j, k):
            variance[j, m] = variance[m, j] = -float(scaled @ risk[m])
        variance[j, j] += float(c @ risk[j])
    return observed, expected, variance


def _chisq(observed: FloatArray, expected: FloatArray, var: FloatArray) -> tuple[float, int]:
    used = np.flatnonzero(expected > 0)
    if used.shape[0] < 2:
        return 0.0, max(used.shape[0] - 1, 0)
    keep = used[1:]
    diff = (observed - expected)[keep]
    try:
        solved = np.linalg.solve(var[np.ix_(keep, keep)], diff)
    except np.linalg.LinAlgError:
        raise SurvivalInputError(
            "group: the log-rank variance matrix is singular: some group carries no information "
            "(e.g. every event of a stratum in one group); R survdiff stops here too"
        ) from None
    return float(solved @ diff), int(used.shape[0] - 1)


def _scores(levels: NDArray[Any], scores: ArrayLike | Mapping[Any, float] | None) -> FloatArray:
    k = levels.shape[0]
    if scores is None:
        if np.issubdtype(levels.dtype, np.number):
            return levels.astype(np.float64)
        return np.arange(k, dtype=np.float64)
    if isinstance(scores, Mapping):
        missing = [lv for lv in levels.tolist() if lv not in scores]
        if missing:
            raise SurvivalInputError(f"scores: no score for group(s) {missing}")
        return np.array([float(scores[lv]) for lv in levels.tolist()])
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (k,) or not np.isfinite(s).all():
        raise SurvivalInputError(f"scores: need {k} finite numbers (one per group), got {s}")
    return s
