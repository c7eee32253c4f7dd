"""Kaplan-Meier survival curve with Greenwood errors and R survfit's confidence limits.

Matches R ``survfit(Surv(time, event) ~ 1, weights=, conf.type=, conf.int=)`` (survival 3.5):
one row per distinct time (event or censoring), numbers at risk, events and censored (weighted
sums with case weights), survival, standard errors and limits.

Standard errors. R's ``fit$std.err`` is, for the usual Greenwood variance, the standard error of
the cumulative hazard -log S(t), i.e. of log S(t): sqrt(sum d / (n (n - d))). This is exposed as
``std_err_log``; ``std_err`` is the standard error of S(t) itself (= S · std_err_log, what R's
``summary()`` prints). With case weights R keeps Greenwood if every weight is a whole number, and
otherwise switches to the infinitesimal-jackknife (robust) variance; this module does the same
(``variance`` says which was used).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numpy.typing import ArrayLike

from rtoutcomes.stats._confint import check_conf, survival_limits
from rtoutcomes.stats._ties import TimeTable, at_risk, partition, time_table
from rtoutcomes.stats._validate import (
    BoolArray,
    FloatArray,
    as_labels,
    omit_missing,
    survival_data,
)
from rtoutcomes.stats.quantiles import (
    QuantileEstimate,
    SurvivalQuantiles,
    check_probs,
    curve_quantiles,
)
from rtoutcomes.stats.survival_at import RiskTable, SurvivalAt, survival_at
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, repr=False)
class KaplanMeier(TabularResult):
    """A Kaplan-Meier curve; times are in the unit of the input (days, months...)."""

    time: FloatArray
    n_risk: FloatArray
    n_event: FloatArray
    n_censor: FloatArray
    survival: FloatArray
    std_err: FloatArray  # standard error of S(t)
    std_err_log: FloatArray  # standard error of log S(t) = of the cumulative hazard (R std.err)
    lower: FloatArray
    upper: FloatArray
    cumulative_hazard: FloatArray  # Nelson-Aalen, R's fit$cumhaz
    conf_type: str
    conf_level: float
    variance: str  # "greenwood" or "infinitesimal jackknife" (fractional case weights)
    n: int  # rows analysed
    n_dropped: int = 0  # rows with a missing value, dropped (nan_policy="omit")
    group: Any = None  # the group's label, for the curves of kaplan_meier(..., group=)

    def _headline(self) -> str:
        group = "" if self.group is None else f"group {self.group!r}, "
        median = self.median
        return (
            f"{group}n = {self.n}, events = {self.n_event.sum():g}"
            f"{f', dropped = {self.n_dropped}' if self.n_dropped else ''}, "
            f"median = {median.estimate:.4g} ({median.lower:.4g}-{median.upper:.4g}), "
            f"{self.time.shape[0]} times"
        )

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "survival": self.survival,
                "std_err": self.std_err,
                "lower": self.lower,
                "upper": self.upper,
            }
        )

    def quantile(self, probs: ArrayLike) -> SurvivalQuantiles:
        """Times by which a fraction ``probs`` has had the event (S = 1 - p), with limits."""
        p = check_probs(probs)
        return SurvivalQuantiles(
            p,
            curve_quantiles(self.time, self.survival, p),
            curve_quantiles(self.time, self.lower, p),
            curve_quantiles(self.time, self.upper, p),
        )

    @property
    def median(self) -> QuantileEstimate:
        """Median survival time and its limits (NaN where not reached), as R prints it."""
        return self.quantile([0.5])[0]

    def at(self, times: ArrayLike, *, extend: bool = False) -> SurvivalAt:
        """Survival, limits, numbers at risk, events and censored at ``times`` (R summary())."""
        return survival_at(self, times, extend=extend)

    def risk_table(self, times: ArrayLike) -> RiskTable:
        """Numbers at risk (and cumulative events, censored) at ``times``, for a plot's table."""
        return survival_at(self, times, extend=True).risk_table()


@dataclass(frozen=True, repr=False)
class KaplanMeierGroups(TabularResult):
    """One Kaplan-Meier curve per group level (R ``survfit(Surv(time, event) ~ group)``).

    Iterating gives the curves in level order; ``fits[level]`` (or ``self[level]``) one curve.
    """

    fits: dict[Any, KaplanMeier]
    n_dropped: int = 0

    def __getitem__(self, level: Any) -> KaplanMeier:
        return self.fits[level]

    def __iter__(self) -> Iterator[KaplanMeier]:
        return iter(self.fits.values())

    def __len__(self) -> int:
        return len(self.fits)

    @property
    def levels(self) -> list[Any]:
        return list(self.fits)

    def _headline(self) -> str:
        return (
            f"{len(self.fits)} groups, n = {sum(f.n for f in self)}"
            f"{f', dropped = {self.n_dropped}' if self.n_dropped else ''}"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per group: n, events, median and its limits (R's print.survfit)."""
        import pandas as pd

        medians = [f.median for f in self]
        return pd.DataFrame(
            {
                "n": [f.n for f in self],
                "events": [float(f.n_event.sum()) for f in self],
                "median": [m.estimate for m in medians],
                "lower": [m.lower for m in medians],
                "upper": [m.upper for m in medians],
            },
            index=pd.Index(self.levels, name="group"),
        )


@overload
def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    *,
    group: None = None,
    weights: ArrayLike | None = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
    nan_policy: str = "omit",
) -> KaplanMeier: ...


@overload
def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    *,
    group: ArrayLike,
    weights: ArrayLike | None = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
    nan_policy: str = "omit",
) -> KaplanMeierGroups: ...


def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    *,
    group: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
    nan_policy: str = "omit",
) -> KaplanMeier | KaplanMeierGroups:
    """Kaplan-Meier estimate of S(t) from right-censored data.

    ``time``: follow-up in any unit (>= 0); ``event``: 1 = event, 0 = censored; ``weights``:
    case weights (>= 0). ``conf_type``: "plain", "log" (R's default) or "log-log".
    ``group``: labels; then one curve per level (sorted), as a :class:`KaplanMeierGroups`.
    ``nan_policy``: "omit" drops rows with a missing time, event, weight or group and counts
    them in ``n_dropped`` (R's na.omit, as ``cox``); "raise" refuses them.
    """
    given, n_dropped = omit_missing(
        nan_policy, time=time, event=event, weights=weights, group=group
    )
    t, e, w = survival_data(given["time"], given["event"], given["weights"])
    z = check_conf(conf_type, conf_level)
    if group is None:
        return _curve(t, e, w, conf_type, conf_level, z, n_dropped, None)
    codes, levels = as_labels(given["group"], t.shape[0], "group")
    order, bounds = partition(codes, levels.shape[0])
    fits = {}
    for g, level in enumerate(levels.tolist()):
        rows = order[bounds[g] : bounds[g + 1]]
        fits[level] = _curve(
            t[rows], e[rows], None if w is None else w[rows], conf_type, conf_level, z, 0, level
        )
    return KaplanMeierGroups(fits, n_dropped)


def _curve(
    t: FloatArray,
    e: BoolArray,
    w: FloatArray | None,
    conf_type: str,
    conf_level: float,
    z: float,
    n_dropped: int,
    group: Any,
) -> KaplanMeier:
    table = time_table(t, e, w)
    n_risk = at_risk(table.total)
    d = table.events
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(n_risk > 0, d / n_risk, 0.0)
        survival: FloatArray = np.cumprod(1.0 - hazard, dtype=np.float64)
        jackknife = w is not None and bool(np.any(w != np.floor(w)))
        if jackknife:
            std_err = np.sqrt(_jackknife_variance(table, n_risk, survival))
            std_err_log = np.where(std_err == 0.0, 0.0, std_err / survival)
        else:
            increment = np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)
            std_err_log = np.sqrt(np.cumsum(increment))
            std_err = survival * std_err_log
    lower, upper = survival_limits(survival, std_err_log, conf_type, z)
    return KaplanMeier(
        time=table.time,
        n_risk=n_risk,
        n_event=d,
        n_censor=table.total - d,
        survival=survival,
        std_err=std_err,
        std_err_log=std_err_log,
        lower=lower,
        upper=upper,
        cumulative_hazard=np.cumsum(hazard),
        conf_type=conf_type,
        conf_level=float(conf_level),
        variance="infinitesimal jackknife" if jackknife else "greenwood",
        n=int(t.shape[0]),
        n_dropped=n_dropped,
        group=group,
    )


def _jackknife_variance(table: TimeTable, n_risk: FloatArray, survival: FloatArray) -> FloatArray:
    """Infinitesimal-jackknife variance of S(t), R's choice for fractional case weights.

    The influence of row i on S(t) is -S(t) [δ_i 1(T_i <= t) a(T_i) - B(min(t, T_i))] with
    a = 1 / (n - d) and B the running sum of d / (n (n - d)); the variance is the sum over rows of
    (w_i · influence)^2, which splits into per-time totals of w^2 and w^2 δ, so no n x T matrix.
    """
    assert table.total_sq is not None and table.events_sq is not None
    d = table.events
    a = 1.0 / (n_risk - d)
    b_cum = np.cumsum(np.where(d > 0, d * a / n_risk, 0.0))
    # Rows that left at t_j contribute (δ a_j - B_j)^2; rows still at risk after t_j, B_j^2.
    left = table.events_sq * (a * a - 2.0 * a * b_cum) + table.total_sq * b_cum * b_cum
    later = np.append(at_risk(table.total_sq)[1:], 0.0)
    out: FloatArray = survival**2 * (np.cumsum(left) + b_cum**2 * later)
    # Once S(t) = 0 it stays 0 whatever the weights: no variance (R reports 0, not NaN).
    out[survival == 0.0] = 0.0
    return out
