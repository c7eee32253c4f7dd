"""Write one course's dosimetry row into an existing registry, validated like an import.

The row (columns of the ``dosimetry`` table, typed values) is checked together with the whole
registry as it would be after the write: the course must exist, volumes and indices must obey
the format's rules. Nothing is written unless everything passes; the write is one transaction.
A course that already has dosimetry keeps it unless ``replace`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.io.tabular import RawRow
from rtoutcomes.registry.database import make_engine
from rtoutcomes.registry.importer import database_as_raw
from rtoutcomes.registry.schema import REGISTRY_TABLES
from rtoutcomes.registry.spec import TABLE_BY_NAME
from rtoutcomes.registry.validation import ImportRejected, validate_registry

__all__ = ["DosimetryExists", "write_dosimetry_row"]


class DosimetryExists(RtOutcomesError):
    """The course already has a dosimetry row and replacing it was not asked for."""


def write_dosimetry_row(
    db_url: str | Path, row: Mapping[str, object], *, replace: bool = False
) -> None:
    """Insert (or with ``replace``, overwrite) the dosimetry row of ``row["course_id"]``."""
    spec = TABLE_BY_NAME["dosimetry"]
    unknown = sorted(set(row) - set(spec.column_names))
    if unknown:
        raise RtOutcomesError(f"dosimetry has no column(s) {', '.join(unknown)}")
    course_id = row.get("course_id")
    raw = database_as_raw(db_url)
    table = raw.tables["dosimetry"]
    existing = [r for r in table.rows if r.cells.get("course_id") == course_id]
    if existing and not replace:
        source = existing[0].cells.get("source")
        raise DosimetryExists(
            f"course {course_id} already has dosimetry (source {source}); "
            "replace it explicitly (--replace) or leave it"
        )
    table.rows = [r for r in table.rows if r.cells.get("course_id") != course_id]
    table.rows.append(RawRow(len(table.rows) + 2, {c: row.get(c) for c in spec.column_names}))
    validated = validate_registry(raw)
    if validated.problems:
        raise ImportRejected(validated.problems, "dosimetry not written, the registry is unchanged")
    record = next(r for r in validated.tables["dosimetry"] if r.values["course_id"] == course_id)
    dosimetry = REGISTRY_TABLES["dosimetry"]
    engine = make_engine(db_url, must_exist=True)
    try:
        with engine.begin() as connection:
            connection.execute(sa.delete(dosimetry).where(dosimetry.c.course_id == course_id))
            connection.execute(
                dosimetry.insert(), [{c: record.values.get(c) for c in spec.column_names}]
            )
    finally:
        engine.dispose()
