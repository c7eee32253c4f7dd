"""Which stored rows a change can affect: the rows the registry's checks need to judge it.

Every rule across rows (``rules.py``) relates rows of ONE patient: references, dates against the
patient's first SBRT, death and birth, a second death, grade 5 without a death, a lesion or
course of another patient. So a change can only break a rule in the rows of the patients it
touches. ``change_scope`` reads those rows (through the foreign-key indexes of migration 0005)
instead of the whole registry:

* the patients of every given or deleted row, as stored and as given (a lesion moved from one
  patient to another concerns both), found through the lesions and courses it refers to;
* all their rows in every table, the given and deleted rows themselves, and ``registry_meta``.

What reaches beyond those patients is settled here, or the answer is ``None`` (check the whole
registry): a given value of a unique column that equals a stored row's outside the scope
(ignoring case), a deleted key that rows outside the scope refer to, the first screening row of
a registry whose patients were never screened (then every patient must be), and changes that
touch many patients (reading everything is then quicker). ``Scope.elsewhere`` names the
tables with stored rows outside the scope (the screening rule asks whether there are any).

The checks on the scope are the same functions as on the whole registry; a problem found there
is reported after checking the whole registry, so that messages number rows as ``validate``
and ``export`` do (``changes.apply_changes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from rtoutcomes.registry.cells import CellError, parse_cell
from rtoutcomes.registry.schema import REGISTRY_TABLES
from rtoutcomes.registry.spec import TABLE_BY_NAME, TABLES
from rtoutcomes.registry.tables import Rows

MAX_PATIENTS = 300
"""Above this many patients touched, the whole registry is read (fewer, larger queries)."""
CHUNK = 500  # keys per IN (...) list: under every backend's limit of bound parameters

# tables whose rows belong to a patient through a column of their own, and through which
# parent (column -> parent table)
PATIENT_COLUMN = {
    "patients": "patient_id",
    "screened_candidates": "patient_id",
    "lesions": "patient_id",
    "patient_events": "patient_id",
    "toxicities": "patient_id",
    "systemic_therapies": "patient_id",
}
LESION_COLUMN = {
    "sbrt_courses": "lesion_id",
    "assessments": "lesion_id",
    "patient_events": "lesion_id",
}
COURSE_COLUMN = {
    "dosimetry": "course_id",
    "structure_metrics": "course_id",
    "structure_dose_volumes": "course_id",
    "toxicities": "course_id",
}


@dataclass
class Scope:
    """The stored rows a change can affect (every table, sorted by key), and the tables that
    hold stored rows outside them."""

    rows: Rows
    elsewhere: frozenset[str]


def change_scope(
    connection: sa.Connection,
    rows: Mapping[str, list[Mapping[str, object]]],
    deletes: Mapping[str, list[str]],
) -> Scope | None:
    """The scope of a change (given ``rows`` and ``deletes`` per table, as in a ``ChangeSet``),
    or ``None`` when the whole registry must be checked."""
    given = {
        table: [_typed(table, row) for row in table_rows] for table, table_rows in rows.items()
    }
    keys = {
        table: {row.get(TABLE_BY_NAME[table].primary_key) for row in table_rows} - {None}
        for table, table_rows in given.items()
    }
    for table, doomed in deletes.items():
        keys.setdefault(table, set()).update(str(k).strip() for k in doomed)
    stored = {
        table: _select(connection, table, TABLE_BY_NAME[table].primary_key, k)
        for table, k in keys.items()
    }
    lesion_patient, course_lesion = _owners(connection, given, stored)
    patients: set[object] = set()
    for table, table_rows in (*given.items(), *stored.items()):
        for row in table_rows:
            patients |= _patients_of(table, row, lesion_patient, course_lesion)
    patients.discard(None)
    if len(patients) > MAX_PATIENTS:
        return None
    scope = _patient_rows(connection, patients)
    for table, table_rows in stored.items():
        _merge(scope, table, table_rows)
    scope["registry_meta"] = _select_all(connection, "registry_meta")
    if _reaches_outside(connection, scope, given, deletes):
        return None
    counts = {
        spec.name: connection.execute(
            sa.select(sa.func.count()).select_from(REGISTRY_TABLES[spec.name])
        ).scalar_one()
        for spec in TABLES
    }
    if counts["screened_candidates"] == 0 and given.get("screened_candidates"):
        return None  # the first screening rows: every patient must now have been screened
    elsewhere = frozenset(name for name, count in counts.items() if count > len(scope[name]))
    return Scope(
        {
            spec.name: sorted(scope[spec.name], key=lambda r, k=spec.primary_key: str(r[k]))  # type: ignore[misc]
            for spec in TABLES
        },
        elsewhere,
    )


def _typed(table: str, row: Mapping[str, object]) -> dict[str, object]:
    """The key and reference cells of a given row as the checks will read them (unparsable
    cells are left out: the change is refused for them before any check across rows)."""
    spec = TABLE_BY_NAME[table]
    typed: dict[str, object] = {}
    for column in spec.columns:
        if column.name not in row or not (
            column.references or column.unique or column.name == spec.primary_key
        ):
            continue
        try:
            typed[column.name] = parse_cell(row[column.name], column, None)
        except CellError:
            continue
    return typed


def _owners(
    connection: sa.Connection,
    given: Mapping[str, list[dict[str, object]]],
    stored: Mapping[str, list[dict[str, object]]],
) -> tuple[dict[object, set[object]], dict[object, set[object]]]:
    """Lesion -> patients and course -> lesions, as stored and as given, for the lesions and
    courses the change's rows refer to."""
    both = [*given.items(), *stored.items()]
    courses = {
        row.get(column)
        for table, column in COURSE_COLUMN.items()
        for t, rows in both
        if t == table
        for row in rows
    } | {row.get("course_id") for t, rows in both if t == "sbrt_courses" for row in rows}
    courses.discard(None)
    course_lesion: dict[object, set[object]] = {}
    for t, rows in [
        *both,
        ("sbrt_courses", _select(connection, "sbrt_courses", "course_id", courses)),
    ]:
        if t == "sbrt_courses":
            for row in rows:
                if "lesion_id" in row:
                    course_lesion.setdefault(row["course_id"], set()).add(row["lesion_id"])
    lesions = {
        row.get(column)
        for table, column in LESION_COLUMN.items()
        for t, rows in both
        if t == table
        for row in rows
    }
    lesions |= {row.get("lesion_id") for t, rows in both if t == "lesions" for row in rows}
    lesions |= {lesion for found in course_lesion.values() for lesion in found}
    lesions.discard(None)
    lesion_patient: dict[object, set[object]] = {}
    for t, rows in [*both, ("lesions", _select(connection, "lesions", "lesion_id", lesions))]:
        if t == "lesions":
            for row in rows:
                if "patient_id" in row:
                    lesion_patient.setdefault(row["lesion_id"], set()).add(row["patient_id"])
    return lesion_patient, course_lesion


def _patients_of(
    table: str,
    row: Mapping[str, object],
    lesion_patient: Mapping[object, set[object]],
    course_lesion: Mapping[object, set[object]],
) -> set[object]:
    """The patients a row belongs to (through its lesion or course when it has no patient)."""
    found: set[object] = set()
    if table in PATIENT_COLUMN:
        found.add(row.get(PATIENT_COLUMN[table]))
    lesions: set[object] = set()
    if table in LESION_COLUMN:
        lesions.add(row.get(LESION_COLUMN[table]))
    if table == "lesions":
        lesions.add(row.get("lesion_id"))
    courses = {row.get(COURSE_COLUMN[table])} if table in COURSE_COLUMN else set()
    if table == "sbrt_courses":
        courses.add(row.get("course_id"))
    for course in courses:
        lesions |= course_lesion.get(course, set())
    for lesion in lesions:
        found |= lesion_patient.get(lesion, set())
    return found


def _patient_rows(connection: sa.Connection, patients: set[object]) -> dict[str, list[dict]]:
    """Every stored row of ``patients`` in every table (keyed rows, deduplicated)."""
    scope: dict[str, list[dict[str, object]]] = {spec.name: [] for spec in TABLES}
    for table, column in PATIENT_COLUMN.items():
        _merge(scope, table, _select(connection, table, column, patients))
    lesions = {row["lesion_id"] for row in scope["lesions"]}
    for table, column in LESION_COLUMN.items():
        _merge(scope, table, _select(connection, table, column, lesions))
    courses = {row["course_id"] for row in scope["sbrt_courses"]}
    for table, column in COURSE_COLUMN.items():
        _merge(scope, table, _select(connection, table, column, courses))
    return scope


def _reaches_outside(
    connection: sa.Connection,
    scope: Mapping[str, list[dict[str, object]]],
    given: Mapping[str, list[dict[str, object]]],
    deletes: Mapping[str, list[str]],
) -> bool:
    """A given unique value equal to a stored one outside the scope (ignoring case), or a
    deleted key referred to from outside it."""
    inside = {
        table: {str(row[TABLE_BY_NAME[table].primary_key]) for row in rows}
        for table, rows in scope.items()
    }
    for table, rows in given.items():
        spec = TABLE_BY_NAME[table]
        for column in spec.columns:
            values = {
                _folded(row[column.name])
                for row in rows
                if column.unique and row.get(column.name) is not None
            }
            if not values:
                continue
            t = REGISTRY_TABLES[table]
            found = connection.execute(
                sa.select(t.c[spec.primary_key], t.c[column.name]).where(
                    t.c[column.name].is_not(None)
                )
            )
            if any(
                _folded(value) in values and str(key) not in inside[table] for key, value in found
            ):
                return True
    for table, doomed in deletes.items():
        keys = {str(k).strip() for k in doomed}
        for spec in TABLES:
            for column in spec.columns:
                if column.references and column.references.split(".")[0] == table:
                    children = _select(connection, spec.name, column.name, keys)
                    if any(str(row[spec.primary_key]) not in inside[spec.name] for row in children):
                        return True
    return False


def _folded(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _merge(
    scope: dict[str, list[dict[str, object]]], table: str, rows: Iterable[dict[str, object]]
) -> None:
    key = TABLE_BY_NAME[table].primary_key
    seen = {row[key] for row in scope[table]}
    for row in rows:
        if row[key] not in seen:
            seen.add(row[key])
            scope[table].append(row)


def _select(
    connection: sa.Connection, table: str, column: str, values: Iterable[object]
) -> list[dict[str, object]]:
    """Stored rows of ``table`` whose ``column`` is one of ``values``."""
    wanted = sorted({v for v in values if v is not None}, key=str)
    t = REGISTRY_TABLES[table]
    found: list[dict[str, object]] = []
    for start in range(0, len(wanted), CHUNK):
        query = sa.select(t).where(t.c[column].in_(wanted[start : start + CHUNK]))
        found += [dict(r._mapping) for r in connection.execute(query)]
    return found


def _select_all(connection: sa.Connection, table: str) -> list[dict[str, object]]:
    return [dict(r._mapping) for r in connection.execute(sa.select(REGISTRY_TABLES[table]))]
