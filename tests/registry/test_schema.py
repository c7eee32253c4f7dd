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


@pytest.mark.parametrize("chain", [True, False], ids=["migrations", "new file"])
def test_registry_schema_is_the_same_under_every_hash_seed(tmp_path: Path, chain: bool) -> None:
    # Alembic's batch mode wrote dosimetry's constraints in a set's order: before migration
    # 0003 rebuilt the table itself, seeds 1, 2 and 3 gave three different schemas
    schemas = set()
    create = (
        "import sys; from rtoutcomes.registry.database import make_engine; "
        "from rtoutcomes.registry.migrate import upgrade; "
        f"upgrade(make_engine(sys.argv[1]), chain={chain})"
    )
    for seed in ("1", "2", "3"):
        db = tmp_path / f"seed{seed}.db"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": SOURCE}
        subprocess.run(
            [sys.executable, "-c", create, str(db)], env=env, check=True, capture_output=True
        )
        schemas.add(_schema(db))
    assert len(schemas) == 1


def _schema(db: Path) -> tuple[object, ...]:
    """``sqlite_master`` in order (but for where each entry's pages are) and every row."""
    with sqlite3.connect(db) as connection:
        master = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
        ).fetchall()
        rows = [
            (name, connection.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchall())
            for kind, name, _, _ in master
            if kind == "table"
        ]
        pragmas = [
            connection.execute(f"PRAGMA {p}").fetchall()
            for p in ("user_version", "application_id", "journal_mode", "page_size", "encoding")
        ]
    return (tuple(master), tuple(repr(r) for r in rows), repr(pragmas))


def test_a_new_file_gets_the_schema_the_migrations_make(tmp_path: Path) -> None:
    """A new SQLite file is created from migrations/head_schema_sqlite.json: the same
    sqlite_master entries in the same order and the same rows as running every migration,
    and the stored file is what the migrations make now (regenerate it with
    scripts/make_head_schema.py after adding a migration)."""
    import json

    from rtoutcomes.registry.migrate import HEAD_SCHEMA, chain_schema

    assert chain_schema(tmp_path / "chain.db") == json.loads(HEAD_SCHEMA.read_text())
    direct = tmp_path / "direct.db"
    init_registry(direct)
    assert _schema(direct) == _schema(tmp_path / "chain.db")
    assert len(_schema(direct)[0]) > 40
    # the file was not made by the migrations: Alembic's batch rebuild of dosimetry (0003)
    # leaves gaps in sqlite_master's numbering, the stored statements none
    with sqlite3.connect(direct) as connection:
        numbers = [r for (r,) in connection.execute("SELECT rowid FROM sqlite_master")]
    assert numbers == list(range(1, len(numbers) + 1))


def test_a_stale_stored_schema_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: stored statements made from other migration files are ignored (the
    migrations run), and the comparison above catches a stored schema that differs."""
    import json

    import rtoutcomes.registry.migrate as migrate

    stored = json.loads(migrate.HEAD_SCHEMA.read_text())
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({**stored, "migrations": stored["migrations"][:-1]}))
    monkeypatch.setattr(migrate, "HEAD_SCHEMA", stale)
    init_registry(tmp_path / "a.db")
    with sqlite3.connect(tmp_path / "a.db") as connection:
        numbers = [r for (r,) in connection.execute("SELECT rowid FROM sqlite_master")]
    assert numbers != list(range(1, len(numbers) + 1))  # the migrations made it
    # a stored schema that lost one index: the same migration files, another schema
    statements = [s for s in stored["statements"] if "ix_toxicities_course_id" not in s]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**stored, "statements": statements}))
    monkeypatch.setattr(migrate, "HEAD_SCHEMA", broken)
    init_registry(tmp_path / "b.db")
    assert _schema(tmp_path / "b.db") != _schema(tmp_path / "a.db")


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
