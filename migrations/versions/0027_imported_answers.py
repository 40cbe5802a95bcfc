"""answers a first Anki import takes over are kept narrow: `imported_answers`

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 10:30:00

A first `decks add --with-scheduling` of an AnKing-sized collection wrote its million answers
as review-log rows: a window pass over the package (each answer's previous one) and three
B-trees of ~130 MB, most of the import's time beyond Anki's own (issue 16). From this revision
such an import writes `imported_answers`: what Anki's revlog gives of each answer (card, revlog
id, ease, time taken, type, interval, factor) and the three values that depend on flashcore's
clock at the import (the answer's study day, its due after, the card's desired retention), one
WITHOUT ROWID B-tree keyed by card and revlog id. Readers see these rows beside the review log's
as one history (`flashcore.storage.answer_rows`), each with the columns its review-log row held.

The upgrade creates the empty table: imported rows already in the review log stay there. The
downgrade moves every imported answer into the review log as the row a first import wrote
before this revision (every column; written whole rather than chained to the answer before,
which reads the same), then drops the table: no answer is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    micros = sa.BigInteger().with_variant(sa.DateTime(timezone=True), "postgresql")
    op.create_table(
        "imported_answers",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("anki_revlog_id", sa.BigInteger(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("factor", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("due_after", micros, nullable=False),
        sa.Column("desired_retention", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name="fk_imported_answers_card_id_cards",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name="fk_imported_answers_profile_id_profiles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_id", "anki_revlog_id", name="pk_imported_answers"),
        sqlite_with_rowid=False,
    )  # fmt: skip


def _time(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"(TIMESTAMPTZ 'epoch' + {column} * INTERVAL '1 millisecond')"
    return f"({column} * 1000)"


def downgrade() -> None:
    first = "p.anki_revlog_id IS NULL"
    lapses = (
        "(SELECT COUNT(*) FROM imported_answers l WHERE l.card_id = a.card_id"
        " AND l.anki_revlog_id < a.anki_revlog_id AND l.rating = 1 AND (l.kind = 1 OR"
        " (l.kind = 3 AND l.anki_revlog_id > (SELECT MIN(m.anki_revlog_id)"
        " FROM imported_answers m WHERE m.card_id = a.card_id))))"
    )
    previous = (
        "(SELECT MAX(q.anki_revlog_id) FROM imported_answers q WHERE q.card_id = a.card_id"
        " AND q.anki_revlog_id < a.anki_revlog_id)"
    )
    op.execute(f"""
INSERT INTO review_logs (profile_id, card_id, reviewed_at, rating, scheduler_id, duration_ms,
  desired_retention, reason, state_before, due_before, last_review_before, lapses_before,
  packed_before, state_after, step_after, stability_after, difficulty_after, due_after,
  leeched, buried_siblings, elapsed_days, anki_revlog_id, imported)
SELECT a.profile_id, a.card_id, {_time("a.anki_revlog_id")}, a.rating, NULL, a.duration_ms,
  a.desired_retention, 'answered in Anki',
  CASE a.kind WHEN 1 THEN 2 WHEN 2 THEN 3
    ELSE (CASE WHEN {first} THEN 0 WHEN a.kind = 0 THEN 1 ELSE 2 END) END,
  CASE WHEN {first} THEN {_time("a.anki_revlog_id")} ELSE p.due_after END,
  CASE WHEN {first} THEN NULL ELSE {_time("p.anki_revlog_id")} END,
  {lapses},
  NULL,
  CASE WHEN a.interval > 0 THEN 2
    WHEN a.kind IN (1, 2) OR (a.kind = 3 AND NOT ({first})) THEN 3 ELSE 1 END,
  NULL, 0.0,
  CASE WHEN a.factor BETWEEN 100 AND 1100
    THEN (CAST(a.factor AS FLOAT) / 1000.0 - 0.1) * 9 + 1 ELSE 0.0 END,
  a.due_after, FALSE, NULL,
  CASE WHEN {first} THEN 0 WHEN a.day - p.day > 0 THEN a.day - p.day ELSE 0 END,
  a.anki_revlog_id, TRUE
FROM imported_answers a
  LEFT JOIN imported_answers p ON p.card_id = a.card_id AND p.anki_revlog_id = {previous}
ORDER BY a.card_id, a.anki_revlog_id
""")
    op.drop_table("imported_answers")
