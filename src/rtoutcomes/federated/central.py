"""The central part: the same results as ``rtoutcomes analyze`` from the centres' aggregates.

``federated_results(study_yaml, ask)`` asks the centres (through ``ask``: vantage6's client, or
any function that sends a request to every centre and returns their answers in order) for:

1. their description (``describe``): per-time counts for Kaplan-Meier, log-rank and follow-up,
   counts per covariate level; the pooled per-time counts give exactly the pooled curves and
   tests on the coarsened times (they are the pooled data's sufficient statistics);
2. for every Cox model, the sums of a model stratified by centre (``cox_step``): the Newton
   iterations run here on the summed loglik, score and information, so the estimates are the
   pooled stratified fit's (``stats._cox._pieces``).

The proportional-hazards test (cox.zph) needs per-event-time residuals and is not computed;
the report says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rtoutcomes.federated.disclosure import DisclosureRefused
from rtoutcomes.results.model import CoxModel, EndpointResults, GroupResults, Test
from rtoutcomes.study import summaries
from rtoutcomes.study.analysis import model_results, nested_sequence
from rtoutcomes.study.covariates import design, level_sort_key, reference_of
from rtoutcomes.study.errors import StudyFileError
from rtoutcomes.study.spec import Covariate, Study

if TYPE_CHECKING:
    import numpy as np

# ask(method, kwargs) -> one answer per centre, in the centres' order
Ask = Callable[[str, dict[str, Any]], list[dict[str, Any]]]
CENTRE = "centre"


def answers(ask: Ask, method: str, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """The centres' answers; a centre's refusal stops the analysis with its reason."""
    found = ask(method, kwargs)
    refused = [a["refused"] for a in found if "refused" in a]
    if refused:
        raise DisclosureRefused("; ".join(refused))
    return found


def _expand(rows: Sequence[Sequence[Any]], width: int) -> list[np.ndarray]:
    """Frequency rows [values..., count] back to one entry per counted row (times coarsened)."""
    import numpy as np

    if not rows:
        return [np.zeros(0) for _ in range(width)]
    counts = np.array([r[-1] for r in rows], dtype=int)
    return [np.repeat(np.array([r[j] for r in rows], dtype=object), counts) for j in range(width)]


def check_study(study: Study) -> None:
    """A federated study can only be one whose Cox models are stratified by centre."""
    models = study.analyses.univariate or study.analyses.multivariate or study.analyses.nested
    if models and CENTRE not in study.cox.strata:
        raise StudyFileError(
            "federated study: Cox models need 'cox: {strata: [centre, ...]}' (a model stratified "
            "by centre is fitted exactly from each centre's sums; a pooled baseline hazard would "
            "need every centre's risk sets at every event time, which this protocol does not "
            "release)"
        )


def federated_results(
    study: Study, study_yaml: Mapping[str, Any], ask: Ask
) -> tuple[dict[str, EndpointResults], list[dict[str, Any]], list[str]]:
    """Every endpoint's results, the centres' descriptions (site, policy) and the warnings
    about suppressed cells."""
    from rtoutcomes.federated.site import used_covariates

    check_study(study)
    described = answers(ask, "describe", {"study": dict(study_yaml)})
    covariates = used_covariates(study)
    endpoints: dict[str, EndpointResults] = {}
    notes: list[str] = []
    for name, endpoint in study.endpoints.items():
        parts = [d["endpoints"][name] for d in described]
        for site, part in zip((d["site"] for d in described), parts, strict=True):
            for covariate, levels in part["suppressed"].items():
                notes.append(
                    f"{name}: centre {site} suppressed level(s) {', '.join(levels)} of "
                    f"'{covariate}' (fewer rows than its minimum cell); those rows are "
                    "left out of every analysis of that covariate"
                )
        time, event = _expand([r for p in parts for r in p["counts"]], 2)
        time, event = time.astype(float), event.astype(float)
        pooled_levels = _pooled_levels(covariates, parts)
        groups = {
            g: _group(study, covariates[g], parts, g, pooled_levels[g][0])
            for g in study.analyses.groups
        }
        result: EndpointResults = {
            **summaries.km_summary(time, event, study.km, study.rates_at),
            "label": endpoint.display,
            "unit": endpoint.unit,
            "cluster": endpoint.cluster,
            "dropped": sum(int(p["dropped"]) for p in parts),
            "follow_up": summaries.follow_up_summary(time, event),
            "groups": groups,
            "univariate": {},
        }
        fit_model = _model_fitter(study, study_yaml, ask, name, covariates, pooled_levels)
        for covariate in study.analyses.univariate:
            model, _ = fit_model([covariate], None, f"the {name} univariate model of {covariate}")
            if covariates[covariate].type != "continuous":
                model["logrank"] = (
                    groups[covariate]["logrank"]
                    if covariate in groups
                    else _group(
                        study,
                        covariates[covariate],
                        parts,
                        covariate,
                        pooled_levels[covariate][0],
                        km=False,
                    )["logrank"]
                )
            result["univariate"][covariate] = model
        if name in study.analyses.multivariate:
            result["multivariate"] = fit_model(
                list(study.analyses.multivariate[name]), None, f"the {name} multivariate model"
            )[0]
        if name in study.analyses.nested:
            models = [list(m) for m in study.analyses.nested[name]]

            def nested_model(
                k: int,
                penalised: bool,
                models: list[list[str]] = models,
                fit_model: Callable[..., tuple[CoxModel, Any]] = fit_model,
                name: str = name,
            ) -> tuple[CoxModel, Any]:
                return fit_model(
                    models[k - 1], models[-1], f"the {name} nested model {k}", penalised
                )

            result["nested"] = nested_sequence(len(models), nested_model)
        endpoints[name] = result
    return endpoints, described, notes


def _pooled_levels(
    covariates: Mapping[str, Covariate], parts: list[dict[str, Any]]
) -> dict[str, tuple[list[str], dict[str, int]]]:
    """Per grouping covariate: the levels in the order the pooled table gives them (the recode's
    or binary labels' order, else the codes sorted) and the pooled count of each."""
    out: dict[str, tuple[list[str], dict[str, int]]] = {}
    for name, covariate in covariates.items():
        if covariate.type == "continuous":
            continue
        counts: dict[str, int] = {}
        for part in parts:
            for level, n in part["levels"].get(name, {}).items():
                counts[level] = counts.get(level, 0) + int(n)
        order = list(covariate.levels) if covariate.levels else sorted(counts, key=level_sort_key)
        out[name] = (order, counts)
    return out


def _group(
    study: Study,
    covariate: Covariate,
    parts: list[dict[str, Any]],
    name: str,
    order: list[str],
    km: bool = True,
) -> GroupResults:
    import numpy as np

    rows = [r for p in parts for r in p["groups"][name]["counts"]]
    time, event, level, stratum = _expand(rows, 4)
    time, event = time.astype(float), event.astype(float)
    out_levels = {}
    for value in order:
        chosen = level == value
        if km and chosen.any():
            out_levels[value] = summaries.km_summary(
                time[chosen], event[chosen], study.km, study.rates_at
            )
    present_levels = {str(v) for v in level.tolist()}
    logrank: Test | None = None
    if len(present_levels) >= 2:
        logrank = summaries.logrank_summary(
            time,
            event,
            np.asarray(level, dtype=str),
            np.asarray(stratum, dtype=str) if study.km.strata else None,
        )
    return {
        "label": covariate.display,
        "dropped": sum(int(p["groups"][name]["dropped"]) for p in parts),
        "levels": out_levels,
        "order": [v for v in order if v in out_levels],
        "logrank": logrank,
    }


def _model_fitter(
    study: Study,
    study_yaml: Mapping[str, Any],
    ask: Ask,
    endpoint: str,
    covariates: Mapping[str, Covariate],
    pooled_levels: Mapping[str, tuple[list[str], dict[str, int]]],
) -> Callable[..., tuple[CoxModel, Any]]:
    import numpy as np
    import pandas as pd

    from rtoutcomes.stats import cox_from_pieces, pooled_scaling

    def fit_model(
        chosen_names: list[str],
        rows_of: list[str] | None,
        what: str = "",
        force_firth: bool = False,
    ) -> tuple[CoxModel, Any]:
        chosen = [covariates[n] for n in chosen_names]
        levels: dict[str, list[Any]] = {}
        for c in chosen:
            if c.type == "continuous":
                continue
            order, counts = pooled_levels[c.name]
            reference = reference_of(c, tuple(order))
            levels[c.name] = [
                [v for v in order if v != reference and counts.get(v, 0) > 0],
                reference,
            ]
        fixed = {k: (tuple(v[0]), str(v[1])) for k, v in levels.items()}
        empty = pd.DataFrame(
            {
                c.column: pd.Series(dtype=float if c.type != "categorical" else object)
                for c in chosen
            }
        )
        terms = design(empty, chosen, fixed=fixed).terms
        base = {
            "study": dict(study_yaml),
            "request": {
                "endpoint": endpoint,
                "covariates": chosen_names,
                "levels": levels,
                "rows_of": rows_of,
            },
        }

        def step(name: str, **values: Any) -> list[dict[str, Any]]:
            request = {
                **base["request"],
                "step": name,
                **{k: np.asarray(v).tolist() for k, v in values.items()},
            }
            return answers(ask, "cox_step", {"study": base["study"], "request": request})

        sums = step("sums")
        n = sum(int(s["rows"]) for s in sums)
        events = sum(int(s["events"]) for s in sums)
        dropped = sum(int(s["dropped"]) for s in sums)
        clustered = study.endpoints[endpoint].cluster is not None

        scaling: list[tuple[np.ndarray, np.ndarray]] = []  # pooled means and scale, once

        def scaled() -> tuple[np.ndarray, np.ndarray]:
            if not scaling:
                scaling.append(
                    pooled_scaling(
                        np.sum([np.asarray(s["sums"], dtype=float) for s in sums], axis=0),
                        float(n),
                        lambda m: np.sum(
                            [np.asarray(a["deviations"]) for a in step("deviations", means=m)],
                            axis=0,
                        ),
                    )
                )
            return scaling[0]

        def evaluate_sum(beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            means, scale = scaled()
            p = beta.shape[0]
            got = step("evaluate", means=means, scale=scale, beta=beta)
            return (
                float(sum(a["loglik"] for a in got)),
                np.sum([np.asarray(a["score"], dtype=float) for a in got], axis=0),
                np.sum(
                    [np.asarray(a["information"], dtype=float).reshape(p, p) for a in got], axis=0
                ),
            )

        def pairs(coef: np.ndarray) -> tuple[float, float, float, float, float]:
            got = step("concordance", coef=[None if not np.isfinite(c) else c for c in coef])
            total = np.sum([np.asarray(a["pairs"], dtype=float) for a in got], axis=0)
            return tuple(float(v) for v in total)  # type: ignore[return-value]

        ties = "breslow" if study.cox.ties == "breslow" else "efron"

        def firth(names: list[str]) -> Any:
            """The Firth fit from the centres' sums (the centre a stratum, as ``fit``)."""
            from rtoutcomes.stats import firth_from_evaluator

            def harrell_c(coef: np.ndarray) -> float:
                n_conc, n_disc, tied_x, _, _ = pairs(coef)
                total = n_conc + n_disc + tied_x
                return (n_conc + tied_x / 2) / total if total else float("nan")

            means, scale = scaled()
            return firth_from_evaluator(
                evaluate_sum,
                names=names,
                means=means,
                scale=scale,
                counts=(n, dropped, events),
                ties=ties,
                stratified=True,
                linear_predictor_c=harrell_c,
            )

        def fit(names: list[str]) -> tuple[Any, list[str]]:
            p = len(names)
            means, scale = scaled()

            def robust(beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
                got = step("robust", means=means, scale=scale, beta=beta)
                return (
                    np.sum([np.asarray(a["utu"]).reshape(p, p) for a in got], axis=0),
                    np.sum([np.asarray(a["u0tu0"]).reshape(p, p) for a in got], axis=0),
                    np.sum([np.asarray(a["u0"], dtype=float) for a in got], axis=0),
                    sum(int(a["clusters"]) for a in got),
                )

            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = cox_from_pieces(
                    evaluate_sum,
                    names=names,
                    terms={k: (j,) for j, k in enumerate(names)},
                    means=means,
                    scale=scale,
                    counts=(n, dropped, events),
                    ties=ties,
                    robust_sums=robust if clustered else None,
                    concordance_sums=pairs,
                )
            messages = [str(w.message) for w in caught]
            return result, messages + [m for m in result.warnings if m not in messages]

        return model_results(
            study,
            chosen,
            terms,
            n=n,
            events=events,
            dropped=dropped,
            robust=clustered,
            fit=fit,
            ph=False,
            firth=firth,
            what=what,
            force_firth=force_firth,
        )

    return fit_model
