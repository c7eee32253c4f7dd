"""Calls into ``rtoutcomes.stats`` and the JSON-ready summaries the report is built from.

This is the one module that knows the statistics engine's result objects; everything downstream
(results.json, tables, figures) reads plain dicts and lists. Non-existent medians or limits are
``None`` (``null`` in JSON), never NaN.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from rtoutcomes.results import columns
from rtoutcomes.results.model import (
    AtRisk,
    CauseSummary,
    CoxTerm,
    FollowUp,
    GlobalTests,
    GrayTests,
    IncidenceLevel,
    IncidenceRate,
    KMRate,
    KMSummary,
    PHTerm,
    PHTest,
    Test,
)

if TYPE_CHECKING:
    import numpy as np

    from rtoutcomes.study.spec import CoxOptions, KMOptions


def number(value: Any) -> float | None:
    """A finite float, or ``None`` for NaN/inf/missing (JSON has no NaN)."""
    if value is None:
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def km_summary(
    time: np.ndarray, event: np.ndarray, options: KMOptions, rates_at: tuple[float, ...]
) -> KMSummary:
    """n, events, median with limits, rates at ``rates_at`` with limits, and every KM step."""
    from rtoutcomes.stats import kaplan_meier

    fit = kaplan_meier(time, event, conf_type=options.conf_type, conf_level=options.conf_level)
    median = fit.median
    rates: list[KMRate] = []
    if rates_at:
        # as R's summary(fit, times, extend=TRUE), which sorts the times (and keeps duplicates):
        # label each row with the time .at() returns, never with the position in ``rates_at``.
        at = fit.at(list(rates_at), extend=True)
        for i, t in enumerate(at.time):
            rates.append(
                {
                    "time": float(t),
                    "estimate": number(at.survival[i]),
                    "lower": number(at.lower[i]),
                    "upper": number(at.upper[i]),
                    "n_risk": int(at.n_risk[i]),
                }
            )
    return {
        "n": len(time),
        "events": int(event.sum()),
        "median": {
            "estimate": number(median.estimate),
            "lower": number(median.lower),
            "upper": number(median.upper),
        },
        "rates": rates,
        # each list with its array beside it, for the figures (results.columns)
        "km": {
            "time": columns.floats(fit.time),
            "estimate": columns.floats(fit.survival),
            "std_err": columns.optional_floats(fit.std_err),
            "lower": columns.optional_floats(fit.lower),
            "upper": columns.optional_floats(fit.upper),
            "n_risk": columns.counts(fit.n_risk),
            "n_event": columns.counts(fit.n_event),
            "n_censor": columns.counts(fit.n_censor),
        },
    }


def follow_up_summary(time: np.ndarray, event: np.ndarray) -> FollowUp:
    """Median follow-up: reverse Kaplan-Meier (with limits) and observed (median, range)."""
    from rtoutcomes.stats import median_follow_up

    fu = median_follow_up(time, event)
    return {
        "reverse_km": {
            "estimate": number(fu.reverse_km.estimate),
            "lower": number(fu.reverse_km.lower),
            "upper": number(fu.reverse_km.upper),
        },
        "observed": {
            "median": number(fu.observed_median),
            "min": number(fu.observed_min),
            "max": number(fu.observed_max),
        },
        "censored": {
            "median": number(fu.censored_median),
            "min": number(fu.censored_min),
            "max": number(fu.censored_max),
        },
    }


def logrank_summary(
    time: np.ndarray, event: np.ndarray, group: np.ndarray, strata: np.ndarray | None = None
) -> Test:
    """Log-rank chi-square, df and p (R's survdiff, rho = 0; stratified with ``strata``)."""
    from rtoutcomes.stats import logrank

    test = logrank(time, event, group, strata=strata)
    return {"statistic": number(test.statistic), "df": int(test.df), "p": number(test.p)}


def cox_fit(
    x: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    options: CoxOptions,
    cluster: np.ndarray | None,
    names: list[str],
    strata: np.ndarray | None = None,
) -> tuple[Any, list[str]]:
    """A Cox fit (the engine's object: ``lr_test`` needs it) and the warnings it raised.

    The engine warns (monotone likelihood, no convergence) through ``warnings``; those become
    messages in the report rather than lines on stderr.
    """
    import warnings

    from rtoutcomes.stats import cox

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ties: Literal["efron", "breslow"] = "breslow" if options.ties == "breslow" else "efron"
        fit = cox(x, time, event, names=names, ties=ties, cluster=cluster, strata=strata)
    messages = [str(w.message) for w in caught]
    messages += [m for m in getattr(fit, "warnings", ()) if m not in messages]
    return fit, messages


def firth_fit(
    x: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    options: CoxOptions,
    names: list[str],
    strata: np.ndarray | None = None,
) -> Any:
    """The Firth-penalised fit of the same rows (``stats.firth_cox``: the study's ties and
    strata, profile penalised likelihood limits and per-coefficient tests)."""
    from rtoutcomes.stats import firth_cox

    ties: Literal["efron", "breslow"] = "breslow" if options.ties == "breslow" else "efron"
    return firth_cox(x, time, event, names=names, ties=ties, strata=strata)


def cox_terms(fit: Any, labels: list[str], covariates: list[str]) -> list[CoxTerm]:
    """One dict per term: coef, se (robust when clustered), hr with limits, p.

    A term whose coefficient may be infinite (monotone likelihood: no events in a group) is
    flagged ``infinite``; its infinite limit is reported as ``None``. A Firth fit
    (``FirthCox``) has the model-based se as ``naive_se`` too, its profile limits, and
    ``chisq``: the penalised likelihood-ratio chi-square whose p-value ``p`` is.
    """
    import numpy as np

    infinite = set(getattr(fit, "infinite", ()))
    firth = hasattr(fit, "term_statistic")
    naive_se = fit.se if firth else fit.naive_se
    hr, lower, upper = np.asarray(fit.hr), np.asarray(fit.lower), np.asarray(fit.upper)
    terms: list[CoxTerm] = [
        {
            "term": label,
            "covariate": covariate,
            "coef": number(fit.coef[i]),
            "se": number(fit.se[i]),
            "naive_se": number(naive_se[i]),
            "hr": number(hr[i]),
            "lower": number(lower[i]),
            "upper": number(upper[i]),
            "z": number(fit.z[i]),
            "p": number(fit.p[i]),
            "infinite": fit.names[i] in infinite,
        }
        for i, (label, covariate) in enumerate(zip(labels, covariates, strict=True))
    ]
    if firth:
        for term, statistic in zip(terms, fit.term_statistic, strict=True):
            term["chisq"] = number(statistic)
    return terms


def _test(test: Any) -> Test:
    return {"statistic": number(test.statistic), "df": int(test.df), "p": number(test.p)}


class ModelFit(TypedDict):
    """The model-level keys of a ``CoxModel`` (results.model)."""

    loglik: float | None
    loglik_null: float | None
    global_tests: GlobalTests
    concordance: float | None
    n_clusters: int | None


def cox_model_summary(fit: Any, ordinary: Any = None) -> ModelFit:
    """Model-level numbers: log-likelihoods, the global tests and the concordance. A Firth fit
    (with its ``ordinary`` fit): penalised log-likelihoods and likelihood-ratio test, the Wald
    test of the penalised estimate, the ordinary score test at beta = 0 (no penalty changes
    it), Harrell's C of the penalised linear predictor."""
    return {
        "loglik": number(fit.loglik),
        "loglik_null": number(fit.loglik_null),
        "global_tests": {
            "likelihood_ratio": _test(fit.lr_test),
            "wald": _test(fit.wald_test),
            "score": _test((fit if ordinary is None else ordinary).score_test),
        },
        "concordance": number(fit.c_index),
        "n_clusters": getattr(fit, "n_clusters", None),
    }


PH_ALPHA = 0.05  # a global proportional-hazards test below this gives a warning


def ph_summary(fit: Any, terms: dict[str, list[int]]) -> tuple[PHTest | None, str | None]:
    """Proportional-hazards test of a fit (R's ``cox.zph(fit)``: KM transform, one joint test
    per covariate, k - 1 df for a categorical one, and the global test) and a warning when the
    global p is below 0.05; ``terms`` maps each covariate to its columns.

    Not computed (``None``, with the reason as warning) when a coefficient may be infinite or the
    fit did not converge: the test is then meaningless.
    """
    import numpy as np

    from rtoutcomes.stats import cox_zph

    if np.isnan(fit.coef).all():
        return None, "proportional hazards not tested (no estimable coefficient)"
    if getattr(fit, "infinite", ()) or not fit.converged:
        return (
            None,
            "proportional hazards not tested (the model did not converge to finite coefficients)",
        )
    try:
        zph = cox_zph(fit, "km", terms=terms)
    except np.linalg.LinAlgError:
        return None, "proportional hazards not tested (singular information matrix)"
    summary: PHTest = {
        "method": "cox.zph (survival 3.x score test), KM transform",
        "transform": "km",
        "global": _test(zph.global_test),
        "terms": [
            {"covariate": name, "statistic": number(stat), "df": int(df), "p": number(p)}
            for name, stat, df, p in zip(zph.terms, zph.statistic, zph.df, zph.p, strict=True)
        ],
    }
    p_global = zph.global_test.p
    warning = None
    if ph_in_doubt(p_global):
        terms_out: list[PHTerm] = summary["terms"]
        worst = min(terms_out, key=lambda t: t["p"] if t["p"] is not None else 1.0)
        smallest = (
            f"; smallest for {worst['covariate']} (p = {worst['p']:.2g})"
            if len(terms_out) > 1
            else ""
        )
        warning = (
            f"proportional hazards in doubt: global test p = {p_global:.2g} (scaled Schoenfeld "
            f"residuals, cox.zph){smallest}; consider a stratified model or a time-varying effect"
        )
    return summary, warning


def ph_in_doubt(p_global: float) -> bool:
    """A global proportional-hazards test below ``PH_ALPHA`` (0.05 itself is not)."""
    return p_global < PH_ALPHA


def lr_summary(smaller: Any, larger: Any) -> Test:
    """Likelihood-ratio test of nested models (R's ``anova(small, large)``); when the larger
    is Firth-fitted, the penalised test that its added terms are 0 (R's ``coxphftest``)."""
    from rtoutcomes.stats import FirthCox, lr_test

    if isinstance(larger, FirthCox):
        added = [j for j, name in enumerate(larger.names) if name not in smaller.names]
        penalised = larger.test_zero(added)
        return {
            "statistic": number(penalised.statistic),
            "df": int(penalised.df),
            "p": number(penalised.p),
        }
    test = lr_test(smaller, larger)
    return {"statistic": number(test.statistic), "df": int(test.df), "p": number(test.p)}


# Competing-risks status codes of the registry's derived local control (clinical.endpoints).
LOCAL_FAILURE, DEATH = 1, 2
CAUSES = {"local_failure": LOCAL_FAILURE, "death": DEATH}


class IncidenceByGroup(TypedDict):
    """Cumulative incidence per level of a group and Gray's tests (``None`` without them)."""

    levels: dict[str, IncidenceLevel]
    gray: GrayTests | None


def incidence_summary(
    time: np.ndarray, status: np.ndarray, rates_at: tuple[float, ...], conf_level: float
) -> IncidenceLevel:
    """Cumulative incidence of local failure and of death without it (R's ``cmprsk::cuminc``).

    ``status``: 0 censored, 1 local failure, 2 death without local failure. Per cause: event
    count, rates at ``rates_at`` with log(-log) limits (``None`` beyond the last follow-up, where
    cuminc's ``timepoints`` give NA; ``std_err`` is the square root of cuminc's variance) and the
    curve's steps. A cause that never occurs has
    incidence 0 and no steps.
    """
    return _incidence(time, status, None, rates_at, conf_level)["levels"][""]


def incidence_by_group(
    time: np.ndarray,
    status: np.ndarray,
    group: np.ndarray,
    rates_at: tuple[float, ...],
    conf_level: float,
) -> IncidenceByGroup:
    """``incidence_summary`` per level of ``group`` (text labels) and Gray's test per cause."""
    return _incidence(time, status, group, rates_at, conf_level)


def _incidence(
    time: np.ndarray,
    status: np.ndarray,
    group: np.ndarray | None,
    rates_at: tuple[float, ...],
    conf_level: float,
) -> IncidenceByGroup:
    import numpy as np

    from rtoutcomes.stats import cumulative_incidence

    present = [code for code in CAUSES.values() if bool(np.any(status == code))]
    fit = None
    if present:
        fit = cumulative_incidence(
            time, status, group=group, cause_codes=present, conf_level=conf_level
        )
    at = fit.at(list(rates_at)) if fit is not None and rates_at else None
    levels: list[str | None] = [None]
    if group is not None:
        levels = [*sorted({str(g) for g in group})]
    out: IncidenceByGroup = {"levels": {}, "gray": None}
    for level in levels:
        rows = np.ones(len(time), dtype=bool) if group is None else np.asarray(group == level)
        events = {code: int((status[rows] == code).sum()) for code in (LOCAL_FAILURE, DEATH)}
        out["levels"]["" if level is None else level] = {
            "n": int(rows.sum()),
            "censored": int((status[rows] == 0).sum()),
            "at_risk": at_risk_steps(time[rows]),
            "local_failure": _cause_summary(
                fit, at, LOCAL_FAILURE, level, rates_at, events[LOCAL_FAILURE]
            ),
            "death": _cause_summary(fit, at, DEATH, level, rates_at, events[DEATH]),
        }
    if fit is not None and fit.tests is not None:
        tests = fit.tests
        found: dict[int, Test] = {
            int(tests.causes[j]): {
                "statistic": number(tests.statistic[j]),
                "df": int(tests.df),
                "p": number(tests.p[j]),
            }
            for j in range(len(tests.causes))
        }
        gray: GrayTests = {}
        if LOCAL_FAILURE in found:
            gray["local_failure"] = found[LOCAL_FAILURE]
        if DEATH in found:
            gray["death"] = found[DEATH]
        out["gray"] = gray
    return out


def at_risk_steps(time: np.ndarray) -> AtRisk:
    """Numbers at risk as a step function: at each distinct time, the rows with time >= it
    (the figures' at-risk table reads it at the ticks)."""
    import numpy as np

    distinct, counts = np.unique(np.asarray(time, dtype=float), return_counts=True)
    at_risk = len(time) - np.concatenate([[0], np.cumsum(counts)[:-1]])
    return {"time": [float(t) for t in distinct], "n_risk": [int(n) for n in at_risk]}


def _cause_summary(
    fit: Any, at: Any, code: int, group: str | None, rates_at: tuple[float, ...], events: int
) -> CauseSummary:
    import numpy as np

    rows = (
        []
        if fit is None
        else [i for i, c in enumerate(fit.curves) if c.cause == code and c.group == group]
    )
    if not rows:  # the cause never occurs: incidence 0 throughout
        return {
            "events": events,
            "rates": [
                {"time": float(t), "estimate": 0.0, "std_err": 0.0, "lower": None, "upper": None}
                for t in sorted(set(rates_at))
            ],
            "curve": {"time": [], "estimate": [], "lower": [], "upper": [], "end": None},
        }
    row, curve = rows[0], fit.curves[rows[0]]
    rates: list[IncidenceRate] = []
    if at is not None:
        # .at() sorts the times: label each column with the time it returns
        for k, t in enumerate(np.asarray(at.time).tolist()):
            rates.append(
                {
                    "time": float(t),
                    "estimate": number(at.estimate[row, k]),
                    "std_err": number(np.sqrt(at.variance[row, k])),
                    "lower": number(at.lower[row, k]),
                    "upper": number(at.upper[row, k]),
                }
            )
    return {
        "events": events,
        "rates": rates,
        "curve": {  # lists with their arrays, as the Kaplan-Meier curve's
            "time": columns.floats(curve.time),
            "estimate": columns.floats(curve.estimate),
            "lower": columns.optional_floats(curve.lower),
            "upper": columns.optional_floats(curve.upper),
            "end": number(curve.end),
        },
    }
