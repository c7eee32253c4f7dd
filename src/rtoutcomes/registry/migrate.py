"""Schema migrations, run programmatically (no alembic.ini needed).

The Alembic scripts ship inside the package (``registry/migrations``); ``upgrade`` brings any
registry database to the current schema and ``init_registry`` creates an empty one.

A new SQLite file (no table yet) is brought to the head in one transaction by the statements
the chain of migrations leaves in ``sqlite_master`` (``migrations/head_schema_sqlite.json``,
written by ``write_head_schema`` from the chain itself, with the rows the chain leaves:
``alembic_version`` and ``audit_head``): the same schema, without importing Alembic and
running five migrations (~0.3 s of every first import). It is used only while the migration
files are exactly those it was made from; tests/registry/test_schema.py checks that it equals
the chain's result (every ``sqlite_master`` entry in order, every row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.database import WRITER_WAIT_OPTION, database_errors, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
HEAD_SCHEMA = MIGRATIONS_DIR / "head_schema_sqlite.json"


def alembic_config(engine: sa.Engine | None = None) -> object:
    """An Alembic ``Config`` whose script location is the package's migrations folder."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The revision id of the current schema (the newest migration)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = alembic_config()
    assert isinstance(config, Config)
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RtOutcomesError("no schema migrations found")
    return head


def known_revisions() -> set[str]:
    """Every schema revision this version of rtoutcomes ships a migration for."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = alembic_config()
    assert isinstance(config, Config)
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def refuse_unknown_revision(revision: str | None, where: str) -> None:
    """``SchemaTooNew`` if ``revision`` is not one of ours (a newer rtoutcomes made it)."""
    if revision is not None and revision not in known_revisions():
        from rtoutcomes import __version__

        raise SchemaTooNew(
            f"{where} is at schema revision {revision!r}, which this rtoutcomes "
            f"({__version__}, newest revision {head_revision()}) does not know: it was made by "
            "a newer rtoutcomes; use that version (downgrading is not possible)"
        )


class SchemaTooNew(RtOutcomesError):
    """The database's schema revision is unknown to this version (made by a newer one)."""


def current_revision(engine: sa.Engine) -> str | None:
    """The schema revision a database is at (``None``: not a registry / empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


SCHEMA_LOCK_KEY = 0x72746F75  # "rtou": the PostgreSQL advisory lock of schema migrations


def upgrade(engine: sa.Engine, revision: str = "head", *, chain: bool = False) -> None:
    """Apply the migrations up to ``revision``; each migration is one transaction.

    Two processes may upgrade one database at once (two imports into a new registry, or an
    import started while the server still runs the transaction of a killed one). PostgreSQL:
    migrations hold an advisory lock, so the second waits and then finds nothing to do.
    SQLite: the second's failure ("database is locked", "table ... already exists") is
    retried for a few seconds, until the first has finished.

    A new SQLite file is brought to the head by ``migrations/head_schema_sqlite.json`` (the
    chain's result) unless ``chain`` asks for the migrations themselves.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock:
            lock.exec_driver_sql(f"SELECT pg_advisory_lock({SCHEMA_LOCK_KEY})")
            try:
                _upgrade(engine, revision)
            finally:
                lock.exec_driver_sql(f"SELECT pg_advisory_unlock({SCHEMA_LOCK_KEY})")
        return
    import time

    for attempt in range(40):
        try:
            if chain or revision != "head" or not _create_head_schema(engine):
                _upgrade(engine, revision)
            return
        except sa.exc.OperationalError as error:
            text = str(error.orig)
            if attempt == 39 or not ("locked" in text or "already exists" in text):
                raise
            time.sleep(0.25)


def _upgrade(engine: sa.Engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from rtoutcomes.registry.database import ForeignDatabase, describe_database

    where = describe_database(engine.url.render_as_string(hide_password=False))
    current = current_revision(engine)
    refuse_unknown_revision(current, where)
    if current is None:
        with engine.connect() as connection:
            names = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        if names:
            raise ForeignDatabase(
                f"{where} holds {len(names)} tables of another program and no rtoutcomes "
                "schema revision; rtoutcomes will not add its tables to it: give a new database"
            )
    config = alembic_config(engine)
    assert isinstance(config, Config)
    command.upgrade(config, revision)


def stored_head_revision() -> str | None:
    """The head revision as ``HEAD_SCHEMA`` records it (its ``alembic_version`` row), without
    importing Alembic; ``None`` when it was not made from the migration files shipped."""
    stored = _stored_schema()
    if stored is None:
        return None
    versions = [rows for table, _, rows in stored["rows"] if table == "alembic_version"]
    return str(versions[0][0][0]) if versions and len(versions[0]) == 1 else None


def _stored_schema() -> dict[str, Any] | None:
    """``HEAD_SCHEMA``'s content, if it was made from the migration files shipped."""
    import json

    try:
        stored = json.loads(HEAD_SCHEMA.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stored if stored.get("migrations") == _migration_files() else None


def _migration_files() -> list[str]:
    return sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))


def _create_head_schema(engine: sa.Engine) -> bool:
    """Create the head schema in a SQLite database that has no table yet, in one transaction,
    from ``HEAD_SCHEMA``; ``False`` (nothing done) when the database has tables or the stored
    schema was not made from the migration files shipped."""
    stored = _stored_schema()
    if stored is None:
        return False
    with engine.connect() as connection:
        # the writer lock first (another process may be creating it: wait for it)
        connection.execution_options(**{WRITER_WAIT_OPTION: 5000})
        with connection.begin() as transaction:
            if connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1"
            ).first():
                transaction.rollback()
                return False
            write_head_schema_into(connection, stored)
    return True


def head_schema() -> dict[str, Any] | None:
    """``HEAD_SCHEMA``'s statements and rows, if it was made from the migration files shipped
    (else ``None``: the migrations themselves make a new file)."""
    return _stored_schema()


def write_head_schema_into(connection: sa.Connection, stored: dict[str, Any]) -> None:
    """``stored`` (``head_schema()``) written into an empty SQLite database, in the caller's
    transaction."""
    for statement in stored["statements"]:
        connection.exec_driver_sql(statement)
    for table, columns, rows in stored["rows"]:
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [tuple(r) for r in rows],
        )


def chain_schema(path: Path) -> dict[str, object]:
    """Run the chain of migrations into a new SQLite file at ``path`` and return what it left:
    ``sqlite_master``'s statements in order (the indexes a table's constraints make have none:
    the table's statement makes them) and every table's rows (what ``HEAD_SCHEMA`` holds)."""
    import sqlite3
    from contextlib import closing

    engine = make_engine(path)
    try:
        upgrade(engine, chain=True)
    finally:
        engine.dispose()
    with closing(sqlite3.connect(path)) as connection:
        statements = [
            sql
            for (sql,) in connection.execute("SELECT sql FROM sqlite_master ORDER BY rowid")
            if sql is not None
        ]
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
            )
        ]
        rows = []
        for table in tables:
            cursor = connection.execute(f"SELECT * FROM {table} ORDER BY rowid")
            found = [list(r) for r in cursor]
            if found:
                rows.append([table, [d[0] for d in cursor.description], found])
    return {"migrations": _migration_files(), "statements": statements, "rows": rows}


def write_head_schema(scratch: Path) -> None:
    """Regenerate ``HEAD_SCHEMA`` from the chain (after adding a migration:
    ``python scripts/make_head_schema.py``); ``scratch``: a folder for the SQLite file."""
    import json

    schema = chain_schema(scratch / "chain.db")
    HEAD_SCHEMA.write_text(json.dumps(schema, indent=1) + "\n", encoding="utf-8")


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Undo migrations down to ``revision`` (``"base"`` drops every registry table)."""
    from alembic import command
    from alembic.config import Config

    config = alembic_config(engine)
    assert isinstance(config, Config)
    command.downgrade(config, revision)


def init_registry(db_url: str | Path) -> str:
    """Create an empty registry at the current schema (or upgrade an older one); returns the
    schema revision. ``db_url``: a SQLite file path or a database URL."""
    engine = make_engine(db_url)
    try:
        with database_errors(db_url):
            upgrade(engine)
            revision = current_revision(engine)
    finally:
        engine.dispose()
    return revision or ""
