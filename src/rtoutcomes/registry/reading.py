"""One consistent read of a registry: the schema check, the connection and every table's rows
(``tables`` turns them into DataFrames; ``audit`` rebuilds past states from them).

SQLAlchemy (~0.15 s to import, with asyncio and ssl) is imported when a registry is read, not
with this module: ``tables`` (and so the study layer, which turns rows into DataFrames) imports
this module, and the demo's own process, which is handed the rows read by the process that
wrote them, never reads a registry itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.spec import TABLES

if TYPE_CHECKING:
    import sqlalchemy as sa

Rows = dict[str, list[dict[str, object]]]
GENESIS = "0" * 64  # the hash before the audit trail's first entry


@dataclass(frozen=True)
class RegistryState:
    """Which state of the registry a reader saw: the audit entry it ends at and its hash."""

    seq: int
    batch: int
    chain_hash: str
    label: str | None = None
    as_of: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "as_of": self.as_of,
            "label": self.label,
            "batch": self.batch,
            "audit_seq": self.seq,
            "chain_hash": self.chain_hash,
        }


@dataclass
class Snapshot:
    """Registry rows (as ``fetch_rows``) and the state they are."""

    rows: Rows
    state: RegistryState = field(default_factory=lambda: RegistryState(0, 0, GENESIS))


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
    import sqlalchemy as sa

    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return [
            str(r[0]) for r in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        ]


def fetch_rows(connection: sa.Connection) -> Rows:
    """Every table's rows as dicts of typed values, sorted by primary key (code-point order,
    the same on every backend)."""
    import sqlalchemy as sa

    from rtoutcomes.registry.schema import REGISTRY_TABLES

    rows: Rows = {}
    for spec in TABLES:
        table = REGISTRY_TABLES[spec.name]
        result = connection.execute(sa.select(table))
        # plain str keys (SQLAlchemy's are its str subclass, which the rows would carry
        # into every process they are pickled to: unpickling it imports SQLAlchemy)
        names = tuple(map(str, result.keys()))
        records = [dict(zip(names, row, strict=True)) for row in result.all()]
        records.sort(key=lambda r: str(r[spec.primary_key]))
        rows[spec.name] = records
    return rows


@contextmanager
def reading(db_url: str | Path) -> Iterator[sa.Connection]:
    """A connection to an existing registry at the current schema whose reads all see one
    state: before or after any concurrent write, never a mix (SQLite: one read transaction on
    WAL; PostgreSQL: a REPEATABLE READ transaction)."""
    from rtoutcomes.registry.database import database_errors, make_engine

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
