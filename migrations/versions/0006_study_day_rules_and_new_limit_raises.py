"""review logs record elapsed study days; today's raised new-card limits

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00

- `review_logs.elapsed_days`: the study days since the card's previous answer, as the scheduler
  was given them. Answers from now on count elapsed time in study days (as Anki does) and keep
  Hard < Good < Easy; the rows already written keep NULL, which `check` replays with fsrs's
  24-hour days, exactly as they were answered. Downgrading drops the column (an older flashcore
  would then replay the newer answers with 24-hour days: `check --repair` there rewrites them).
- `new_limit_raises`: `flashcore due --topic T --extra-new N` raises that scope's new-card
  limit for one study day, seen by every later command of that day.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("elapsed_days", sa.Integer(), nullable=True))
    op.create_table(
        "new_limit_raises",
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("study_day", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_new_limit_raises_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "profile_id", "study_day", "scope", name=op.f("pk_new_limit_raises")
        ),
    )


def downgrade() -> None:
    op.drop_table("new_limit_raises")
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.drop_column("elapsed_days")
