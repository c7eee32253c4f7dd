"""Tables of the survival analyses: summary, univariate (3), multivariate (4), nested (5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rtoutcomes.report import fmt
from rtoutcomes.report.table import Table
from rtoutcomes.results.model import CoxModel, EndpointResults


def _time(t: float) -> str:
    return f"{t:g}"


def survival_summary(
    endpoints: dict[str, EndpointResults], time_unit: str, conf_level: float
) -> Table:
    """Per endpoint: unit, n, events, median and rates with limits, median follow-up."""
    level = f"{100 * conf_level:g}%"
    rate_times = sorted({r["time"] for e in endpoints.values() for r in e["rates"]})
    columns = ["Endpoint", "Unit", "n", "Events", f"Median, {time_unit} ({level} CI)"]
    columns += [f"{_time(t)}-{time_unit[:-1]} rate, % ({level} CI)" for t in rate_times]
    columns += [
        f"Median follow-up, {time_unit}: reverse KM ({level} CI)",
        f"Observed follow-up, {time_unit}: median (range)",
    ]
    table = Table("survival_summary", "Survival summary", columns)
    for name, e in endpoints.items():
        m = e["median"]
        rates = {r["time"]: r for r in e["rates"]}
        cells = [
            e.get("label") or name,
            e["unit"],
            e["n"],
            e["events"],
            fmt.with_limits(m["estimate"], m["lower"], m["upper"], 1),
        ]
        for t in rate_times:
            r = rates.get(t)
            cells.append(
                "NA"
                if r is None or r["estimate"] is None
                else f"{fmt.percent(r['estimate'])} ({fmt.percent(r['lower'])}{fmt.DASH}"
                f"{fmt.percent(r['upper'])})"
            )
        fu = e["follow_up"]
        rk, obs = fu["reverse_km"], fu["observed"]
        cells += [
            fmt.with_limits(rk["estimate"], rk["lower"], rk["upper"], 1),
            fmt.median_range(obs["median"], obs["min"], obs["max"]),
        ]
        table.add(*cells)
    table.notes.append(
        "NR: not reached. Median follow-up by the reverse Kaplan-Meier method (deaths censored)."
    )
    return table


def _warnings(table: Table, endpoint: str, model: Mapping[str, Any], what: str) -> None:
    for warning in model.get("warnings", []):
        note = f"Warning ({endpoint}, {what}): {warning}."
        if note not in table.notes:
            table.notes.append(note)


PH_NOTE = (
    "PH p: test of proportional hazards for the covariate (Grambsch-Therneau score test on "
    "scaled Schoenfeld residuals, R's cox.zph, KM time transform); p < 0.05 suggests a hazard "
    "ratio that changes over follow-up."
)


def _has_ph(models: list[CoxModel]) -> bool:
    return any(m.get("ph_test") for m in models)


def _ph_cell(model: Mapping[str, Any], covariate: str | None = None) -> str:
    """The PH test p of ``covariate`` in ``model`` (its global p when None); "" when untested."""
    ph = model.get("ph_test")
    if not ph:
        return ""
    if covariate is None:
        return fmt.p_value(ph["global"]["p"])
    for t in ph["terms"]:
        if t["covariate"] == covariate:
            return fmt.p_value(t["p"])
    return ""


def univariate_table(endpoints: dict[str, EndpointResults], labels: dict[str, str]) -> Table:
    """Table 3: one Cox model per covariate, HR (95% CI) and p, with the log-rank p and, when
    the results have it, the proportional-hazards test (PH p)."""
    names = [n for n, e in endpoints.items() if e.get("univariate")]
    with_ph = _has_ph([m for n in names for m in endpoints[n]["univariate"].values()])
    columns = ["Variable", "Comparison"]
    for n in names:
        columns += [f"{n} HR (95% CI)", f"{n} p", f"{n} log-rank p"]
        columns += [f"{n} PH p"] if with_ph else []
    table = Table("table3_univariate", "Table 3. Univariate Cox regression", columns)
    covariates = list(dict.fromkeys(c for n in names for c in endpoints[n]["univariate"]))
    for covariate in covariates:
        first = True
        terms = _term_labels([endpoints[n]["univariate"].get(covariate, {}) for n in names])
        for term in terms:
            cells: list[Any] = [labels.get(covariate, covariate) if first else "", term]
            for n in names:
                model: Mapping[str, Any] = endpoints[n]["univariate"].get(covariate, {})
                cells += _hr_cells(model, term)
                logrank = model.get("logrank")
                cells.append(fmt.p_value(logrank["p"]) if (logrank and first) else "")
                if with_ph:
                    cells.append(_ph_cell(model, covariate) if first else "")
                if first:
                    _warnings(table, n, model, labels.get(covariate, covariate))
            table.add(*cells)
            first = False
    if with_ph:
        table.notes.append(PH_NOTE)
    _firth_note(table, [m for n in names for m in endpoints[n]["univariate"].values()])
    _robust_note(table, endpoints, names, "univariate")
    return table


def _term_labels(models: list[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(t["term"] for m in models for t in m.get("terms", [])))


FIRTH_MARK = "\u2020"  # dagger: the model is Firth-penalised
FIRTH_NOTE = (
    f"{FIRTH_MARK} Firth-penalised Cox model (Heinze and Schemper 2001; as R's coxphf), "
    "{why}: hazard ratio with its profile penalised likelihood {level} CI; p from the "
    "penalised likelihood-ratio test of the coefficient."
)
_FIRTH_WHY = {
    "separation": "fitted because the ordinary fit showed monotone likelihood (separation: "
    "a coefficient ran to infinity)",
    "nested": "as a smaller model of its nested sequence",
    "requested": "as the study file asks (cox.firth: always)",
}


def _hr_cells(model: Mapping[str, Any], term: str) -> list[str]:
    mark = FIRTH_MARK if model.get("firth") else ""
    for t in model.get("terms", []):
        if t["term"] == term:
            if t.get("infinite"):
                return ["not estimable (separation)", ""]
            return [
                fmt.ratio_with_limits(t["hr"], t["lower"], t["upper"], 3) + mark,
                fmt.p_value(t["p"]),
            ]
    return ["NA", ""]


def _firth_note(table: Table, models: Sequence[Mapping[str, Any]], extra: str = "") -> None:
    """The footnote of the dagger, when a model of the table is Firth-penalised: why, per
    reason present (in a fixed order, so the notes do not depend on the models' order)."""
    reasons = {m["firth"]["reason"] for m in models if m.get("firth")}
    if reasons:
        why = "; ".join(_FIRTH_WHY[r] for r in _FIRTH_WHY if r in reasons)
        table.notes.append(FIRTH_NOTE.format(why=why, level="95%") + extra)


def _robust_note(
    table: Table, endpoints: dict[str, EndpointResults], names: list[str], key: str
) -> None:
    for n in names:
        e = endpoints[n]
        if e.get("cluster"):
            table.notes.append(
                f"{n}: analysed per {e['unit']}; standard errors robust (sandwich), clustered by "
                f"{e['cluster']}."
            )
    for n in names:
        models = e_models(endpoints[n], key)
        dropped = sorted({m["dropped"] for m in models if m.get("dropped")})
        if dropped:
            table.notes.append(
                f"{n}: rows with missing values dropped per model ({', '.join(map(str, dropped))})."
            )


def e_models(endpoint: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = endpoint.get(key)
    if isinstance(value, dict) and "terms" in value:
        return [value]
    if isinstance(value, dict):
        return list(value.values())
    return list(value or [])


def multivariate_table(endpoints: dict[str, EndpointResults], labels: dict[str, str]) -> Table:
    """Table 4: the multivariate Cox model of each endpoint."""
    names = [n for n, e in endpoints.items() if e.get("multivariate")]
    models = [endpoints[n]["multivariate"] for n in names]
    with_ph = _has_ph(models)
    columns = ["Variable", "Comparison"]
    for n in names:
        columns += [f"{n} HR (95% CI)", f"{n} p"]
        columns += [f"{n} PH p"] if with_ph else []
    table = Table("table4_multivariate", "Table 4. Multivariate Cox regression", columns)
    covariates = list(dict.fromkeys(c for m in models for c in m["covariates"]))
    for covariate in covariates:
        terms = _term_labels(
            [{"terms": [t for t in m["terms"] if t["covariate"] == covariate]} for m in models]
        )
        for i, term in enumerate(terms):
            cells: list[Any] = [labels.get(covariate, covariate) if i == 0 else "", term]
            for m in models:
                cells += _hr_cells(m, term) if covariate in m["covariates"] else ["NA", ""]
                if with_ph:
                    cells.append(_ph_cell(m, covariate) if i == 0 else "")
            table.add(*cells)
    blank = [""] if with_ph else []
    table.add(
        "n / events", "", *[x for m in models for x in (f"{m['n']} / {m['events']}", "", *blank)]
    )
    if with_ph:
        table.add("PH global test", "", *[x for m in models for x in ("", "", _ph_cell(m))])
    for n, m in zip(names, models, strict=True):
        _warnings(table, n, m, "multivariate")
    table.notes.append("NA: not in the model.")
    if with_ph:
        table.notes.append(PH_NOTE + " PH global test: all covariates of the model jointly.")
    _firth_note(table, models)
    _robust_note(table, endpoints, names, "multivariate")
    return table


def nested_table(endpoints: dict[str, EndpointResults], labels: dict[str, str]) -> Table:
    """Table 5: nested Cox models; HRs of every term, log-likelihood, LR test vs previous and,
    as Tables 3-4, the proportional-hazards test per covariate and globally (PH p)."""
    with_ph = _has_ph([m for e in endpoints.values() for m in e.get("nested", [])])
    columns = [
        "Endpoint",
        "Model",
        "Term",
        "HR (95% CI)",
        "p",
        *(["PH p"] if with_ph else []),
        "Log-likelihood",
        "LR test vs previous: chi2 (df), p",
    ]
    table = Table(
        "table5_nested", "Table 5. Nested Cox models with likelihood-ratio tests", columns
    )
    for n, e in endpoints.items():
        for k, model in enumerate(e.get("nested", []), start=1):
            added = [labels.get(c, c) for c in model["covariates"]]
            lr = model.get("lr_test")
            lr_text = (
                ""
                if lr is None
                else (f"{lr['statistic']:.3f} ({lr['df']}), {fmt.p_value(lr['p'])}")
            )
            # the penalised test carries the mark (the log-likelihood cell stays a number)
            lr_text += FIRTH_MARK if lr_text and model.get("firth") else ""
            loglik = "" if model.get("loglik") is None else f"{model['loglik']:.3f}"
            seen: set[str] = set()
            for i, t in enumerate(model["terms"]):
                first = i == 0
                ph = []
                if with_ph:  # one PH p per covariate (a categorical one spans its terms)
                    ph = [_ph_cell(model, t["covariate"]) if t["covariate"] not in seen else ""]
                    seen.add(t["covariate"])
                table.add(
                    n if (first and k == 1) else "",
                    f"Model {k}: {' + '.join(added)}" if first else "",
                    f"{labels.get(t['covariate'], t['covariate'])}: {t['term']}",
                    *_hr_cells({"terms": [t], "firth": model.get("firth")}, t["term"]),
                    *ph,
                    loglik if first else "",
                    lr_text if first else "",
                )
            if with_ph and model.get("ph_test"):
                table.add("", "", "PH global test", "", "", _ph_cell(model), "", "")
            _warnings(table, n, model, f"model {k}")
        if e.get("nested"):
            m = e["nested"][-1]
            table.notes.append(
                f"{n}: all models fitted on the same {m['n']} {e['unit']}s ({m['events']} events), "
                "the complete rows of the largest model."
            )
    if with_ph:
        table.notes.append(PH_NOTE + " PH global test: all covariates of the model jointly.")
    _firth_note(
        table,
        [m for e in endpoints.values() for m in e.get("nested", [])],
        " Its log-likelihood is penalised, and its likelihood-ratio test against the "
        "previous model is the penalised test of the added terms (R's coxphftest).",
    )
    return table
