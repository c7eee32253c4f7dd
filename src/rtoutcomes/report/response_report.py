"""The report's forest plots (one per multivariate Cox model), the best-response table, the
waterfall and the swimmer plot, from results.json."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rtoutcomes.report import fmt
from rtoutcomes.report.document import Figure
from rtoutcomes.report.figures import render_main
from rtoutcomes.report.forest import ForestRow, forest_figure
from rtoutcomes.report.response_plots import (
    swimmer_figure,
    swimmer_lanes_setting,
    swimmer_selection_sentence,
    waterfall_figure,
)
from rtoutcomes.report.table import Table
from rtoutcomes.results.model import (
    CoxModel,
    EndpointResults,
    GroupResults,
    Proportion,
    ResponseFacts,
    Results,
)

NAMES = {
    "CR": "Complete response (CR)",
    "PR": "Partial response (PR)",
    "SD": "Stable disease (SD)",
    "PD": "Progressive disease (PD)",
    "NE": "Not evaluable (NE)",
}


def _noop(_: str) -> None:
    """No progress display."""


def forest_rows(model: CoxModel, endpoint: EndpointResults, results: Results) -> list[ForestRow]:
    """Heading per covariate, its reference level (HR 1) and one row per term; n / events per
    level when the study grouped the endpoint by that covariate."""
    covariates = results["study"]["covariates"]
    rows = []
    for name in model["covariates"]:
        spec = covariates.get(name)
        label = spec["label"] if spec else name
        terms = [t for t in model["terms"] if t["covariate"] == name]
        group = endpoint.get("groups", {}).get(name)
        reference = spec.get("reference") if spec else None
        if reference is None or spec is None or spec.get("type") == "continuous":
            for t in terms:
                rows.append(
                    ForestRow(f"{label}: {t['term']}", "", t["hr"], t["lower"], t["upper"], t["p"])
                )
            continue
        rows.append(ForestRow(label, heading=True))
        rows.append(ForestRow(reference, _counts(group, reference), reference=True))
        for t in terms:
            level = t["term"].split(" vs ")[0]
            hr = None if t.get("infinite") else t["hr"]
            rows.append(ForestRow(level, _counts(group, level), hr, t["lower"], t["upper"], t["p"]))
    return rows


def _counts(group: GroupResults | None, level: str) -> str:
    """n / events of a level when the study grouped by the covariate (its KM)."""
    if group is None or level not in group["levels"]:
        return ""
    entry = group["levels"][level]
    return f"{entry['n']} / {entry['events']}"


def forest_figures(
    results: Results, progress: Callable[[str], None] = _noop, only: Sequence[str] | None = None
) -> list[Figure]:
    """One forest plot per endpoint with a multivariate model (``only``: of these endpoints)."""
    figures = []
    width = max(174, results["study"]["figure_width_mm"])
    settings = results["study"]["figures"]
    for name, e in results["endpoints"].items():
        model = e.get("multivariate")
        if not model or (only is not None and name not in only):
            continue
        progress(f"drawing the forest plot of {name}")
        label = e.get("label") or name
        firth = model.get("firth")
        kind = "Firth-penalised multivariate Cox model" if firth else "multivariate Cox model"
        fig = forest_figure(
            forest_rows(model, e, results), title=f"{label}: {kind}", width_mm=width
        )
        intervals = (
            "Firth-penalised hazard ratios (Heinze and Schemper 2001; as R's coxphf, "
            "the ordinary fit being separated"
            if firth and firth["reason"] != "requested"
            else "Firth-penalised hazard ratios (Heinze and Schemper 2001; as R's coxphf"
            if firth
            else ""
        )
        hr_text = (
            f"{intervals}) with profile penalised likelihood 95% confidence intervals "
            "and penalised likelihood-ratio p"
            if firth
            else "hazard ratios with 95% confidence intervals"
        )
        figures.append(
            Figure(
                key=f"forest_{name}",
                caption=f"Forest plot of the {kind} of {label} ({model['n']} "
                f"{e['unit']}s, {model['events']} events): {hr_text} on a log scale; open "
                "diamonds mark the reference levels; n / events per level where the study compared "
                "the levels by Kaplan-Meier.",
                rendered=render_main(fig, settings),
            )
        )
    return figures


def _rate(p: Proportion) -> str:
    if p["estimate"] is None:
        return "NA"
    return (
        f"{p['events']}/{p['n']}: {fmt.percent(p['estimate'])}% "
        f"({fmt.percent(p['lower'])}{fmt.DASH}{fmt.percent(p['upper'])})"
    )


def best_response_table(response: ResponseFacts) -> Table:
    """Best response per lesion (RECIST 1.1): n (%) per category, ORR and DCR with exact CIs."""
    counts = response["counts"]
    n = sum(counts.values())
    level = f"{100 * response['conf_level']:g}%"
    table = Table(
        "best_response",
        "Best response of the treated lesions (RECIST 1.1)",
        ["Best response", f"Lesions (n = {n}), n (%) / % ({level} CI)"],
    )
    cells = fmt.n_percent(list(counts.values())) if n else ["0"] * len(counts)
    for category, cell in zip(counts, cells, strict=True):
        table.add(NAMES.get(category, category), cell)
    table.add("Objective response rate (CR + PR)", _rate(response["orr"]))
    table.add("Disease control rate (CR + PR + SD)", _rate(response["dcr"]))
    table.notes.append(
        "Best response of each lesion over its follow-up scans up to its first local failure "
        "(single-lesion RECIST 1.1: CR disappearance, PR >= 30% decrease from baseline, PD the "
        "study's local-failure rule, SD otherwise; no minimum duration for SD); NE: no measured "
        "follow-up scan. Rates over all treated lesions (NE included) with exact "
        "(Clopper-Pearson) confidence intervals, as R's binom.test."
    )
    return table


def response_figures(results: Results, progress: Callable[[str], None] = _noop) -> list[Figure]:
    """Swimmer and waterfall plots of a registry study."""
    cohort = results.get("cohort", {})
    study = results["study"]
    figures = []
    if cohort.get("swimmer"):
        progress("drawing the swimmer plot")
        lanes = cohort["swimmer"]
        options = study["figures"]
        max_lanes = swimmer_lanes_setting(results)
        fig = swimmer_figure(
            lanes,
            time_unit=study["time_unit"],
            width_mm=study["figure_width_mm"],
            max_time=options["max_time"],
            break_time=options["break_time"],
            max_lanes=max_lanes,
        )
        shown = (
            f"Course of each of the {len(lanes)} treated lesions"
            if len(lanes) <= max_lanes
            else f"Course of {max_lanes} of the {len(lanes)} treated lesions"
        )
        figures.append(
            Figure(
                key="swimmer",
                caption=f"{shown} from the start of its SBRT course to the patient's death or "
                "last follow-up (arrow: alive), with SBRT courses, scans, local failure of the "
                "lesion, the patient's progression and death."
                + (
                    ""
                    if len(lanes) <= max_lanes
                    else f" {swimmer_selection_sentence(len(lanes), max_lanes)}"
                ),
                rendered=render_main(fig, study["figures"]),
            )
        )
    response = cohort.get("response")
    if response:
        progress("drawing the waterfall plot")
        lesions = response["lesions"]
        unmeasured = sum(1 for lesion in lesions if lesion["best_change_pct"] is None)
        fig = waterfall_figure(lesions, width_mm=study["figure_width_mm"])
        figures.append(
            Figure(
                key="waterfall",
                caption="Best change of the longest diameter from baseline per lesion, by best "
                "response (RECIST 1.1); dashed lines at +20% and \u221230%; bars beyond 200% are "
                "cut."
                + (
                    f" {unmeasured} lesion(s) without a measured follow-up scan are not shown."
                    if unmeasured
                    else ""
                ),
                rendered=render_main(fig, study["figures"]),
            )
        )
    return figures
