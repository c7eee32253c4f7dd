"""DICOM identity and every index on dosimetry; structure_metrics and structure_dose_volumes.

For ``dosimetry-import`` (issue 15): the course's dosimetry row gets the DICOM identity of the
plan it was computed from (patient id, plan/structure/dose SOP UIDs, plan label, planning
system), the prescription and target it refers to and the indices that were printed but not
stored (Paddick CI, ICRU 83 HI, gradient index). Two new tables hold each structure's DVH
statistics and its V(dose) at the levels of a study file. One transaction.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT_COLUMNS = (
    "target_structure",
    "dicom_patient_id",
    "rtplan_uid",
    "rtplan_label",
    "rtstruct_uid",
    "rtdose_uids",
    "planning_system",
)
_NUMBER_CHECKS = (
    ("paddick_ci", "paddick_ci >= 0 AND paddick_ci <= 1"),
    ("hi_icru83", "hi_icru83 >= 0"),
    ("gradient_index", "gradient_index >= 1"),
    ("prescription_gy", "prescription_gy > 0"),
)
_DOSES = ("dmin_gy", "dmean_gy", "dmax_gy", "d2_gy", "d50_gy", "d95_gy", "d98_gy", "d0_03cc_gy")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_dosimetry_on_sqlite()
    else:
        with op.batch_alter_table("dosimetry") as batch:
            for name, _ in _NUMBER_CHECKS:
                batch.add_column(sa.Column(name, sa.Double(), nullable=True))
            for name in _TEXT_COLUMNS:
                batch.add_column(sa.Column(name, sa.Text(), nullable=True))
            for name, sql in _NUMBER_CHECKS:
                batch.create_check_constraint(op.f(f"ck_dosimetry_{name}_range"), sql)
            batch.create_unique_constraint(op.f("uq_dosimetry_rtplan_uid"), ["rtplan_uid"])

    metric_checks = [
        sa.CheckConstraint(f"{c} >= 0", name=op.f(f"ck_structure_metrics_{c}_range"))
        for c in ("volume_cc", "outside_grid_cc", *_DOSES)
    ]
    op.create_table(
        "structure_metrics",
        sa.Column("metric_id", sa.Text(), nullable=False),
        sa.Column("course_id", sa.Text(), nullable=False),
        sa.Column("structure", sa.Text(), nullable=False),
        sa.Column("tg263_name", sa.Text(), nullable=True),
        sa.Column("volume_cc", sa.Double(), nullable=True),
        sa.Column("outside_grid_cc", sa.Double(), nullable=True),
        *(sa.Column(c, sa.Double(), nullable=True) for c in _DOSES),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "metric_id <> ''", name=op.f("ck_structure_metrics_metric_id_not_empty")
        ),
        sa.CheckConstraint(
            "course_id <> ''", name=op.f("ck_structure_metrics_course_id_not_empty")
        ),
        sa.CheckConstraint(
            "structure <> ''", name=op.f("ck_structure_metrics_structure_not_empty")
        ),
        sa.CheckConstraint(
            "source IN ('tps', 'computed')", name=op.f("ck_structure_metrics_source_allowed")
        ),
        *metric_checks,
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["sbrt_courses.course_id"],
            name=op.f("fk_structure_metrics_course_id"),
        ),
        sa.PrimaryKeyConstraint("metric_id", name=op.f("pk_structure_metrics")),
    )
    op.create_table(
        "structure_dose_volumes",
        sa.Column("dose_volume_id", sa.Text(), nullable=False),
        sa.Column("course_id", sa.Text(), nullable=False),
        sa.Column("structure", sa.Text(), nullable=False),
        sa.Column("dose_gy", sa.Double(), nullable=False),
        sa.Column("volume_cc", sa.Double(), nullable=False),
        sa.Column("volume_pct", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "dose_volume_id <> ''", name=op.f("ck_structure_dose_volumes_dose_volume_id_not_empty")
        ),
        sa.CheckConstraint(
            "course_id <> ''", name=op.f("ck_structure_dose_volumes_course_id_not_empty")
        ),
        sa.CheckConstraint(
            "structure <> ''", name=op.f("ck_structure_dose_volumes_structure_not_empty")
        ),
        sa.CheckConstraint("dose_gy > 0", name=op.f("ck_structure_dose_volumes_dose_gy_range")),
        sa.CheckConstraint(
            "volume_cc >= 0", name=op.f("ck_structure_dose_volumes_volume_cc_range")
        ),
        sa.CheckConstraint(
            "volume_pct >= 0 AND volume_pct <= 100",
            name=op.f("ck_structure_dose_volumes_volume_pct_range"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["sbrt_courses.course_id"],
            name=op.f("fk_structure_dose_volumes_course_id"),
        ),
        sa.PrimaryKeyConstraint("dose_volume_id", name=op.f("pk_structure_dose_volumes")),
    )


def _rebuild_dosimetry_on_sqlite() -> None:
    """SQLite cannot add a constraint to a table: copy ``dosimetry`` into a new one.

    Alembic's batch mode does the same but writes the existing constraints in the iteration
    order of a set, so the table's SQL (and every new registry file) differed between runs
    with PYTHONHASHSEED. Here the existing constraints are written in a fixed order (primary
    key, foreign keys, unique, checks, each by name) and the new ones after them, and the
    rows are copied in one statement, inside the migration's transaction.
    """
    bind = op.get_bind()
    old = sa.Table("dosimetry", sa.MetaData(), autoload_with=bind)
    columns = [sa.Column(c.name, c.type, nullable=c.nullable) for c in old.columns]
    columns += [sa.Column(name, sa.Double(), nullable=True) for name, _ in _NUMBER_CHECKS]
    columns += [sa.Column(name, sa.Text(), nullable=True) for name in _TEXT_COLUMNS]
    pk = old.primary_key
    constraints: list[sa.Constraint] = [
        sa.PrimaryKeyConstraint(*(c.name for c in pk.columns), name=op.f(str(pk.name)))
    ]
    foreign = sorted(
        (c for c in old.constraints if isinstance(c, sa.ForeignKeyConstraint)),
        key=lambda c: str(c.name),
    )
    constraints += [
        sa.ForeignKeyConstraint(
            list(fk.column_keys),
            [e.target_fullname for e in fk.elements],
            name=op.f(str(fk.name)),
        )
        for fk in foreign
    ]
    unique = sorted(
        (c for c in old.constraints if isinstance(c, sa.UniqueConstraint)),
        key=lambda c: str(c.name),
    )
    constraints += [
        sa.UniqueConstraint(*(c.name for c in u.columns), name=op.f(str(u.name))) for u in unique
    ]
    checks = sorted(
        (c for c in old.constraints if isinstance(c, sa.CheckConstraint)),
        key=lambda c: str(c.name),
    )
    constraints += [sa.CheckConstraint(str(c.sqltext), name=op.f(str(c.name))) for c in checks]
    constraints += [
        sa.CheckConstraint(sql, name=op.f(f"ck_dosimetry_{name}_range"))
        for name, sql in _NUMBER_CHECKS
    ]
    constraints.append(sa.UniqueConstraint("rtplan_uid", name=op.f("uq_dosimetry_rtplan_uid")))
    op.create_table("_dosimetry_new", *columns, *constraints)
    kept = ", ".join(f'"{c.name}"' for c in old.columns)
    op.execute(f'INSERT INTO "_dosimetry_new" ({kept}) SELECT {kept} FROM "dosimetry"')
    op.drop_table("dosimetry")
    op.rename_table("_dosimetry_new", "dosimetry")


def downgrade() -> None:
    op.drop_table("structure_dose_volumes")
    op.drop_table("structure_metrics")
    with op.batch_alter_table("dosimetry") as batch:
        batch.drop_constraint(op.f("uq_dosimetry_rtplan_uid"), type_="unique")
        for name, _ in _NUMBER_CHECKS:
            batch.drop_constraint(op.f(f"ck_dosimetry_{name}_range"), type_="check")
        for name in (*(n for n, _ in _NUMBER_CHECKS), *_TEXT_COLUMNS):
            batch.drop_column(name)
