"""the review log keeps one index by card: (card, revlog id), unique

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 10:15:00

The review log had two indexes by card: `ix_review_logs_card_id` (a card's rows) and the
partial unique `ix_review_logs_card_id_anki_revlog_id` (a card holds each Anki revlog id at
most once; rows without one left out). A first import of an AnKing history (1,000,000 rows)
built both, ~0.5 s CPU each, and every answer wrote both. One unique index on (card, revlog
id) over every row does both jobs: a card's rows are its range (the rows without a revlog id
are distinct NULLs, on SQLite and PostgreSQL alike), and the revlog ids are still read from the
index alone.

The upgrade drops the two and builds the one (under the partial index's name); the downgrade
builds the two again. No row changes either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_review_logs_card_id_anki_revlog_id"
_PARTIAL = sa.text("anki_revlog_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_review_logs_card_id", table_name="review_logs")
    op.drop_index(_NAME, table_name="review_logs")
    op.create_index(_NAME, "review_logs", ["card_id", "anki_revlog_id"], unique=True)


def downgrade() -> None:
    op.drop_index(_NAME, table_name="review_logs")
    op.create_index("ix_review_logs_card_id", "review_logs", ["card_id"])
    op.create_index(
        _NAME, "review_logs", ["card_id", "anki_revlog_id"],
        unique=True, sqlite_where=_PARTIAL, postgresql_where=_PARTIAL,
    )  # fmt: skip
