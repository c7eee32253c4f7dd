"""Import a registry (CSV folder or Excel workbook) into a database: all or nothing.

Every row is validated before the database is touched; if anything is wrong, every problem is
reported at once (``ImportRejected``) and nothing is written - not even an empty database file.
Otherwise the whole registry is written in one transaction.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.io.problems import Problem
from rtoutcomes.io.tabular import RawRegistry, RawRow, RawTable, read_registry_files
from rtoutcomes.registry.database import database_errors, make_engine
from rtoutcomes.registry.schema import REGISTRY_TABLES
from rtoutcomes.registry.spec import TABLES
from rtoutcomes.registry.tables import read_rows
from rtoutcomes.registry.validation import ImportRejected, validate_registry


class RegistryNotEmpty(RtOutcomesError):
    """Import goes into an empty registry only."""


def import_registry(path: str | Path, db_url: str | Path) -> dict[str, int]:
    """Validate the registry at ``path`` (folder of CSV files or .xlsx), then write it to
    ``db_url`` (SQLite file path or database URL) in one transaction.

    The database is created and brought to the current schema if needed; it must hold no
    registry rows yet. Returns the number of rows written per table. Raises ``ImportRejected``
    listing every problem (nothing written) or ``RegistryNotEmpty``.
    """
    from rtoutcomes.registry.migrate import upgrade

    validated = validate_registry(read_registry_files(path))
    if validated.problems:
        raise ImportRejected(validated.problems, "import refused, nothing was written")
    engine = make_engine(db_url)
    try:
        with database_errors(db_url):
            upgrade(engine)
        with database_errors(db_url), engine.begin() as connection:
            _refuse_if_not_empty(connection)
            counts: dict[str, int] = {}
            for spec in TABLES:
                rows = [
                    {name: record.values.get(name) for name in spec.column_names}
                    for record in validated.tables[spec.name]
                ]
                if rows:
                    connection.execute(REGISTRY_TABLES[spec.name].insert(), rows)
                counts[spec.name] = len(rows)
    except sa.exc.IntegrityError as error:
        raise RtOutcomesError(
            f"the database refused the import, nothing was written: {error.orig}"
        ) from error
    finally:
        engine.dispose()
    return counts


def _refuse_if_not_empty(connection: sa.Connection) -> None:
    for spec in TABLES:
        table = REGISTRY_TABLES[spec.name]
        count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if count:
            raise RegistryNotEmpty(
                f"the registry already holds data ({count} rows in {spec.name}); "
                "import into a new database"
            )


def validate_database(db_url: str | Path) -> list[Problem]:
    """The import checks applied to a registry database's content (empty list: all good).

    Rows are numbered as in ``export_registry``'s files (header = row 1, sorted by primary key).
    """
    return validate_registry(database_as_raw(db_url)).problems


def database_as_raw(db_url: str | Path) -> RawRegistry:
    """A database's registry tables as raw cells (typed values), for validation."""
    rows = read_rows(db_url)
    raw = RawRegistry(str(db_url), "database")
    for spec in TABLES:
        raw.tables[spec.name] = RawTable(
            spec.name,
            f"table {spec.name}",
            list(spec.column_names),
            [RawRow(i, dict(r)) for i, r in enumerate(rows[spec.name], start=2)],
            "database",
        )
    return raw
