"""Assemble the report (tables, figures, methods) from results and write every output file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rtoutcomes.report import fmt
from rtoutcomes.report.competing_risks import incidence_figures, incidence_table
from rtoutcomes.report.document import Figure, Report
from rtoutcomes.report.figures import Curve, flow_chart, km_figure
from rtoutcomes.report.methods import methods_paragraph
from rtoutcomes.report.survival_tables import (
    multivariate_table,
    nested_table,
    survival_summary,
    univariate_table,
)
from rtoutcomes.report.table import Table
from rtoutcomes.results.model import Cohort, Results


def _noop(_: str) -> None:
    """No progress display."""


def analysis_tables(results: Results) -> list[Table]:
    study = results["study"]
    endpoints = results["endpoints"]
    labels = {name: c["label"] for name, c in study["covariates"].items()}
    tables = [survival_summary(endpoints, study["time_unit"], study["km"]["conf_level"])]
    if any(e.get("univariate") for e in endpoints.values()):
        tables.append(univariate_table(endpoints, labels))
    if any(e.get("multivariate") for e in endpoints.values()):
        tables.append(multivariate_table(endpoints, labels))
    if any(e.get("nested") for e in endpoints.values()):
        tables.append(nested_table(endpoints, labels))
    if any(e.get("competing_risks") for e in endpoints.values()):
        tables.append(incidence_table(endpoints, study["time_unit"], study["km"]["conf_level"]))
    return tables


def km_figures(results: Results, progress: Callable[[str], None] = _noop) -> list[Figure]:
    study = results["study"]
    width = study["figure_width_mm"]
    figures = []
    for name, e in results["endpoints"].items():
        label = e.get("label") or name
        progress(f"drawing Kaplan-Meier figures for {name}")
        overall = Curve(label=label, km=e["km"], n=e["n"])
        figures.append(
            Figure(
                key=f"km_{name}",
                caption=f"Kaplan-Meier estimate of {label} ({e['n']} {e['unit']}s, {e['events']} "
                "events); tick marks are censored observations.",
                rendered=km_figure(
                    [overall],
                    title=label,
                    time_unit=study["time_unit"],
                    ylabel=label,
                    width_mm=width,
                ),
            )
        )
        for group, g in e.get("groups", {}).items():
            curves = [
                Curve(label=level, km=g["levels"][level]["km"], n=g["levels"][level]["n"])
                for level in g["order"]
            ]
            logrank = g["logrank"]
            p = logrank["p"] if logrank else None
            figures.append(
                Figure(
                    key=f"km_{name}_by_{group}",
                    caption=f"{label} by {g['label']}"
                    + (f" (log-rank {fmt.p_statement(p)})" if p is not None else "")
                    + "."
                    + (f" {g['dropped']} {e['unit']}(s) without a value of "
                       f"{g['label']} are not shown." if g.get("dropped") else ""),
                    rendered=km_figure(
                        curves,
                        title=f"{label} by {g['label']}",
                        time_unit=study["time_unit"],
                        ylabel=label,
                        p_text=None if p is None else f"Log-rank {fmt.p_statement(p)}",
                        width_mm=width,
                        legend_title=g["label"],
                    ),
                )
            )
    return figures


def flow_figure(cohort: Cohort, width_mm: int) -> Figure:
    flow = cohort["flow"]
    return Figure(
        key="flow_chart",
        caption="Study flow chart: screened, excluded by reason, enrolled patients and treated "
        "lesions.",
        rendered=flow_chart(
            flow["screened"], flow["excluded"], flow["enrolled"], flow["lesions"], width_mm=width_mm
        ),
    )


def build_report(
    results: Results,
    cohort_tables: list[Table] | None = None,
    progress: Callable[[str], None] = _noop,
) -> Report:
    """The report: cohort tables (registry mode) first, then the survival tables and figures."""
    tables = [*(cohort_tables or []), *analysis_tables(results)]
    figures = []
    if results.get("cohort", {}).get("flow"):
        figures.append(flow_figure(results["cohort"], results["study"]["figure_width_mm"]))
    figures += km_figures(results, progress)
    figures += incidence_figures(results, progress)
    warnings = list(results.get("warnings", []))
    title = results["study"]["title"]
    registry = results.get("cohort", {}).get("registry", {})
    if registry.get("synthetic"):
        title = f"{title} [SYNTHETIC DATA]"
        warnings.insert(0, f"SYNTHETIC DATA: the registry '{registry.get('name', '')}' is marked "
                        "synthetic; it describes no real patient.")
    return Report(
        title=title, results=results, tables=tables, figures=figures,
        methods=methods_paragraph(results), warnings=warnings,
    )

def write_report(report: Report, out_dir: Path, progress: Callable[[str], None] = _noop) -> None:
    """report.html, results.json, tables.docx, tables.xlsx, tables/*.csv, figures/*.{svg,png}."""
    from rtoutcomes.report.docx_file import write_docx
    from rtoutcomes.report.html import write_html
    from rtoutcomes.report.jsonio import write_json
    from rtoutcomes.report.tabular_files import write_csvs, write_xlsx

    out_dir.mkdir(parents=True, exist_ok=True)
    figures_dir = out_dir / "figures"
    figures_dir.mkdir(exist_ok=True)
    for figure in report.figures:
        (figures_dir / f"{figure.key}.svg").write_bytes(figure.rendered.svg)
        (figures_dir / f"{figure.key}.png").write_bytes(figure.rendered.png)
    results = dict(report.results)
    results["tables"] = {t.key: t.as_dict() for t in report.tables}
    progress("writing results.json, report.html, tables")
    write_json(results, out_dir / "results.json")
    write_html(report, out_dir / "report.html")
    write_csvs(report.tables, out_dir / "tables")
    write_xlsx(report.tables, out_dir / "tables.xlsx")
    write_docx(report.title, report.tables, out_dir / "tables.docx")
