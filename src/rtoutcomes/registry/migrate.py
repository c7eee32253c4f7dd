"""Schema migrations, run programmatically (no alembic.ini needed).

The Alembic scripts ship inside the package (``registry/migrations``); ``upgrade`` brings any
registry database to the current schema and ``init_registry`` creates an empty one.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.database import database_errors, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


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


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``; each migration is one transaction.

    Two processes may upgrade one database at once (two imports into a new registry, or an
    import started while the server still runs the transaction of a killed one). PostgreSQL:
    migrations hold an advisory lock, so the second waits and then finds nothing to do.
    SQLite: the second's failure ("database is locked", "table ... already exists") is
    retried for a few seconds, until the first has finished.
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
