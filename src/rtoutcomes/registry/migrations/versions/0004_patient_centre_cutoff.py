"""patients.centre and patients.data_cutoff_date (multi-centre registries, de-identified exports).

A multi-centre registry names each patient's treating centre; a de-identified export shifts
every patient's dates by its own offset, so the registry-wide data cut-off becomes one per
patient (the registry's cut-off shifted with the patient). Both columns are optional: a registry
made before this revision keeps its rows unchanged. One transaction.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("centre", sa.Text(), nullable=True))
        batch.add_column(sa.Column("data_cutoff_date", sa.Date(), nullable=True))


def downgrade() -> None:
    # Never a table rebuild: on SQLite, batch mode's copy-and-drop of ``patients`` fails (or,
    # with ON DELETE CASCADE, would empty the child tables) while lesions and the other tables
    # point at it. Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35) drops these two columns,
    # which no constraint or index names, and keeps every row.
    with op.batch_alter_table("patients", recreate="never") as batch:
        batch.drop_column("data_cutoff_date")
        batch.drop_column("centre")
