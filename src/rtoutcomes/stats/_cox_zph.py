"""Test of proportional hazards, as R's ``cox.zph`` in survival 3.x (Grambsch and Therneau 1994).

The test is the score test, at (beta_hat, gamma = 0), for adding the time-varying covariates
x g(t) to the model, g a transform of time centred at its mean over the events (survival 3.0's
form, not the older correlation of scaled residuals with time). With U_g = sum over events of
g(t_i) w_i s_i (s_i the Schoenfeld residual) and the 2p x 2p information of the extended model,
[[I, sum_t g V_t], [sum_t g V_t, sum_t g^2 V_t]] (V_t the information term of event time t),
a term with columns J gives chisq = u' A^-1 u for u = (0, U_g[J]) and A the rows and columns
of beta and of J; the global test uses every column. Each term has as many df as columns.

Scaled Schoenfeld residuals (for plots against the transformed time) are, as R: the raw
residuals times the inverse of the information divided by the number of events (per stratum,
counting only strata where the covariate varies), plus the coefficient; a categorical term is
collapsed to its coefficient-weighted sum, shifted by 1 instead of a coefficient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._cox._input import CoxData, CoxInputError
from rtoutcomes.stats._cox.result import ChiSquareTest, CoxResult
from rtoutcomes.stats._cox_fitted import (
    fitted_risk_sets,
    risk_scores,
    schoenfeld_sorted,
    weighted_information,
)
from rtoutcomes.stats._distributions import chi2_sf, rankdata
from rtoutcomes.stats._ties import at_risk, dense_rank, time_table
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
Transform = Literal["km", "rank", "identity", "log"]
TRANSFORMS = ("km", "rank", "identity", "log")


@dataclass(frozen=True)
class CoxZph(TabularResult):
    """Per-term and global tests of proportional hazards, and the data of R's ``plot.cox.zph``.

    ``x``: transformed event times (sorted by stratum, time); ``time``: the event times;
    ``y``: scaled Schoenfeld residuals (events x terms, NaN in a stratum where the term does not
    vary); ``var``: their variance matrix (R's ``zph$var``); ``strata``: stratum code per event.
    """

    terms: tuple[str, ...]
    statistic: FloatArray
    df: IntArray
    global_test: ChiSquareTest
    transform: str
    x: FloatArray
    time: FloatArray
    strata: IntArray | None
    # y and var, worked out on first use (a test of proportional hazards alone needs neither)
    _residuals: Callable[[], tuple[FloatArray, FloatArray]] = field(repr=False, compare=False)

    @cached_property
    def _scaled(self) -> tuple[FloatArray, FloatArray]:
        return self._residuals()

    @property
    def y(self) -> FloatArray:
        return self._scaled[0]

    @property
    def var(self) -> FloatArray:
        return self._scaled[1]

    @property
    def p(self) -> FloatArray:
        out: FloatArray = chi2_sf(self.statistic, self.df)
        return out

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "chisq": [*self.statistic, self.global_test.statistic],
                "df": [*self.df.tolist(), self.global_test.df],
                "p": [*self.p, self.global_test.p],
            },
            index=pd.Index([*self.terms, "GLOBAL"], name="term"),
        )

    def residuals_frame(self) -> pd.DataFrame:
        """Transformed time, time and scaled Schoenfeld residual per event (for plotting)."""
        import pandas as pd

        frame = pd.DataFrame(self.y, columns=list(self.terms))
        frame.insert(0, "time", self.time)
        frame.insert(0, "x", self.x)
        return frame


def transform_time(
    time: FloatArray, event: NDArray[np.bool_], transform: str, start: FloatArray | None = None
) -> FloatArray:
    """g(t) before centring: R's cox.zph transforms ("km": 1 - left-continuous KM of all rows,
    unweighted and unstratified, at risk while start < t <= stop for counting-process data;
    "rank": average ranks of all (stop) times)."""
    if transform == "identity":
        return time.astype(np.float64, copy=True)
    if transform == "rank":
        out: FloatArray = rankdata(time, method="average").astype(np.float64)
        return out
    if transform == "log":
        if np.any(time <= 0):
            row = int(np.flatnonzero(time <= 0)[0])
            raise CoxInputError(
                f"time: row {row} (0-based, complete cases) is {time[row]!r}; "
                "the log transform needs times > 0"
            )
        return np.log(time)
    if transform == "km":
        table = time_table(time, event, None)
        n_risk = at_risk(table.total)
        if start is not None:  # not yet entered: start >= t
            n_risk -= start.shape[0] - np.searchsorted(np.sort(start), table.time, side="left")
        surv = np.cumprod(1.0 - table.events / n_risk)
        before = dense_rank(time)  # distinct times < t
        return 1.0 - np.concatenate(([1.0], surv))[before]
    raise CoxInputError(f"transform: expected one of {', '.join(TRANSFORMS)}, got {transform!r}")


def _used(data: CoxData, columns: NDArray[np.bool_]) -> IntArray:
    """Per stratum x covariate: the stratum's event count if the covariate varies there, else 0."""
    x_raw = data.x if columns.all() else data.x[:, columns]
    strata = np.zeros(x_raw.shape[0], dtype=np.intp) if data.strata is None else data.strata
    n_strata = int(strata.max()) + 1
    events = np.bincount(strata, weights=data.event.astype(np.float64), minlength=n_strata)
    used = np.zeros((n_strata, x_raw.shape[1]), dtype=np.intp)
    for s in range(n_strata):
        rows = x_raw[strata == s]
        if rows.shape[0]:
            varies = np.any(rows != rows[0], axis=0)
            used[s] = np.where(varies, int(events[s]), 0)
    return used


def cox_zph(
    fit: CoxResult,
    transform: Transform = "km",
    *,
    terms: bool | Mapping[str, Sequence[int]] = True,
) -> CoxZph:
    """Grambsch-Therneau test of proportional hazards for each term and globally (R's cox.zph).

    ``transform`` of time: "km" (R's default), "rank", "identity" or "log". With ``terms``
    (default) a categorical covariate is tested jointly (k - 1 df), using the fit's terms (a
    :func:`design_matrix` records them); ``terms=False`` tests each column separately; a mapping
    term name -> column positions (0-based, of ``fit.names``) groups columns explicitly. Aliased
    (NaN) coefficients are left out, as R does. Needs a fit from :func:`rtoutcomes.stats.cox`
    (it keeps its complete cases in ``fit.data``).
    """
    if transform not in TRANSFORMS:
        raise CoxInputError(
            f"transform: expected one of {', '.join(TRANSFORMS)}, got {transform!r}"
        )
    f = fitted_risk_sets(fit, drop_aliased=True)
    rs, data = f.rs, f.data
    names = tuple(n for n, k in zip(fit.names, f.columns, strict=True) if k)
    p = len(names)
    if p == 0:
        raise CoxInputError("cox_zph: the model has no non-aliased coefficient to test")
    ttimes = transform_time(data.time, data.event, transform, data.start)
    gtime = ttimes - ttimes[data.event].mean()
    g_sorted = gtime[rs.order]
    h = g_sorted[rs.seg_start[rs.ev_seg]]  # g at the time of each event group
    scale = f.scale
    unscale = np.outer(scale, scale)
    schoen = schoenfeld_sorted(f)  # scaled units
    ev_w = rs.weights[rs.ev_rows]
    u_gamma = ((g_sorted[rs.ev_rows] * ev_w) @ schoen) / scale
    info = f.at_estimate.information / unscale
    risk = risk_scores(f)
    i_bg = weighted_information(f, h, risk) / unscale
    i_gg = weighted_information(f, h * h, risk) / unscale
    imat = np.block([[info, i_bg], [i_bg.T, i_gg]])
    u = np.concatenate((np.zeros(p), u_gamma))

    if terms is True or isinstance(terms, Mapping):
        grouping = fit.terms if terms is True else _checked_terms(terms, len(fit.names))
        columns_of: dict[str, list[int]] = {}
        position = np.cumsum(f.columns) - 1
        for term, term_cols in grouping.items():
            kept = [int(position[c]) for c in term_cols if f.columns[c]]
            if kept:
                columns_of[term] = kept
    else:
        columns_of = {name: [j] for j, name in enumerate(names)}
    statistic = np.empty(len(columns_of))
    df = np.empty(len(columns_of), dtype=np.intp)
    for i, cols in enumerate(columns_of.values()):
        kk = np.concatenate((np.arange(p), p + np.asarray(cols)))
        statistic[i] = u[kk] @ np.linalg.solve(imat[np.ix_(kk, kk)], u[kk])
        df[i] = len(cols)
    global_test = ChiSquareTest(float(u @ np.linalg.solve(imat, u)), p)

    event_order = rs.order[rs.ev_rows]
    columns, coef = f.columns, f.coef  # what the residuals need, not the risk sets
    ev_strata = None if data.strata is None else data.strata[event_order]
    schoen /= scale
    return CoxZph(
        terms=tuple(columns_of),
        statistic=statistic,
        df=df,
        global_test=global_test,
        transform=transform,
        x=ttimes[event_order],
        time=data.time[event_order],
        strata=ev_strata,
        _residuals=lambda: _scaled_residuals(
            data, columns, coef, ev_strata, schoen, info, columns_of
        ),
    )


def _checked_terms(terms: Mapping[str, Sequence[int]], p: int) -> dict[str, tuple[int, ...]]:
    """A user's grouping of columns into terms: every column exactly once."""
    out = {str(name): tuple(int(c) for c in cols) for name, cols in terms.items()}
    listed = sorted(c for cols in out.values() for c in cols)
    if listed != list(range(p)):
        raise CoxInputError(
            f"terms: must list each of the {p} columns (0..{p - 1}) exactly once, got {dict(terms)}"
        )
    return out


def _scaled_residuals(
    data: CoxData,
    columns: NDArray[np.bool_],
    coef: FloatArray,
    ev_strata: IntArray | None,
    schoen: FloatArray,
    info: FloatArray,
    columns_of: dict[str, list[int]],
) -> tuple[FloatArray, FloatArray]:
    """R's cox.zph scaling: residuals x (information / events used)^-1 per stratum, + coef.

    ``schoen``: Schoenfeld residuals of the events in sorted order (original units),
    ``ev_strata`` their strata."""
    used = _used(data, columns)
    for cols in columns_of.values():
        if len(cols) > 1:
            used[:, cols] = used[:, cols].max(axis=1, keepdims=True)
    wtmat = np.zeros(info.shape)
    for row in used:
        wtmat += np.minimum.outer(row, row)
    vmean = info / np.where(wtmat == 0, 1, wtmat)
    if any(len(cols) > 1 for cols in columns_of.values()):
        collapse = np.zeros((schoen.shape[1], len(columns_of)))
        for i, cols in enumerate(columns_of.values()):
            collapse[cols, i] = 1.0 if len(cols) == 1 else coef[cols]
        schoen = schoen @ collapse
        vmean = collapse.T @ vmean @ collapse
        used = used[:, [cols[0] for cols in columns_of.values()]]
    y = np.full(schoen.shape, np.nan)
    for s, row in enumerate(used):
        k = np.flatnonzero(row > 0)
        rows = np.ones(schoen.shape[0], dtype=bool) if ev_strata is None else ev_strata == s
        if k.size:
            y[np.ix_(rows, k)] = np.linalg.solve(vmean[np.ix_(k, k)], schoen[np.ix_(rows, k)].T).T
    shift = np.array([coef[cols[0]] if len(cols) == 1 else 1.0 for cols in columns_of.values()])
    var = np.asarray(np.linalg.inv(vmean), dtype=np.float64)
    return y + shift, var
