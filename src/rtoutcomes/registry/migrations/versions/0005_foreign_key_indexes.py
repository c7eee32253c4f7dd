"""An index on every foreign-key column that has none (its unique constraint is one).

The write path checks a change on the rows of the patients it touches (``registry/scope.py``),
found through these columns: lesions by patient, courses and scans by lesion, dosimetry by
course... Without an index each lookup reads the whole table. Rows are unchanged. One
transaction.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 08:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): the foreign keys at revision 0005 without a unique constraint
INDEXED = (
    ("lesions", "patient_id"),
    ("sbrt_courses", "lesion_id"),
    ("structure_metrics", "course_id"),
    ("structure_dose_volumes", "course_id"),
    ("assessments", "lesion_id"),
    ("patient_events", "patient_id"),
    ("patient_events", "lesion_id"),
    ("toxicities", "patient_id"),
    ("toxicities", "course_id"),
    ("systemic_therapies", "patient_id"),
)


def upgrade() -> None:
    for table, column in INDEXED:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXED):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
