"""Topic scores kept

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 10:30:00

`topic_scores_kept`: the weakness report's score pass (each topic's qbank attempts summed on one
study day, directly and with its sub-topics', and the gaps), kept with a stamp of what it was
made from (`storage.scores_kept`): the weight refresh after an import keeps what it made, and a
report on the same day reads one row instead of matching and summing ~9,300 groups (issue 19,
200,000 cards and 1,100,000 attempts). One row per profile, on SQLite and PostgreSQL alike.

No row is filled here: the scores are those of a study day, which the schema does not know (the
clock is the commands'); the first report or import after the upgrade stores them. The
downgrade drops the table; nothing else changes either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "topic_scores_kept",
        sa.Column("profile_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_topic_scores_kept_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_topic_scores_kept")),
    )


def downgrade() -> None:
    op.drop_table("topic_scores_kept")
