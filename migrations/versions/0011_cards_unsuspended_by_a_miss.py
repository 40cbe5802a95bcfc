"""cards unsuspended by a missed question

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 04:30:00

`cards.unsuspended_by`: the id of the qbank batch whose missed question unsuspended the card
(`unsuspend_on_miss`, AnKing's workflow). The card's reason then says "unsuspended: missed …",
and `qbank remove` of that batch suspends it again unless another batch's miss of one of its
questions keeps it unsuspended (the removal moves the mark to that batch, or clears it, before
the batch goes: no foreign key, so that the column is added and dropped in place, without
copying the cards table and its partial index). NULL for every existing card: which cards an
earlier import unsuspended was not recorded (they stay as they are). Downgrading drops the
column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cards", sa.Column("unsuspended_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a plain column in place (3.35+); Alembic's batch mode would copy the
        # table and lose the new-card index's WHERE clause.
        op.execute("ALTER TABLE cards DROP COLUMN unsuspended_by")
    else:
        op.drop_column("cards", "unsuspended_by")
