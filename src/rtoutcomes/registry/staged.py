"""A first import's rows and audit entries written into scratch files by two processes at once,
then copied into the new registry in its one writer transaction.

A whole-registry import's SQLite work was two long INSERTs in one process: its rows (~0.3 s at
3,700 patients) and then its audit entries (~0.3 s: four indexes), since both go into one
transaction on one connection. Staged (``changes.audit_ahead``), the forked process that
prepares the audit batch also inserts it (``audit.write_batch``) into a scratch SQLite file of
the registry's schema, while this process inserts the rows (``changes._write``) into another;
the writer's transaction then copies both (``INSERT INTO t SELECT * FROM staged.t``: SQLite
moves whole records and index entries, ~0.12 s for everything) and moves the chain's head.

What the registry holds afterwards is the same: the same rows with the same rowids and stored
values, the same audit entries (the scratch files were written by the same code from the same
data), the same schema. The copy is made in the registry's one writer transaction, in WAL mode
with its ``synchronous`` setting, so the import stays all or nothing; until it commits, the
registry holds nothing of it. SQLite copies records as they are only while the copying
connection does not enforce foreign keys (``PRAGMA foreign_keys``, set before the transaction
on that connection only): the references were enforced when the rows went into their scratch
file (foreign keys ON there, with the same parent rows), after the import's checks had
verified them.

The scratch files live in a private temporary folder that the import removes when it ends
(also on an error); they need no journal and no syncing: nothing reads them but the copy, and
a crash loses only them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from rtoutcomes.registry.database import scratch_engine
from rtoutcomes.registry.migrate import head_schema, write_head_schema_into

ROWS = "staged_rows"
"""The schema name of the rows' scratch file in the writer's connection."""
AUDIT = "staged_audit"
"""The schema name of the audit entries' scratch file in the writer's connection."""


class Unusable(Exception):
    """The staged files cannot be copied as they are (the registry's schema is not theirs, or
    its chain moved): the change is written the usual way instead."""


def possible() -> bool:
    """The registry's head schema is known without running the migrations (scratch files are
    made from it: ``migrate.head_schema``)."""
    return head_schema() is not None


@contextmanager
def folder() -> Iterator[Path]:
    """A private temporary folder for scratch files, removed with everything in it at the
    end."""
    path = Path(tempfile.mkdtemp(prefix="rtoutcomes-import-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def scratch(path: Path) -> Iterator[sa.Connection]:
    """A new SQLite file at ``path`` with the registry's head schema (and its rows:
    ``alembic_version``, ``audit_head``), and a connection in a transaction on it, committed
    when the block ends without an error. The indexes that are no constraint (``CREATE
    INDEX``: an entry's record, a lesion's patient...) are made when the block ends, from the
    rows then in their tables: one sorted pass instead of an insertion per row (~0.05 s of a
    whole-registry import's audit entries). Only their place in ``sqlite_master`` differs
    from the registry's, which ``copy`` allows."""
    stored = head_schema()
    if stored is None:
        raise Unusable("no stored head schema")
    later = [s for s in stored["statements"] if s.startswith("CREATE INDEX ")]
    first = [s for s in stored["statements"] if s not in later]
    engine = scratch_engine(path)
    try:
        with engine.connect() as connection, connection.begin():
            write_head_schema_into(connection, {**stored, "statements": first})
            yield connection
            for statement in later:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def attach(connection: sa.Connection, files: Mapping[str, Path]) -> None:
    """Before the writer's transaction begins: ``files`` attached to ``connection`` under
    their schema names, and foreign keys not enforced on it (see the module's docstring; SQLite
    changes neither inside a transaction)."""
    import sqlite3

    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        driver.execute("PRAGMA foreign_keys = OFF")
        for name, path in files.items():
            driver.execute(f"ATTACH DATABASE ? AS {name}", (str(path),))
    except sqlite3.Error as error:  # the connection is closed unused: written the usual way
        raise Unusable(f"the staged files cannot be attached: {error}") from error


def copy(connection: sa.Connection, name: str, tables: Sequence[str]) -> dict[str, int]:
    """Every row of ``tables`` of the attached file ``name`` copied into the registry's
    tables of the same name (in the caller's writer transaction); the rows copied per table.
    ``Unusable`` when the attached file's schema is not the registry's, statement for
    statement (in any order: ``scratch`` makes some indexes last)."""
    query = "SELECT type, name, tbl_name, sql FROM {}.sqlite_master ORDER BY type, name"
    ours = connection.exec_driver_sql(query.format("main")).all()
    theirs = connection.exec_driver_sql(query.format(name)).all()
    if ours != theirs:
        raise Unusable(f"the registry's schema is not that of the file staged as {name}")
    copied = {}
    for table in tables:
        result = connection.exec_driver_sql(
            f'INSERT INTO main."{table}" SELECT * FROM {name}."{table}"'
        )
        copied[table] = result.rowcount
    return copied
