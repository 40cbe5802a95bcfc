"""qbank tallies

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 04:00:00

`qbank_tallies`: every profile's question-bank attempts counted by their texts (topic,
category, system): how many, how many missed. Imports and removals keep it up to date in their
own transaction, so matching learns which leaf a topic text stands for without reading every
attempt. Built here from the stored attempts; downgrading drops it (nothing else changes).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qbank_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=300), nullable=False),
        sa.Column("system", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_qbank_tallies_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qbank_tallies")),
    )
    op.create_index("ix_qbank_tallies_profile_id", "qbank_tallies", ["profile_id"])
    op.execute(
        "INSERT INTO qbank_tallies (profile_id, topic, category, system, attempts, misses) "
        "SELECT profile_id, topic, category, system, count(*), "
        "sum(CASE WHEN outcome IN ('incorrect', 'omitted') THEN 1 ELSE 0 END) "
        "FROM qbank_attempts GROUP BY profile_id, topic, category, system"
    )


def downgrade() -> None:
    op.drop_index("ix_qbank_tallies_profile_id", table_name="qbank_tallies")
    op.drop_table("qbank_tallies")
