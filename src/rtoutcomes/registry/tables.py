"""Read the registry's content: typed rows, or pandas DataFrames for the analysis layers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rtoutcomes.registry.reading import (  # noqa: F401 (their public home for callers)
    Rows,
    SchemaOutOfDate,
    check_schema,
    fetch_rows,
    reading,
)
from rtoutcomes.registry.spec import TABLES

if TYPE_CHECKING:
    import pandas as pd


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
