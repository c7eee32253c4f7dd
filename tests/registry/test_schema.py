"""The schema is created by the migrations alone, equals the models, and defends itself."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from mini_registry import mini_registry, write_csv_folder

import rtoutcomes
from rtoutcomes.registry.database import make_engine
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.migrate import (
    current_revision,
    downgrade,
    head_revision,
    init_registry,
    upgrade,
)
from rtoutcomes.registry.schema import REGISTRY_TABLES, metadata
from rtoutcomes.registry.spec import TABLES


def _check_names(connection: sa.Connection) -> tuple[set[str], set[str]]:
    inspector = sa.inspect(connection)
    in_db: set[str] = set()
    in_models: set[str] = set()
    native_boolean = connection.dialect.name == "postgresql"
    for table in metadata.sorted_tables:
        in_db |= {c["name"] for c in inspector.get_check_constraints(table.name)}
        in_models |= {
            str(c.name)
            for c in table.constraints
            if isinstance(c, sa.CheckConstraint)
            and not (native_boolean and str(c.name).endswith("_bool"))
        }
    return in_db, in_models


def test_migrated_schema_equals_models(db_url: str) -> None:
    assert init_registry(db_url) == head_revision()
    engine = make_engine(db_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
        in_db, in_models = _check_names(connection)
        tables = set(sa.inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert in_db == in_models  # compare_metadata does not look at CHECK constraints
    assert len(in_db) > 60
    assert tables == {t.name for t in TABLES} | {"alembic_version", "audit_log", "audit_head"}


def test_downgrade_then_upgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    downgrade(engine, "base")
    with engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def _rows(connection: sa.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every registry table's rows in a fixed order, without the columns 0004 adds."""
    inspector = sa.inspect(connection)
    rows = {}
    for name in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        columns = [
            c["name"]
            for c in inspector.get_columns(name)
            if c["name"] not in {"centre", "data_cutoff_date"}
        ]
        listed = ", ".join(columns)
        query = f"SELECT {listed} FROM {name} ORDER BY {listed}"
        rows[name] = [tuple(row) for row in connection.exec_driver_sql(query)]
    return rows


def test_downgrade_past_0004_keeps_the_rows(db_url: str, tmp_path: Path) -> None:
    # 0004's downgrade once rebuilt ``patients`` on SQLite, which fails while lesions point at it
    import_registry(write_csv_folder(mini_registry(), tmp_path / "mini"), db_url, user="dm")
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            before = _rows(connection)
        assert all(before[name] for name in ("patients", "lesions", "audit_log"))
        downgrade(engine, "0003")
        assert current_revision(engine) == "0003"
        with engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("patients")}
            assert not columns & {"centre", "data_cutoff_date"}
            assert _rows(connection) == before
        upgrade(engine)
        with engine.connect() as connection:
            assert _rows(connection) == before
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
        assert diff == []
    finally:
        engine.dispose()


#: the source tree under test (the subprocess must not pick up another installed checkout)
SOURCE = str(Path(rtoutcomes.__file__).resolve().parents[1])


def test_registry_schema_is_the_same_under_every_hash_seed(tmp_path: Path) -> None:
    # Alembic's batch mode wrote dosimetry's constraints in a set's order: before migration
    # 0003 rebuilt the table itself, seeds 1, 2 and 3 gave three different schemas
    schemas = set()
    for seed in ("1", "2", "3"):
        db = tmp_path / f"seed{seed}.db"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": SOURCE}
        subprocess.run(
            [sys.executable, "-m", "rtoutcomes", "init", "--db", str(db)],
            env=env,
            check=True,
            capture_output=True,
        )
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
            schemas.add(tuple(rows.fetchall()))
    assert len(schemas) == 1


def test_migration_0003_keeps_the_dosimetry_rows(tmp_path: Path) -> None:
    from rtoutcomes.demo import demo_registry_files
    from rtoutcomes.registry.importer import import_registry

    demo, old = tmp_path / "demo.db", tmp_path / "old.db"
    import_registry(demo_registry_files(), f"sqlite:///{demo}", user="test")
    engine = make_engine(f"sqlite:///{old}")
    upgrade(engine, "0002")
    engine.dispose()
    # a registry as 0002 left it: the demo's rows of the tables dosimetry depends on
    with sqlite3.connect(old) as connection:
        connection.execute("ATTACH DATABASE ? AS demo", (str(demo),))
        for table in ("patients", "lesions", "sbrt_courses", "dosimetry"):
            names = [r[1] for r in connection.execute(f"PRAGMA main.table_info({table})")]
            shared = ", ".join(n for n in names if n in _columns(connection, "demo", table))
            connection.execute(
                f"INSERT INTO main.{table} ({shared}) SELECT {shared} FROM demo.{table}"
            )
    columns = "course_id, tv_cc, piv_cc, tv_piv_cc, dmax_gy, coverage_pct, ci, nci, hi, source"
    query = f"SELECT {columns} FROM dosimetry ORDER BY course_id"
    with sqlite3.connect(old) as connection:
        before = connection.execute(query).fetchall()
    engine = make_engine(f"sqlite:///{old}")
    upgrade(engine)  # 0003 rebuilds the table on SQLite and copies its rows
    engine.dispose()
    with sqlite3.connect(old) as connection:
        after = connection.execute(query).fetchall()
        new = connection.execute("SELECT paddick_ci, rtplan_uid FROM dosimetry").fetchall()
    assert len(before) > 10 and after == before
    assert set(new) == {(None, None)}


def _columns(connection: sqlite3.Connection, schema: str, table: str) -> set[str]:
    return {r[1] for r in connection.execute(f"PRAGMA {schema}.table_info({table})")}


def test_every_foreign_key_is_looked_up_through_an_index(sqlite_url: str) -> None:
    """The write path reads one patient's rows through the foreign keys (registry/scope.py)."""
    init_registry(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        for spec in TABLES:
            for column in (c for c in spec.columns if c.references):
                plan = " ".join(
                    str(r[-1])
                    for r in connection.exec_driver_sql(
                        f"EXPLAIN QUERY PLAN SELECT * FROM {spec.name} WHERE {column.name} = 'x'"
                    )
                )
                assert "USING INDEX" in plan or "USING PRIMARY KEY" in plan, (spec.name, plan)
    engine.dispose()


def test_sqlite_connection_settings(sqlite_url: str) -> None:
    init_registry(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def _patient(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "patient_id": "P1",
        "sex": "female",
        "birth_date": dt.date(1960, 1, 1),
        "age_at_sbrt_years": None,
        "diagnosis_date": dt.date(2015, 1, 1),
        "histology_subtype": "leiomyosarcoma",
        "who_family": "smooth muscle tumours",
        "disease_setting": "recurrence",
        "lesions_at_first_sbrt": 1,
    }
    row.update(changes)
    return row


_LESION = {"lesion_id": "L1", "patient_id": "P1", "site_category": "lung", "size_cm": 2.0}
_COURSE = {
    "course_id": "C1",
    "lesion_id": "L1",
    "start_date": dt.date(2019, 1, 1),
    "end_date": dt.date(2019, 1, 5),
    "total_dose_gy": 40.0,
    "fractions": 5,
    "isodose_line_pct": 80.0,
}


@pytest.mark.parametrize(
    ("table", "changes"),
    [
        ("sbrt_courses", {"total_dose_gy": 400.0}),
        ("sbrt_courses", {"total_dose_gy": 0.0}),
        ("sbrt_courses", {"fractions": 0}),
        ("sbrt_courses", {"fractions": 51}),
        ("sbrt_courses", {"isodose_line_pct": 20.0}),
        ("sbrt_courses", {"end_date": dt.date(2018, 12, 31)}),
        ("sbrt_courses", {"lesion_id": "nowhere"}),
        ("sbrt_courses", {"tracking": "gps"}),
        ("lesions", {"size_cm": 55.0}),
        ("patients", {"sex": "unknown"}),
        ("patients", {"birth_date": None}),
        ("patients", {"fnclcc_grade": 4}),
    ],
)
def test_database_rejects_impossible_values(
    db_url: str, table: str, changes: dict[str, object]
) -> None:
    """Written behind the importer's back, an impossible value is refused by the database."""
    init_registry(db_url)
    engine = make_engine(db_url)
    rows = {"patients": _patient(), "lesions": dict(_LESION), "sbrt_courses": dict(_COURSE)}
    with engine.begin() as connection:  # a valid baseline goes in
        for name in ("patients", "lesions", "sbrt_courses"):
            connection.execute(REGISTRY_TABLES[name].insert(), [rows[name]])
    bad = {**rows[table], **changes}
    key = REGISTRY_TABLES[table].primary_key.columns[0].name
    bad[key] = f"{bad[key]}-bad"
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(REGISTRY_TABLES[table].insert(), [bad])
    engine.dispose()


def test_sqlite_refuses_fractional_fractions(sqlite_url: str) -> None:
    """SQLite would store 5.5 in an INTEGER column; a CHECK constraint refuses it."""
    init_registry(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(REGISTRY_TABLES["patients"].insert(), [_patient()])
        connection.execute(REGISTRY_TABLES["lesions"].insert(), [_LESION])
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO sbrt_courses (course_id, lesion_id, start_date, end_date, "
            "total_dose_gy, fractions, isodose_line_pct) "
            "VALUES ('C9', 'L1', '2019-01-01', '2019-01-02', 40, 5.5, 80)"
        )
    engine.dispose()
