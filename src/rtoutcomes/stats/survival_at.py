"""A Kaplan-Meier curve read at chosen times, as R's ``summary(fit, times=, extend=)``.

At each requested time t: survival, its standard error (survival scale) and limits are those of
the curve at the last step at or before t (1 before the first step); the number at risk counts
rows with follow-up >= t; ``n_event`` and ``n_censor`` count what happened since the previous
requested time (R's convention), ``cum_event`` and ``cum_censor`` everything up to t.
Times are sorted, as R does. Without ``extend``, times after the last follow-up are dropped (R's
default); with it they get the last curve value and 0 at risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import ArrayLike

from rtoutcomes.stats._validate import FloatArray, SurvivalInputError
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


class SurvivalCurve(Protocol):
    """A step curve with counts: a Kaplan-Meier curve or a Cox model's predicted curve."""

    @property
    def time(self) -> FloatArray: ...
    @property
    def survival(self) -> FloatArray: ...
    @property
    def std_err(self) -> FloatArray: ...
    @property
    def lower(self) -> FloatArray: ...
    @property
    def upper(self) -> FloatArray: ...
    @property
    def n_risk(self) -> FloatArray: ...
    @property
    def n_event(self) -> FloatArray: ...
    @property
    def n_censor(self) -> FloatArray: ...


@dataclass(frozen=True, repr=False)
class RiskTable(TabularResult):
    """Numbers at risk under a survival plot, with cumulative events and censored."""

    time: FloatArray
    n_risk: FloatArray
    cum_event: FloatArray
    cum_censor: FloatArray

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "cum_event": self.cum_event,
                "cum_censor": self.cum_censor,
            }
        )


@dataclass(frozen=True, repr=False)
class SurvivalAt(TabularResult):
    """Survival and counts at requested times (see the module docstring for definitions)."""

    time: FloatArray
    survival: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    n_risk: FloatArray
    n_event: FloatArray
    n_censor: FloatArray
    cum_event: FloatArray
    cum_censor: FloatArray

    def risk_table(self) -> RiskTable:
        return RiskTable(self.time, self.n_risk, self.cum_event, self.cum_censor)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                name: getattr(self, name)
                for name in (
                    "time",
                    "survival",
                    "std_err",
                    "lower",
                    "upper",
                    "n_risk",
                    "n_event",
                    "n_censor",
                    "cum_event",
                    "cum_censor",
                )
            }
        )


def survival_at(fit: SurvivalCurve, times: ArrayLike, *, extend: bool = False) -> SurvivalAt:
    requested = np.sort(np.atleast_1d(np.asarray(times, dtype=np.float64)))
    if requested.ndim != 1:
        raise SurvivalInputError(f"times: expected a 1-D sequence, got shape {requested.shape}")
    requested = requested[np.isfinite(requested)]
    if not extend:
        requested = requested[requested <= fit.time[-1]]
    # R first prepends a row at time 0 (survival 1, error 0) unless the curve starts at 0.
    if fit.time[0] == 0.0:
        steps, prefix = fit.time, 0
    else:
        steps, prefix = np.concatenate(([0.0], fit.time)), 1

    def with_start(values: FloatArray, start: float) -> FloatArray:
        return np.concatenate(([start], values)) if prefix else values

    last_step = np.searchsorted(steps, requested, side="right")  # rows at or before t
    row = np.maximum(last_step - 1, 0)
    first_at_or_after = np.searchsorted(steps, requested, side="left")
    n_risk = np.append(with_start(fit.n_risk, float(fit.n_risk[0])), 0.0)[first_at_or_after]
    cum_event = np.concatenate(([0.0], np.cumsum(with_start(fit.n_event, 0.0))))[last_step]
    cum_censor = np.concatenate(([0.0], np.cumsum(with_start(fit.n_censor, 0.0))))[last_step]
    return SurvivalAt(
        time=requested,
        survival=with_start(fit.survival, 1.0)[row],
        std_err=with_start(fit.std_err, 0.0)[row],
        lower=with_start(fit.lower, 1.0)[row],
        upper=with_start(fit.upper, 1.0)[row],
        n_risk=n_risk,
        n_event=np.diff(cum_event, prepend=0.0),
        n_censor=np.diff(cum_censor, prepend=0.0),
        cum_event=cum_event,
        cum_censor=cum_censor,
    )
