"""Export writes the import format back; import -> export -> import gives identical content."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from mini_registry import data_row, mini_registry, write_csv_folder

from rtoutcomes.io.outputs import neutralise_formula as neutralise
from rtoutcomes.registry.export import export_cell, export_registry, format_number
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.spec import TABLE_BY_NAME, TABLES, ColumnSpec
from rtoutcomes.registry.tables import read_rows


def _dangerous_registry(tmp_path: Path) -> Path:
    """The mini registry with text cells a spreadsheet would run as formulas."""
    tables = mini_registry()
    data_row(tables, "lesions", "L03")[1]["site_detail"] = '=HYPERLINK("http://x.test","y")'
    data_row(tables, "lesions", "L01")[1]["site_detail"] = "-left thigh"
    data_row(tables, "systemic_therapies", "S02")[1]["agent"] = "+pazopanib @800 mg"
    data_row(tables, "toxicities", "T03")[1]["term"] = "@Fatigue"
    return write_csv_folder(tables, tmp_path / "in")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_export_import_is_identical(db_url: str, tmp_path: Path, fmt: str) -> None:
    import_registry(_dangerous_registry(tmp_path), db_url)
    files = export_registry(db_url, tmp_path / "out", fmt)
    again = tmp_path / "again.db"
    import_registry(files[0] if fmt == "xlsx" else tmp_path / "out", again)
    first, second = read_rows(db_url), read_rows(again)
    assert first == second
    assert first["lesions"][2]["site_detail"] == '=HYPERLINK("http://x.test","y")'


def test_export_csv_content_and_neutralised_cells(db_url: str, tmp_path: Path) -> None:
    import_registry(_dangerous_registry(tmp_path), db_url)
    files = export_registry(db_url, tmp_path / "out")
    assert [f.name for f in files] == [f"{t.name}.csv" for t in TABLES]
    with open(tmp_path / "out" / "lesions.csv", newline="", encoding="utf-8") as handle:
        lesions = list(csv.reader(handle))
    assert lesions[0] == list(TABLE_BY_NAME["lesions"].column_names)
    assert lesions[1] == ["L01", "P01", "limbs", "'-left thigh", "4.5"]
    assert lesions[3][3] == '\'=HYPERLINK("http://x.test","y")'
    courses = (tmp_path / "out" / "sbrt_courses.csv").read_text(encoding="utf-8").splitlines()
    assert courses[3] == "C03,L03,2019-03-04,2019-03-08,50,5,78.5,5,CyberKnife,fiducial"
    patients = (tmp_path / "out" / "patients.csv").read_text(encoding="utf-8").splitlines()
    assert patients[2].startswith("P02,male,,58,2016-01-10,,leiomyosarcoma,")
    assert patients[2].endswith(",oligometastasis,2,yes,1,yes,no,,")  # no centre, cut-off


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_is_deterministic_and_the_same_from_every_backend(
    db_url: str, tmp_path: Path, fmt: str
) -> None:
    """Same registry, same bytes: twice from one database, and from SQLite and PostgreSQL."""
    folder = write_csv_folder(mini_registry(), tmp_path / "in")
    import_registry(folder, db_url)
    reference = tmp_path / "reference.db"
    import_registry(folder, reference)
    first = [p.read_bytes() for p in export_registry(db_url, tmp_path / "a", fmt)]
    second = [p.read_bytes() for p in export_registry(db_url, tmp_path / "b", fmt)]
    third = [p.read_bytes() for p in export_registry(reference, tmp_path / "c", fmt)]
    assert first == second == third


def test_only_text_cells_are_neutralised() -> None:
    number = ColumnSpec("x", "number")
    text = ColumnSpec("t", "text")
    assert export_cell(-2.5, number) == "-2.5"
    assert export_cell(-3.0, number) == "-3"
    assert export_cell("-3", text) == "-3"  # a plain number is no formula
    assert export_cell("-3+cmd", text) == "'-3+cmd"
    assert export_cell("=1+1", text) == "'=1+1"
    assert export_cell("a=b", text) == "a=b"
    assert neutralise("\tcmd") == "'\tcmd"
    assert format_number(0.1) == "0.1"
    assert format_number(1e-7) == "1e-07"
    assert format_number(40) == "40"


def test_demo_registry_round_trip(db_url: str, tmp_path: Path) -> None:
    """The shipped synthetic demo registry (37 patients, 58 lesions) survives import -> export
    -> import unchanged, and its export is the shipped files' content."""
    from rtoutcomes.demo import demo_registry_files

    counts = import_registry(demo_registry_files(), db_url)
    assert counts["patients"] == 37 and counts["lesions"] == 58
    export_registry(db_url, tmp_path / "out")
    again = tmp_path / "again.db"
    import_registry(tmp_path / "out", again)
    assert read_rows(db_url) == read_rows(again)


def test_export_replaces_its_files_whole(db_url: str, tmp_path: Path) -> None:
    import zipfile

    import_registry(_dangerous_registry(tmp_path), db_url)
    out = tmp_path / "out"
    files = export_registry(db_url, out, "xlsx")
    assert [f.name for f in files] == ["registry.xlsx"]
    with zipfile.ZipFile(files[0]) as archive:
        assert "xl/workbook.xml" in archive.namelist()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert sorted(p.name for p in out.iterdir()) == ["registry.xlsx"]
