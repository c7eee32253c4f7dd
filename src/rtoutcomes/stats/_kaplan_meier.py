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

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from rtoutcomes.stats._confint import check_conf, survival_limits
from rtoutcomes.stats._result import TabularResult
from rtoutcomes.stats._ties import TimeTable, at_risk, time_table
from rtoutcomes.stats._validate import FloatArray, survival_data
from rtoutcomes.stats.quantiles import (
    QuantileEstimate,
    SurvivalQuantiles,
    check_probs,
    curve_quantiles,
)
from rtoutcomes.stats.survival_at import RiskTable, SurvivalAt, survival_at

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

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "time": self.time, "n_risk": self.n_risk, "n_event": self.n_event,
                "n_censor": self.n_censor, "survival": self.survival, "std_err": self.std_err,
                "lower": self.lower, "upper": self.upper,
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


def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
) -> KaplanMeier:
    """Kaplan-Meier estimate of S(t) from right-censored data.

    ``time``: follow-up in any unit (>= 0); ``event``: 1 = event, 0 = censored; ``weights``:
    case weights (>= 0). ``conf_type``: "plain", "log" (R's default) or "log-log".
    """
    t, e, w = survival_data(time, event, weights)
    z = check_conf(conf_type, conf_level)
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
        time=table.time, n_risk=n_risk, n_event=d, n_censor=table.total - d,
        survival=survival, std_err=std_err, std_err_log=std_err_log, lower=lower, upper=upper,
        cumulative_hazard=np.cumsum(hazard), conf_type=conf_type, conf_level=float(conf_level),
        variance="infinitesimal jackknife" if jackknife else "greenwood", n=int(t.shape[0]),
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
