"""The malformed-registry corpus: one defect per case, injected into the valid mini registry.

Each defective registry is refused with the right file, row, column and rule, and the database
is byte-for-byte unchanged afterwards (SQLite: the file's bytes; PostgreSQL: a dump of every
table). Most cases must give exactly one problem: one mistake, one message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from mini_registry import Tables, data_row, mini_registry, write_csv_folder

from conftest import database_snapshot
from rtoutcomes.io.problems import Problem
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.migrate import init_registry
from rtoutcomes.registry.tables import read_rows
from rtoutcomes.registry.validation import ImportRejected


@dataclass(frozen=True)
class Case:
    """``mutate`` injects the defect (into the tables, or into the written folder with
    ``after_write``); the expected problem is at ``source`` (table name: ``<table>.csv``),
    the row of the record with id ``key`` (or ``row`` if given), ``column``, and its rule
    contains ``rule``. ``count``: the exact number of problems (``None``: at least one)."""

    name: str
    table: str
    key: str | None
    column: str | None
    rule: str
    mutate: Callable[[Tables], None] = lambda t: None
    after_write: Callable[[Path], None] | None = None
    count: int | None = 1
    row: int | None = None
    source: str | None = None


def setcell(table: str, key: str, column: str, value: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        data_row(tables, table, key)[1][column] = value

    return mutate


def setcells(table: str, key: str, **cells: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        data_row(tables, table, key)[1].update(cells)

    return mutate


def add_row(table: str, **cells: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        template = dict.fromkeys(tables[table][0], "")
        tables[table].append({**template, **cells})

    return mutate


def drop_column(table: str, column: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        for row in tables[table]:
            del row[column]

    return mutate


def rename_column(table: str, old: str, new: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        tables[table] = [{(new if k == old else k): v for k, v in r.items()} for r in tables[table]]

    return mutate


def rewrite(file: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def after(folder: Path) -> None:
        path = folder / file
        path.write_bytes(change(path.read_bytes()))

    return after


CASES = [
    Case(
        "missing required column",
        "patients",
        None,
        "sex",
        "missing column",
        drop_column("patients", "sex"),
        row=1,
    ),
    Case(
        "unknown column (typo)",
        "lesions",
        None,
        "site_detial",
        "did you mean 'site_detail'",
        rename_column("lesions", "site_detail", "site_detial"),
        row=1,
    ),
    Case(
        "repeated column name",
        "lesions",
        None,
        "site_category",
        "appears twice",
        after_write=rewrite(
            "lesions.csv", lambda b: b.replace(b"site_detail", b"site_category", 1)
        ),
        row=1,
    ),
    Case("missing table", "toxicities", None, None, "missing table", lambda t: t.pop("toxicities")),
    Case(
        "unknown table (typo)",
        "toxicity",
        None,
        None,
        "did you mean 'toxicities'",
        lambda t: t.__setitem__("toxicity", [dict(r) for r in t["toxicities"]]),
    ),
    Case(
        "empty file",
        "toxicities",
        None,
        None,
        "file is empty",
        after_write=rewrite("toxicities.csv", lambda b: b""),
    ),
    Case(
        "not UTF-8",
        "lesions",
        None,
        None,
        "not UTF-8",
        setcell("lesions", "L01", "site_detail", "cuisse gauche (fémur)"),
        after_write=rewrite("lesions.csv", lambda b: b.decode().encode("cp1252")),
        row=2,
    ),
    Case(
        "unquoted delimiter splits a cell",
        "lesions",
        None,
        None,
        "which has no header",
        after_write=rewrite(
            "lesions.csv",
            lambda b: b.replace(b"L01,P01,limbs,left thigh,4.5", b"L01,P01,limbs,thigh, left,4.5"),
        ),
        row=2,
        count=None,
    ),
    Case(
        "unreadable CSV (a cell over the size limit)",
        "lesions",
        None,
        None,
        "not a readable CSV file (field larger than field limit",
        setcell("lesions", "L02", "site_detail", "x" * 200_000),
        row=3,
    ),
    Case(
        "duplicate id",
        "toxicities",
        "T03",
        "toxicity_id",
        "duplicate toxicity_id",
        setcell("toxicities", "T03", "toxicity_id", "T02"),
        row=4,
    ),
    Case(
        "reference to a missing patient",
        "lesions",
        "L04",
        "patient_id",
        "not in patients",
        setcell("lesions", "L04", "patient_id", "P09"),
    ),
    Case(
        "reference to a missing lesion",
        "sbrt_courses",
        "C02",
        "lesion_id",
        "not in lesions",
        setcell("sbrt_courses", "C02", "lesion_id", "L99"),
    ),
    Case(
        "reference to a missing course",
        "dosimetry",
        "C03",
        "course_id",
        "not in sbrt_courses",
        setcell("dosimetry", "C03", "course_id", "C33"),
    ),
    Case(
        "unparseable date",
        "patients",
        "P02",
        "diagnosis_date",
        "YYYY-MM-DD",
        setcell("patients", "P02", "diagnosis_date", "10/01/2016"),
    ),
    Case(
        "impossible date 2023-02-30",
        "sbrt_courses",
        "C01",
        "end_date",
        "not a real calendar date",
        setcell("sbrt_courses", "C01", "end_date", "2019-02-30"),
    ),
    Case(
        "date out of plausible years",
        "patients",
        "P01",
        "birth_date",
        "outside 1900..2100",
        setcell("patients", "P01", "birth_date", "1850-04-12"),
    ),
    Case(
        "Excel serial in a CSV date column",
        "patients",
        "P01",
        "birth_date",
        "1960-04-12 in Excel's 1900 date system or 1964-04-13 in Excel's 1904",
        setcell("patients", "P01", "birth_date", "22018"),
    ),
    Case(
        "death before SBRT start",
        "patient_events",
        None,
        "event_date",
        "before the patient's first SBRT start (2020-02-03, C04)",
        add_row(
            "patient_events",
            event_id="E07",
            patient_id="P03",
            event_type="death",
            event_date="2020-01-01",
        ),
        row=8,
        count=None,
    ),
    Case(
        "course ends before it starts",
        "sbrt_courses",
        "C02",
        "end_date",
        "course ends before it starts",
        setcell("sbrt_courses", "C02", "end_date", "2019-03-01"),
    ),
    Case(
        "SBRT before diagnosis",
        "sbrt_courses",
        "C02",
        "start_date",
        "before the patient's diagnosis (2016-01-10)",
        setcell("sbrt_courses", "C02", "start_date", "2015-06-01"),
    ),
    Case(
        "progression before SBRT",
        "patient_events",
        "E04",
        "event_date",
        "before the patient's first SBRT start (2019-03-04",
        setcell("patient_events", "E04", "event_date", "2019-01-01"),
    ),
    Case(
        "last contact after death",
        "patient_events",
        "E02",
        "event_date",
        "after the patient's death (2021-03-15)",
        setcell("patient_events", "E02", "event_date", "2021-04-01"),
    ),
    Case(
        "second death",
        "patient_events",
        None,
        "event_type",
        "a second death",
        add_row(
            "patient_events",
            event_id="E07",
            patient_id="P01",
            event_type="death",
            event_date="2021-03-15",
        ),
        row=8,
    ),
    Case(
        "recurrence before diagnosis",
        "patients",
        "P01",
        "recurrence_date",
        "recurrence before the initial diagnosis",
        setcell("patients", "P01", "recurrence_date", "2014-01-01"),
    ),
    Case(
        "birth after diagnosis",
        "patients",
        "P01",
        "birth_date",
        "birth after the diagnosis (2015-03-01)",
        setcell("patients", "P01", "birth_date", "2016-01-01"),
    ),
    Case(
        "toxicity before SBRT",
        "toxicities",
        "T02",
        "onset_date",
        "toxicity onset before the patient's first SBRT start",
        setcell("toxicities", "T02", "onset_date", "2019-01-01"),
    ),
    Case(
        "assessment after death",
        "assessments",
        "A02",
        "assessment_date",
        "assessment after the patient's death",
        setcell("assessments", "A02", "assessment_date", "2021-06-01"),
    ),
    Case(
        "therapy ends before it starts",
        "systemic_therapies",
        "S01",
        "end_date",
        "therapy ends before it starts",
        setcell("systemic_therapies", "S01", "end_date", "2019-10-01"),
    ),
    Case(
        "total dose zero",
        "sbrt_courses",
        "C01",
        "total_dose_gy",
        "must be > 0 and <= 150 Gy",
        setcell("sbrt_courses", "C01", "total_dose_gy", "0"),
    ),
    Case(
        "total dose in cGy",
        "sbrt_courses",
        "C02",
        "total_dose_gy",
        "looks like cGy",
        setcell("sbrt_courses", "C02", "total_dose_gy", "5400"),
    ),
    Case(
        "fractions not whole",
        "sbrt_courses",
        "C03",
        "fractions",
        "not a whole number",
        setcell("sbrt_courses", "C03", "fractions", "5.5"),
    ),
    Case(
        "fractions above 50",
        "sbrt_courses",
        "C04",
        "fractions",
        "must be 1..50",
        setcell("sbrt_courses", "C04", "fractions", "60"),
    ),
    Case(
        "isodose line below 30 %",
        "sbrt_courses",
        "C01",
        "isodose_line_pct",
        "must be 30..100 %",
        setcell("sbrt_courses", "C01", "isodose_line_pct", "20"),
    ),
    Case(
        "CTCAE grade 6",
        "toxicities",
        "T01",
        "grade",
        "must be 1..5",
        setcell("toxicities", "T01", "grade", "6"),
    ),
    Case(
        "enumeration typo",
        "lesions",
        "L02",
        "site_category",
        "did you mean 'lung'",
        setcell("lesions", "L02", "site_category", "lungs"),
    ),
    Case(
        "size in mm in a cm column",
        "lesions",
        "L01",
        "size_cm",
        "if the value is in millimetres, write 5.5",
        setcell("lesions", "L01", "size_cm", "55"),
    ),
    Case(
        "missing-value code 999",
        "lesions",
        "L04",
        "size_cm",
        "code for a missing value",
        setcell("lesions", "L04", "size_cm", "999"),
    ),
    Case(
        "missing-value code -99",
        "patients",
        "P02",
        "age_at_sbrt_years",
        "code for a missing value",
        setcell("patients", "P02", "age_at_sbrt_years", "-99"),
    ),
    Case(
        "missing-value code '.'",
        "sbrt_courses",
        "C02",
        "ptv_margin_mm",
        "code for a missing value",
        setcell("sbrt_courses", "C02", "ptv_margin_mm", "."),
    ),
    Case(
        "decimal comma",
        "sbrt_courses",
        "C03",
        "isodose_line_pct",
        "write 78.5",
        setcell("sbrt_courses", "C03", "isodose_line_pct", "78,5"),
    ),
    Case(
        "unit written in the cell",
        "sbrt_courses",
        "C01",
        "total_dose_gy",
        "without 'Gy'",
        setcell("sbrt_courses", "C01", "total_dose_gy", "40 Gy"),
    ),
    Case(
        "required cell empty",
        "lesions",
        "L02",
        "size_cm",
        "required",
        setcell("lesions", "L02", "size_cm", ""),
    ),
    Case(
        "neither birth date nor age",
        "patients",
        "P02",
        "birth_date",
        "one of birth_date and age_at_sbrt_years",
        setcell("patients", "P02", "age_at_sbrt_years", "NA"),
    ),
    Case(
        "yes/no not understood",
        "patients",
        "P01",
        "first_treatment_surgery",
        "yes or no",
        setcell("patients", "P01", "first_treatment_surgery", "maybe"),
    ),
    Case(
        "exclusion reason missing",
        "screened_candidates",
        "SC3",
        "exclusion_reason",
        "required when eligible is no",
        setcell("screened_candidates", "SC3", "exclusion_reason", ""),
    ),
    Case(
        "exclusion reason of an eligible patient",
        "screened_candidates",
        "SC1",
        "exclusion_reason",
        "must be empty when eligible is yes",
        setcell("screened_candidates", "SC1", "exclusion_reason", "other"),
    ),
    Case(
        "eligible candidate without patient",
        "screened_candidates",
        "SC2",
        "patient_id",
        "required when eligible is yes",
        setcell("screened_candidates", "SC2", "patient_id", ""),
    ),
    Case(
        "progression without type",
        "patient_events",
        "E04",
        "progression_type",
        "required for a progression",
        setcell("patient_events", "E04", "progression_type", ""),
    ),
    Case(
        "progression type on a death",
        "patient_events",
        "E03",
        "progression_type",
        "must be empty for a death",
        setcell("patient_events", "E03", "progression_type", "local"),
    ),
    Case(
        "local progression of another patient's lesion",
        "patient_events",
        "E01",
        "lesion_id",
        "belongs to another patient",
        setcell("patient_events", "E01", "lesion_id", "L02"),
    ),
    Case(
        "toxicity of another patient's course",
        "toxicities",
        "T01",
        "course_id",
        "belongs to another patient",
        setcell("toxicities", "T01", "course_id", "C02"),
    ),
    Case(
        "covered volume larger than the target",
        "dosimetry",
        "C01",
        "tv_piv_cc",
        "larger than tv_cc",
        setcell("dosimetry", "C01", "tv_piv_cc", "36"),
    ),
    Case(
        "SBRT after death",
        "sbrt_courses",
        None,
        "start_date",
        "SBRT start after the patient's death (2021-03-15)",
        add_row(
            "sbrt_courses",
            course_id="C05",
            lesion_id="L01",
            start_date="2021-04-01",
            end_date="2021-04-05",
            total_dose_gy="40",
            fractions="5",
            isodose_line_pct="80",
        ),
        row=6,
    ),
    Case(
        "systemic therapy after death",
        "systemic_therapies",
        "S01",
        "start_date",
        "therapy start after the patient's death",
        setcells("systemic_therapies", "S01", start_date="2021-04-01", end_date=""),
    ),
    Case(
        "age disagrees with birth date",
        "patients",
        "P03",
        "age_at_sbrt_years",
        "disagrees with birth_date 1975-09-30: 44 years at the first SBRT start (2020-02-03)",
        setcell("patients", "P03", "age_at_sbrt_years", "50"),
    ),
    Case(
        "registry_meta value of the wrong type",
        "registry_meta",
        "data_cutoff_date",
        "value",
        "data_cutoff_date: not a date",
        setcell("registry_meta", "data_cutoff_date", "value", "June 2023"),
    ),
]


def _expected_row(case: Case) -> int | None:
    if case.row is not None or case.key is None:
        return case.row
    return data_row(mini_registry(), case.table, case.key)[0]


def _matches(problem: Problem, case: Case) -> bool:
    return (
        problem.source == (case.source or f"{case.table}.csv")
        and problem.row == _expected_row(case)
        and problem.column == case.column
        and case.rule in problem.rule
    )


def _write(case: Case, folder: Path) -> Path:
    tables = mini_registry()
    case.mutate(tables)
    write_csv_folder(tables, folder)
    if case.after_write is not None:
        case.after_write(folder)
    return folder


def test_corpus_has_enough_kinds() -> None:
    assert len({c.name for c in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_defect_is_refused_with_location_and_rule(case: Case, tmp_path: Path) -> None:
    folder = _write(case, tmp_path / "registry")
    target = tmp_path / "registry.db"
    with pytest.raises(ImportRejected) as refused:
        import_registry(folder, target)
    problems = refused.value.problems
    assert any(_matches(p, case) for p in problems), "\n".join(map(str, problems))
    if case.count is not None:
        assert len(problems) == case.count, "\n".join(map(str, problems))
    assert not target.exists()  # not even an empty database file


def test_corpus_leaves_database_unchanged(db_url: str, tmp_path: Path) -> None:
    """Every defective registry, imported in turn into the same initialised registry, leaves it
    byte-for-byte as it was."""
    init_registry(db_url)
    before = database_snapshot(db_url)
    for index, case in enumerate(CASES):
        folder = _write(case, tmp_path / f"registry{index}")
        with pytest.raises(ImportRejected):
            import_registry(folder, db_url)
        assert database_snapshot(db_url) == before, case.name
    assert all(rows == [] for rows in read_rows(db_url).values())


def test_many_defects_are_all_listed(tmp_path: Path) -> None:
    """Problems in several tables are reported together, in one readable message."""
    tables = mini_registry()
    for case in CASES:
        if case.after_write is None and case.table in tables and case.key is not None:
            try:
                case.mutate(tables)
            except KeyError:  # an earlier defect renamed the row's id
                continue
    folder = write_csv_folder(tables, tmp_path / "registry")
    with pytest.raises(ImportRejected) as refused:
        import_registry(folder, tmp_path / "r.db")
    message = str(refused.value)
    assert message.startswith(f"import refused, nothing was written: {len(refused.value.problems)}")
    assert len(refused.value.problems) >= 30
    assert (
        "lesions.csv, L01, row 2, column size_cm: value '55': must be > 0 and <= 40 cm" in message
    )
