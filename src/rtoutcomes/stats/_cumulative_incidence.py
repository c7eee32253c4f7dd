"""Cumulative incidence of competing events (Aalen-Johansen), as R's ``cmprsk::cuminc``.

For cause c within a group, at the distinct times t_j (n_j at risk, d_j events of any cause of
which d_cj of cause c) with S the overall Kaplan-Meier (all causes as events):

    F_c(t) = sum over t_j <= t of S(t_j-) d_cj / n_j.

Variance: cmprsk's delta-method (Aalen-type) estimator. With u_j = 1 / S(t_j) (0 where S(t_j) = 0),
w_j(d) = S(t_j-)^2 k(d) d / n_j^2 and the tie factor k(d) = 1 - (d - 1) / (n_j - 1) for d > 1
(1 otherwise), summing over every event time t_j <= t:

    Var F_c(t) = sum w_j(d_cj) (1 + (F_c(t_j) - F_c(t)) u_j)^2
               + sum w_j(d_j - d_cj) ((F_c(t_j) - F_c(t)) u_j)^2      [only where S(t_j) > 0]

evaluated, as cmprsk does, from three running sums (A - 2 F B + F^2 C) added in cmprsk's order
(competing events before the cause at each time), so the numbers agree to rounding.

Pointwise limits are on the log(-log) scale (Pintilie 2006; what tidycmprsk and most cmprsk
reporting use): F^exp(±z se / (F log F)), se = sqrt(Var F); NaN where F is 0 or 1, where that
scale is undefined (R's NA). The estimate never needs strata: as in cuminc, ``strata`` only
enters Gray's test, attached as ``tests`` when there are two or more groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._competing_data import competing_data, optional_labels
from rtoutcomes.stats._confint import check_conf
from rtoutcomes.stats._gray import GrayTest, gray_scores
from rtoutcomes.stats._ties import at_risk, partition, time_table
from rtoutcomes.stats._validate import (
    BoolArray,
    FloatArray,
    SurvivalInputError,
    omit_missing,
    plain,
)
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, repr=False)
class IncidenceCurve(TabularResult):
    """One cumulative incidence curve: one row per distinct time with an event of this cause.

    ``end`` is the group's last follow-up time: the curve is defined on [0, end].
    """

    group: Any  # the group label, None without groups
    cause: Any
    time: FloatArray
    n_risk: FloatArray
    n_event: FloatArray  # events of this cause at the time
    estimate: FloatArray
    variance: FloatArray
    lower: FloatArray
    upper: FloatArray
    end: float
    # numbers at risk at every distinct time of the group (for a plot's risk table)
    risk_time: FloatArray | None = None
    risk_n: FloatArray | None = None

    @property
    def std_err(self) -> FloatArray:
        out: FloatArray = np.sqrt(self.variance)
        return out

    def corners(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(time, estimate, variance) as cuminc returns them: every corner of the step plot.

        0 first, each event time twice (value before, then after the jump), ``end`` last.
        """

        def doubled(values: FloatArray) -> FloatArray:
            if not values.shape[0]:
                return np.zeros(2)
            before = np.concatenate(([0.0], values[:-1]))
            return np.concatenate(([0.0], np.column_stack((before, values)).ravel(), values[-1:]))

        x = np.concatenate(([0.0], np.repeat(self.time, 2), [self.end]))
        return x, doubled(self.estimate), doubled(self.variance)

    def at(self, times: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(estimate, variance) at ``times``: the last step at or before t; NaN outside [0, end]."""
        # Index 0 is the value before the first step (0); index j + 1 the value after step j.
        step = np.searchsorted(self.time, times, side="right")
        inside = (times >= 0) & (times <= self.end)
        est = np.concatenate(([0.0], self.estimate))[step]
        var = np.concatenate(([0.0], self.variance))[step]
        return np.where(inside, est, np.nan), np.where(inside, var, np.nan)

    def _headline(self) -> str:
        group = "" if self.group is None else f"group {self.group!r}, "
        return f"{group}cause {self.cause!r}, {self.time.shape[0]} event times"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "estimate": self.estimate,
                "std_err": self.std_err,
                "lower": self.lower,
                "upper": self.upper,
            }
        )


@dataclass(frozen=True, repr=False)
class IncidenceAt(TabularResult):
    """Cumulative incidence at chosen times (R's ``timepoints``): one row per curve.

    ``estimate``, ``variance``, ``lower``, ``upper`` are (curves x times); NaN beyond a group's
    last follow-up.
    """

    groups: list[Any]
    causes: list[Any]
    time: FloatArray
    estimate: FloatArray
    variance: FloatArray
    lower: FloatArray
    upper: FloatArray

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        k, m = self.estimate.shape
        frame = pd.DataFrame(
            {
                "group": np.repeat(np.array(self.groups, dtype=object), m),
                "cause": np.repeat(np.array(self.causes, dtype=object), m),
                "time": np.tile(self.time, k),
                "estimate": self.estimate.ravel(),
                "std_err": np.sqrt(self.variance.ravel()),
                "lower": self.lower.ravel(),
                "upper": self.upper.ravel(),
            }
        )
        if all(g is None for g in self.groups):
            frame = frame.drop(columns="group")
        return frame


@dataclass(frozen=True, repr=False)
class CumulativeIncidence(TabularResult):
    """Curves for every (cause, group), cause-major as cuminc orders them; Gray's test if any."""

    curves: tuple[IncidenceCurve, ...]
    causes: NDArray[Any]
    groups: NDArray[Any] | None
    conf_level: float
    tests: GrayTest | None
    n: int
    n_dropped: int = 0  # rows with a missing value, dropped (nan_policy="omit")

    def __iter__(self) -> Iterator[IncidenceCurve]:
        return iter(self.curves)

    def __len__(self) -> int:
        return len(self.curves)

    def curve(self, cause: Any, group: Any = None) -> IncidenceCurve:
        for c in self.curves:
            if c.cause == cause and (group is None or c.group == group):
                return c
        raise KeyError(f"no curve for cause {cause!r}, group {group!r}")

    def at(self, times: ArrayLike) -> IncidenceAt:
        """Estimates at ``times`` (sorted, duplicates dropped, as R's ``timepoints``)."""
        requested = np.unique(np.asarray(times, dtype=np.float64).ravel())
        if not np.isfinite(requested).all():
            raise SurvivalInputError(f"times: {requested.tolist()} must be finite numbers")
        pairs = [c.at(requested) for c in self.curves]
        est = np.array([p[0] for p in pairs]).reshape(len(pairs), requested.shape[0])
        var = np.array([p[1] for p in pairs]).reshape(est.shape)
        lower, upper = loglog_limits(est, var, check_conf("log", self.conf_level))
        return IncidenceAt(
            [c.group for c in self.curves],
            [c.cause for c in self.curves],
            requested,
            est,
            var,
            lower,
            upper,
        )

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        frames = []
        for c in self.curves:
            frame = c.to_frame()
            frame.insert(0, "cause", c.cause)
            if self.groups is not None:
                frame.insert(0, "group", c.group)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def _headline(self) -> str:
        groups = "" if self.groups is None else f", {self.groups.shape[0]} groups"
        return f"n = {self.n}, {self.causes.shape[0]} cause(s){groups}, {len(self.curves)} curves"

    def summary(self) -> str:
        text = super().summary()
        return text if self.tests is None else f"{text}\n{self.tests.summary()}"


def loglog_limits(
    estimate: FloatArray, variance: FloatArray, z: float
) -> tuple[FloatArray, FloatArray]:
    """Limits F^exp(∓z se / (F log F)); NaN where F is 0, 1 or NaN."""
    ok = (estimate > 0) & (estimate < 1)
    f = np.where(ok, estimate, 0.5)
    half = z * np.sqrt(np.where(ok, variance, 0.0)) / (f * np.log(f))
    with np.errstate(over="ignore"):  # a huge se: limits 0 and 1, as in R
        return np.where(ok, f ** np.exp(-half), np.nan), np.where(ok, f ** np.exp(half), np.nan)


def cumulative_incidence(
    time: ArrayLike,
    status: ArrayLike,
    *,
    group: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    cause_codes: ArrayLike | None = None,
    censor_code: Any = 0,
    conf_level: float = 0.95,
    rho: float = 0.0,
    nan_policy: str = "omit",
) -> CumulativeIncidence:
    """Cumulative incidence per cause (and group), R ``cmprsk::cuminc(time, status, group)``.

    ``time``: follow-up (>= 0, any unit: the curves are in that unit); ``status``: code per row,
    ``censor_code`` (default 0) for censored, any other code an event of that cause (e.g. 1 =
    local failure, 2 = death without it). ``cause_codes``: causes to report (default all).
    With two or more groups, Gray's test (``strata``, ``rho`` as in ``gray_test``) is in
    ``.tests``. ``nan_policy``: "omit" drops rows with a missing time, status, group or stratum
    (``n_dropped``), "raise" refuses them.
    """
    given, n_dropped = omit_missing(
        nan_policy, time=time, status=status, group=group, strata=strata
    )
    time, status, group, strata = given["time"], given["status"], given["group"], given["strata"]
    data = competing_data(time, status, cause_codes, censor_code)
    z = check_conf("log", conf_level)
    group_codes, group_levels = optional_labels(group, data.n, "group")
    n_groups = 1 if group_levels is None else group_levels.shape[0]
    order, bounds = partition(group_codes, n_groups)
    curves = []
    for j, cause in enumerate(data.causes.tolist()):
        is_cause = data.is_cause(j)
        for g in range(n_groups):
            rows = order[bounds[g] : bounds[g + 1]]
            label = None if group_levels is None else plain(group_levels[g])
            curves.append(
                _curve(data.time[rows], data.event[rows], is_cause[rows], z, label, cause)
            )
    tests = None
    if group_levels is not None and n_groups > 1:
        tests = gray_scores(data, group_codes, group_levels, strata, rho)
    return CumulativeIncidence(
        tuple(curves), data.causes, group_levels, float(conf_level), tests, data.n, n_dropped
    )


def _curve(
    time: FloatArray, event: BoolArray, is_cause: BoolArray, z: float, group: Any, cause: Any
) -> IncidenceCurve:
    table = time_table(time, event, None)
    times, n, d = table.time, at_risk(table.total), table.events
    d_cause = time_table(time, is_cause, None).events
    estimate, variance = _aalen_johansen(n, d, d_cause)
    jumps = d_cause > 0
    est, var = estimate[jumps], variance[jumps]
    lower, upper = loglog_limits(est, var, z)
    return IncidenceCurve(
        group,
        cause,
        times[jumps],
        n[jumps],
        d_cause[jumps],
        est,
        var,
        lower,
        upper,
        float(times[-1]),
        times,
        n,
    )


def _aalen_johansen(
    n: FloatArray, d: FloatArray, d_cause: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """CIF and cmprsk's variance at each distinct time (see the module docstring)."""
    d_other = d - d_cause
    surv = np.cumprod((n - d) / n)
    surv_before = np.concatenate(([1.0], surv[:-1]))
    estimate = np.cumsum(surv_before * d_cause / n)
    with np.errstate(divide="ignore"):
        u = np.where(surv > 0, 1.0 / surv, 0.0)
    gu = estimate * u

    def weight(events: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ties = np.where(events > 1, 1.0 - (events - 1.0) / (n - 1.0), 1.0)
        out: FloatArray = surv_before * surv_before * ties * events / (n * n)
        return out

    w_other = np.where(surv > 0, weight(d_other), 0.0)
    w_cause = weight(d_cause)
    # Interleave (competing events, then the cause) per time so that each running sum adds its
    # terms in the order cmprsk does.
    a_terms = np.column_stack((gu * gu * w_other, (1.0 + gu) * (1.0 + gu) * w_cause))
    b_terms = np.column_stack((u * gu * w_other, u * (1.0 + gu) * w_cause))
    c_terms = np.column_stack((u * u * w_other, u * u * w_cause))
    a, b, c = (np.cumsum(t.ravel())[1::2] for t in (a_terms, b_terms, c_terms))
    variance: FloatArray = a + estimate * estimate * c - 2.0 * estimate * b
    return estimate, variance
