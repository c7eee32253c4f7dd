"""Issue 8, "accepted silently": each defect is now refused with its file, row, column and rule.

Every case injects one defect into the mini registry and imports it (all or nothing, nothing
written); the valid mini registry imports (the negative control of every case).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from mini_registry import Tables, data_row, mini_registry, write_csv_folder, write_workbook

from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.validation import ImportRejected


def _set(table: str, key: str, column: str, value: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        data_row(tables, table, key)[1][column] = value

    return mutate


def _add(table: str, key: str, **changes: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        tables[table].append({**data_row(tables, table, key)[1], **changes})

    return mutate


CASES: dict[str, tuple[Callable[[Tables], None], str, str]] = {
    "id differing by case": (
        _add("patients", "P01", patient_id="p01"),
        "patient_id",
        "differs only by case",
    ),
    "zero-width space in an id": (
        _set("lesions", "L04", "lesion_id", "L0\u200b4"),
        "lesion_id",
        "ZERO WIDTH SPACE",
    ),
    "no-break space in an id": (
        _set("lesions", "L04", "lesion_id", "L\u00a004"),
        "lesion_id",
        "NO-BREAK SPACE",
    ),
    "Cyrillic look-alike in an id": (
        _set("lesions", "L04", "lesion_id", "L0\u0410"),
        "lesion_id",
        "CYRILLIC",
    ),
    "NUL in a text": (
        _set("lesions", "L01", "site_detail", "left\x00thigh"),
        "site_detail",
        "control character",
    ),
    "therapy before birth": (
        _set("systemic_therapies", "S01", "start_date", "1901-01-01"),
        "start_date",
        "before the patient's birth",
    ),
    "scan before birth": (
        _set("assessments", "A01", "assessment_date", "1901-01-01"),
        "assessment_date",
        "before the patient's birth",
    ),
    "last contact in the future": (
        _set("patient_events", "E05", "event_date", "2099-01-01"),
        "event_date",
        "in the future",
    ),
    "grade 5 without death": (_set("toxicities", "T02", "grade", "5"), "grade", "no death"),
    "misspelt registry_meta key": (
        _set("registry_meta", "data_cutoff_date", "key", "data_cutof_date"),
        "key",
        "did you mean 'data_cutoff_date'",
    ),
    "enrolled patient missing from screening": (
        lambda tables: tables["screened_candidates"].remove(
            data_row(tables, "screened_candidates", "SC4")[1]
        ),
        "patient_id",
        "not among the screened_candidates",
    ),
    "Arabic-Indic digits in a whole number": (
        _set("sbrt_courses", "C01", "fractions", "\u0665"),
        "fractions",
        "not a number",
    ),
    "full-width digits in a whole number": (
        _set("sbrt_courses", "C01", "fractions", "\uff15"),
        "fractions",
        "not a number",
    ),
    "exponent in a whole number": (
        _set("sbrt_courses", "C01", "fractions", "5e0"),
        "fractions",
        "whole number",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_defect_is_refused(case: str, tmp_path: Path) -> None:
    mutate, column, rule = CASES[case]
    tables = mini_registry()
    mutate(tables)
    db = tmp_path / "r.db"
    with pytest.raises(ImportRejected) as caught:
        import_registry(write_csv_folder(tables, tmp_path / "in"), db)
    found = [p for p in caught.value.problems if p.column == column and rule in p.rule]
    assert found, [str(p) for p in caught.value.problems]
    assert not db.exists()


def test_the_mini_registry_itself_imports(tmp_path: Path) -> None:
    counts = import_registry(write_csv_folder(mini_registry(), tmp_path / "in"), tmp_path / "r.db")
    assert counts["patients"] == 3


def test_unclosed_quote_does_not_swallow_rows(tmp_path: Path) -> None:
    folder = write_csv_folder(mini_registry(), tmp_path / "in")
    path = folder / "lesions.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("left thigh", '"left thigh')  # the quote never closes...
    lines[3] = lines[3].replace("left upper lobe", 'left upper lobe"')  # ...until here
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportRejected) as caught:
        import_registry(folder, tmp_path / "r.db")
    assert any("quote" in p.rule and p.row == 2 for p in caught.value.problems), [
        str(p) for p in caught.value.problems
    ]


def test_two_files_for_one_table(tmp_path: Path) -> None:
    folder = write_csv_folder(mini_registry(), tmp_path / "in")
    (folder / "patients.CSV").write_bytes((folder / "patients.csv").read_bytes())
    with pytest.raises(ImportRejected) as caught:
        import_registry(folder, tmp_path / "r.db")
    assert any("a second file for table patients" in p.rule for p in caught.value.problems)


def test_formula_cells_without_a_stored_value(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = write_workbook(mini_registry(), tmp_path / "registry.xlsx")
    workbook = load_workbook(path)
    sheet = workbook["sbrt_courses"]
    columns = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=columns.index("ptv_margin_mm") + 1)
    cell.value = "=1+2"  # openpyxl stores the formula, no calculated value
    workbook.save(path)
    with pytest.raises(ImportRejected) as caught:
        import_registry(path, tmp_path / "r.db")
    assert any(
        "formula cells without a calculated value" in p.rule and cell.coordinate in p.rule
        for p in caught.value.problems
    ), [str(p) for p in caught.value.problems]
    assert not (tmp_path / "r.db").exists()


def test_registry_export_reads_back(tmp_path: Path) -> None:
    """The CSV writer quotes a cell with a delimiter; no line break reaches a cell."""
    folder = write_csv_folder(mini_registry(), tmp_path / "in")
    with (folder / "lesions.csv").open(newline="") as handle:
        assert all("\n" not in c for row in csv.reader(handle) for c in row)
