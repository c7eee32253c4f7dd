"""Read the registry's content: typed rows, or pandas DataFrames for the analysis layers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.database import database_errors, make_engine
from rtoutcomes.registry.schema import REGISTRY_TABLES
from rtoutcomes.registry.spec import TABLES

if TYPE_CHECKING:
    import pandas as pd

Rows = dict[str, list[dict[str, object]]]


class SchemaOutOfDate(RtOutcomesError):
    """The database is not a registry at the current schema revision."""


def check_schema(engine: sa.Engine) -> None:
    """Refuse a database that is not a registry at the current schema (run ``init`` first)."""
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


def fetch_rows(connection: sa.Connection) -> Rows:
    """Every table's rows as dicts of typed values, sorted by primary key (code-point order,
    the same on every backend)."""
    rows: Rows = {}
    for spec in TABLES:
        table = REGISTRY_TABLES[spec.name]
        result = connection.execute(sa.select(table))
        records = [dict(r._mapping) for r in result]
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


def read_rows(db_url: str | Path) -> Rows:
    """``fetch_rows`` of an existing registry database."""
    with reading(db_url) as connection:
        return fetch_rows(connection)


def read_tables(db_url: str | Path, as_of: str | None = None) -> dict[str, pd.DataFrame]:
    """Every registry table as a DataFrame with the format's column names and order.

    dtypes: dates ``datetime64[ns]`` (``NaT`` when missing); integers pandas ``Int64`` and
    numbers ``float64`` (``<NA>``/``NaN`` when missing); yes/no pandas ``boolean``; text
    ``object`` holding ``str`` or ``None``. Rows are sorted by the table's primary key. Units are
    those of the column names (``_gy`` Gy, ``_cm`` cm, ``_mm`` mm, ``_cc`` cm3, ``_pct`` %).
    ``as_of``: the registry as it was at a freeze label, batch or time (``audit.snapshot``).
    """
    from rtoutcomes.registry.audit import snapshot

    return frames_of_rows(snapshot(db_url, as_of).rows if as_of else read_rows(db_url))


def frames_of_rows(rows: Rows) -> dict[str, pd.DataFrame]:
    """``fetch_rows``' rows as ``read_tables``' DataFrames."""
    import pandas as pd

    frames: dict[str, pd.DataFrame] = {}
    for spec in TABLES:
        data = rows.get(spec.name, [])
        columns = {c.name: _series(c.kind, [r[c.name] for r in data]) for c in spec.columns}
        frames[spec.name] = pd.DataFrame(columns, columns=list(spec.column_names))
    return frames


def _series(kind: str, values: list[object]) -> Any:
    import pandas as pd

    if kind == "date":
        return pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[ns]")
    if kind == "integer":
        return pd.Series(values, dtype="Int64")
    if kind == "number":
        return pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
    if kind == "yes/no":
        return pd.Series(values, dtype="boolean")
    return pd.Series(values, dtype="object")
