"""The demo registry: a SYNTHETIC SBRT cohort shipped with rtoutcomes (no real patient).

It is modelled on the published summary of Feng et al., "Stereotactic body radiotherapy for
recurrent and oligometastatic soft tissue sarcoma", World J Surg Oncol 2022;20:322: 68 screened
candidates, 31 excluded, 37 patients, 58 lesions, every count of the paper's Tables 1 and 2, and
outcomes simulated so that Kaplan-Meier local control, overall and progression-free survival
come close to the paper's. The CSV files (``rtoutcomes/data/demo/``, the registry format of
docs/registry-format.md) are written by ``scripts/make_demo_registry.py`` with a fixed seed;
docs/demo-registry.md describes the simulation and its calibration.

``build_demo_registry(out_dir)`` imports them into ``out_dir/registry.db`` (SQLite) through the
normal validated import and returns a :class:`CohortSummary` of the result.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

    from rtoutcomes.registry.reading import Snapshot

SYNTHETIC_BANNER = (
    "SYNTHETIC DEMO DATA - not real patients. Modelled on Feng et al., "
    "World J Surg Oncol 2022;20:322."
)
DEMO_REGISTRY_NAME = "rtoutcomes demo registry (SYNTHETIC)"
DEMO_DATABASE = "registry.db"
RATE_MONTHS = (12, 24, 36)


class DemoError(RtOutcomesError):
    """The demo registry cannot be built where asked (or its files are missing)."""


def demo_registry_files() -> Path:
    """The folder of the shipped demo registry's CSV files (one ``<table>.csv`` per table)."""
    from importlib.resources import files

    folder = Path(str(files("rtoutcomes.data").joinpath("demo")))
    if not (folder / "patients.csv").is_file():
        raise DemoError(
            f"the demo registry files are missing from {folder} "
            "(regenerate them with scripts/make_demo_registry.py)"
        )
    return folder


@dataclass(frozen=True)
class EndpointLine:
    """Events and Kaplan-Meier rates of one endpoint (rates in %, at RATE_MONTHS)."""

    endpoint: str
    unit: str
    n: int
    events: int
    rates_pct: tuple[float, ...]


@dataclass(frozen=True)
class CohortSummary(TabularResult):
    """What a registry holds: the flow, the cohort, the follow-up and the endpoints.

    Follow-up is the observed time of overall survival (to death or last known alive), months.
    """

    database: str
    name: str
    synthetic: bool
    data_cutoff: dt.date | None
    screened: int
    excluded: int
    exclusion_reasons: tuple[tuple[str, int], ...]
    patients: int
    lesions: int
    courses: int
    follow_up_median_months: float
    follow_up_min_months: float
    follow_up_max_months: float
    endpoints: tuple[EndpointLine, ...]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows: list[tuple[str, object]] = [
            ("name", self.name),
            ("synthetic", "yes" if self.synthetic else "no"),
            ("database", self.database),
            ("data cut-off", "" if self.data_cutoff is None else self.data_cutoff.isoformat()),
            ("screened candidates", self.screened),
            ("excluded", self.excluded),
            *((f"excluded: {reason}", count) for reason, count in self.exclusion_reasons),
            ("patients", self.patients),
            ("lesions", self.lesions),
            ("SBRT courses", self.courses),
            ("follow-up median (months)", round(self.follow_up_median_months, 1)),
            ("follow-up min (months)", round(self.follow_up_min_months, 1)),
            ("follow-up max (months)", round(self.follow_up_max_months, 1)),
        ]
        for line in self.endpoints:
            rows.append((f"{line.endpoint} events ({line.unit})", f"{line.events}/{line.n}"))
            for months, rate in zip(RATE_MONTHS, line.rates_pct, strict=True):
                rows.append((f"{line.endpoint} at {months} months (%)", round(rate, 1)))
        return pd.DataFrame(rows, columns=["quantity", "value"])

    def __str__(self) -> str:
        lines = [SYNTHETIC_BANNER] if self.synthetic else []
        cutoff = "none" if self.data_cutoff is None else self.data_cutoff.isoformat()
        reasons = "; ".join(f"{reason} {count}" for reason, count in self.exclusion_reasons)
        lines += [
            f"Registry: {self.name} ({self.database})",
            f"Screened {self.screened}, excluded {self.excluded}"
            + (f" ({reasons})" if reasons else "")
            + f"; {self.patients} patients, {self.lesions} lesions, {self.courses} SBRT courses",
            f"Data cut-off {cutoff}; follow-up median {self.follow_up_median_months:.1f} months "
            f"(range {self.follow_up_min_months:.1f}-{self.follow_up_max_months:.1f})",
            # The summary derives LC with the library default (RECIST 1.1); the model study's
            # report states its own rule, so say which one these rates use.
            "Kaplan-Meier (%), local failure by RECIST 1.1 (the report states the study's rule)",
            "                        events    "
            + "  ".join(f"{m // 12} y".rjust(5) for m in RATE_MONTHS),
        ]
        for line in self.endpoints:
            label = f"{line.endpoint} ({line.unit})"
            counts = f"{line.events}/{line.n}"
            lines.append(
                f"  {label:<21} {counts:>7}    " + "  ".join(f"{r:5.1f}" for r in line.rates_pct)
            )
        return "\n".join(lines)


def summarise_registry(db: str | Path) -> CohortSummary:
    """Counts, follow-up and endpoint rates of the registry in ``db`` (path or URL).

    LC per lesion, OS and PFS per patient are derived with the default rules of
    :func:`rtoutcomes.clinical.endpoints.derive_endpoints` (RECIST 1.1, from SBRT start, up to
    the registry's data cut-off).
    """
    from rtoutcomes.registry.tables import read_tables

    return summarise_tables(read_tables(db), db)


def summarise_tables(tables: dict[str, pd.DataFrame], db: str | Path) -> CohortSummary:
    """``summarise_registry`` of the registry tables ``tables`` (``read_tables``' dict) read
    from ``db``."""
    import numpy as np

    from rtoutcomes.clinical.endpoints import derive_endpoints
    from rtoutcomes.stats import kaplan_meier

    meta = dict(zip(tables["registry_meta"]["key"], tables["registry_meta"]["value"], strict=True))
    cutoff = meta.get("data_cutoff_date")
    candidates = tables["screened_candidates"]
    excluded = candidates[candidates["eligible"] == False]  # noqa: E712 (pandas boolean)
    reasons = excluded["exclusion_reason"].value_counts(sort=False)
    endpoints = derive_endpoints(tables)
    lesions, patients = endpoints.lesions, endpoints.patients
    lines = []
    for name, unit, time, event in (
        ("LC", "lesions", lesions["lc_time"], lesions["lc_event"]),
        ("OS", "patients", patients["os_time"], patients["os_event"]),
        ("PFS", "patients", patients["pfs_time"], patients["pfs_event"]),
    ):
        fit = kaplan_meier(time.to_numpy(dtype=float), event.to_numpy(dtype=bool))
        at = fit.at(RATE_MONTHS, extend=True)  # RATE_MONTHS ascending: .at() sorts its times
        lines.append(
            EndpointLine(
                name, unit, len(time), int(event.sum()), tuple(float(100 * s) for s in at.survival)
            )
        )
    follow_up = patients["os_time"].to_numpy(dtype=float)
    return CohortSummary(
        database=str(db),
        name=str(meta.get("name", "")),
        synthetic=str(meta.get("synthetic", "")).strip().lower() == "yes",
        data_cutoff=None if not cutoff else dt.date.fromisoformat(str(cutoff).strip()),
        screened=len(candidates),
        excluded=len(excluded),
        exclusion_reasons=tuple(
            sorted(((str(k), int(v)) for k, v in reasons.items()), key=lambda kv: (-kv[1], kv[0]))
        ),
        patients=len(tables["patients"]),
        lesions=len(tables["lesions"]),
        courses=len(tables["sbrt_courses"]),
        follow_up_median_months=float(np.median(follow_up)) if len(follow_up) else float("nan"),
        follow_up_min_months=float(follow_up.min()) if len(follow_up) else float("nan"),
        follow_up_max_months=float(follow_up.max()) if len(follow_up) else float("nan"),
        endpoints=tuple(lines),
    )


def _is_demo_database(path: Path) -> bool:
    # A URI from Path.as_uri(): '%', '#', '?' and spaces in the folder name are escaped, so the
    # file checked is the file named (a plain f"file:{path}" reads "run%20a" as "run a").
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as connection:
            row = connection.execute(
                "SELECT value FROM registry_meta WHERE key = 'name'"
            ).fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == DEMO_REGISTRY_NAME


DEMO_USER = "rtoutcomes demo"
DEMO_RECORDED_AT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""The synthetic demo registry's import is recorded at this fixed time by ``DEMO_USER``, so that
its audit chain, and so the registry state in the demo report's provenance, is the same bytes on
every machine (a real registry records the real time and login)."""


def _refuse_foreign_database(folder: Path) -> None:
    database = folder / DEMO_DATABASE
    if (database.exists() or database.is_symlink()) and not _is_demo_database(database):
        raise DemoError(
            f"{database} exists and is not a demo registry: refusing to overwrite it "
            "(choose another --out folder)"
        )


def build_demo_registry(out_dir: str | Path) -> CohortSummary:
    """Import the shipped demo registry into ``out_dir/registry.db`` (SQLite); summarise it.

    The import is the validated, all-or-nothing one every registry goes through. An earlier demo
    database in ``out_dir`` is replaced; any other file of that name is left alone (``DemoError``).
    The database is built in a folder beside ``out_dir`` and moved in when complete.
    """
    from rtoutcomes.io.outputs import check_output_folder, staged_output

    folder = check_output_folder(out_dir)
    _refuse_foreign_database(folder)
    with staged_output(folder) as stage:
        _import_demo(stage / DEMO_DATABASE)
        _remove_journals(folder)
    return replace(
        summarise_registry(folder / DEMO_DATABASE), database=str(Path(out_dir) / DEMO_DATABASE)
    )


def _remove_journals(folder: Path) -> None:
    """An earlier demo database's WAL files must not sit beside the new database."""
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{folder / DEMO_DATABASE}{suffix}").unlink(missing_ok=True)


def _import_demo(database: Path) -> None:
    from rtoutcomes.registry.importer import import_registry

    import_registry(
        demo_registry_files(),
        database,
        user=DEMO_USER,
        command="rtoutcomes demo",
        now=DEMO_RECORDED_AT,
    )


def _import_and_read(database: Path) -> Snapshot:
    """The demo registry imported into ``database``, then read back as ``rtoutcomes run``
    reads a registry (``audit.snapshot``): run in a forked process, the only one of the demo's
    that imports the database library (SQLAlchemy, ~0.15 s with asyncio and ssl)."""
    from rtoutcomes.registry.audit import snapshot

    _import_demo(database)
    return snapshot(str(database))


# What the demo's own process uses after the import (turning the registry's rows into
# DataFrames, deriving and analysing them): imported while the forked process imports the
# registry and reads it back.
STUDY_MODULES = (
    "pandas",
    "rtoutcomes.registry.tables",
    "rtoutcomes.clinical.endpoints",
    "rtoutcomes.stats",
    "rtoutcomes.study.run",
    "rtoutcomes.study.registry_table",
    "rtoutcomes.study.cohort",
    "rtoutcomes.study.response",
    "rtoutcomes.study.analysis",
    "rtoutcomes.report.cohort_tables",
)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's garbage collector paused in the block (and in the processes forked in it):
    the demo's processes import and read a few hundred thousand objects, and each collection
    rescans every one of them (~0.13 CPU s of the command's serial start, ~0.08 s of the
    report process's imports); the demo's data are small, and the figure workers collect
    each task's garbage after it (``parallel_figures``)."""
    import gc

    from rtoutcomes.collector import collector_paused

    frozen = gc.get_freeze_count()
    with collector_paused():
        try:
            yield
        finally:
            if frozen == 0:
                # the block's objects put with the oldest (frozen, then thawed into it: no
                # scan): left in the youngest generation, the first allocation after the block
                # would scan them all (~0.08 s at the command's end)
                gc.freeze()
                gc.unfreeze()


def run_demo(out_dir: str | Path, progress: Callable[[str], None]) -> CohortSummary:
    """``rtoutcomes demo``: the demo registry and the model study's report in ``out_dir``.

    Everything (``registry.db`` and the report) is written in a folder beside ``out_dir`` and
    moved in together at the end: a failure leaves ``out_dir`` as it was.

    On two cores the work overlaps (``rtoutcomes.study.forked``; the same files as one process,
    tests/test_study_determinism.py): the registry is imported, and read back, by a process
    forked first (the longest chain before the analyses, and the only one that needs the
    database library); the report process is forked next and imports the plotting and Word
    libraries; this one meanwhile imports what it analyses the registry with; the console
    summary is derived in a process forked once the registry's tables are made, from those
    tables.
    """
    import importlib
    from contextlib import ExitStack

    from rtoutcomes.forking import InChild
    from rtoutcomes.io.outputs import check_output_folder, staged_output
    from rtoutcomes.study.forked import ReportProcess

    folder = check_output_folder(out_dir)
    _refuse_foreign_database(folder)
    with _collector_paused(), staged_output(folder) as stage, ExitStack() as stack:
        database = stage / DEMO_DATABASE
        imported = stack.enter_context(InChild(lambda: _import_and_read(database)))
        report_process = stack.enter_context(ReportProcess())
        for name in STUDY_MODULES:
            importlib.import_module(name)
        from rtoutcomes.study import load_study
        from rtoutcomes.study.run import run_registry
        from rtoutcomes.study.standard import model_study_path

        summaries: list[InChild[CohortSummary]] = []

        def summarise(tables: dict[str, pd.DataFrame]) -> None:
            # the console summary derives the registry again (its own rules), on the second core
            summaries.append(
                stack.enter_context(InChild(lambda: summarise_tables(tables, database)))
            )

        # The path, not a sqlite:/// URL: SQLAlchemy would decode "%20" in a URL's path.
        study = load_study(model_study_path(), db=str(database))
        run_registry(
            study,
            str(database),
            stage,
            progress,
            report_process=report_process,
            tables_read=summarise,
            read=imported.result(),
        )
        summarised = summaries[0].result()
        _remove_journals(folder)
    return replace(summarised, database=str(Path(out_dir) / DEMO_DATABASE))
