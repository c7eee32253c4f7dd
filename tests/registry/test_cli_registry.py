"""The registry commands: init, import (errors all at once, non-zero exit), validate, export."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from mini_registry import data_row, mini_registry, write_csv_folder

from rtoutcomes.cli import main
from rtoutcomes.registry.database import make_engine
from rtoutcomes.registry.migrate import head_revision


def test_init_import_validate_export(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--db", db_url]) == 0
    assert f"schema revision {head_revision()}" in capsys.readouterr().out
    folder = write_csv_folder(mini_registry(), tmp_path / "in")
    assert main(["import", str(folder), "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "(41 rows)" in out
    assert "sbrt_courses              4" in out
    assert main(["validate", "--db", db_url]) == 0
    assert "no problems found" in capsys.readouterr().out
    assert main(["export", "--db", db_url, "--out", str(tmp_path / "x"), "--format", "xlsx"]) == 0
    assert (tmp_path / "x" / "registry.xlsx").is_file()


def test_import_lists_every_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = mini_registry()
    data_row(tables, "lesions", "L01")[1]["size_cm"] = "55"
    data_row(tables, "sbrt_courses", "C02")[1]["fractions"] = "0"
    data_row(tables, "toxicities", "T01")[1]["grade"] = "-99"
    folder = write_csv_folder(tables, tmp_path / "in")
    db = tmp_path / "r.db"
    assert main(["import", str(folder), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "import refused, nothing was written: 3 problems" in err
    assert "lesions.csv, L01, row 2, column size_cm: value '55'" in err
    assert "sbrt_courses.csv, C02, row 3, column fractions: value '0': must be 1..50" in err
    assert "toxicities.csv, T01, row 2, column grade: value '-99'" in err
    assert not db.exists()


def test_validate_reports_problems_in_the_database(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A date order broken behind the importer's back (no CHECK can see across tables)."""
    main(["import", str(write_csv_folder(mini_registry(), tmp_path / "in")), "--db", db_url])
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE patient_events SET event_date = :d WHERE event_id = 'E04'"),
            {"d": "2018-01-01"},
        )
    engine.dispose()
    capsys.readouterr()
    assert main(["validate", "--db", db_url]) == 2
    err = capsys.readouterr().err
    assert "is not valid: 1 problem" in err
    assert (
        "table patient_events, E04, row 5, column event_date: value '2018-01-01': event before "
        "the patient's first SBRT start (2019-03-04, C02)"
    ) in err


def test_validate_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--db", str(tmp_path / "none.db")]) == 2
    assert "no registry database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_unreachable_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = "postgresql+psycopg://someone:secret@127.0.0.1:9/registry"
    assert main(["init", "--db", unreachable]) == 2
    err = capsys.readouterr().err
    assert "cannot use the database postgresql+psycopg://someone:***@127.0.0.1:9/registry" in err
    assert "secret" not in err
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("these are notes, not a database\n" * 100)
    assert main(["validate", "--db", str(not_a_db)]) == 2
    assert "is not a SQLite database" in capsys.readouterr().err
