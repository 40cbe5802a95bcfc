"""qbank sums: the attempts summed per group, kept up to date from what was added

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 22:50:00

`qbank_sums` holds each profile's question-bank attempts summed per group (a listed question's
source and id with its texts, else the texts alone): one settled row per group for the attempts
too old to be recent again, with their decayed sums taken at a settling day, and one row per
group and day from there on. `qbank_sums_state` says what they stand for (half-life, settling
day, the last attempt id included, how many attempts, a digest of the listed question ids). The
weakness report reads these sums and the attempts added since, instead of every attempt.

Both tables are a cache of `qbank_attempts`: created empty here (the first report fills them
from the attempts), and dropped on downgrade; no attempt is changed either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qbank_sums",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("qid", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=300), nullable=False),
        sa.Column("system", sa.String(length=200), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("decayed_attempts", sa.Float(), nullable=False),
        sa.Column("decayed_misses", sa.Float(), nullable=False),
        sa.Column("last_miss", sa.Date(), nullable=True),
        sa.Column("last_correct", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_qbank_sums_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qbank_sums")),
    )
    op.create_index("ix_qbank_sums_profile_id", "qbank_sums", ["profile_id"])
    op.create_table(
        "qbank_sums_state",
        sa.Column("profile_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("half_life", sa.Float(), nullable=False),
        sa.Column("settled_before", sa.Date(), nullable=False),
        sa.Column("last_attempt_id", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("listed", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_qbank_sums_state_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_qbank_sums_state")),
    )


def downgrade() -> None:
    op.drop_table("qbank_sums_state")
    op.drop_index("ix_qbank_sums_profile_id", table_name="qbank_sums")
    op.drop_table("qbank_sums")
