"""Residuals of a Cox model, as R's ``residuals.coxph`` (survival 3.x).

Types (R's names): ``martingale``, ``deviance``, ``score``, ``schoenfeld``, ``scaledsch``,
``dfbeta`` and ``dfbetas``. As R, residuals are unweighted by default except dfbeta and dfbetas
(``weighted=True`` multiplies each row by its case weight), rows are the model's complete cases
in input order (``rows`` gives their positions in the caller's data), and Schoenfeld residuals
have one row per event ordered by stratum, time and input order. ``collapse`` sums the rows
of each label (e.g. patient) as R's ``rowsum``: groups in sorted label order; a deviance
residual is then computed from the summed martingale residual and event count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._cox._input import CoxInputError
from rtoutcomes.stats._cox._likelihood import score_residual_sums
from rtoutcomes.stats._cox._risksets import row_cumulative
from rtoutcomes.stats._cox.result import CoxResult
from rtoutcomes.stats._cox_fitted import (
    FittedRiskSets,
    fitted_risk_sets,
    risk_scores,
    schoenfeld_sorted,
)
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

FloatArray = NDArray[np.float64]
ResidualType = Literal[
    "martingale", "deviance", "score", "schoenfeld", "scaledsch", "dfbeta", "dfbetas"
]
TYPES: tuple[str, ...] = (
    "martingale",
    "deviance",
    "score",
    "schoenfeld",
    "scaledsch",
    "dfbeta",
    "dfbetas",
)


@dataclass(frozen=True)
class CoxResiduals(TabularResult):
    """Residuals of one type: ``values`` (n, or n x p for score/Schoenfeld/dfbeta types).

    ``labels`` name the rows: positions of the complete cases in the caller's data (0-based),
    the event times for Schoenfeld types, or the collapse labels.
    """

    type: str
    values: FloatArray
    names: tuple[str, ...]  # covariate columns (empty for martingale and deviance)
    labels: NDArray[np.generic]
    time: FloatArray | None  # event times of Schoenfeld rows
    strata: NDArray[np.intp] | None  # stratum code of Schoenfeld rows (stratified models)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        index_name = "time" if self.time is not None else "row"
        index = pd.Index(self.labels, name=index_name)
        if self.values.ndim == 1:
            return pd.DataFrame({self.type: self.values}, index=index)
        return pd.DataFrame(self.values, columns=list(self.names), index=index)


def _unsort(sorted_values: FloatArray, order: NDArray[np.intp]) -> FloatArray:
    out = np.empty_like(sorted_values)
    out[order] = sorted_values
    return out


def _martingale(f: FittedRiskSets) -> FloatArray:
    """event - exp(eta) x cumulative hazard; a tied event sees its own group's hazard with
    Efron's weights 1 - k/d (so its residual uses m sum_k (1 - f_k)/den_k at its time)."""
    rs, s = f.rs, f.at_estimate.sums
    hazard = row_cumulative(rs, s.cum_a)
    ev_group = np.zeros(rs.x.shape[0])
    ev_group[rs.ev_rows] = (rs.mult * s.b)[rs.ev_group_of_event]
    sorted_values = rs.event - risk_scores(f) * (hazard - ev_group)
    return _unsort(sorted_values, rs.order)


def _score(f: FittedRiskSets) -> FloatArray:
    """Unweighted score residuals in input order, original units."""
    rs = f.rs
    weighted = score_residual_sums(rs, f.at_estimate.sums, None, rs.x.shape[0])
    return _unsort(weighted / rs.weights[:, None] / f.scale, rs.order)


def _rowsum(
    values: FloatArray, collapse: ArrayLike, n: int
) -> tuple[FloatArray, NDArray[np.generic]]:
    """Sums per label in sorted label order (R's rowsum)."""
    labels = np.asarray(collapse)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise CoxInputError(
            f"collapse: expected {n} labels (one per complete row), got shape {labels.shape}"
        )
    keys, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(-1)
    if values.ndim == 1:
        sums = np.bincount(codes, weights=values, minlength=keys.shape[0]).astype(np.float64)
        return sums, keys
    out = np.zeros((keys.shape[0], values.shape[1]))
    np.add.at(out, codes, values)
    return out, keys


def cox_residuals(
    fit: CoxResult,
    type: ResidualType = "martingale",  # R's argument name
    *,
    collapse: ArrayLike | None = None,
    weighted: bool | None = None,
) -> CoxResiduals:
    """Residuals of a Cox model fitted by :func:`rtoutcomes.stats.cox`, as R's ``residuals``.

    ``collapse``: one label per complete row (e.g. patient id), rows summed per label (not for
    Schoenfeld types). ``weighted``: multiply by the case weights; default as R (dfbeta and
    dfbetas only). Aliased (NaN) coefficients count as 0, as R does.
    """
    if type not in TYPES:
        raise CoxInputError(f"type: expected one of {', '.join(TYPES)}, got {type!r}")
    f = fitted_risk_sets(fit)
    data = f.data
    n = data.x.shape[0]
    if weighted is None:
        weighted = type in ("dfbeta", "dfbetas")
    w = np.ones(n) if data.weights is None else data.weights
    names: tuple[str, ...] = ()
    if type in ("schoenfeld", "scaledsch"):
        if collapse is not None:
            raise CoxInputError(
                "collapse: not available for Schoenfeld residuals (one row per event)"
            )
        rs = f.rs
        values = schoenfeld_sorted(f) / f.scale
        if weighted:
            values = values * rs.weights[rs.ev_rows, None]
        if type == "scaledsch":
            values = values @ fit.naive_var * values.shape[0] + f.coef
        time = data.time[rs.order][rs.ev_rows]
        strata = None if data.strata is None else data.strata[rs.order][rs.ev_rows]
        return CoxResiduals(
            type=type, values=values, names=fit.names, labels=time, time=time, strata=strata
        )
    if type in ("martingale", "deviance"):
        values = _martingale(f)
    else:
        names = fit.names
        values = _score(f)
        if type in ("dfbeta", "dfbetas"):
            values = values @ fit.naive_var
        if type == "dfbetas":
            with np.errstate(divide="ignore", invalid="ignore"):
                values = values / np.sqrt(np.diag(fit.naive_var))
    if weighted:
        values = values * (w if values.ndim == 1 else w[:, None])
    labels: NDArray[np.generic] = np.flatnonzero(data.kept)
    status = data.event.astype(np.float64)
    if collapse is not None:
        values, labels = _rowsum(values, collapse, n)
        status, _ = _rowsum(status, collapse, n)
    if type == "deviance":
        # R's formula, also after collapsing: a group with several events uses
        # status * log(status - M), which can leave a negative root, i.e. NaN, as in R
        with np.errstate(divide="ignore", invalid="ignore"):
            log_term = np.where(status == 0, 0.0, status * np.log(status - values))
            values = np.sign(values) * np.sqrt(-2 * (values + log_term))
    return CoxResiduals(
        type=type, values=values, names=names, labels=labels, time=None, strata=None
    )
