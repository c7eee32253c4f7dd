"""Read-only questions the pages ask the registry, in SQL, so that a page reads only what it
shows (a patient's page reads that patient's rows, not the whole registry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from rtoutcomes.registry.schema import REGISTRY_TABLES
from rtoutcomes.registry.spec import TABLES
from rtoutcomes.registry.tables import Rows

T = REGISTRY_TABLES
PAGE_SIZE = 50


def table_counts(connection: sa.Connection) -> dict[str, int]:
    """Rows per registry table, in the format's order."""
    return {
        spec.name: int(
            connection.execute(sa.select(sa.func.count()).select_from(T[spec.name])).scalar_one()
        )
        for spec in TABLES
    }


def registry_meta(connection: sa.Connection) -> dict[str, str]:
    """The registry_meta facts (name, synthetic, data_cutoff_date, description)."""
    meta = T["registry_meta"]
    return {str(k): str(v) for k, v in connection.execute(sa.select(meta.c.key, meta.c.value))}


@dataclass(frozen=True)
class Flow:
    """The screening flow: screened, eligible, excluded by reason (the report's order)."""

    screened: int
    eligible: int
    excluded: tuple[tuple[str, int], ...]


def screening_flow(connection: sa.Connection) -> Flow:
    """The screening log's flow chart: ``clinical.eligibility.registry_flow``, the one the
    report draws (reasons in the registry's order, a missing reason as "not recorded")."""
    import pandas as pd

    from rtoutcomes.clinical.eligibility import registry_flow

    c = T["screened_candidates"]
    columns = ["candidate_id", "eligible", "exclusion_reason", "patient_id"]
    rows = connection.execute(sa.select(*(c.c[name] for name in columns))).all()
    chart = registry_flow({"screened_candidates": pd.DataFrame(rows, columns=columns)})
    return Flow(chart.screened, chart.enrolled_patients, tuple(chart.excluded_by_reason.items()))


@dataclass(frozen=True)
class PatientPage:
    """One page of a patient search: ``rows`` (dicts) out of ``total`` matches."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def search_patients(
    connection: sa.Connection,
    text: str = "",
    *,
    setting: str = "",
    family: str = "",
    sex: str = "",
    status: str = "",
    page: int = 1,
) -> PatientPage:
    """Patients whose id, histology subtype or primary site contains ``text`` (ignoring case),
    filtered by disease setting, WHO family, sex and vital status (``alive``/``dead``), in
    patient_id order, ``PAGE_SIZE`` per page."""
    p, lesions, events = T["patients"], T["lesions"], T["patient_events"]
    conditions: list[Any] = []
    if text:
        pattern = (
            "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        conditions.append(
            sa.or_(
                *(
                    sa.func.lower(col).like(pattern, escape="\\")
                    for col in (p.c.patient_id, p.c.histology_subtype, p.c.primary_site)
                )
            )
        )
    for column, value in ((p.c.disease_setting, setting), (p.c.who_family, family), (p.c.sex, sex)):
        if value:
            conditions.append(column == value)
    # IN (subquery) is evaluated once; EXISTS per patient would scan patient_events each time
    # (the registry has no index on patient_id).
    dead = sa.select(events.c.patient_id).where(events.c.event_type == "death")
    if status == "dead":
        conditions.append(p.c.patient_id.in_(dead))
    elif status == "alive":
        conditions.append(p.c.patient_id.not_in(dead))
    where = sa.and_(sa.true(), *conditions)
    total = int(
        connection.execute(sa.select(sa.func.count()).select_from(p).where(where)).scalar_one()
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    query = (
        sa.select(
            p.c.patient_id,
            p.c.sex,
            p.c.diagnosis_date,
            p.c.histology_subtype,
            p.c.who_family,
            p.c.disease_setting,
        )
        .where(where)
        .order_by(p.c.patient_id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = [dict(r._mapping) for r in connection.execute(query)]
    ids = [r["patient_id"] for r in rows]
    # One grouped query each for the page's patients (a correlated subquery per row would scan
    # the table once per row: the registry has no index on patient_id).
    n_lesions: dict[Any, Any] = dict(
        connection.execute(
            sa.select(lesions.c.patient_id, sa.func.count())
            .where(lesions.c.patient_id.in_(ids))
            .group_by(lesions.c.patient_id)
        ).all()
    )
    deaths: dict[Any, Any] = dict(
        connection.execute(
            sa.select(events.c.patient_id, sa.func.min(events.c.event_date))
            .where(events.c.patient_id.in_(ids), events.c.event_type == "death")
            .group_by(events.c.patient_id)
        ).all()
    )
    for r in rows:
        r["lesions"] = n_lesions.get(r["patient_id"], 0)
        r["death_date"] = deaths.get(r["patient_id"])
    return PatientPage(rows, total, page, pages)


def distinct_values(connection: sa.Connection, table: str, column: str) -> list[str]:
    """The values a column holds (for filter menus), sorted."""
    col = T[table].c[column]
    return sorted(str(v) for (v,) in connection.execute(sa.select(col).distinct()) if v is not None)


def _rows(
    connection: sa.Connection, table: str, column: str, keys: Sequence[object]
) -> list[dict[str, object]]:
    if not keys:
        return []
    t = T[table]
    result = connection.execute(sa.select(t).where(t.c[column].in_(list(keys))))
    pk = next(s.primary_key for s in TABLES if s.name == table)
    return sorted((dict(r._mapping) for r in result), key=lambda r: str(r[pk]))


def patient_rows(connection: sa.Connection, patient_id: str) -> Rows | None:
    """Every registry row about one patient (and registry_meta), as ``fetch_rows`` gives them;
    ``None`` when there is no such patient."""
    rows: Rows = {"patients": _rows(connection, "patients", "patient_id", [patient_id])}
    if not rows["patients"]:
        return None
    rows["registry_meta"] = _rows(
        connection, "registry_meta", "key", list(registry_meta(connection))
    )
    for table in (
        "screened_candidates",
        "lesions",
        "patient_events",
        "toxicities",
        "systemic_therapies",
    ):
        rows[table] = _rows(connection, table, "patient_id", [patient_id])
    lesion_ids = [r["lesion_id"] for r in rows["lesions"]]
    rows["sbrt_courses"] = _rows(connection, "sbrt_courses", "lesion_id", lesion_ids)
    rows["assessments"] = _rows(connection, "assessments", "lesion_id", lesion_ids)
    rows["dosimetry"] = _rows(
        connection, "dosimetry", "course_id", [r["course_id"] for r in rows["sbrt_courses"]]
    )
    return rows


def record(connection: sa.Connection, table: str, key: str) -> dict[str, object] | None:
    """One row of ``table`` by its primary key."""
    spec = next(s for s in TABLES if s.name == table)
    found = _rows(connection, table, spec.primary_key, [key])
    return found[0] if found else None


def patient_of(connection: sa.Connection, table: str, row: dict[str, object]) -> str | None:
    """The patient a row belongs to (through its lesion or course when it has no patient_id)."""
    if row.get("patient_id"):
        return str(row["patient_id"])
    lesions, courses = T["lesions"], T["sbrt_courses"]
    lesion_id = row.get("lesion_id")
    if lesion_id is None and row.get("course_id") is not None:
        lesion_id = connection.execute(
            sa.select(courses.c.lesion_id).where(courses.c.course_id == row["course_id"])
        ).scalar()
    if lesion_id is None:
        return None
    found = connection.execute(
        sa.select(lesions.c.patient_id).where(lesions.c.lesion_id == lesion_id)
    ).scalar()
    return None if found is None else str(found)


def _audit_text(value: object) -> str | None:
    """An audit entry's old/new value (canonical JSON) as a page shows it."""
    import json

    if value is None:
        return None
    try:
        decoded = json.loads(str(value))
    except ValueError:
        return str(value)
    if isinstance(decoded, dict):
        return None  # a whole row (added or deleted): the action says so
    if isinstance(decoded, bool):
        return "yes" if decoded else "no"
    return "(empty)" if decoded is None else str(decoded)


def _entry(row: Any) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "batch": row["batch"],
        "recorded_at": row["recorded_at"],
        "user": row["user_name"],
        "command": row["command"],
        "reason": row["reason"],
        "action": row["action"],
        "table": row["table_name"],
        "key": row["record_key"],
        "column": row["column_name"],
        "old": _audit_text(row["old_value"]),
        "new": _audit_text(row["new_value"]),
        "label": row["label"],
    }


def audit_entries(
    connection: sa.Connection,
    *,
    page: int = 1,
    limit: int = PAGE_SIZE,
    table: str | None = None,
    key: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Audit-trail entries, newest first (one page), and how many there are; ``table`` and
    ``key`` keep one record's history."""
    from rtoutcomes.registry.schema import AUDIT_LOG as log

    where: sa.ColumnElement[bool] = sa.true()
    if table is not None:
        where = sa.and_(log.c.table_name == table, log.c.record_key == key)
    total = int(
        connection.execute(sa.select(sa.func.count()).select_from(log).where(where)).scalar_one()
    )
    result = connection.execute(
        sa.select(log)
        .where(where)
        .order_by(log.c.seq.desc())
        .limit(limit)
        .offset((max(page, 1) - 1) * limit)
    )
    return [_entry(r._mapping) for r in result], total


def patients_changed_since(connection: sa.Connection, seq: int, *, limit: int) -> list[str] | None:
    """The patients whose records the audit entries after ``seq`` touched (still existing
    records only), or ``None`` when more than ``limit`` records were touched or one of them is
    gone (then the caller derives everything again)."""
    from rtoutcomes.registry.schema import AUDIT_LOG as log

    touched = connection.execute(
        sa.select(log.c.table_name, log.c.record_key)
        .distinct()
        .where(log.c.seq > seq, log.c.table_name.is_not(None))
        .limit(limit + 1)
    ).all()
    if len(touched) > limit:
        return None
    found: set[str] = set()
    for table, key in touched:
        if table not in T:
            continue
        row = record(connection, str(table), str(key))
        if row is None:
            return None
        patient = patient_of(connection, str(table), row)
        if patient is not None:
            found.add(patient)
    return sorted(found)
