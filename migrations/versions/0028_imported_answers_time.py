"""imported answers read by time: `ix_imported_answers_anki_revlog_id`

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 11:30:00

Schema 0027's readers of recent answers (today's counts at every queue build, `stats`, the
plan's answer times) filter the union of the review log and `imported_answers` by time; the
imported answers' time is derived from their revlog id, so each such read scanned every
imported answer (a million for an AnKing history: `stats` 0.6 -> 0.9 s). An index on the revlog
id lets those readers seek from their start (`answer_rows(..., since=)`). A first import writes
it in the package's order, the revlog's: appended, not scattered.

Upgrade builds the index; downgrade drops it. No row changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_imported_answers_anki_revlog_id", "imported_answers", ["anki_revlog_id"])


def downgrade() -> None:
    op.drop_index("ix_imported_answers_anki_revlog_id", table_name="imported_answers")
