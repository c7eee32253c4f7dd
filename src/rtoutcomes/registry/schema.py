"""SQLAlchemy tables of the registry, derived from the column specification (``spec.py``).

The database defends itself: primary and foreign keys, NOT NULL for required columns and named
CHECK constraints for ranges, enumerations, whole numbers and the rules that involve several
columns of one row, so that an impossible value written behind the importer's back is refused
too. Rules across tables (dates in order, a lesion of the same patient...) are checked by
``rules.py`` at import and by ``validate_database``.

The schema is created only by the Alembic migrations in ``migrations/``; a test checks that the
migrated schema equals ``metadata`` on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem

from rtoutcomes.registry.spec import TABLES, ColumnSpec, TableSpec

NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "ix": "ix_%(table_name)s_%(column_0_name)s",
}

# Checks across the columns of one row: (table, name, SQL valid on SQLite and PostgreSQL).
ROW_CHECKS: tuple[tuple[str, str, str], ...] = (
    ("patients", "birth_or_age", "birth_date IS NOT NULL OR age_at_sbrt_years IS NOT NULL"),
    ("patients", "birth_before_diagnosis", "birth_date IS NULL OR birth_date <= diagnosis_date"),
    (
        "patients",
        "recurrence_after_diagnosis",
        "recurrence_date IS NULL OR recurrence_date >= diagnosis_date",
    ),
    (
        "screened_candidates",
        "eligibility",
        "(eligible AND exclusion_reason IS NULL AND patient_id IS NOT NULL) OR "
        "(NOT eligible AND exclusion_reason IS NOT NULL AND patient_id IS NULL)",
    ),
    ("sbrt_courses", "end_after_start", "end_date >= start_date"),
    (
        "dosimetry",
        "tv_piv_within",
        "tv_piv_cc IS NULL OR ((tv_cc IS NULL OR tv_piv_cc <= tv_cc) AND "
        "(piv_cc IS NULL OR tv_piv_cc <= piv_cc))",
    ),
    (
        "patient_events",
        "progression_type",
        "(event_type = 'progression' AND progression_type IS NOT NULL) OR "
        "(event_type <> 'progression' AND progression_type IS NULL)",
    ),
    ("systemic_therapies", "end_after_start", "end_date IS NULL OR end_date >= start_date"),
)

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _sql_type(col: ColumnSpec) -> sa.types.TypeEngine[Any]:
    if col.kind == "date":
        return sa.Date()
    if col.kind == "integer":
        return sa.Integer()
    if col.kind == "number":
        return sa.Double()
    if col.kind == "yes/no":
        return sa.Boolean(create_constraint=True, name=f"{col.name}_bool")
    return sa.Text()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column_checks(col: ColumnSpec) -> list[sa.CheckConstraint]:
    checks = []
    name = col.name
    if col.range is not None:
        bounds = []
        r = col.range
        if r.low is not None:
            bounds.append(f"{name} {'>=' if r.low_inclusive else '>'} {r.low!r}")
        if r.high is not None:
            bounds.append(f"{name} {'<=' if r.high_inclusive else '<'} {r.high!r}")
        checks.append(sa.CheckConstraint(" AND ".join(bounds), name=f"{name}_range"))
    if col.kind == "integer":
        # SQLite would store 5.5 in an INTEGER column; refuse it there too.
        checks.append(sa.CheckConstraint(f"{name} = CAST({name} AS INTEGER)", name=f"{name}_whole"))
    if col.choices:
        allowed = ", ".join(_literal(c) for c in col.choices)
        checks.append(sa.CheckConstraint(f"{name} IN ({allowed})", name=f"{name}_allowed"))
    elif col.kind == "text" and col.requirement != "opt":
        checks.append(sa.CheckConstraint(f"{name} <> ''", name=f"{name}_not_empty"))
    return checks


def _build_table(spec: TableSpec) -> sa.Table:
    items: list[SchemaItem] = []
    for col in spec.columns:
        args: list[SchemaItem] = []
        if col.references:
            args.append(sa.ForeignKey(col.references))
        is_pk = col.name == spec.primary_key
        items.append(
            sa.Column(
                col.name,
                _sql_type(col),
                *args,
                primary_key=is_pk,
                nullable=not (col.required or is_pk),
                unique=col.unique and not is_pk,
                # foreign keys are indexed: the write path's checks read one patient's rows
                # through them (scope.py); a unique column has its index already
                index=True if col.references and not (col.unique or is_pk) else None,
            )
        )
        items.extend(_column_checks(col))
    for table, name, sql in ROW_CHECKS:
        if table == spec.name:
            items.append(sa.CheckConstraint(sql, name=name))
    return sa.Table(spec.name, metadata, *items)


REGISTRY_TABLES: dict[str, sa.Table] = {spec.name: _build_table(spec) for spec in TABLES}
"""SQLAlchemy ``Table`` of each registry table, parents before children."""

# --- the audit trail (``audit.py``) ---------------------------------------------------------
# Written only by ``changes.apply_changes``, in the same transaction as the registry rows it
# describes. Values are canonical JSON text and times ISO text so that both backends hold, hash
# and print the same bytes.
AUDIT_ACTIONS = ("insert", "update", "delete", "freeze")

AUDIT_LOG = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("batch", sa.Integer(), nullable=False, index=True),
    sa.Column("recorded_at", sa.Text(), nullable=False),
    sa.Column("user_name", sa.Text(), nullable=False),
    sa.Column("command", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("action", sa.Text(), nullable=False),
    sa.Column("table_name", sa.Text(), nullable=True),
    sa.Column("record_key", sa.Text(), nullable=True),
    sa.Column("column_name", sa.Text(), nullable=True),
    sa.Column("old_value", sa.Text(), nullable=True),
    sa.Column("new_value", sa.Text(), nullable=True),
    sa.Column("label", sa.Text(), nullable=True, unique=True),
    sa.Column("prev_hash", sa.Text(), nullable=False),
    sa.Column("entry_hash", sa.Text(), nullable=False),
    sa.CheckConstraint(
        "action IN (" + ", ".join(_literal(a) for a in AUDIT_ACTIONS) + ")", name="action_allowed"
    ),
    sa.Index("ix_audit_log_record", "table_name", "record_key"),
)
"""One row per change (a cell update, a whole-row insert or delete) or per freeze label."""

AUDIT_HEAD = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("batch", sa.Integer(), nullable=False),
    sa.Column("entry_hash", sa.Text(), nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)
"""The chain's last entry (one row): catches a deleted tail and is the writers' lock."""
