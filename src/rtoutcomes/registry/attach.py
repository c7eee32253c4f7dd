"""Write one course's dosimetry row into an existing registry, validated like an import.

The row (columns of the ``dosimetry`` table, typed values) is checked together with the whole
registry as it would be after the write: the course must exist, volumes and indices must obey
the format's rules. Nothing is written unless everything passes; the write is one transaction.
A course that already has dosimetry keeps it unless ``replace`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.changes import ChangeReport, ChangeSet, apply_changes
from rtoutcomes.registry.spec import TABLE_BY_NAME
from rtoutcomes.registry.tables import read_rows
from rtoutcomes.registry.validation import ImportRejected

__all__ = [
    "CourseDosimetryWrite",
    "DosimetryExists",
    "write_course_dosimetry",
    "write_dosimetry_row",
]


class DosimetryExists(RtOutcomesError):
    """The course already has a dosimetry row and replacing it was not asked for."""


def write_dosimetry_row(
    db_url: str | Path,
    row: Mapping[str, object],
    *,
    replace: bool = False,
    user: str | None = None,
    reason: str | None = None,
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
            db_url,
            ChangeSet(rows={"dosimetry": [values]}),
            refuse_existing=not replace,
            user=user,
            command=command,
            reason=reason
            or (
                f"dosimetry of course {course_id} recomputed from DICOM RT files"
                if replace
                else None
            ),
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
        raise ImportRejected(
            error.problems, "dosimetry not written, the registry is unchanged"
        ) from None


#: the tables a course's computed dosimetry fills, parents first
COURSE_DOSIMETRY_TABLES = ("dosimetry", "structure_metrics", "structure_dose_volumes")


@dataclass
class CourseDosimetryWrite:
    """What :func:`write_course_dosimetry` did: courses written (or, for a dry run, that would
    be), left unchanged, refused (course -> the rule broken), and the audited change report."""

    written: set[str] = field(default_factory=set)
    unchanged: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)
    report: ChangeReport | None = None


def _course_changes(
    courses: list[str],
    rows: Mapping[str, Mapping[str, list[dict[str, object]]]],
    stored: Mapping[str, list[dict[str, object]]],
    manage_levels: bool,
) -> ChangeSet:
    """The ChangeSet giving ``courses`` exactly their computed rows (stale rows deleted)."""
    changes = ChangeSet()
    for table in COURSE_DOSIMETRY_TABLES:
        key = TABLE_BY_NAME[table].primary_key
        given: list[Mapping[str, object]] = [
            row for course in courses for row in rows[table].get(course, [])
        ]
        changes.rows[table] = given
        for course in courses:
            for row in rows[table].get(course, []):
                changes.locations[(table, str(row[key]))] = (f"course {course}", 1)
        if table == "dosimetry" or (table == "structure_dose_volumes" and not manage_levels):
            continue
        keep = {str(row[key]) for row in given}
        changes.deletes[table] = sorted(
            str(r[key])
            for r in stored[table]
            if r["course_id"] in courses and str(r[key]) not in keep
        )
    return changes


def _touched(report: ChangeReport) -> set[str]:
    """Keys (any table) that the report adds, changes or deletes."""
    keys: set[str] = set()
    for changes in report.tables.values():
        keys |= set(changes.added) | set(changes.deleted) | {c.key for c in changes.changed}
    return keys


def write_course_dosimetry(
    db_url: str | Path,
    dosimetry: Mapping[str, Mapping[str, object]],
    metrics: Mapping[str, list[dict[str, object]]],
    levels: Mapping[str, list[dict[str, object]]],
    *,
    dry_run: bool = False,
    manage_levels: bool = True,
    user: str | None = None,
    reason: str | None = None,
    command: str = "rtoutcomes dosimetry-import",
) -> CourseDosimetryWrite:
    """Store the computed dosimetry of several courses (keys: course_id) through the audited
    write path, in one transaction.

    Each course gets exactly its ``dosimetry`` row, ``structure_metrics`` rows and (when
    ``manage_levels``) ``structure_dose_volumes`` rows; stored rows of the course that are no
    longer computed are deleted. Rows equal to the stored ones are left alone, so a re-run
    changes nothing. The registry as it would be after is checked like an import: a course
    whose rows break a rule is refused (with the rule) and the others are written; a problem
    that belongs to no course refuses everything (``ImportRejected``).
    """
    rows = {
        "dosimetry": {c: [dict(row)] for c, row in dosimetry.items()},
        "structure_metrics": {c: list(r) for c, r in metrics.items()},
        "structure_dose_volumes": {c: list(r) for c, r in levels.items()},
    }
    current = read_rows(db_url)
    stored = {t: [dict(r) for r in current[t]] for t in COURSE_DOSIMETRY_TABLES}
    result = CourseDosimetryWrite()
    candidates = sorted(dosimetry)
    while True:
        changes = _course_changes(candidates, rows, stored, manage_levels)
        try:
            preview = apply_changes(db_url, changes, dry_run=True, command=command)
            break
        except ImportRejected as error:
            labels = {f"course {c}": c for c in candidates}
            foreign = [p for p in error.problems if p.source not in labels]
            if foreign:
                raise ImportRejected(
                    foreign, "dosimetry not written, the registry is unchanged"
                ) from None
            for problem in error.problems:
                result.refused.setdefault(labels[problem.source], str(problem))
            candidates = [c for c in candidates if c not in result.refused]
    touched = _touched(preview)
    for course in candidates:
        keys = {
            str(r[TABLE_BY_NAME[t].primary_key])
            for t in COURSE_DOSIMETRY_TABLES
            for r in rows[t].get(course, [])
        }
        keys |= {
            str(r[TABLE_BY_NAME[t].primary_key])
            for t in COURSE_DOSIMETRY_TABLES
            for r in stored[t]
            if r["course_id"] == course
        }
        (result.written if keys & touched else result.unchanged).add(course)
    result.report = preview
    if dry_run or not result.written:
        return result
    final = _course_changes(sorted(result.written), rows, stored, manage_levels)
    result.report = apply_changes(
        db_url,
        final,
        user=user,
        command=command,
        expected_head=preview.head_before,
        reason=reason
        or f"dosimetry of {len(result.written)} course(s) computed from DICOM RT files",
    )
    return result
