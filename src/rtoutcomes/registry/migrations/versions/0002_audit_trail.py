"""The audit trail: ``audit_log`` (hash-chained entries) and ``audit_head`` (its last entry).

A registry made before this revision keeps its rows; they are recorded as the first batch
(inserts by "upgrade to the audit trail") so that replaying the audit reproduces the registry.
One transaction.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 04:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
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
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("entry_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('insert', 'update', 'delete', 'freeze')",
            name=op.f("ck_audit_log_action_allowed"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("label", name=op.f("uq_audit_log_label")),
    )
    op.create_index(op.f("ix_audit_log_batch"), "audit_log", ["batch"], unique=False)
    op.create_index("ix_audit_log_record", "audit_log", ["table_name", "record_key"], unique=False)
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.Text(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # Rows written by the previous release become the first batch of the chain. (This uses the
    # library's audit code: the registry tables are those of revision 0001 here.)
    from rtoutcomes.registry.audit import GENESIS, baseline

    bind = op.get_bind()
    bind.execute(
        sa.text("INSERT INTO audit_head (id, seq, batch, entry_hash) VALUES (1, 0, 0, :genesis)"),
        {"genesis": GENESIS},
    )
    baseline(
        bind,
        command="rtoutcomes init (upgrade to the audit trail)",
        reason="rows present before the audit trail existed",
    )


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_record", table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_batch"), table_name="audit_log")
    op.drop_table("audit_log")
