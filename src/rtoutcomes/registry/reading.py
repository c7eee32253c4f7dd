"""One consistent read of a registry: the schema check, the connection and every table's rows
(``tables`` turns them into DataFrames; ``audit`` rebuilds past states from them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.database import database_errors, make_engine
from rtoutcomes.registry.schema import REGISTRY_TABLES
from rtoutcomes.registry.spec import TABLES

Rows = dict[str, list[dict[str, object]]]


class SchemaOutOfDate(RtOutcomesError):
    """The database is not a registry at the current schema revision."""


def check_schema(engine: sa.Engine) -> None:
    """Refuse a database that is not a registry at the current schema (run ``init`` first)."""
    from rtoutcomes.registry.migrate import stored_head_revision

    head = stored_head_revision()
    if head is not None and _revisions(engine) == [head]:
        return  # at the head, known without Alembic (importing it and its scripts: ~0.3 s)
    from rtoutcomes.registry.migrate import (
        current_revision,
        head_revision,
        refuse_unknown_revision,
    )

    current, head = current_revision(engine), head_revision()
    refuse_unknown_revision(current, engine.url.render_as_string())
    if current is None:
        raise SchemaOutOfDate(
            f"{engine.url.render_as_string()} is not an rtoutcomes registry "
            "(no schema revision); create one with `rtoutcomes init`"
        )
    if current != head:
        raise SchemaOutOfDate(
            f"registry schema is at revision {current}, the current one is {head}; "
            "upgrade it with `rtoutcomes init`"
        )


def _revisions(engine: sa.Engine) -> list[str] | None:
    """The rows of ``alembic_version`` (``None``: no such table)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return [
            str(r[0]) for r in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        ]


def fetch_rows(connection: sa.Connection) -> Rows:
    """Every table's rows as dicts of typed values, sorted by primary key (code-point order,
    the same on every backend)."""
    rows: Rows = {}
    for spec in TABLES:
        table = REGISTRY_TABLES[spec.name]
        result = connection.execute(sa.select(table))
        names = tuple(result.keys())
        records = [dict(zip(names, row, strict=True)) for row in result.all()]
        records.sort(key=lambda r: str(r[spec.primary_key]))
        rows[spec.name] = records
    return rows


@contextmanager
def reading(db_url: str | Path) -> Iterator[sa.Connection]:
    """A connection to an existing registry at the current schema whose reads all see one
    state: before or after any concurrent write, never a mix (SQLite: one read transaction on
    WAL; PostgreSQL: a REPEATABLE READ transaction)."""
    engine = make_engine(db_url, must_exist=True)
    try:
        with database_errors(db_url):
            check_schema(engine)
            with engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    yield connection
    finally:
        engine.dispose()
