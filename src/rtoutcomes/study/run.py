"""Run a study end to end: analysis table(s) -> analyses -> results.json and the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rtoutcomes import forking
from rtoutcomes.clinical.local_failure import LOCAL_FAILURE_RULES
from rtoutcomes.io.outputs import check_output_folder
from rtoutcomes.results.model import (
    SCHEMA_VERSION,
    Cohort,
    CovariateSummary,
    CoxOptionsSummary,
    EndpointResults,
    FigureSettings,
    KMOptionsSummary,
    Provenance,
    RegistryStateData,
    Results,
    StudySummary,
)
from rtoutcomes.study.analysis import MIN_EVENTS_PER_VARIABLE, covariate_definitions, run_analyses
from rtoutcomes.study.errors import AnalysisTableError, StudyFileError
from rtoutcomes.study.forked import ReportProcess
from rtoutcomes.study.memory import imported_uncollected
from rtoutcomes.study.spec import Study
from rtoutcomes.study.summaries import PH_ALPHA
from rtoutcomes.study.table import read_table, sha256_of

if TYPE_CHECKING:
    import pandas as pd

    from rtoutcomes.registry.reading import RegistryState, Snapshot
    from rtoutcomes.report.document import Figure
    from rtoutcomes.report.table import Table

Progress = Callable[[str], None]
TablesRead = Callable[[dict[str, "pd.DataFrame"]], None]  # given the registry's tables as read


def _quiet(_: str) -> None:
    """No progress display."""


def study_summary(study: Study) -> StudySummary:
    """The study's options as results.json records them (what the methods paragraph reads)."""
    covariates: dict[str, CovariateSummary] = {}
    for name, c in covariate_definitions(study).items():
        covariates[name] = {
            "label": c.display,
            "type": c.type,
            "column": c.column,
            "reference": c.reference,
            "levels": list(c.levels),
        }
        if c.type == "binary" and c.cut is not None:  # a binary covariate always has its cut
            covariates[name]["cut"] = c.cut
            covariates[name]["cut_in"] = c.cut_in
    km: KMOptionsSummary = {"conf_type": study.km.conf_type, "conf_level": study.km.conf_level}
    cox: CoxOptionsSummary = {"ties": study.cox.ties}
    if study.km.strata:  # only when given: an unstratified study's results.json is unchanged
        km["strata"] = list(study.km.strata)
    if study.cox.strata:
        cox["strata"] = list(study.cox.strata)
    if study.cox.firth != "never":  # only when asked: the default results.json is unchanged
        cox["firth"] = study.cox.firth
    figures: FigureSettings = {
        "max_time": study.figures.max_time,
        "break_time": study.figures.break_time,
        "confidence_bands": study.figures.confidence_bands,
        "panels": [list(p) for p in study.figures.panels],
        "formats": list(study.figures.formats),
        "tiff_dpi": study.figures.tiff_dpi,
    }
    if study.figures.swimmer_lanes is not None:  # only when given, as cox.firth
        figures["swimmer_lanes"] = study.figures.swimmer_lanes
    return {
        "title": study.title,
        "source": study.source_mode,
        "time_unit": study.time_unit,
        "rates_at": list(study.rates_at),
        "km": km,
        "cox": cox,
        "endpoints": {
            name: {
                "time_column": e.time,
                "event_column": e.event,
                "event_values": list(e.event_values),
                "cluster": e.cluster,
                "unit": e.unit,
                "label": e.display,
            }
            for name, e in study.endpoints.items()
        },
        "covariates": covariates,
        "figure_width_mm": study.figure_width_mm,
        "figures": figures,
        "manuscript": {"page_size": study.page_size, "orientation": study.orientation},
        "local_failure_rule": study.local_failure_rule,
        "competing_death_within": study.competing_death_within,
        "lost_to_follow_up_after": study.lost_after,
        "local_failure_definition": LOCAL_FAILURE_RULES[study.local_failure_rule].definition(),
        "alpha_beta_gy": study.alpha_beta_gy,
        "thresholds": {"events_per_variable": MIN_EVENTS_PER_VARIABLE, "ph_alpha": PH_ALPHA},
    }


def collect_warnings(endpoints: dict[str, EndpointResults]) -> list[str]:
    """Every model warning, prefixed with the endpoint and the model it concerns."""
    found: list[str] = []
    for name, e in endpoints.items():
        models = [(f"univariate {k}", m) for k, m in e["univariate"].items()]
        if "multivariate" in e:
            models.append(("multivariate", e["multivariate"]))
        models += [(f"nested model {i}", m) for i, m in enumerate(e.get("nested", []), start=1)]
        for what, model in models:
            found += [f"{name}, {what}: {w}" for w in model["warnings"]]
    return found


def analyze_file(
    study: Study, data_path: Path, out_dir: Path, progress: Progress = _quiet
) -> Results:
    """``rtoutcomes analyze``: the study's analyses on a flat analysis table; writes the report."""
    check_output_folder(out_dir)  # before the work, not after it
    with (
        ReportProcess() as report_process,  # imports the report's libraries meanwhile
        # the provenance needs neither the table nor the results: a child forked now works
        # it out (importlib.metadata's import, the packages' versions, two git commands and
        # the data file's hash: ~0.05 s) while this process imports pandas and reads
        forking.InChild(lambda: _provenance(study, data_path)) as provenance_child,
    ):
        progress(f"reading {data_path.name}")
        imported_uncollected(("pandas",))  # what read_table imports, ~0.05 CPU s faster
        table = read_table(data_path)
        from rtoutcomes.report.cohort_tables import characteristics_table
        from rtoutcomes.study.characteristics import characteristics

        prov = provenance_child.result()
        cohort: Cohort = {}
        tables = []
        if study.covariates:
            cohort["characteristics"] = characteristics(study, table)
            tables.append(characteristics_table(cohort["characteristics"], len(table)))
        return _finish(
            study,
            {name: table for name in study.endpoints},
            prov,
            out_dir,
            progress,
            cohort,
            tables,
            report_process,
        )


def _name(study: Study) -> str:
    return study.path.name if study.path is not None else "study"


def _provenance(study: Study, data_path: Path) -> Provenance:
    """The provenance of ``analyze``'s results: the study file's and the table's names and
    hashes, the software's versions and commit."""
    from rtoutcomes.report.provenance import provenance

    return provenance(_name(study), study.sha256, data_path.name, sha256_of(data_path))


def _finish(
    study: Study,
    tables: dict[str, pd.DataFrame],
    prov: Provenance,
    out_dir: Path,
    progress: Progress,
    cohort: Cohort | None = None,
    cohort_tables: list[Table] | None = None,
    report_process: ReportProcess | None = None,
) -> Results:
    """The analyses, then the report (drawn and written by ``report_process`` when given),
    and ``analysis/<endpoint>.csv``, all into one staging folder moved into ``out_dir`` when
    everything is written.

    The analysis CSVs need the tables, not the results: from ``PARALLEL_ROWS`` rows a child
    forked before the analyses writes them meanwhile (at 1e6 rows ~1.4 CPU s that the parent
    otherwise spends after the analyses, while the second core has time during them). Where
    the report's per-lesion table needs the frames (derived lesion endpoints, registry mode),
    this process builds them after the analyses and writes the CSVs itself."""
    from rtoutcomes.forking import InChild
    from rtoutcomes.io.outputs import staged_output
    from rtoutcomes.study.analysis import PARALLEL_ROWS

    lesion_table = any(e.derived and e.unit == "lesion" for e in study.endpoints.values())
    rows = sum(len(t) for t in tables.values())
    with (
        staged_output(out_dir) as stage,
        report_process or ReportProcess(fork=False) as writer,
        InChild(
            lambda: _write_analysis_csvs(study, tables, None, cohort, stage),
            fork=not lesion_table and rows >= PARALLEL_ROWS,
        ) as csvs,
    ):
        endpoints = run_analyses(study, tables, progress)
        results: Results = {
            "schema_version": SCHEMA_VERSION,
            "study": study_summary(study),
            "endpoints": endpoints,
            "cohort": cohort or {},
            "provenance": prov,
            "warnings": collect_warnings(endpoints),
        }
        supplement: list[Table] = []
        if lesion_table:
            from rtoutcomes.report.endpoint_table import lesion_endpoint_table
            from rtoutcomes.study.analysis_export import analysis_frames

            frames = analysis_frames(study, tables)
            per_lesion = lesion_endpoint_table(
                frames, {name: e.unit for name, e in study.endpoints.items()}, study.time_unit
            )
            supplement = [per_lesion] if per_lesion else []
        progress("drawing figures")
        writer.submit(write_report, results, cohort_tables, supplement, stage, progress)
        if lesion_table:
            _write_analysis_csvs(study, tables, frames, cohort, stage)
        else:
            csvs.result()  # written by the child, or here now without one
        writer.wait()
    return results


def _write_analysis_csvs(
    study: Study,
    tables: dict[str, pd.DataFrame],
    frames: dict[str, pd.DataFrame] | None,
    cohort: Cohort | None,
    stage: Path,
) -> None:
    """``analysis/<endpoint>.csv`` (and ``analysis/swimmer.csv``) into ``stage``."""
    from rtoutcomes.report.tabular_files import write_analysis_csvs
    from rtoutcomes.study.analysis_export import analysis_frames

    if frames is None:
        frames = analysis_frames(study, tables)
    lanes = (cohort or {}).get("swimmer")
    if lanes:  # every lane, also those the plot leaves out
        from rtoutcomes.study.response import swimmer_table

        frames = {**frames, "swimmer": swimmer_table(lanes)}
    write_analysis_csvs(frames, stage / "analysis")


def write_report(
    results: Results,
    cohort_tables: list[Table] | None,
    supplement: list[Table],
    folder: Path,
    progress: Progress,
    early: Callable[[], list[Figure]] | None = None,
) -> None:
    """The report's tables, figures and files from ``results``, written into ``folder``
    (the figures drawn by workers while the tables are written). ``early``: waits for the
    swimmer and waterfall plots begun before the analyses (``report.early_figures``,
    started by ``run_on_tables``)."""
    from rtoutcomes.report.build import write_report_while_drawing

    write_report_while_drawing(results, cohort_tables, supplement, folder, progress, early)


def run_registry(
    study: Study,
    db_url: str,
    out_dir: Path,
    progress: Progress = _quiet,
    *,
    report_process: ReportProcess | None = None,
    tables_read: TablesRead | None = None,
    read: Snapshot | None = None,
) -> Results:
    """``rtoutcomes run`` on a registry database: cohort tables, flow chart and analyses.

    ``report_process``: one forked earlier by the caller (the demo forks it before its registry
    import, so that it imports the report's libraries meanwhile); ``tables_read`` is called with
    the registry's tables as soon as they are read (the demo's console summary is derived from
    them in a forked process instead of reading the registry again). ``read``: the registry
    already read by the caller, ``registry.audit.snapshot(db_url, study.as_of)``'s value (the
    demo's import process reads back what it wrote, so that this process never imports the
    database library); read here when not given."""
    check_output_folder(out_dir)
    from rtoutcomes.registry.tables import frames_of_rows

    when = f" as of {study.as_of}" if study.as_of else ""
    # the report process imports the report's libraries while the registry is read and analysed
    with report_process or ReportProcess() as report_process:
        progress(f"reading the registry{when}")
        if read is None:
            from rtoutcomes.registry.audit import snapshot

            read = snapshot(db_url, study.as_of)
        tables = frames_of_rows(read.rows)
        if tables_read is not None:
            tables_read(tables)
        return run_on_tables(
            study,
            tables,
            out_dir,
            progress,
            data_name=_database_name(db_url),
            registry_state=_registry_state(read.state),
            report_process=report_process,
        )


def run_on_tables(
    study: Study,
    tables: dict[str, pd.DataFrame],
    out_dir: Path,
    progress: Progress = _quiet,
    data_name: str = "registry",
    registry_state: RegistryStateData | None = None,
    report_process: ReportProcess | None = None,
) -> Results:
    """A registry study on registry tables already in memory (``read_tables``' dict); the
    report written by ``report_process`` when given (``_finish``)."""
    from rtoutcomes.report.cohort_tables import cohort_tables
    from rtoutcomes.report.provenance import provenance
    from rtoutcomes.study.cohort import cohort_facts
    from rtoutcomes.study.registry_table import build_registry_data, endpoint_tables

    for table in ("patients", "lesions", "sbrt_courses"):
        if len(tables[table]) == 0:
            raise AnalysisTableError(
                f"{data_name}: the registry holds no {table.replace('_', ' ')} (it is empty, or "
                "an import is still writing it): nothing to analyse"
            )
    progress("deriving endpoints and covariates")
    data = build_registry_data(tables, study)
    from rtoutcomes.report.early_figures import early_figures
    from rtoutcomes.study.registry_table import local_failure_rule
    from rtoutcomes.study.response import response_facts, swimmer_lanes

    response = response_facts(data, local_failure_rule(study), study.km.conf_level)
    swimmer = swimmer_lanes(data, study.time_unit)
    writer = report_process or ReportProcess(fork=False)
    # the swimmer and waterfall plots need no analysis: the report process forks a process
    # that draws them now, on the core that would wait for the analyses (~0.45 CPU s of the
    # demo's figures); without one they are drawn with the others, the same figures
    writer.start_early(
        early_figures, study_summary(study), {"swimmer": swimmer, "response": response}
    )
    cohort = cohort_facts(data, study.schedule_groups, study.dose_metrics)
    cohort["response"] = response
    cohort["swimmer"] = swimmer
    analysed = endpoint_tables(study, data)
    from rtoutcomes.clinical.endpoints import DAYS_PER_MONTH
    from rtoutcomes.study.cohort import lost_to_follow_up

    after_days = study.lost_after * (DAYS_PER_MONTH if study.time_unit == "months" else 1.0)
    lost = lost_to_follow_up(data, analysed, study.endpoints, after_days)
    if lost is not None:
        cohort["flow"]["lost_to_follow_up"] = lost
    prov = provenance(_name(study), study.sha256, data_name, tables_sha256(tables), registry_state)
    return _finish(study, analysed, prov, out_dir, progress, cohort, cohort_tables(cohort), writer)


def _registry_state(state: RegistryState) -> RegistryStateData:
    """The registry state for provenance: the same for a run then and ``--as-of`` it later
    (the ``as_of`` text itself is left out)."""
    return {
        "label": state.label,
        "batch": state.batch,
        "audit_seq": state.seq,
        "chain_hash": state.chain_hash,
    }


def tables_sha256(tables: dict[str, pd.DataFrame]) -> str:
    """SHA-256 of the registry content: every table as CSV, tables in name order."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(name.encode())
        digest.update(tables[name].to_csv(index=False, lineterminator="\n").encode())
    return digest.hexdigest()


def _database_name(db_url: str) -> str:
    """The database named without credentials or folders (provenance must not leak them)."""
    if "://" not in db_url:
        return Path(db_url).name
    scheme, rest = db_url.split("://", 1)
    return f"{scheme}://.../{rest.rsplit('/', 1)[-1]}"


def resolve_data(study: Study, override: Path | None) -> Path:
    """The analysis table: the command line's, else the study file's ``data``."""
    path = override or study.data
    if path is None:
        raise StudyFileError(
            f"{_name(study)}: key 'data': no analysis table given (set 'data' in the study file "
            "or pass one on the command line)"
        )
    return path
