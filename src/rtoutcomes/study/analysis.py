"""Run a study's analyses on its analysis tables and collect every number in plain dicts.

Per endpoint: Kaplan-Meier overall and by group (with log-rank), median follow-up, one Cox model
per univariate covariate, the multivariate model and the nested sequence with likelihood-ratio
tests. Each model uses its complete rows (R's default) and records how many rows it dropped;
fewer than 10 events per estimated coefficient gives a warning that the report shows. Every
Cox model gets the proportional-hazards test of R's cox.zph (``ph_test``), with a warning when
its global p is below 0.05.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rtoutcomes import forking
from rtoutcomes.results.model import (
    CompetingRisks,
    CoxModel,
    EndpointResults,
    FineGrayModel,
    GroupResults,
    IncidenceGroups,
    Test,
)
from rtoutcomes.study import summaries
from rtoutcomes.study.covariates import Levels, Term, design, level_codes
from rtoutcomes.study.spec import Covariate, Endpoint, Study
from rtoutcomes.study.table import EndpointData, endpoint_data, strata_labels, usable_rows

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[str], None]
MIN_EVENTS_PER_VARIABLE = 10
# The registry's competing-risks coding of local control (rtoutcomes.clinical.endpoints).
CR_TIME, CR_STATUS = "lc_cr_time", "lc_cr_status"


def _quiet(_: str) -> None:
    """A progress callback that shows nothing."""


def covariate_definitions(study: Study) -> dict[str, Covariate]:
    """The study's covariates, over the standard ones in registry mode."""
    if study.source_mode == "registry":
        from rtoutcomes.study.standard import STANDARD_COVARIATES

        return {**STANDARD_COVARIATES, **study.covariates}
    return dict(study.covariates)


def run_analyses(
    study: Study, tables: Mapping[str, pd.DataFrame], progress: Progress = _quiet
) -> dict[str, EndpointResults]:
    """Every endpoint's results; ``tables`` maps endpoint name to its analysis table."""
    covariates = covariate_definitions(study)
    results: dict[str, EndpointResults] = {}
    for name, endpoint in study.endpoints.items():
        progress(f"analysing {name}")
        results[name] = _endpoint_results(study, endpoint, tables[name], covariates)
    return results


def _endpoint_results(
    study: Study, endpoint: Endpoint, table: pd.DataFrame, covariates: dict[str, Covariate]
) -> EndpointResults:
    data = endpoint_data(table, endpoint)
    usable = usable_rows(table, data)
    # before the models' child is forked, which then inherits the statistics' modules and the
    # p-values' functions this loads (~0.06 CPU s it would otherwise load again)
    overall = summaries.km_summary(data.time, data.event, study.km, study.rates_at)
    models = _ModelJobs(study, endpoint, data, usable, covariates)
    with forking.InChild(lambda: models.fit(models.theirs), fork=bool(models.theirs)) as other:
        groups = {
            name: _group_results(study, data, usable, covariates[name])
            for name in study.analyses.groups
        }
        fitted = models.results(models.fit(models.mine), other.result())
    result: EndpointResults = {
        **overall,
        "label": endpoint.display,
        "unit": endpoint.unit,
        "cluster": endpoint.cluster,
        "dropped": int(len(table) - len(usable)),
        "follow_up": summaries.follow_up_summary(data.time, data.event),
        "groups": groups,
        "univariate": {},
    }
    if study.analyses.competing_risks and endpoint.name == "LC" and endpoint.derived:
        result["competing_risks"] = _competing_results(study, usable, covariates)
    for name in study.analyses.univariate:
        model = fitted[name]
        if covariates[name].type != "continuous":
            # the log-rank test of the same groups: from the group analysis when there is one
            model["logrank"] = (
                groups[name]["logrank"]
                if name in groups
                else _logrank(study, data, usable, covariates[name])
            )
        result["univariate"][name] = model
    if endpoint.name in study.analyses.multivariate:
        result["multivariate"] = fitted[MULTIVARIATE]
    if endpoint.name in study.analyses.nested:
        result["nested"] = _nested_results(
            study,
            data,
            usable,
            [[covariates[n] for n in model] for model in study.analyses.nested[endpoint.name]],
            endpoint.name,
        )
    return result


# From this many usable rows a forked process fits a share of an endpoint's models (below, the
# fork and the pickled results cost more than they save).
PARALLEL_ROWS = 20_000
MULTIVARIATE = ""  # the multivariate model's key among the univariate models' covariate names
_Job = tuple[str, list[Covariate], str]  # a model: key, covariates, its name in errors


class _ModelJobs:
    """An endpoint's univariate and multivariate Cox models, split into two shares of about
    equal cost (``mine`` and ``theirs``; one process fits all when the table is small or
    there is no second process) for ``Forked``. Each model is fitted by the same code on the
    same rows either way, so the numbers are the same bits."""

    def __init__(
        self,
        study: Study,
        endpoint: Endpoint,
        data: EndpointData,
        usable: pd.DataFrame,
        covariates: dict[str, Covariate],
    ) -> None:
        self.study, self.data, self.usable = study, data, usable
        jobs = [
            (name, [covariates[name]], f"the {endpoint.name} univariate model of {name}")
            for name in study.analyses.univariate
        ]
        if endpoint.name in study.analyses.multivariate:
            chosen = [covariates[n] for n in study.analyses.multivariate[endpoint.name]]
            jobs.append((MULTIVARIATE, chosen, f"the {endpoint.name} multivariate model"))
        self.order = [key for key, _, _ in jobs]
        self.mine: list[_Job] = jobs
        self.theirs: list[_Job] = []
        if len(usable) >= PARALLEL_ROWS and len(jobs) >= 2 and forking.can_fork():
            # longest first to the less loaded share; the cost of a model grows with its
            # columns over a fixed part (sorting, concordance, the PH test)
            shares: tuple[list[_Job], list[_Job]] = ([], [])
            loads = [0, 0]
            for job in sorted(jobs, key=lambda j: -len(j[1])):
                lighter = loads.index(min(loads))
                shares[lighter].append(job)
                loads[lighter] += 1 + len(job[1])
            self.theirs, self.mine = shares  # the child takes the share with the largest

    def fit(self, jobs: list[_Job]) -> list[tuple[str, Any]]:
        """Each model's results, or the library error it raised (raised in ``results``, in
        the models' order, as one process would)."""
        from rtoutcomes.errors import RtOutcomesError

        out: list[tuple[str, Any]] = []
        for key, chosen, what in jobs:
            model: Any
            try:
                model = _cox_results(self.study, self.data, self.usable, chosen, what=what)[0]
            except RtOutcomesError as error:
                model = error
            out.append((key, model))
        return out

    def results(self, *shares: list[tuple[str, Any]]) -> dict[str, CoxModel]:
        done = dict(pair for share in shares for pair in share)
        for key in self.order:
            if isinstance(done[key], Exception):
                raise done[key]
        return {key: done[key] for key in self.order}


def _logrank_of(data: EndpointData, levels: Levels, strata: Any = None) -> Test | None:
    """The log-rank test across the levels present (``None`` with fewer than two), stratified
    when ``strata`` (each row's stratum, ``None`` where missing) is given."""
    import numpy as np

    present = levels.present
    if strata is not None:
        present = present & (strata != None)  # noqa: E711 (elementwise on an object array)
    if np.unique(levels.codes[present]).shape[0] < 2:
        return None
    # groups numbered in the order of their labels: the test's numbers are the labels' own
    return summaries.logrank_summary(
        data.time[present],
        data.event[present],
        levels.sorted_codes(present),
        None if strata is None else np.asarray(strata[present], dtype=str),
    )


def _km_strata(study: Study, table: pd.DataFrame) -> Any:
    """Each row's log-rank stratum (``km.strata``), or ``None`` when the tests are pooled."""
    if not study.km.strata:
        return None
    return strata_labels(table, study.km.strata, "km.strata")


def _logrank(
    study: Study, data: EndpointData, table: pd.DataFrame, covariate: Covariate
) -> Test | None:
    return _logrank_of(data, level_codes(covariate, table), _km_strata(study, table))


def _group_results(
    study: Study, data: EndpointData, table: pd.DataFrame, covariate: Covariate
) -> GroupResults:
    found = level_codes(covariate, table)
    out_levels = {}
    for i, level in enumerate(found.levels):
        rows = found.codes == i
        if rows.any():
            out_levels[level] = summaries.km_summary(
                data.time[rows], data.event[rows], study.km, study.rates_at
            )
    return {
        "label": covariate.display,
        "dropped": int((~found.present).sum()),
        "levels": out_levels,
        "order": [level for level in found.levels if level in out_levels],
        "logrank": _logrank_of(data, found, _km_strata(study, table)),
    }


def _competing_results(
    study: Study, table: pd.DataFrame, covariates: dict[str, Covariate]
) -> CompetingRisks:
    """Cumulative incidence of local failure, death competing (registry LC), overall and by
    each analysed group with Gray's test; times and codes from the derived lc_cr_* columns."""

    time = table[CR_TIME].to_numpy(dtype=float)
    status = table[CR_STATUS].to_numpy(dtype=float)
    level = study.km.conf_level
    result: CompetingRisks = {
        "time_column": CR_TIME,
        "status_column": CR_STATUS,
        **summaries.incidence_summary(time, status, study.rates_at, level),
        "groups": {},
    }
    for name in study.analyses.groups:
        found = level_codes(covariates[name], table)
        present, levels = found.present, found.levels
        by_group = summaries.incidence_by_group(
            time[present], status[present], found.labels(present), study.rates_at, level
        )
        entry: IncidenceGroups = {
            "label": covariates[name].display,
            "dropped": int((~present).sum()),
            "order": [v for v in levels if v in by_group["levels"]],
            **by_group,
        }
        result["groups"][name] = entry
    if study.analyses.fine_gray:
        result["fine_gray"] = _fine_gray_results(
            study, table, [covariates[c] for c in study.analyses.fine_gray]
        )
    return result


def _fine_gray_results(study: Study, table: pd.DataFrame, chosen: list[Covariate]) -> FineGrayModel:
    """Fine-Gray model of local failure, death competing (R's ``crr(ftime, fstatus, cov1,
    failcode = 1, cencode = 0)``), on the complete rows of the chosen covariates."""
    from rtoutcomes.stats import fine_gray

    matrix = design(table, chosen)
    keep, x = matrix.complete, matrix.x
    time = table[CR_TIME].to_numpy(dtype=float)[keep]
    status = table[CR_STATUS].to_numpy(dtype=float)[keep]
    out: FineGrayModel = {
        "covariates": [c.name for c in chosen],
        "n": int(keep.sum()),
        "events": int((status == 1).sum()),
        "competing": int((status == 2).sum()),
        "dropped": int(len(keep) - keep.sum()),
        "terms": [],
        "warnings": [],
    }
    if not matrix.terms:
        out["warnings"].append("no estimable term (every covariate has a single level)")
        return out
    fit = fine_gray(
        x,
        time,
        status,
        cause=1,
        names=[f"{t.covariate}: {t.label}" for t in matrix.terms],
        conf_level=study.km.conf_level,
    )
    lower, upper = fit.limits()
    out["terms"] = [
        {
            "term": t.label,
            "covariate": t.covariate,
            "coef": summaries.number(fit.coef[j]),
            "se": summaries.number(fit.se[j]),
            "hr": summaries.number(fit.hr[j]),
            "lower": summaries.number(lower[j]),
            "upper": summaries.number(upper[j]),
            "z": summaries.number(fit.z[j]),
            "p": summaries.number(fit.p[j]),
        }
        for j, t in enumerate(matrix.terms)
    ]
    if not fit.converged:
        out["warnings"].append("the Fine-Gray fit did not converge")
    warning = epv_warning(out["events"], len(matrix.terms))
    if warning is not None:
        out["warnings"].append(warning)
    return out


def _cox_results(
    study: Study,
    data: EndpointData,
    table: pd.DataFrame,
    chosen: list[Covariate],
    rows: Any = None,
    *,
    what: str = "",
    force_firth: bool = False,
) -> tuple[CoxModel, Any]:
    """The model's results and the engine's fit (``None`` without an estimable term), which
    the likelihood-ratio tests of nested models need."""
    import numpy as np

    strata = _cox_strata(study, table)
    if rows is None:
        matrix = design(table, chosen)
        keep, x = matrix.complete, matrix.x  # x holds the complete rows only
        if strata is not None:  # rows without a stratum are incomplete too
            has_stratum = strata != None  # noqa: E711 (elementwise on an object array)
            x = x[has_stratum[keep]]
            keep = keep & has_stratum
    else:  # fixed rows (nested models): all complete for these covariates (and strata)
        matrix = design(table.loc[rows].reset_index(drop=True), chosen)
        keep, x = rows, matrix.x
    time, event = data.time[keep], data.event[keep]
    cluster = None if data.cluster is None else data.cluster[keep]
    strata_kept = None if strata is None else np.asarray(strata[keep], dtype=str)
    return model_results(
        study,
        chosen,
        matrix.terms,
        n=int(keep.sum()),
        events=int(event.sum()),
        dropped=int(len(keep) - keep.sum()),
        robust=cluster is not None,
        fit=lambda names: summaries.cox_fit(x, time, event, study.cox, cluster, names, strata_kept),
        firth=lambda names: summaries.firth_fit(x, time, event, study.cox, names, strata_kept),
        what=what,
        force_firth=force_firth,
    )


PH_NOT_TESTED = (
    "proportional hazards not tested (a federated analysis releases no per-event residuals)"
)


def model_results(
    study: Study,
    chosen: list[Covariate],
    terms: tuple[Term, ...],
    *,
    n: int,
    events: int,
    dropped: int,
    robust: bool,
    fit: Callable[[list[str]], tuple[Any, list[str]]],
    ph: bool = True,
    firth: Callable[[list[str]], Any] | None = None,
    what: str = "",
    force_firth: bool = False,
) -> tuple[CoxModel, Any]:
    """A Cox model's results from its counts and ``fit(names)`` (the engine's fit and its
    warnings): terms, global tests, concordance, events per variable and, with ``ph``, the
    proportional-hazards test. The fit is the pooled rows' (``_cox_results``) or the
    centres' sums' (``rtoutcomes.federated``); both give the same results.json keys.

    With ``cox.firth`` (``always``, or ``auto`` and a coefficient of the ordinary fit may be
    infinite, or ``force_firth``) the reported model is ``firth(names)``, the Firth-penalised
    fit of the same rows, with a ``firth`` entry saying why; ``what`` names the model in
    errors (a clustered endpoint has no Firth fit and is refused, never fitted otherwise).
    The proportional-hazards test stays that of the ordinary fit (none when separated)."""
    import numpy as np

    warnings: list[str] = []
    out: CoxModel = {
        "covariates": [c.name for c in chosen],
        "n": n,
        "events": events,
        "dropped": dropped,
        "robust": robust,
        "terms": [],
        "loglik": None,
        "warnings": warnings,
    }
    if study.cox.strata:
        out["strata"] = list(study.cox.strata)
    n_terms = len(terms)
    if n_terms == 0:
        warnings.append("no estimable term (every covariate has a single level)")
        return out, None
    names = [f"{t.covariate}: {t.label}" for t in terms]
    fitted, fit_warnings = fit(names)
    labels, owners = [t.label for t in terms], [t.covariate for t in terms]
    ordinary, reason = fitted, firth_reason(study, fitted, force_firth)
    if reason is None:
        warnings += fit_warnings
        out["terms"] = summaries.cox_terms(fitted, labels, owners)
        out.update(summaries.cox_model_summary(fitted))
    else:
        fitted = _firth(study, firth, names, robust=robust, what=what, ordinary=ordinary)
        separated = [labels[names.index(n)] for n in getattr(ordinary, "infinite", ())]
        warnings += [m for m in fit_warnings if not m.startswith(SEPARATION_MESSAGE)]
        out["terms"] = summaries.cox_terms(fitted, labels, owners)
        out.update(summaries.cox_model_summary(fitted, ordinary))
        out["firth"] = {
            "reason": reason,
            "separated_terms": separated,
            "ties": fitted.ties,
            "limits": "profile penalised likelihood",
            "converged": bool(fitted.converged),
        }
        if not fitted.converged:
            warnings.append("the Firth-penalised fit did not converge")
    columns: dict[str, list[int]] = {}
    for j, term in enumerate(terms):
        columns.setdefault(term.covariate, []).append(j)
    ph_warning: str | None
    if not ph:
        out["ph_test"], ph_warning = None, PH_NOT_TESTED
    elif reason is not None and ordinary.infinite:
        out["ph_test"], ph_warning = None, PH_NOT_TESTED_SEPARATED
    else:  # of the ordinary fit: cox.zph needs its (finite) estimate and residuals
        out["ph_test"], ph_warning = summaries.ph_summary(ordinary, columns)
    out["events_per_variable"] = float(np.round(events / n_terms, 6))
    epv_message = epv_warning(events, n_terms)
    if epv_message:
        warnings.append(epv_message)
    if ph_warning:
        warnings.append(ph_warning)
    return out, fitted


SEPARATION_MESSAGE = "Loglik converged before variable(s)"  # the engine's monotone-likelihood
PH_NOT_TESTED_SEPARATED = (
    "proportional hazards not tested (the ordinary fit is separated: "
    "cox.zph needs its finite estimate)"
)


def firth_reason(study: Study, ordinary: Any, force: bool = False) -> str | None:
    """Why a model is Firth-fitted: ``requested`` (``cox.firth: always``), ``separation``
    (``auto`` and a coefficient of the ordinary fit may be infinite), ``nested`` (a smaller
    model of its nested sequence was Firth-fitted), or ``None`` (the ordinary fit is the one
    reported)."""
    mode = study.cox.firth
    if mode == "always":
        return "requested"
    if mode == "auto" and len(ordinary.infinite) > 0:
        return "separation"
    if mode == "auto" and force:
        return "nested"
    return None


def _firth(
    study: Study,
    firth: Callable[[list[str]], Any] | None,
    names: list[str],
    *,
    robust: bool,
    what: str,
    ordinary: Any,
) -> Any:
    """The Firth fit, or a StudyFileError naming the model and why it has none."""
    import numpy as np

    from rtoutcomes.study.errors import StudyFileError

    def refuse(reason: str) -> StudyFileError:
        return StudyFileError(
            f"cox.firth: {study.cox.firth}: {what or 'a Cox model'} needs a Firth-penalised "
            f"fit, but {reason}; set cox.firth: never to report the ordinary fit (a separated "
            "coefficient is then flagged, not estimated)"
        )

    if robust:
        raise refuse(
            "its endpoint is clustered (robust variance), which Firth's penalised "
            "likelihood with profile limits does not offer (nor does R's coxphf)"
        )
    if firth is None:
        raise refuse("this analysis has no Firth fit (federated analyses release no rows)")
    if np.isnan(np.asarray(ordinary.coef, dtype=float)).any():
        raise refuse("a term is aliased with others (its information is singular)")
    return firth(names)


def _cox_strata(study: Study, table: pd.DataFrame) -> Any:
    """Each row's Cox stratum (``cox.strata``), or ``None`` for one baseline hazard."""
    if not study.cox.strata:
        return None
    return strata_labels(table, study.cox.strata, "cox.strata")


def epv_warning(events: int, n_terms: int) -> str | None:
    """The warning of a model with fewer than ``MIN_EVENTS_PER_VARIABLE`` events per estimated
    coefficient (``None`` from exactly that many)."""
    epv = events / n_terms
    if epv < MIN_EVENTS_PER_VARIABLE:
        return (
            f"{events} events for {n_terms} coefficient(s): {epv:.1f} events per variable "
            f"(< {MIN_EVENTS_PER_VARIABLE}); estimates may be unstable"
        )
    return None


def _nested_results(
    study: Study,
    data: EndpointData,
    table: pd.DataFrame,
    models: list[list[Covariate]],
    endpoint: str = "",
) -> list[CoxModel]:
    # Nested models must be fitted on the same rows (R's anova refuses otherwise): the complete
    # rows of the largest model.
    rows = design(table, models[-1]).complete
    strata = _cox_strata(study, table)
    if strata is not None:
        rows = rows & (strata != None)  # noqa: E711
    return nested_sequence(
        len(models),
        lambda k, penalised: _cox_results(
            study,
            data,
            table,
            models[k - 1],
            rows=rows,
            force_firth=penalised,
            what=f"the {endpoint} nested model {k}",
        ),
    )


def nested_sequence(
    count: int, fit_one: Callable[[int, bool], tuple[CoxModel, Any]]
) -> list[CoxModel]:
    """Nested models 1..count from ``fit_one(k, penalised)`` (the k-th model, Firth-fitted
    when ``penalised``), each with ``lr_test`` against the previous one (R's anova; the
    model's own global tests are under ``global_tests``). Once a model is Firth-fitted, so is
    every larger one: its test is then the penalised test of the added terms (coxphftest),
    never an ordinary likelihood against a penalised one."""
    fitted: list[tuple[CoxModel, Any]] = []
    for k in range(1, count + 1):
        fitted.append(fit_one(k, any("firth" in previous for previous, _ in fitted)))
    for (_, previous), (current, fit) in itertools.pairwise(fitted):
        current["lr_test"] = (
            summaries.lr_summary(previous, fit)
            if previous is not None and fit is not None
            else None
        )
    fitted[0][0]["lr_test"] = None
    return [model for model, _ in fitted]
