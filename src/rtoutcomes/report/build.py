"""Assemble the report (tables, figures, methods) from results and write every output file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rtoutcomes.report.competing_risks import fine_gray_of, fine_gray_table, incidence_table
from rtoutcomes.report.document import Figure, Report
from rtoutcomes.report.methods import methods_paragraph
from rtoutcomes.report.parallel_figures import Pending
from rtoutcomes.report.survival_tables import (
    multivariate_table,
    nested_table,
    survival_summary,
    univariate_table,
)
from rtoutcomes.report.table import Table
from rtoutcomes.results.model import Results

# figures (roughly: four per endpoint) from which workers are worth starting: one endpoint's
# (three Kaplan-Meier panels and a forest plot, ~1 CPU s) are already drawn faster by two forked
# workers than by one process (the report process of study.forked has imported the plotting
# modules before, so a worker starts in milliseconds)
MIN_PARALLEL = 4


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
    if any(fine_gray_of(e) for e in endpoints.values()):
        tables.append(fine_gray_table(endpoints, labels))
    return tables


def flow_figure(results: Results) -> Figure:
    """Figure 1: the CONSORT-style flow chart, in every requested format."""
    from rtoutcomes.report.figures import render_main
    from rtoutcomes.report.flow_chart import analysed_from_results, flow_chart_figure

    flow = results["cohort"]["flow"]
    study = results["study"]
    fig = flow_chart_figure(
        flow["screened"],
        flow["excluded"],
        flow["enrolled"],
        flow["lesions"],
        analysed_from_results(results),
        width_mm=study["figure_width_mm"],
    )
    return Figure(
        key="flow_chart",
        caption="Study flow chart: patients screened, excluded by reason, enrolled, lesions "
        "treated and analysed per endpoint.",
        rendered=render_main(fig, study["figures"]),
    )


def figure_tasks(
    results: Results, workers: int, response: Callable[[], list[Figure]] | None = None
) -> tuple[list[Callable[[], list[Figure]]], list[float], int]:
    """One task per figure or small group of figures (``results`` made safe by
    ``xml_safe_tree``), each with a rough cost (panels drawn times formats) so that ``workers``
    processes start on the largest first and finish together; and how many of the tasks, the
    first ones, draw the main figures (the others draw the single panels of the supplement).
    ``response``: the swimmer and waterfall plots' task, when they are drawn elsewhere
    already (``report.early_figures``; its cost 0)."""
    from rtoutcomes.report.response_report import forest_figures, response_figures
    from rtoutcomes.report.survival_figures import (
        all_panels,
        composite_figures,
        single_figures,
    )

    tasks: list[Callable[[], list[Figure]]] = []
    costs: list[float] = []
    formats = len(results["study"]["figures"]["formats"])
    if results.get("cohort", {}).get("flow"):
        tasks.append(lambda: [flow_figure(results)])
        costs.append(formats)
    panels = all_panels(results)
    first_number = len(tasks) + 1
    for index, names in enumerate(results["study"]["figures"]["panels"]):
        tasks.append(
            lambda index=index: composite_figures(  # type: ignore[misc]
                results, panels, first_number, only=[index]
            )
        )
        costs.append(formats * max(1, sum(1 for name in names if name in panels)))
    for name, e in results["endpoints"].items():
        if e.get("multivariate"):
            tasks.append(lambda name=name: forest_figures(results, only=[name]))  # type: ignore[misc]
            costs.append(formats)
    if response is None:
        tasks.append(lambda: response_figures(results))
        costs.append(2 * formats)
    else:
        tasks.append(response)
        costs.append(0.0)
    main = len(tasks)
    singles = list(panels.values())
    # drawn last, a panel a task (~0.05-0.15 CPU s; a task's own cost in the pool is ~1 ms):
    # the workers finish together, the last task alone on a core at the end is short (two
    # panels a task left one of ~0.1-0.2 s). A panel costs a fixed part and about as much
    # again per curve (its line, censor marks and row of numbers at risk: 0.11 CPU s with one
    # curve, 0.15-0.16 with two at 1e5 rows), so that the cheapest are drawn last and no
    # costly one is left alone on a core at the end
    for named in singles:
        tasks.append(lambda named=named: single_figures(results, [named]))  # type: ignore[misc]
        costs.append(2 * (1 + len(named.panel.curves)))
    return tasks, costs, main


def _workers(results: Results, workers: int | None) -> int:
    from rtoutcomes.report.parallel_figures import available_cores

    if workers is not None:
        return workers
    # a handful of figures is drawn faster than workers start
    return available_cores() if len(results["endpoints"]) * 4 >= MIN_PARALLEL else 1


def start_figures(
    results: Results,
    workers: int | None = None,
    progress: Callable[[str], None] = _noop,
    response: Callable[[], list[Figure]] | None = None,
) -> tuple[Pending, list[int]]:
    """The report's figures begun (``results`` made safe) by workers forked now, the main
    figures first; ``Pending`` waits for them, ``Pending.of`` the tasks listed second (the main
    figures: the Word file's) for theirs. ``response``: waits for the swimmer and waterfall
    plots drawn elsewhere (``report.early_figures``), in their place among the figures."""
    from rtoutcomes.report.parallel_figures import start

    workers = _workers(results, workers)
    tasks, costs, main = figure_tasks(results, workers, response)
    progress(f"drawing {len(tasks)} figure tasks on {workers} core(s)")
    first = list(range(main))
    elsewhere = [i for i, task in enumerate(tasks) if response is not None and task is response]
    return start(tasks, workers, costs, first=first, elsewhere=elsewhere), first


def build_report(
    results: Results,
    cohort_tables: list[Table] | None = None,
    progress: Callable[[str], None] = _noop,
    workers: int | None = None,
    supplement: list[Table] | None = None,
) -> Report:
    """The report: cohort tables (registry mode) first, then the survival tables, the
    ``supplement`` tables and the figures (drawn by ``workers`` processes, default the available
    cores; same bytes as one).

    Tables, figures and text are drawn from a copy of ``results`` whose strings hold no control
    character (a registry text or study-file label with ESC or NUL would break Word, Excel and
    the figures' fonts); results.json keeps them as they are (JSON escapes them).
    """
    from rtoutcomes.io.outputs import xml_safe_tree

    safe = xml_safe_tree(results)
    figures, _ = start_figures(safe, workers, progress)
    return _report(results, safe, cohort_tables, supplement, figures())


def _report(
    raw: Results,
    results: Results,
    cohort_tables: list[Table] | None,
    supplement: list[Table] | None,
    figures: list[Figure],
) -> Report:
    tables = [*(cohort_tables or []), *analysis_tables(results), *(supplement or [])]
    warnings = list(results.get("warnings", []))
    title = results["study"]["title"]
    registry = results.get("cohort", {}).get("registry", {})
    if registry.get("synthetic"):
        title = f"{title} [SYNTHETIC DATA]"
        warnings.insert(
            0,
            f"SYNTHETIC DATA: the registry '{registry.get('name', '')}' is marked "
            "synthetic; it describes no real patient.",
        )
    return Report(
        title=title,
        results=raw,
        tables=tables,
        figures=figures,
        methods=methods_paragraph(results),
        warnings=warnings,
    )


def write_report_while_drawing(
    results: Results,
    cohort_tables: list[Table] | None,
    supplement: list[Table] | None,
    folder: Path,
    progress: Callable[[str], None] = _noop,
    response: Callable[[], list[Figure]] | None = None,
) -> Report:
    """``build_report`` and ``write_report_files`` in one, faster: the figures are drawn by
    workers forked here while results.json, the CSV tables, the Excel file and the Word file's
    tables are written; the Word file waits for the main figures only where they go (they are
    drawn first: the rest of it is written while the single panels are drawn); the same files.
    ``response``: waits for the swimmer and waterfall plots drawn elsewhere
    (``report.early_figures``)."""
    from rtoutcomes.io.outputs import xml_safe_tree

    safe = xml_safe_tree(results)
    pending, main = start_figures(safe, None, progress, response)
    report = _report(results, safe, cohort_tables, supplement, [])

    progress("writing results.json, tables")
    _write_tables(report, folder)
    _write_docx(report, folder, lambda: pending.of(main))  # the Word file shows the main ones
    progress("writing figures and report.html")
    for task in range(pending.tasks):  # each task's files as soon as they are drawn
        _write_figure_files(pending.of([task]), folder)
    report.figures = pending()
    _write_html(report, folder)
    return report


def write_report(report: Report, out_dir: Path, progress: Callable[[str], None] = _noop) -> None:
    """report.html, results.json, manuscript.docx, tables.xlsx, tables/*.csv, figures/* (PNG and
    SVG; TIFF and PDF of the main figures).

    Written into a folder beside ``out_dir`` and moved into it whole (``staged_output``): these
    names in ``out_dir`` are replaced together, or, if anything fails, none is.
    """
    from rtoutcomes.io.outputs import staged_output

    with staged_output(out_dir) as stage:
        write_report_files(report, stage, progress)


def write_report_files(report: Report, out_dir: Path, progress: Callable[[str], None]) -> None:
    """The report's files written into ``out_dir`` as they are (no staging)."""
    progress("writing results.json, report.html, tables")
    _write_tables(report, out_dir)
    _write_figures_and_html(report, out_dir)
    _write_docx(report, out_dir)


def _write_tables(report: Report, out_dir: Path) -> None:
    """results.json, tables/*.csv and tables.xlsx: what needs no figure."""
    from rtoutcomes.report.jsonio import write_json
    from rtoutcomes.report.tabular_files import write_csvs, write_xlsx

    results = dict(report.results)
    results["tables"] = {t.key: t.as_dict() for t in report.tables}
    write_json(results, out_dir / "results.json")
    write_csvs(report.tables, out_dir / "tables")
    write_xlsx(report.tables, out_dir / "tables.xlsx")


def _write_figures_and_html(report: Report, out_dir: Path) -> None:
    """figures/* and report.html."""
    _write_figure_files(report.figures, out_dir)
    _write_html(report, out_dir)


def _write_figure_files(figures: list[Figure], out_dir: Path) -> None:
    """``figures``' files in figures/."""
    figures_dir = out_dir / "figures"
    figures_dir.mkdir(exist_ok=True)
    for figure in figures:
        for extension, data in figure.rendered.files.items():
            (figures_dir / f"{figure.key}.{extension}").write_bytes(data)


def _write_html(report: Report, out_dir: Path) -> None:
    """report.html."""
    from rtoutcomes.report.html import write_html

    write_html(report, out_dir / "report.html")


def _write_docx(
    report: Report, out_dir: Path, figures: Callable[[], list[Figure]] | None = None
) -> None:
    """manuscript.docx (``figures``: see ``write_docx``)."""
    from rtoutcomes.report.docx_file import write_docx

    page = report.results["study"].get("manuscript") or {}
    write_docx(
        report,
        out_dir / "manuscript.docx",
        page_size=page.get("page_size", "A4"),
        orientation=page.get("orientation", "portrait"),
        figures=figures,
    )
