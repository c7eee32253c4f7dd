"""Excel workbooks: date serials in the 1900 and 1904 systems, defects located by sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from mini_registry import data_row, mini_registry, write_workbook
from openpyxl import load_workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from rtoutcomes.io.tabular import excel_serial_to_date, read_registry_files
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.validation import ImportRejected


@pytest.mark.parametrize(
    ("serial", "system", "expected"),
    [
        (1, 1900, dt.date(1900, 1, 1)),
        (59, 1900, dt.date(1900, 2, 28)),
        (61, 1900, dt.date(1900, 3, 1)),
        (45000, 1900, dt.date(2023, 3, 15)),
        (0, 1904, dt.date(1904, 1, 1)),
        (45000, 1904, dt.date(2027, 3, 16)),
        (43830, 1904, dt.date(2024, 1, 1)),
    ],
)
def test_excel_serials(serial: int, system: int, expected: dt.date) -> None:
    assert excel_serial_to_date(serial, system) == expected


def test_excel_serials_agree_with_openpyxl() -> None:
    for serial in (61, 1000, 25569, 36526, 44927, 60000):
        for system, epoch in ((1900, CALENDAR_WINDOWS_1900), (1904, CALENDAR_MAC_1904)):
            assert excel_serial_to_date(serial, system) == from_excel(serial, epoch).date()


@pytest.mark.parametrize(
    ("serial", "message"),
    [
        (60, "1900-02-29, which does not exist"),
        (0, "before 1900-01-01"),
        (44927.5, "time of day"),
    ],
)
def test_impossible_serials(serial: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        excel_serial_to_date(serial, 1900)


def test_workbook_records_its_date_system(tmp_path: Path) -> None:
    for system in (1900, 1904):
        book = write_workbook(mini_registry(), tmp_path / f"r{system}.xlsx", date_system=system)
        raw = read_registry_files(book)
        assert {t.date_system for t in raw.tables.values()} == {system}
        assert raw.tables["patients"].source == f"r{system}.xlsx, sheet patients"


def _refused(book: Path, tmp_path: Path) -> list[str]:
    with pytest.raises(ImportRejected) as refused:
        import_registry(book, tmp_path / "r.db")
    assert not (tmp_path / "r.db").exists()
    return [str(p) for p in refused.value.problems]


def test_workbook_defects_name_the_sheet_and_row(tmp_path: Path) -> None:
    tables = mini_registry()
    data_row(tables, "lesions", "L01")[1]["size_cm"] = "55"
    data_row(tables, "toxicities", "T02")[1]["grade"] = "7"
    book = write_workbook(tables, tmp_path / "bad.xlsx")
    problems = _refused(book, tmp_path)
    assert problems == [
        "bad.xlsx, sheet lesions, L01, row 2, column size_cm: value '55': must be > 0 and "
        "<= 40 cm; 55 cm is implausible: if the value is in millimetres, write 5.5 (cm)",
        "bad.xlsx, sheet toxicities, T02, row 3, column grade: value '7': must be 1..5",
    ]


def test_date_cells_in_the_wrong_columns(tmp_path: Path) -> None:
    """Excel turns '4.5' or '1-3' into dates; a date with a time of day is not a date; the
    serial 60 of the 1900 system is a day that never was."""
    book = write_workbook(mini_registry(), tmp_path / "dates.xlsx", dates_as_serials=True)
    workbook = load_workbook(book)
    workbook["lesions"]["E2"] = dt.datetime(2024, 4, 5)  # size_cm
    workbook["sbrt_courses"]["C2"] = dt.datetime(2019, 1, 7, 14, 30)  # start_date
    workbook["patients"]["C3"] = 60  # birth_date of P02: serial 60 = 1900-02-29
    workbook["lesions"]["D3"] = dt.datetime(2024, 1, 3)  # site_detail, a text column
    workbook.save(book)
    problems = _refused(book, tmp_path)
    assert problems == [
        "dates.xlsx, sheet patients, P02, row 3, column birth_date: value '60': Excel date "
        "serial: day 60 of the 1900 date system is 1900-02-29, which does not exist",
        "dates.xlsx, sheet lesions, L01, row 2, column size_cm: value '2024-04-05': the "
        "spreadsheet turned this cell into a date; format the column as a number",
        "dates.xlsx, sheet lesions, L02, row 3, column site_detail: value '2024-01-03': the "
        "spreadsheet turned this cell into a date or time; format the column as text",
        "dates.xlsx, sheet sbrt_courses, C01, row 2, column start_date: value "
        "'2019-01-07 14:30:00': a date with a time of day; give the date only",
    ]


def test_numbers_typed_into_text_and_choice_cells(tmp_path: Path, db_url: str) -> None:
    """A version typed as 5.0 is stored by Excel as the number 5; ids typed as numbers."""
    tables = mini_registry()
    book = write_workbook(tables, tmp_path / "numbers.xlsx")
    workbook = load_workbook(book)
    workbook["toxicities"]["E2"] = 5.0  # ctcae_version
    workbook["toxicities"]["E4"] = 4.03
    workbook["lesions"]["D5"] = 10  # site_detail "T10" -> 10
    workbook.save(book)
    import_registry(book, db_url)
    from rtoutcomes.registry.tables import read_rows

    rows = read_rows(db_url)
    assert [r["ctcae_version"] for r in rows["toxicities"]] == ["5.0", "5.0", "4.03"]
    assert rows["lesions"][3]["site_detail"] == "10"


def test_empty_sheets_are_ignored_and_headerless_sheets_refused(tmp_path: Path) -> None:
    book = write_workbook(mini_registry(), tmp_path / "extra.xlsx")
    workbook = load_workbook(book)
    workbook.create_sheet("Sheet1")  # left empty, as Excel makes it
    workbook["lesions"].insert_rows(1)  # the header moves to row 2
    workbook.save(book)
    problems = _refused(book, tmp_path)
    assert problems == [
        "extra.xlsx, sheet lesions, row 1: sheet has no header row (row 1 is empty)"
    ]


def test_not_a_workbook(tmp_path: Path) -> None:
    fake = tmp_path / "registry.xlsx"
    fake.write_text("patient_id,sex\n")
    problems = _refused(fake, tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("registry.xlsx: not a readable .xlsx workbook")
    legacy = tmp_path / "registry.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0")
    assert _refused(legacy, tmp_path) == [
        "registry.xls: not a registry folder or workbook: save it as .xlsx"
    ]
