"""The auto-written statistical methods paragraph, from the study's options and results."""

from __future__ import annotations

from rtoutcomes.report.competing_risks import fine_gray_of
from rtoutcomes.report.response_plots import swimmer_lanes_setting, swimmer_selection_sentence
from rtoutcomes.results.model import EndpointResults, Federated, Results, StudySummary

_CONF = {
    "log": "a log transformation of the survival function (R survfit's default)",
    "log-log": "a log(-log) transformation of the survival function",
    "plain": "the untransformed (linear) survival function",
}


def _names(columns: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return columns[0] if len(columns) == 1 else ", ".join(columns[:-1]) + " and " + columns[-1]


_TIES = {"efron": "Efron's method", "breslow": "Breslow's method"}


def _any_ph_test(endpoints: dict[str, EndpointResults]) -> bool:
    for e in endpoints.values():
        models = [*e["univariate"].values(), *e.get("nested", [])]
        if "multivariate" in e:
            models.append(e["multivariate"])
        if any(m.get("ph_test") for m in models):
            return True
    return False


def _firth_models(endpoints: dict[str, EndpointResults]) -> list[str]:
    """Each Firth-penalised model as "endpoint: what" (univariate by covariate,
    multivariate, nested model k), in the results' order."""
    found = []
    for name, e in endpoints.items():
        found += [f"{name}: {c} (univariate)" for c, m in e["univariate"].items() if m.get("firth")]
        if e.get("multivariate", {}).get("firth"):
            found.append(f"{name}: multivariate")
        found += [
            f"{name}: nested model {k}"
            for k, m in enumerate(e.get("nested", []), 1)
            if m.get("firth")
        ]
    return found


def firth_sentence(study: StudySummary, endpoints: dict[str, EndpointResults]) -> str:
    """What ``cox.firth`` did: which models are Firth-penalised, and how they are reported
    ("" for the default, ``never``)."""
    mode = study["cox"].get("firth")
    if not mode:
        return ""
    how = (
        "by Firth's penalised partial likelihood (Heinze and Schemper 2001), as R's "
        f"coxphf, with {_TIES[study['cox']['ties']]} for ties, profile penalised "
        "likelihood confidence intervals and penalised likelihood-ratio tests (per "
        "coefficient, per model, and between nested models)"
    )
    models = _firth_models(endpoints)
    if mode == "always":
        return f"All Cox models were fitted {how}; they are marked \u2020 in the tables."
    if not models:
        return (
            "Cox models whose ordinary partial likelihood was monotone (separation) were "
            "to be fitted by Firth's penalised partial likelihood (Heinze and Schemper "
            "2001); no model was."
        )
    return (
        "Cox models whose ordinary partial likelihood was monotone (separation: a hazard "
        f"ratio running to zero or infinity, e.g. no events in one group) were fitted {how}"
        f": {'; '.join(models)}. They are marked \u2020 in the tables."
    )


def registry_sentence(results: Results) -> str:
    """Which registry, in which state: its name, data cut-off and content hash."""
    registry = results.get("cohort", {}).get("registry")
    data = results["provenance"]["data"]
    name = f"'{registry['name']}'" if registry and registry["name"] else data["name"]
    cutoff = registry.get("data_cutoff_date") if registry else None
    state = (
        f"Data were taken from the registry {name} in the state whose content has SHA-256 "
        f"{data['sha256'][:16]}\u2026 (full hash in the provenance)"
    )
    audit = results["provenance"].get("registry_state")
    if audit:
        frozen = f"freeze '{audit['label']}', " if audit["label"] else ""
        state += (
            f", {frozen}audit trail entry {audit['audit_seq']} (import batch "
            f"{audit['batch']}, chain hash {audit['chain_hash'][:16]}\u2026)"
        )
    if cutoff:
        return (
            f"{state}, with a data cut-off of {cutoff}: records after it were not used, and "
            "patients and lesions followed beyond it were censored at it."
        )
    return f"{state}; the registry states no data cut-off, so all recorded follow-up was used."


def federated_sentence(federated: Federated) -> str:
    """How a federated analysis was run, and under which disclosure settings."""
    centres = federated["centres"]
    settings = "; ".join(
        f"{c['name']}: at least {c['disclosure']['min_rows']} rows per endpoint, cells of at "
        f"least {c['disclosure']['min_cell']} ({c['disclosure']['small_cells']} smaller), times "
        f"rounded up to multiples of {c['disclosure']['time_resolution']:g}"
        for c in centres
    )
    return (
        f"The analysis was federated over {len(centres)} centres "
        f"({', '.join(c['name'] for c in centres)}) with vantage6: no patient row left its centre. "
        "Kaplan-Meier estimates, log-rank tests and follow-up were computed from the centres' "
        "per-time counts (times coarsened at each centre), and Cox models stratified by centre "
        "from the centres' log-likelihood, score and information at each Newton step (the "
        "pooled stratified fit), with robust variances from per-centre cluster sums; the "
        "proportional-hazards test was not computed. Disclosure settings, chosen by each "
        f"centre: {settings}."
    )


def competing_death_sentence(study: StudySummary) -> str:
    """How a lesion's local-control follow-up ends relative to death (endpoint_rules)."""
    within = study.get("competing_death_within")
    if within is None:
        return (
            "A death without local failure counted as the competing event whenever it "
            "occurred, also after the lesion's last scan (the lesion taken as controlled up "
            "to death)."
        )
    return (
        f"A death without local failure counted as the competing event only within "
        f"{within:g} {study['time_unit']} of the lesion's last measured scan; after a longer "
        "gap the lesion was censored at that scan, its status after it being unknown "
        "(failure is only observed at imaging)."
    )


def lost_sentence(results: Results) -> str:
    """The flow chart's lost-to-follow-up rule, when the registry's data cut-off allowed it."""
    if "lost_to_follow_up" not in results.get("cohort", {}).get("flow", {}):
        return ""
    study = results["study"]
    return (
        f"Patients alive at a last contact more than {study['lost_to_follow_up_after']:g} "
        f"{study['time_unit']} before the data cut-off were counted as lost to follow-up "
        "(flow chart, per endpoint among its censored patients or lesions); their follow-up "
        "was censored at that contact."
    )


def methods_paragraph(results: Results) -> str:
    """One paragraph saying how every number of the report was computed."""
    study = results["study"]
    epv = study["thresholds"]["events_per_variable"]
    software = results["provenance"]["software"]
    level = f"{100 * study['km']['conf_level']:g}%"
    endpoints = results["endpoints"]
    parts = []
    if study["source"] == "registry":
        parts.append(registry_sentence(results))
        parts.append(
            "Time zero was the start of the first SBRT course (per lesion for local control: the "
            "start of the course treating that lesion). Overall survival counted death from any "
            "cause, censored at last contact; progression-free survival counted progression "
            "(recorded, local failure on imaging or new lesions) or "
            "death, censored at last contact; local control counted local failure of the treated "
            "lesion, censored at its last measured assessment "
            f"(local failure rule: {study['local_failure_rule']}, "
            f"{study['local_failure_definition']}). BED was computed with the "
            f"linear-quadratic model, alpha/beta = {study['alpha_beta_gy']:g} Gy."
        )
        lost = lost_sentence(results)
        if lost:
            parts.append(lost)
        lanes = len(results.get("cohort", {}).get("swimmer", []))
        if lanes > swimmer_lanes_setting(results):
            parts.append(swimmer_selection_sentence(lanes, swimmer_lanes_setting(results)))
    else:
        described = "; ".join(
            f"{name}: time '{e['time_column']}' ({study['time_unit']}), event when "
            f"'{e['event_column']}' is {' or '.join(e['event_values'])}, otherwise censored"
            for name, e in study["endpoints"].items()
        )
        parts.append(f"Times and events were taken from the analysis table ({described}).")
    parts.append(
        f"Survival was estimated with the Kaplan-Meier method, with Greenwood standard errors and "
        f"{level} confidence intervals based on {_CONF[study['km']['conf_type']]}; medians and "
        "their limits follow R's survfit. Groups were compared with the log-rank test. Median "
        "follow-up was estimated by the reverse Kaplan-Meier method."
    )
    competing = any(e.get("competing_risks") for e in endpoints.values())
    if competing:
        parts.append(
            "Because death precludes local failure, the cumulative incidence of local failure "
            "was also estimated with death without local failure as a competing event "
            "(Aalen-Johansen estimator, as R's cmprsk::cuminc), "
            f"with {level} pointwise confidence intervals on the log(-log) scale; groups were "
            "compared with Gray's test. "
            + competing_death_sentence(study)
            + (
                " Covariate effects on the incidence of local failure were estimated with the "
                "Fine-Gray subdistribution hazards model (R's cmprsk::crr, robust standard "
                "errors)."
                if any(fine_gray_of(e) for e in endpoints.values())
                else ""
            )
        )
    parts.append(
        f"Hazard ratios were estimated with Cox proportional hazards models using "
        f"{_TIES[study['cox']['ties']]} for tied event times: one model per covariate "
        "(univariate), a multivariate model, and nested models compared with likelihood-ratio "
        "tests on the same rows. Rows with a missing value were excluded per model (complete-case "
        f"analysis) and the number excluded is reported; models with fewer than {epv} events per "
        "estimated coefficient are flagged."
    )
    firth = firth_sentence(study, endpoints)
    if firth:
        parts.append(firth)
    strata = study["cox"].get("strata")
    if strata:
        parts.append(
            f"Cox models were stratified by {_names(strata)} (a separate baseline hazard per "
            "stratum, as R's coxph with strata()); rows without a stratum were excluded."
        )
    km_strata = study["km"].get("strata")
    if km_strata:
        parts.append(
            f"Log-rank tests were stratified by {_names(km_strata)} (as R's survdiff with "
            "strata())."
        )
    if _any_ph_test(endpoints):
        parts.append(
            "Proportional hazards were checked with the scaled Schoenfeld residual test of "
            "Grambsch and Therneau as R's cox.zph (survival 3.x), KM transform, for every Cox "
            "model (per covariate and globally; as cox.zph, the test does not account for "
            f"clustering); models with a global p < {study['thresholds']['ph_alpha']:g} are "
            "flagged."
        )
    clustered = [
        f"{name} (per {e['unit']}, clustered by {e['cluster']})"
        for name, e in endpoints.items()
        if e.get("cluster")
    ]
    if clustered:
        parts.append(
            "Endpoints with several rows per patient were analysed with the robust (sandwich) "
            "variance clustered by patient, as R's coxph with cluster(): "
            + ", ".join(clustered)
            + "."
        )
    if "federated" in results:
        parts.append(federated_sentence(results["federated"]))
    parts.append(
        f"All tests were two-sided. Analyses used rtoutcomes {software['rtoutcomes']} (Python "
        f"{software['python']}, NumPy {software['numpy']}, SciPy {software['scipy']}), whose "
        "estimates are checked against R's survival"
        + (" and cmprsk packages." if competing else " package.")
    )
    return " ".join(parts)
