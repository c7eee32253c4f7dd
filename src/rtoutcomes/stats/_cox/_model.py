"""``cox()``: fit a Cox proportional hazards model as R's ``coxph`` does."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._cox._fit import EPS, ITER_MAX, TOLER_CHOL, NewtonResult, newton_raphson
from rtoutcomes.stats._cox._input import CoxData, CoxInputError, prepare
from rtoutcomes.stats._cox._likelihood import Evaluation
from rtoutcomes.stats._cox._linalg import quadratic_test
from rtoutcomes.stats._cox._risksets import RiskSets, build
from rtoutcomes.stats._cox._robust import robust_variance
from rtoutcomes.stats._cox.result import (
    ChiSquareTest,
    ConcordanceInputs,
    CoxConvergenceWarning,
    CoxResult,
    MonotoneLikelihoodWarning,
)

FloatArray = NDArray[np.float64]


def risk_sets(data: CoxData, ties: str) -> RiskSets:
    """The complete cases sorted into risk sets for fitting, the covariates centred and scaled
    as R's coxph does for conditioning (weighted means, 1 / weighted mean absolute deviation:
    ``RiskSets.means``, ``RiskSets.scale``)."""
    return build(
        data.x,
        data.time,
        data.event,
        data.weights,
        data.strata,
        efron=ties == "efron",
        start=data.start,
    )


def _infinite_coefficients(
    score: FloatArray, var: FloatArray, coef: FloatArray, eps: float
) -> NDArray[np.bool_]:
    """R's rule: the next Newton step is still > eps and > sqrt(eps) x |coef| at convergence."""
    step = np.abs(score @ var)
    return ~np.isfinite(score) | ((step > eps) & (step > np.sqrt(eps) * np.abs(coef)))


def cox(
    X: Any,
    time: ArrayLike,
    event: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    ties: Literal["efron", "breslow"] = "efron",
    strata: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    cluster: ArrayLike | None = None,
    robust: bool | None = None,
    conf_level: float = 0.95,
    eps: float = EPS,
    iter_max: int = ITER_MAX,
    toler_chol: float = TOLER_CHOL,
    nan_policy: str = "omit",
) -> CoxResult:
    """Cox proportional hazards model, numerically as R's ``coxph``.

    ``X``: covariates as a 2-D array (with ``names``), a pandas DataFrame, or a
    :class:`~rtoutcomes.stats._cox.Design` from :func:`design_matrix` (categoricals with a
    reference level). ``time``: follow-up in any unit (days, months), or a pair
    ``(start, stop)`` of counting-process intervals (start, stop] (left truncation,
    time-varying covariates; R's ``Surv(start, stop, event)``); ``event``: 1 = event,
    0 = censored. ``strata``: labels giving each stratum its own baseline hazard. ``weights``:
    case weights > 0. ``cluster``: labels of correlated rows (e.g. two eyes of one patient) for
    the robust sandwich variance. ``robust`` defaults as R: on with a cluster or non-integer
    weights. Rows with a missing value anywhere are dropped (``n_dropped``; R's na.omit);
    ``nan_policy="raise"`` refuses them instead.

    A coefficient that runs to infinity (monotone likelihood) is reported in ``warnings`` and
    ``infinite`` and warned about with :class:`MonotoneLikelihoodWarning`.
    """
    if ties not in ("efron", "breslow"):
        raise CoxInputError(f"ties: expected 'efron' or 'breslow', got {ties!r}")
    if not 0 < conf_level < 1:
        raise CoxInputError(f"conf_level: must be between 0 and 1, got {conf_level!r}")
    data = prepare(
        X,
        time,
        event,
        names=names,
        strata=strata,
        weights=weights,
        cluster=cluster,
        nan_policy=nan_policy,
    )
    p = data.x.shape[1]
    if p == 0:
        raise CoxInputError("X: a Cox model needs at least one covariate")
    if not data.event.any():
        raise CoxInputError(
            f"event: no events among the {data.x.shape[0]} complete rows; "
            "a Cox model needs at least one"
        )
    if robust is None:
        fractional = data.weights is not None and bool(np.any(data.weights % 1 != 0))
        robust = data.cluster is not None or fractional
    rs = risk_sets(data, ties)
    means, scale = rs.means, rs.scale
    fit = newton_raphson(rs, eps=eps, iter_max=iter_max, toler_chol=toler_chol)

    robust_parts = None
    if robust:
        if data.cluster is None:  # every row its own cluster
            n_clusters, cluster_sorted = data.x.shape[0], None
        else:
            n_clusters, cluster_sorted = int(data.cluster.max()) + 1, data.cluster[rs.order]
        rv, rscore = robust_variance(
            rs, fit.null.sums, fit.final.sums, fit.var, cluster_sorted, n_clusters, toler_chol
        )
        robust_parts = (rv, rscore, n_clusters)
    return assemble(
        fit,
        scale=scale,
        means=means,
        robust=robust_parts,
        conf_level=conf_level,
        ties=ties,
        eps=eps,
        iter_max=iter_max,
        toler_chol=toler_chol,
        data=data,
        fitted=(rs, scale, fit.final),
    )


def assemble(
    fit: NewtonResult,
    *,
    scale: FloatArray,
    means: FloatArray,
    robust: tuple[FloatArray, float, int] | None,
    conf_level: float,
    ties: str,
    eps: float,
    iter_max: int,
    toler_chol: float,
    data: CoxData | None,
    counts: tuple[int, int, int, bool] | None = None,
    names: tuple[str, ...] = (),
    terms: dict[str, tuple[int, ...]] | None = None,
    fitted: tuple[RiskSets, FloatArray, Evaluation] | None = None,
) -> CoxResult:
    """The fitted model from the Newton iterations (scaled units): coefficients and variances
    in the covariates' units, the monotone-likelihood check, the global tests.

    ``robust``: (robust variance in scaled units, robust score statistic, clusters). ``data``:
    the complete cases; without them (a model fitted from centres' sums,
    ``rtoutcomes.federated``) ``counts`` gives (n, dropped, events, stratified) and ``names``
    and ``terms`` the columns, and the result carries no rows (no linear predictor).
    ``fitted``: the risk sets, scale and last evaluation, kept for cox_zph and residuals.
    """
    if data is not None:
        names, terms = data.names, data.terms
        counts = (
            int(data.x.shape[0]),
            data.n_dropped,
            int(data.event.sum()),
            data.strata is not None,
        )
    assert counts is not None and terms is not None
    n, n_dropped, n_events, stratified = counts
    p = len(names)
    coef = fit.beta * scale
    naive_var = fit.var * np.outer(scale, scale)
    messages: list[str] = []
    infinite = np.zeros(p, dtype=bool)
    if not fit.converged:
        messages.append(f"Ran out of iterations ({iter_max}) and did not converge")
        warnings.warn(messages[-1], CoxConvergenceWarning, stacklevel=3)
    elif iter_max > 1:
        infinite = _infinite_coefficients(fit.final.score / scale, naive_var, coef, eps)
        infinite &= ~fit.singular
        if infinite.any():
            which = [names[j] for j in np.flatnonzero(infinite)]
            messages.append(
                "Loglik converged before variable(s) " + ", ".join(which) + "; coefficient may "
                "be infinite (monotone likelihood: e.g. no events in one group)"
            )
            warnings.warn(messages[-1], MonotoneLikelihoodWarning, stacklevel=3)
    coef = np.where(fit.singular, np.nan, coef)

    robust_var = robust_score = n_clusters = None
    if robust is not None:
        robust_var = robust[0] * np.outer(scale, scale)
        robust_score = ChiSquareTest(robust[1], int((~fit.singular).sum()))
        n_clusters = robust[2]
    var = naive_var if robust_var is None else robust_var
    ok = ~fit.singular
    df = int(ok.sum())
    wald, wald_df = quadratic_test(var[np.ix_(ok, ok)], coef[ok], toler_chol)
    used = np.where(ok, coef, 0.0)
    if data is not None:
        linear_predictor = data.x @ used - means @ used
        inputs = ConcordanceInputs(
            time=data.time,
            event=data.event,
            linear_predictor=linear_predictor,
            weights=data.weights,
            strata=data.strata,
            cluster=None
            if robust is None
            else (data.cluster if data.cluster is not None else np.arange(data.x.shape[0])),
            start=data.start,
        )
    else:
        linear_predictor = np.zeros(0)
        inputs = ConcordanceInputs(
            time=np.zeros(0),
            event=np.zeros(0, dtype=bool),
            linear_predictor=linear_predictor,
            weights=None,
            strata=None,
            cluster=None,
        )
    return CoxResult(
        names=names,
        coef=coef,
        var=var,
        naive_var=naive_var,
        robust_var=robust_var,
        conf_level=conf_level,
        loglik=fit.loglik,
        loglik_null=fit.loglik_null,
        lr_test=ChiSquareTest(2 * (fit.loglik - fit.loglik_null), df),
        wald_test=ChiSquareTest(wald, wald_df),
        score_test=ChiSquareTest(fit.score_test, df),
        robust_score_test=robust_score,
        n=n,
        n_dropped=n_dropped,
        n_events=n_events,
        n_clusters=n_clusters,
        ties=ties,
        stratified=stratified,
        iterations=fit.iterations,
        converged=fit.converged,
        warnings=tuple(messages),
        infinite=tuple(names[j] for j in np.flatnonzero(infinite)),
        terms=terms,
        means=means,
        linear_predictor=linear_predictor,
        _concordance_inputs=inputs,
        data=data,
        _fitted=fitted,
    )
