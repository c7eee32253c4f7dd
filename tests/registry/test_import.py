"""A valid registry goes in whole, from CSV or Excel, and comes out as typed DataFrames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from mini_registry import mini_registry, write_csv_folder, write_workbook

from rtoutcomes.registry.changes import RegistryNotEmpty
from rtoutcomes.registry.importer import import_registry, validate_database
from rtoutcomes.registry.migrate import init_registry
from rtoutcomes.registry.spec import TABLES
from rtoutcomes.registry.tables import read_rows, read_tables

EXPECTED_COUNTS = {
    "registry_meta": 4,
    "patients": 3,
    "screened_candidates": 5,
    "lesions": 4,
    "sbrt_courses": 4,
    "dosimetry": 4,
    "assessments": 6,
    "patient_events": 6,
    "toxicities": 3,
    "systemic_therapies": 2,
    "structure_metrics": 0,
    "structure_dose_volumes": 0,
}


def test_import_valid_csv_registry(db_url: str, tmp_path: Path) -> None:
    folder = write_csv_folder(mini_registry(), tmp_path / "csv")
    counts = import_registry(folder, db_url)
    assert counts == EXPECTED_COUNTS
    rows = read_rows(db_url)
    course = rows["sbrt_courses"][2]
    assert course["course_id"] == "C03"
    assert course["start_date"] == dt.date(2019, 3, 4)
    assert course["isodose_line_pct"] == 78.5
    assert course["fractions"] == 5
    assert rows["patients"][1]["birth_date"] is None
    assert rows["patients"][1]["adjuvant_chemotherapy"] is True
    assert validate_database(db_url) == []


def test_read_tables_dtypes(db_url: str, tmp_path: Path) -> None:
    import_registry(write_csv_folder(mini_registry(), tmp_path / "csv"), db_url)
    frames = read_tables(db_url)
    assert list(frames) == [t.name for t in TABLES]
    for spec in TABLES:
        assert list(frames[spec.name].columns) == list(spec.column_names)
    patients = frames["patients"]
    assert str(patients["diagnosis_date"].dtype) == "datetime64[ns]"
    assert pd.isna(patients.loc[1, "birth_date"])
    assert str(patients["age_at_sbrt_years"].dtype) == "Int64"
    assert patients["age_at_sbrt_years"].tolist()[1:] == [58, 44]
    assert str(patients["adjuvant_radiotherapy"].dtype) == "boolean"
    courses = frames["sbrt_courses"]
    assert courses["total_dose_gy"].dtype == "float64"
    assert courses["total_dose_gy"].tolist() == [40.0, 54.0, 50.0, 27.0]
    assert courses["start_date"].iloc[3] == pd.Timestamp("2020-02-03")
    assert frames["dosimetry"]["piv_cc"].isna().sum() == 1
    assert frames["patient_events"]["lesion_id"].tolist()[0] == "L01"
    assert frames["patient_events"]["lesion_id"].tolist()[1] is None


def test_read_tables_of_empty_registry(db_url: str) -> None:
    init_registry(db_url)
    frames = read_tables(db_url)
    assert all(frame.empty for frame in frames.values())
    assert str(frames["sbrt_courses"]["start_date"].dtype) == "datetime64[ns]"


@pytest.mark.parametrize("date_system", [1900, 1904])
@pytest.mark.parametrize("dates_as_serials", [False, True])
def test_import_workbook_same_content_as_csv(
    db_url: str, tmp_path: Path, date_system: int, dates_as_serials: bool
) -> None:
    """Real date cells and plain serial numbers both read as the right dates, in either of
    Excel's date systems."""
    book = write_workbook(
        mini_registry(),
        tmp_path / "registry.xlsx",
        date_system=date_system,
        dates_as_serials=dates_as_serials,
    )
    assert import_registry(book, db_url) == EXPECTED_COUNTS
    csv_db = f"sqlite:///{tmp_path / 'from_csv.db'}"
    import_registry(write_csv_folder(mini_registry(), tmp_path / "csv"), csv_db)
    assert read_rows(db_url) == read_rows(csv_db)


def test_import_bom_semicolon_csv(db_url: str, tmp_path: Path) -> None:
    folder = write_csv_folder(mini_registry(), tmp_path / "csv", delimiter=";", bom=True)
    assert (folder / "patients.csv").read_bytes().startswith(b"\xef\xbb\xbfpatient_id;sex;")
    assert import_registry(folder, db_url) == EXPECTED_COUNTS
    assert read_rows(db_url)["lesions"][0]["patient_id"] == "P01"


def test_import_into_a_filled_registry_is_refused(db_url: str, tmp_path: Path) -> None:
    folder = write_csv_folder(mini_registry(), tmp_path / "csv")
    import_registry(folder, db_url)
    with pytest.raises(RegistryNotEmpty, match="already holds data"):
        import_registry(folder, db_url)
    assert len(read_rows(db_url)["patients"]) == 3
