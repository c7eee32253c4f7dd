"""Predicted survival after a Cox fit (R's ``survfit.coxph``) and the baseline hazard.

For covariates z, the cumulative hazard is H(t | z) = exp((z - c)' beta) H_c(t), with H_c the
baseline hazard at the centre c (the fit's means) accumulated over the distinct times of the
stratum: at each event time the increment is m sum_k 1/den_k over Efron's d sub-steps (one
sub-step, the Breslow/Nelson-Aalen increment, with Breslow ties), as R's ``agsurv`` (survtype 3
for Efron, 2 for Breslow). Survival is exp(-H) (R's default ``stype = 2``).

The variance of H(t | z) is R's (Tsiatis 1981; Therneau and Grambsch 2000, section 10.2):
r^2 [sum m sum_k 1/den_k^2 + q(t)' V q(t)], with r = exp((z - c)' beta), V the fit's variance
matrix (robust when the fit is robust, as R uses ``fit$var``) and
q(t) = H_c(t) (z - c) - sum m sum_k (S1 - f_k dS1) / den_k^2, the running sum of the risk-set
means weighted by the hazard increments. ``std_err`` is that standard error of H, which is also
the standard error of log S, so the limits are R's (``conf_type`` "log" by default).

Everything comes from one evaluation of the partial likelihood at the estimate (the per-time
sums the fit already forms), in O(T p^2) per curve for T distinct times.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._confint import check_conf, survival_limits
from rtoutcomes.stats._cox._input import CoxInputError, covariates
from rtoutcomes.stats._cox._risksets import remove_late, reverse_cumsum
from rtoutcomes.stats._cox.result import CoxResult
from rtoutcomes.stats._cox_fitted import FittedRiskSets, fitted_risk_sets
from rtoutcomes.stats.survival_at import SurvivalAt, survival_at
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, repr=False)
class PredictedCurve(TabularResult):
    """The predicted survival curve of one covariate row: one entry per distinct time of its
    stratum (events and censorings), as R's ``survfit(fit, newdata = row)``."""

    time: FloatArray
    n_risk: FloatArray
    n_event: FloatArray
    n_censor: FloatArray
    survival: FloatArray
    cumulative_hazard: FloatArray
    std_err_log: FloatArray  # standard error of the cumulative hazard = of log S (R std.err)
    lower: FloatArray
    upper: FloatArray
    conf_type: str
    conf_level: float
    stratum: Any  # the stratum's label (None for an unstratified fit)
    linear_predictor: float  # (z - c)' beta

    @property
    def std_err(self) -> FloatArray:
        """Standard error of S(t) (R's summary prints it)."""
        out: FloatArray = self.survival * self.std_err_log
        return out

    def at(self, times: ArrayLike, *, extend: bool = False) -> SurvivalAt:
        """Survival and limits at ``times`` (R's ``summary(survfit(fit, newdata), times=)``)."""
        return survival_at(self, times, extend=extend)

    def _headline(self) -> str:
        stratum = "" if self.stratum is None else f"stratum {self.stratum!r}, "
        return f"{stratum}linear predictor {self.linear_predictor:.4g}, {self.time.shape[0]} times"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "survival": self.survival,
                "std_err": self.std_err,
                "cumulative_hazard": self.cumulative_hazard,
                "lower": self.lower,
                "upper": self.upper,
            }
        )


@dataclass(frozen=True, repr=False)
class PredictedSurvival(TabularResult):
    """One predicted curve per covariate row (``curves[i]`` for row i)."""

    curves: tuple[PredictedCurve, ...]

    def __getitem__(self, i: int) -> PredictedCurve:
        return self.curves[i]

    def __iter__(self) -> Any:
        return iter(self.curves)

    def __len__(self) -> int:
        return len(self.curves)

    def at(self, times: ArrayLike) -> pd.DataFrame:
        """Survival and limits of every curve at ``times``: one row per (curve, time)."""
        import pandas as pd

        frames = []
        for i, c in enumerate(self.curves):
            frame = c.at(times, extend=True).to_frame()
            frame.insert(0, "curve", i)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def _headline(self) -> str:
        return f"{len(self.curves)} curve(s)"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        frames = []
        for i, c in enumerate(self.curves):
            frame = c.to_frame()
            frame.insert(0, "curve", i)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class _Baseline:
    """Per distinct time (all strata, in the fit's sorted group order), at the centre c."""

    time: FloatArray
    n_risk: FloatArray
    n_event: FloatArray
    n_censor: FloatArray
    cumhaz: FloatArray  # H_c(t), running within each stratum
    cumvar: FloatArray  # running sum of m sum_k 1/den_k^2
    cumxbar: FloatArray  # G x p: running sum of m sum_k (S1 - f_k dS1) / den_k^2, units of x - c
    stratum_bounds: NDArray[np.intp]


def _baseline(f: FittedRiskSets) -> _Baseline:
    rs, s = f.rs, f.at_estimate.sums
    g = rs.n_groups
    unshift = np.exp(-s.shift)  # the sums hold exp(eta - shift)
    hazard = np.zeros(g)
    hazard[rs.ev_groups] = rs.mult * s.a * unshift
    var = np.zeros(g)
    var[rs.ev_groups] = rs.mult * s.c0 * unshift**2
    xbar = np.zeros((g, rs.x.shape[1]))
    xbar[rs.ev_groups] = (
        (s.s1 * s.c0[:, None] - s.d_s1 * s.c1[:, None]) * (rs.mult * unshift)[:, None]
    ) / f.scale
    bounds = rs.stratum_bounds
    cum = [np.empty_like(v) for v in (hazard, var, xbar)]
    for lo, hi in itertools.pairwise(bounds.tolist()):
        for out, v in zip(cum, (hazard, var, xbar), strict=True):
            out[lo:hi] = np.cumsum(v[lo:hi], axis=0)
    total = np.add.reduceat(rs.weights, rs.seg_start)
    events = np.zeros_like(total)
    events[rs.ev_seg] = np.add.reduceat(rs.event_weight, rs.seg_start)[rs.ev_seg]
    group_total = np.add.reduceat(total, rs.group_seg)
    group_events = np.add.reduceat(events, rs.group_seg)
    at_risk = group_total.copy()
    remove_late(rs, at_risk, rs.weights[rs.late_row])
    time = f.data.time[rs.order][rs.seg_start[rs.group_seg]]
    return _Baseline(
        time=time,
        n_risk=reverse_cumsum(at_risk, bounds),
        n_event=group_events,
        n_censor=group_total - group_events,
        cumhaz=cum[0],
        cumvar=cum[1],
        cumxbar=cum[2],
        stratum_bounds=bounds,
    )


def _stratum_levels(fit: CoxResult) -> NDArray[Any] | None:
    return None if fit.strata_levels is None else np.asarray(fit.strata_levels, dtype=object)


def predict_survival(
    fit: CoxResult,
    X: Any,
    *,
    strata: ArrayLike | None = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
) -> PredictedSurvival:
    """Predicted survival curves for the covariate rows ``X`` (R's ``survfit(fit, newdata)``).

    ``X``: rows of covariates in the fit's columns (a 2-D array, a DataFrame with the fit's
    column names, or a ``design_matrix`` built with the same levels). ``strata``: for a
    stratified fit, the stratum label of each row (its curve uses that stratum's baseline).
    Times are those of the fit, in its unit; ``conf_type`` "log" (R's default), "log-log" or
    "plain". Needs a fit from :func:`rtoutcomes.stats.cox` (it keeps its complete cases).
    """
    z_crit = check_conf(conf_type, conf_level)
    matrix, found, _ = covariates(
        X, None if hasattr(X, "columns") or hasattr(X, "terms") else list(fit.names)
    )
    if matrix.shape[1] != len(fit.names):
        raise CoxInputError(
            f"X: {matrix.shape[1]} columns for a model with {len(fit.names)} "
            f"covariates ({', '.join(fit.names)})"
        )
    if hasattr(X, "columns") and tuple(found) != fit.names:
        raise CoxInputError(f"X: columns {found} are not the model's {list(fit.names)}")
    if np.isnan(matrix).any():
        raise CoxInputError("X: a row to predict for has a missing value")
    f = fitted_risk_sets(fit)
    base = _baseline(f)
    levels = _stratum_levels(fit)
    rows = matrix.shape[0]
    if levels is None:
        if strata is not None:
            raise CoxInputError("strata: the model is not stratified")
        codes = np.zeros(rows, dtype=np.intp)
    else:
        if strata is None:
            raise CoxInputError(
                f"strata: the model is stratified; give each row's stratum "
                f"(one of {levels.tolist()})"
            )
        labels = np.asarray(strata, dtype=object)
        if labels.shape != (rows,):
            raise CoxInputError(f"strata: expected {rows} labels, got shape {labels.shape}")
        lookup = {str(v): i for i, v in enumerate(levels.tolist())}
        unknown = [v for v in labels.tolist() if str(v) not in lookup]
        if unknown:
            raise CoxInputError(
                f"strata: {unknown[0]!r} is not a stratum of the model ({levels.tolist()})"
            )
        codes = np.array([lookup[str(v)] for v in labels.tolist()], dtype=np.intp)
    coef = f.coef
    centre = fit.means
    var = fit.var.copy()
    var[np.isnan(var)] = 0.0
    curves = []
    for i in range(rows):
        lo, hi = base.stratum_bounds[codes[i]], base.stratum_bounds[codes[i] + 1]
        dz = matrix[i] - centre
        lp = float(dz @ coef)
        risk = np.exp(lp)
        cumhaz = base.cumhaz[lo:hi]
        q = np.outer(cumhaz, dz) - base.cumxbar[lo:hi]
        se = risk * np.sqrt(base.cumvar[lo:hi] + np.einsum("ij,jk,ik->i", q, var, q))
        survival = np.exp(-risk * cumhaz)
        lower, upper = survival_limits(survival, se, conf_type, z_crit)
        curves.append(
            PredictedCurve(
                time=base.time[lo:hi],
                n_risk=base.n_risk[lo:hi],
                n_event=base.n_event[lo:hi],
                n_censor=base.n_censor[lo:hi],
                survival=survival,
                cumulative_hazard=risk * cumhaz,
                std_err_log=se,
                lower=lower,
                upper=upper,
                conf_type=conf_type,
                conf_level=float(conf_level),
                stratum=None if levels is None else levels[codes[i]],
                linear_predictor=lp,
            )
        )
    return PredictedSurvival(tuple(curves))


def baseline_hazard(fit: CoxResult, *, centered: bool = False) -> pd.DataFrame:
    """The baseline cumulative hazard (R's ``basehaz(fit, centered=)``): at covariates 0, or at
    the fit's means with ``centered=True``; per stratum for a stratified fit."""
    import pandas as pd

    f = fitted_risk_sets(fit)
    base = _baseline(f)
    shift = 0.0 if centered else float(-(fit.means @ f.coef))
    frame = pd.DataFrame({"time": base.time, "hazard": base.cumhaz * np.exp(shift)})
    levels = _stratum_levels(fit)
    if levels is not None:
        sizes = np.diff(base.stratum_bounds)
        frame["stratum"] = np.repeat(levels, sizes)
    return frame


@dataclass(frozen=True, repr=False)
class AdjustedSurvival(TabularResult):
    """Covariate-adjusted survival curves by direct standardisation: for each level, the mean
    over the fit's rows of their predicted curves with the term set to that level."""

    term: str
    levels: tuple[Any, ...]
    time: FloatArray
    survival: FloatArray  # times x levels

    def _headline(self) -> str:
        return f"term {self.term!r}, levels {list(self.levels)}, {self.time.shape[0]} times"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            self.survival,
            columns=[str(v) for v in self.levels],
            index=pd.Index(self.time, name="time"),
        )


def _dummy_level(name: str) -> tuple[str, str] | None:
    """(level, reference) of an indicator column named "term[level vs reference]"."""
    if not (name.endswith("]") and "[" in name and " vs " in name):
        return None
    inner = name[name.index("[") + 1 : -1]
    level, reference = inner.rsplit(" vs ", 1)
    return level, reference


def adjusted_survival(
    fit: CoxResult, term: str, levels: ArrayLike | None = None
) -> AdjustedSurvival:
    """Adjusted (marginal) survival curves for the levels of ``term`` (direct standardisation:
    R's ``survfit(fit, newdata = rows with term = level)`` averaged over the rows).

    ``term``: a covariate of the fit, or a categorical term of a ``design_matrix`` (its indicator
    columns are set for each level). ``levels``: values of a numeric term; for a categorical term
    its levels (default: the reference, then the other levels). Unstratified fits only.
    """
    if fit.stratified:
        raise CoxInputError(
            "adjusted_survival: not available for a stratified fit (each "
            "stratum has its own baseline); fit by stratum instead"
        )
    if term not in fit.terms:
        raise CoxInputError(f"term: {term!r} is not a term of the model ({list(fit.terms)})")
    columns = list(fit.terms[term])
    f = fitted_risk_sets(fit)
    base = _baseline(f)
    x = f.data.x
    coef = f.coef
    dummies = [_dummy_level(fit.names[j]) for j in columns]
    if all(d is not None for d in dummies):  # a categorical term: name[level vs reference]
        reference = dummies[0][1]  # type: ignore[index]
        all_levels = [reference, *(d[0] for d in dummies)]  # type: ignore[index]
        wanted = (
            all_levels
            if levels is None
            else [str(v) for v in np.atleast_1d(np.asarray(levels, dtype=object)).tolist()]
        )
        unknown = [v for v in wanted if v not in all_levels]
        if unknown:
            raise CoxInputError(f"levels: {unknown[0]!r} is not a level of {term!r} ({all_levels})")
        settings = [
            np.array([1.0 if d[0] == v else 0.0 for d in dummies])  # type: ignore[index]
            for v in wanted
        ]
        shown: tuple[Any, ...] = tuple(wanted)
    else:
        if levels is None:
            raise CoxInputError(f"levels: give the values of the numeric term {term!r}")
        given = np.atleast_1d(np.asarray(levels, dtype=np.float64))
        settings = [np.full(len(columns), v) for v in given]
        shown = tuple(given.tolist())
    others = np.ones(len(coef), dtype=bool)
    others[columns] = False
    base_lp = (x[:, others] - fit.means[others]) @ coef[others]
    survival = np.empty((base.time.shape[0], len(settings)))
    for k, values in enumerate(settings):
        risk = np.exp(base_lp + (values - fit.means[columns]) @ coef[columns])
        # mean over rows of exp(-risk_i H(t)), a block of rows at a time (n x T is large)
        total = np.zeros(base.time.shape[0])
        for lo in range(0, x.shape[0], 4096):
            block = risk[lo : lo + 4096]
            total += np.exp(-np.outer(base.cumhaz, block)) @ np.ones(block.shape[0])
        survival[:, k] = total / x.shape[0]
    return AdjustedSurvival(term=term, levels=shown, time=base.time, survival=survival)
