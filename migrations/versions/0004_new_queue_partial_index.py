"""new-card index holds only new cards

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 06:10:00

ix_cards_new_queue listed every card, with `state` among its columns, so every answer (which
sets `state`) moved the answered card's entry: two more index pages written and fsynced per
answer, for an index only the new-card query reads. It now holds new cards only
(`WHERE state = 0`, a partial index on SQLite and PostgreSQL): answering a review card no longer
touches it, and a new card leaves it once. The new-card query names `state = 0` literally so the
planners can use it. Indexes only: no row changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = sa.text("state = 0")


def upgrade() -> None:
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_index("ix_cards_new_queue")
        batch_op.create_index(
            "ix_cards_new_queue",
            ["profile_id", "suspended", sa.text("weight DESC"), "note_id", "ord"],
            unique=False,
            sqlite_where=NEW,
            postgresql_where=NEW,
        )


def downgrade() -> None:
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_index("ix_cards_new_queue")
        batch_op.create_index(
            "ix_cards_new_queue",
            ["profile_id", "suspended", "state", sa.text("weight DESC"), "note_id", "ord"],
            unique=False,
        )
