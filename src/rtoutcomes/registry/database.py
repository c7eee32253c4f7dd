"""Engine factory: a SQLite file (the embedded default) or a database URL (PostgreSQL).

SQLite connections get foreign keys ON and WAL journal mode on every connection, and real
transactions (pysqlite's implicit transaction handling is switched off and ``BEGIN`` emitted by
SQLAlchemy), so that migrations and imports are all-or-nothing there too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from rtoutcomes.errors import RtOutcomesError


class RegistryNotFound(RtOutcomesError):
    """The database named does not exist (and the operation would not create it)."""


class RegistryUnavailable(RtOutcomesError):
    """The database cannot be opened or used (server down, no such database, not a database)."""


@contextmanager
def database_errors(db: str | Path) -> Iterator[None]:
    """Turn a driver's failure to open or use ``db`` into a ``RegistryUnavailable`` message
    (integrity errors pass through: the caller explains them)."""
    try:
        yield
    except sa.exc.IntegrityError:
        raise
    except (sa.exc.OperationalError, sa.exc.DatabaseError, sa.exc.InterfaceError) as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise RegistryUnavailable(
            f"cannot use the database {describe_database(db)}: {reason}"
        ) from error


def database_url(db: str | Path) -> sa.URL:
    """A SQLAlchemy URL from a URL string or a SQLite file path."""
    text = str(db)
    if "://" in text:
        url = sa.make_url(text)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url
    return sa.URL.create("sqlite", database=str(Path(text).expanduser().resolve()))


def describe_database(db: str | Path) -> str:
    """``db`` for messages: a URL's password hidden, a SQLite file as its path."""
    url = database_url(db)
    if url.get_backend_name() == "sqlite":
        return url.database or ""
    return url.render_as_string(hide_password=True)


def make_engine(db: str | Path, *, must_exist: bool = False) -> sa.Engine:
    """An engine for ``db`` (SQLite file path, ``sqlite:///...`` or ``postgresql+psycopg://...``).

    ``must_exist``: refuse a SQLite file that does not exist instead of creating it (reading
    operations must not leave an empty file behind).
    """
    url = database_url(db)
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, poolclass=NullPool)
    database = url.database or ""
    if database in ("", ":memory:"):
        raise RtOutcomesError("an in-memory SQLite registry would vanish; give a file path")
    if must_exist and not Path(database).is_file():
        raise RegistryNotFound(f"no registry database at {database} (create one with init)")
    engine = sa.create_engine(url, poolclass=NullPool)
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


WRITER_WAIT_OPTION = "rtoutcomes_writer_wait_ms"
"""Execution option of a SQLite connection that is to write: its transaction starts with
``BEGIN IMMEDIATE`` (the database's one write lock), waiting at most that many milliseconds."""


def _sqlite_on_begin(connection: sa.Connection) -> None:
    wait_ms = connection.get_execution_options().get(WRITER_WAIT_OPTION)
    if wait_ms is None:
        connection.exec_driver_sql("BEGIN")
        return
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait_ms)}")
    connection.exec_driver_sql("BEGIN IMMEDIATE")
