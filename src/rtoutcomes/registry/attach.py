"""Write one course's dosimetry row into an existing registry, validated like an import.

The row (columns of the ``dosimetry`` table, typed values) is checked together with the whole
registry as it would be after the write: the course must exist, volumes and indices must obey
the format's rules. Nothing is written unless everything passes; the write is one transaction.
A course that already has dosimetry keeps it unless ``replace`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.changes import ChangeSet, apply_changes
from rtoutcomes.registry.spec import TABLE_BY_NAME
from rtoutcomes.registry.tables import read_rows
from rtoutcomes.registry.validation import ImportRejected

__all__ = ["DosimetryExists", "write_dosimetry_row"]


class DosimetryExists(RtOutcomesError):
    """The course already has a dosimetry row and replacing it was not asked for."""


def write_dosimetry_row(
    db_url: str | Path, row: Mapping[str, object], *, replace: bool = False,
    user: str | None = None, reason: str | None = None,
    command: str = "rtoutcomes dosimetry --db",
) -> None:
    """Insert (or with ``replace``, overwrite) the dosimetry row of ``row["course_id"]``,
    through the audited write path (``changes.apply_changes``). Replacing stored values needs a
    ``reason``; without one, the reason recorded is that the row was recomputed from DICOM."""
    spec = TABLE_BY_NAME["dosimetry"]
    unknown = sorted(set(row) - set(spec.column_names))
    if unknown:
        raise RtOutcomesError(f"dosimetry has no column(s) {', '.join(unknown)}")
    course_id = row.get("course_id")
    values = {c: row.get(c) for c in spec.column_names}
    try:
        apply_changes(
            db_url, ChangeSet(rows={"dosimetry": [values]}), refuse_existing=not replace,
            user=user, command=command,
            reason=reason or (f"dosimetry of course {course_id} recomputed from DICOM RT files"
                              if replace else None),
        )
    except ImportRejected as error:
        exists = [p for p in error.problems if p.rule.endswith("is already in the registry")]
        if exists:
            stored = [r for r in read_rows(db_url)["dosimetry"] if r["course_id"] == course_id]
            source = stored[0]["source"] if stored else "unknown"
            raise DosimetryExists(
                f"course {course_id} already has dosimetry (source {source}); replace it "
                "explicitly (--replace) or leave it"
            ) from None
        raise ImportRejected(error.problems,
                             "dosimetry not written, the registry is unchanged") from None
