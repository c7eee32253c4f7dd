"""Median follow-up: reverse Kaplan-Meier and the observed follow-up times.

The reverse Kaplan-Meier estimate treats censoring as the event and events as censoring
(Schemper and Smith 1996): its median is the median potential follow-up, R's
``quantile(survfit(Surv(time, 1 - event) ~ 1), 0.5)`` with R's default log limits.
Also reported: median and range of the observed times over all rows, and over censored rows
(the patients still followed), since papers use both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from rtoutcomes.stats._kaplan_meier import KaplanMeier, kaplan_meier
from rtoutcomes.stats._validate import FloatArray, survival_data
from rtoutcomes.stats.quantiles import QuantileEstimate
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, repr=False)
class FollowUp(TabularResult):
    """Median follow-up (same unit as the input times); NaN where undefined."""

    reverse_km: QuantileEstimate
    observed_median: float
    observed_min: float
    observed_max: float
    censored_median: float  # among censored rows only (NaN if none)
    censored_min: float
    censored_max: float
    n: int
    n_censored: int
    fit: KaplanMeier  # the reverse Kaplan-Meier curve itself

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rkm = self.reverse_km
        return pd.DataFrame(
            {
                "median": [rkm.estimate, self.observed_median, self.censored_median],
                "lower": [rkm.lower, np.nan, np.nan],
                "upper": [rkm.upper, np.nan, np.nan],
                "min": [np.nan, self.observed_min, self.censored_min],
                "max": [np.nan, self.observed_max, self.censored_max],
                "n": [self.n, self.n, self.n_censored],
            },
            index=["reverse Kaplan-Meier", "observed, all", "observed, censored"],
        )


def _median_range(values: FloatArray) -> tuple[float, float, float]:
    if values.shape[0] == 0:
        return (np.nan, np.nan, np.nan)
    return float(np.median(values)), float(values.min()), float(values.max())


def median_follow_up(time: ArrayLike, event: ArrayLike) -> FollowUp:
    """Reverse Kaplan-Meier median follow-up with limits, plus observed median and range.

    ``time``: follow-up in any unit (>= 0); ``event``: 1 = event, 0 = censored.
    """
    t, e, _ = survival_data(time, event)
    fit = kaplan_meier(t, ~e)
    censored = t[~e]
    obs = _median_range(t)
    cens = _median_range(censored)
    return FollowUp(
        reverse_km=fit.median,
        observed_median=obs[0],
        observed_min=obs[1],
        observed_max=obs[2],
        censored_median=cens[0],
        censored_min=cens[1],
        censored_max=cens[2],
        n=int(t.shape[0]),
        n_censored=int(censored.shape[0]),
        fit=fit,
    )
