"""Engine factory: a SQLite file (the embedded default) or a database URL (PostgreSQL).

``make_engine`` is the one opener of a registry database. Before SQLite is connected to (which
would create a file, or switch another program's database to WAL), the file named is checked:
a 0-byte file, a file that is not SQLite, and a SQLite database of another program (tables but
no rtoutcomes schema revision) are refused. URL schemes other than SQLite and PostgreSQL are
refused with a message instead of a driver's import error.

SQLite connections get foreign keys ON and WAL journal mode on every connection, and real
transactions (pysqlite's implicit transaction handling is switched off and ``BEGIN`` emitted by
SQLAlchemy), so that migrations and imports are all-or-nothing there too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from rtoutcomes.errors import RtOutcomesError


class RegistryNotFound(RtOutcomesError):
    """The database named does not exist (and the operation would not create it)."""


class RegistryUnavailable(RtOutcomesError):
    """The database cannot be opened or used (server down, no such database, not a database)."""


class ForeignDatabase(RtOutcomesError):
    """The database is not an rtoutcomes registry (another program's, empty file, not SQLite)."""


SUPPORTED_BACKENDS = ("sqlite", "postgresql")
SQLITE_HEADER = b"SQLite format 3\x00"


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
        try:
            url = sa.make_url(text)
        except sa.exc.ArgumentError:
            raise RegistryUnavailable(f"not a database URL: {text!r}") from None
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        if url.get_backend_name() not in SUPPORTED_BACKENDS or url.drivername not in (
            "sqlite",
            "sqlite+pysqlite",
            "postgresql+psycopg",
        ):
            raise RegistryUnavailable(
                f"unsupported database URL scheme '{url.drivername}': give a SQLite file path "
                "(or sqlite:///path) or postgresql+psycopg://user@host/dbname"
            )
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
    refuse_foreign_sqlite(Path(database), reading=must_exist)
    engine = sa.create_engine(url, poolclass=NullPool)
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def refuse_foreign_sqlite(path: Path, *, reading: bool) -> None:
    """``ForeignDatabase`` unless ``path`` is absent, an empty SQLite database or a registry.

    A 0-byte file is refused for ``reading`` (it is no registry); a command that creates the
    registry (init, import) takes it, as SQLite does: it is what a creation killed before its
    first write leaves behind, and it holds nothing to lose.

    Read through a read-only URI (``Path.as_uri`` escapes ``%``, ``#`` and ``?``), so the check
    changes nothing: no file created, no journal mode switched.
    """
    import sqlite3
    from contextlib import closing

    if not path.exists():
        return
    if not path.is_file():
        raise ForeignDatabase(f"{path} is not a file")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise RegistryUnavailable(f"cannot read {path} ({error.strerror})") from None
    if not header and not reading:
        return
    if not header:
        raise ForeignDatabase(
            f"{path} is an empty (0-byte) file, not a registry; delete it or give another path"
        )
    if header != SQLITE_HEADER:
        raise ForeignDatabase(f"{path} is not a SQLite database (nor an rtoutcomes registry)")
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            names = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.Error as error:
        raise RegistryUnavailable(f"cannot use the database {path}: {error}") from None
    if names and "alembic_version" not in names:
        shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
        raise ForeignDatabase(
            f"{path} is another program's SQLite database ({len(names)} tables: {shown}); "
            "rtoutcomes will not add its tables to it: give a new file"
        )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def scratch_engine(path: Path) -> sa.Engine:
    """An engine for a scratch SQLite file that no reader sees and nothing needs to survive a
    crash (``staged.py``): 64 KiB pages (fewer page splits and writes: a whole-registry
    import's audit entries go in ~0.03 s sooner; the copy out of it is as fast), no journal,
    no syncing, a 64 MB page cache, foreign keys ON and real transactions as in a registry."""
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(path)), poolclass=NullPool)
    sa.event.listen(engine, "connect", _scratch_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _scratch_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
    for pragma in (
        "page_size = 65536",  # before anything is written
        "foreign_keys = ON",
        "journal_mode = OFF",
        "synchronous = OFF",
        "cache_size = -65536",
    ):
        dbapi_connection.execute(f"PRAGMA {pragma}")


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


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """INSERT ``rows`` (tuples of the columns ``names``) into ``table`` in the caller's
    transaction, as one executemany.

    On SQLite the tuples go to the driver directly, each value through the SQLAlchemy type's
    own bind processor (dates as ISO text...: the values SQLAlchemy's ``insert()`` would send),
    without building a parameter dictionary per row; a column that holds one text, whole
    number or ``NULL`` in every row (an audit batch's time, user and command; an optional
    column left empty) is written into the statement as that literal instead of being bound
    for every row (SQLite stores the same value). Elsewhere through ``insert()``.
    """
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
        return
    insert_columns(connection, table, names, list(zip(*rows, strict=True)))


def insert_columns(
    connection: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    columns: Sequence[Sequence[object]],
) -> None:
    """``insert_rows`` of rows given as their columns (one sequence of values per name in
    ``names``, all of one length), without making the rows first."""
    if not columns or not columns[0]:
        return
    dialect = connection.dialect
    if dialect.name != "sqlite":
        insert_rows(connection, table, names, list(zip(*columns, strict=True)))
        return
    values: list[str] = []
    bound: list[Sequence[object]] = []
    for name, column in zip(names, columns, strict=True):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            column = _processed(column, process)
        literal = _literal(column)
        if literal is None:
            values.append("?")
            bound.append(column)
        else:
            values.append(literal)
    quote = dialect.identifier_preparer.quote
    into = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "
    one = f"({', '.join(values)})"
    count = len(columns[0])
    per = max(1, min(ROWS_PER_STATEMENT, _variable_limit(connection) // max(len(bound), 1)))
    for start in range(0, count, per):
        stop = min(start + per, count)
        rows = zip(*(column[start:stop] for column in bound), strict=True)
        connection.exec_driver_sql(
            into + ", ".join([one] * (stop - start)), tuple(chain.from_iterable(rows))
        )


ROWS_PER_STATEMENT = 500
"""Rows in one INSERT on SQLite (a VALUES list): SQLite evaluates a CHECK constraint's
``IN (...)`` list of three or more values by building a small temporary table once per
statement run, and one run per row (``executemany``) made that ~1.8 us per row and per such
constraint (the audit trail's action, a lesion's site, an assessment's modality...): about
0.3 s of a whole-registry import's 68,304 rows and audit entries. Inserted in the given order,
the same rows and values as one statement per row."""


def _variable_limit(connection: sa.Connection) -> int:
    """How many values one SQLite statement may bind (32766 since SQLite 3.32, 999 before)."""
    import sqlite3

    driver = connection.connection.dbapi_connection
    return int(driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) if driver else 999


def _literal(column: Sequence[object]) -> str | None:
    """The SQL literal of the one value every row of ``column`` holds, when that is ``NULL``,
    a whole number (not yes/no) or a text without NUL characters; else ``None`` (bound)."""
    first = column[0]
    kind = type(first)
    # the last value first: most columns vary, and are told in one comparison
    if kind not in (str, int, type(None)) or type(column[-1]) is not kind or column[-1] != first:
        return None
    if column.count(first) != len(column) or set(map(type, column)) != {kind}:
        return None
    if kind is type(None):
        return "NULL"
    if kind is int:
        return int.__repr__(first)
    text = str(first)
    return None if "\x00" in text else "'" + text.replace("'", "''") + "'"


_ONE_TEXT_PER_VALUE = ({type(None), dt.date}, {type(None), bool})
"""Column contents whose equal values are bound alike (dates, yes/no): processed once per
distinct value (dates repeat down a column). Not numbers: 0.0 == -0.0."""


def _processed(values: Sequence[object], process: Any) -> list[object]:
    """``process`` (a bind processor) of each value, ``None`` kept."""
    kinds = set(map(type, values))
    if any(kinds <= same for same in _ONE_TEXT_PER_VALUE):
        bound = {v: None if v is None else process(v) for v in dict.fromkeys(values)}
        return list(map(bound.__getitem__, values))
    return [None if v is None else process(v) for v in values]
