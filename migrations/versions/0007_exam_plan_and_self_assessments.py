"""exam, daily plan and self-assessments

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:00:00

Three new tables, nothing else touched:
- `exams`: a profile's exam date, daily time budget (minutes), buffer days before the exam, the
  retention steps the plan's solver chose toward it, and the study day `plan_mode auto` last set
  `new_per_day` for. One row per profile.
- `assessments`: self-assessments (NBME-style practice exams) with their score and pass line.
- `assessment_areas`: the per-system and per-discipline lines of an assessment's score report,
  each a band (lower / borderline / higher) or a percent correct.
Downgrading drops the three tables (and what they hold).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flashcore.storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _profile_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["profile_id"],
        ["profiles.id"],
        name=op.f(f"fk_{table}_profile_id_profiles"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    when = flashcore.storage.types.UTCDateTime(timezone=True)
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("exam_date", sa.Date(), nullable=False),
        sa.Column("minutes_per_day", sa.Integer(), nullable=False),
        sa.Column("buffer_days", sa.Integer(), nullable=False),
        sa.Column("retention_plan", sa.JSON(), nullable=False),
        sa.Column("solved_on", sa.Date(), nullable=True),
        sa.Column("plan_day", sa.Date(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        _profile_fk("exams"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exams")),
        sa.UniqueConstraint("profile_id", name=op.f("uq_exams_profile_id")),
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("pass_line", sa.Float(), nullable=False),
        sa.Column("report", sa.String(length=500), nullable=False),
        sa.Column("created_at", when, nullable=False),
        _profile_fk("assessments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    op.create_table(
        "assessment_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("band", sa.String(length=20), nullable=True),
        sa.Column("percent", sa.Float(), nullable=True),
        sa.Column("given", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_areas_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_areas")),
    )
    with op.batch_alter_table("assessment_areas", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_areas_assessment_id"), ["assessment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assessment_areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_areas_assessment_id"))
    op.drop_table("assessment_areas")
    op.drop_table("assessments")
    op.drop_table("exams")
