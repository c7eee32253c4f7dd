"""What runs at a centre: the centre's analysis table in, aggregates out.

Every function takes the study file (as parsed YAML, the same at every centre), the centre's
own analysis table, its name and its disclosure policy, and returns only JSON-ready
aggregates: per-time counts (times coarsened), counts per covariate level, and a Cox model's
sums (column sums, absolute deviations, loglik/score/information at a beta, robust and
concordance sums). No row, identifier or exact time leaves the centre.

The table gets a ``centre`` column holding the centre's name (when it has none), so that a
study file can say ``cox: {strata: [centre]}`` and ``km: {strata: [centre]}`` exactly as for
the pooled table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from rtoutcomes.federated.disclosure import DisclosurePolicy, DisclosureRefused
from rtoutcomes.study.covariates import design, levels_of
from rtoutcomes.study.schema import parse_study
from rtoutcomes.study.spec import Covariate, Study
from rtoutcomes.study.table import endpoint_data, strata_labels

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CENTRE = "centre"


def study_of(study_yaml: Mapping[str, Any]) -> Study:
    """The study as every centre reads it (an analysis-table study: no data path, no db)."""
    raw = {k: v for k, v in study_yaml.items() if k not in ("data", "db")}
    return parse_study(raw, source="federated study")


def with_centre(table: pd.DataFrame, site: str) -> pd.DataFrame:
    if CENTRE in table.columns:
        return table
    return table.assign(**{CENTRE: site})


def used_covariates(study: Study) -> dict[str, Covariate]:
    """The covariates some analysis of the study uses."""
    a = study.analyses
    names = set(a.groups) | set(a.univariate)
    names |= {n for model in a.multivariate.values() for n in model}
    names |= {n for models in a.nested.values() for model in models for n in model}
    from rtoutcomes.study.analysis import covariate_definitions

    defined = covariate_definitions(study)
    return {name: defined[name] for name in sorted(names)}


def _usable(study: Study, table: pd.DataFrame, endpoint_name: str) -> tuple[Any, pd.DataFrame]:
    endpoint = study.endpoints[endpoint_name]
    data = endpoint_data(table, endpoint)
    return data, table.loc[data.usable].reset_index(drop=True)


def _small_levels(
    study: Study, usable: pd.DataFrame, policy: DisclosurePolicy, site: str, endpoint: str
) -> tuple[dict[str, dict[str, int]], dict[str, list[str]]]:
    """Counts per level of each grouping covariate, without the levels held by fewer rows than
    the centre's minimum cell (those are suppressed or refused)."""
    counts: dict[str, dict[str, int]] = {}
    suppressed: dict[str, list[str]] = {}
    for name, covariate in used_covariates(study).items():
        if covariate.type == "continuous":
            continue
        level_series, _ = levels_of(covariate, usable)
        found = {str(k): int(v) for k, v in level_series.value_counts(sort=False).items()}
        small = sorted(level for level, n in found.items() if 0 < n < policy.min_cell)
        if small and policy.small_cells == "refuse":
            raise DisclosureRefused(
                f"centre {site}: endpoint {endpoint}, covariate '{name}': level(s) "
                f"{', '.join(small)} held by fewer than the centre's minimum of "
                f"{policy.min_cell} rows (small_cells: refuse)"
            )
        if small:
            suppressed[name] = small
        counts[name] = {level: n for level, n in found.items() if level not in small}
    return counts, suppressed


def _frequencies(*columns: np.ndarray) -> list[list[Any]]:
    """Counts of each distinct combination of the columns: rows [values..., count], sorted."""
    from collections import Counter

    counter = Counter(zip(*(c.tolist() for c in columns), strict=True))
    return [[*key, n] for key, n in sorted(counter.items(), key=lambda kv: repr(kv[0]))]


def describe(
    study_yaml: Mapping[str, Any], table: pd.DataFrame, site: str, policy: DisclosurePolicy
) -> dict[str, Any]:
    """Per endpoint: row counts, the per-time counts of Kaplan-Meier (overall and per level of
    each grouping covariate, with the log-rank stratum), counts per covariate level and the
    suppressed levels. Times are coarsened to the centre's resolution first."""
    import numpy as np

    study = study_of(study_yaml)
    table = with_centre(table, site)
    out: dict[str, Any] = {"site": site, "policy": policy.as_dict(), "endpoints": {}}
    covariates = {**used_covariates(study)}
    for name in study.endpoints:
        data, usable = _usable(study, table, name)
        n = len(usable)
        if n < policy.min_rows:
            raise DisclosureRefused(
                f"centre {site}: endpoint {name}: {n} usable rows, fewer than the centre's "
                f"minimum of {policy.min_rows}"
            )
        time = policy.coarsen(data.time)
        event = data.event.astype(int)
        levels, suppressed = _small_levels(study, usable, policy, site, name)
        km_strata = (
            strata_labels(usable, study.km.strata, "km.strata")
            if study.km.strata
            else np.full(n, None, dtype=object)
        )
        groups: dict[str, Any] = {}
        # every grouping covariate and every categorical one of a univariate model (its
        # log-rank test is reported beside the model)
        for group, covariate in covariates.items():
            if covariate.type == "continuous":
                continue
            level_series, _ = levels_of(covariate, usable)
            # a copy: pandas 3 (copy-on-write) hands out a read-only view of its own array
            level = level_series.to_numpy(dtype=object, copy=True)
            hidden = np.isin(level.astype(str), suppressed.get(group, []))
            level[hidden] = None
            keep = np.array([v is not None and v == v for v in level])  # present, not NaN
            groups[group] = {
                "dropped": int((~keep).sum()),
                "counts": _frequencies(
                    time[keep], event[keep], level[keep].astype(str), km_strata[keep]
                ),
            }
        out["endpoints"][name] = {
            "n": n,
            "dropped": int(len(table) - n),
            "events": int(event.sum()),
            "counts": _frequencies(time, event),
            "groups": groups,
            "levels": levels,
            "suppressed": suppressed,
        }
    return out


def _model_rows(
    study: Study, usable: pd.DataFrame, request: Mapping[str, Any], fixed: Any, drop: Any
) -> np.ndarray:
    """The rows of one Cox model at this centre: complete for its covariates (for a nested
    model: for the largest model's, as the pooled analysis) and with a stratum."""
    import numpy as np

    covariates = used_covariates(study)
    rows_of = request.get("rows_of") or request["covariates"]
    keep = np.asarray(
        design(usable, [covariates[n] for n in rows_of], fixed=fixed, drop=drop).complete
    )
    if study.cox.strata:
        keep = keep & (strata_labels(usable, study.cox.strata, "cox.strata") != None)  # noqa: E711
    return keep


def cox_step(
    study_yaml: Mapping[str, Any],
    table: pd.DataFrame,
    site: str,
    policy: DisclosurePolicy,
    request: Mapping[str, Any],
) -> dict[str, Any]:
    """One step of a Cox model stratified by centre, on this centre's rows.

    ``request``: ``endpoint``, ``covariates``, ``levels`` (covariate -> [levels with a
    column, reference]), ``rows_of`` (nested models: the largest model's covariates),
    ``step`` (``sums``, ``deviations``, ``evaluate``, ``robust``, ``concordance``) and the
    step's ``means``/``scale``/``beta``/``coef``.
    """
    import numpy as np

    from rtoutcomes.stats import CoxPiece

    study = study_of(study_yaml)
    table = with_centre(table, site)
    data, usable = _usable(study, table, request["endpoint"])
    if len(usable) < policy.min_rows:
        raise DisclosureRefused(
            f"centre {site}: endpoint {request['endpoint']}: {len(usable)} usable rows, fewer "
            f"than the centre's minimum of {policy.min_rows}"
        )
    chosen = [used_covariates(study)[n] for n in request["covariates"]]
    _, suppressed = _small_levels(study, usable, policy, site, request["endpoint"])
    fixed = {name: (tuple(v[0]), str(v[1])) for name, v in request["levels"].items()}
    drop = {name: frozenset(levels) for name, levels in suppressed.items()}
    keep = _model_rows(study, usable, request, fixed, drop)
    x = design(usable.loc[keep].reset_index(drop=True), chosen, fixed=fixed, drop=drop).x
    p = x.shape[1]
    step = request["step"]
    n_kept = int(np.sum(keep))
    events = data.event[keep]
    if step == "sums":
        return {
            "sums": x.sum(axis=0).tolist(),
            "rows": n_kept,
            "events": int(events.sum()),
            "dropped": int(len(keep) - n_kept),
            "p": p,
        }
    if n_kept == 0:  # no complete rows here: this centre adds nothing to the sums
        zero = np.zeros(p)
        return {
            "deviations": zero.tolist(),
            "loglik": 0.0,
            "score": zero.tolist(),
            "information": np.zeros((p, p)).tolist(),
            "utu": np.zeros((p, p)).tolist(),
            "u0tu0": np.zeros((p, p)).tolist(),
            "u0": zero.tolist(),
            "clusters": 0,
            "pairs": [0.0] * 5,
        }
    strata = (
        strata_labels(usable.loc[keep].reset_index(drop=True), study.cox.strata, "cox.strata")
        if study.cox.strata
        else None
    )
    cluster = None if data.cluster is None else data.cluster[keep]
    endpoint_ties: Literal["efron", "breslow"] = (
        "breslow" if study.cox.ties == "breslow" else "efron"
    )
    piece = CoxPiece.of(
        x,
        data.time[keep],
        events,
        names=[f"x{j}" for j in range(p)],
        ties=endpoint_ties,
        strata=None if strata is None else strata.astype(str),
        cluster=cluster,
    )
    means = np.asarray(request.get("means", np.zeros(p)), dtype=float)
    scale = np.asarray(request.get("scale", np.ones(p)), dtype=float)
    if step == "deviations":
        return {"deviations": piece.absolute_deviations(means).tolist()}
    if step == "evaluate":
        loglik, score, information = piece.evaluate(
            np.asarray(request["beta"], dtype=float), means, scale
        )
        return {"loglik": loglik, "score": score.tolist(), "information": information.tolist()}
    if step == "robust":
        utu, u0tu0, u0, clusters = piece.robust_sums(
            np.asarray(request["beta"], dtype=float), means, scale
        )
        return {
            "utu": utu.tolist(),
            "u0tu0": u0tu0.tolist(),
            "u0": u0.tolist(),
            "clusters": clusters,
        }
    if step == "concordance":
        coef = np.array([np.nan if c is None else c for c in request["coef"]], dtype=float)
        return {"pairs": list(piece.concordance_counts(coef))}
    raise ValueError(f"unknown Cox step {step!r}")
