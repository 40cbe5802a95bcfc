"""cards take their weight from one of their note's topics

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 04:30:00

A card's weight was copied onto the card (`cards.weight`, with the weak topic that set it in
`cards.weak_topic_id`), and weights are relative to the student's average, so one import moved
nearly every weighted card: ~120,000 card writes at 200,000 cards (issue 19). Now each topic
keeps the weight its cards take (`topics.card_weight`: the highest weight among it and its
ancestors, as cards carried it) and the topic of that weight (`topics.card_topic_id`, NULL when
0); a card points at one of its note's topics (`cards.weak_topic_id`: the first by id of the
highest `card_weight`, the first when none has any, NULL for a note without topics) and keeps
only an open missed question's weight (>= 1) in `cards.weight` (0 otherwise). A card's weight
and weak topic are read through that topic (`tables.card_weight`) and are what they were.

The upgrade works out each topic's `card_weight` and `card_topic_id` from the topics' weights
and the tree, points every card at its note's topic, and sets `cards.weight` to 0 where it held
a topic's weight (below 1). Two indexes let the queue read new cards in the old order (weight,
then introduction order) without a sort: topics by `card_weight`, and new cards by the topic
they point at and introduction order. Downgrading writes each card's weight and weak topic back
from the topic it points at (exactly what the upgrade read) and drops the columns and indexes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = sa.text("state = 0")
MISSED_QUESTION = 1.0  # core.weakness.MISSED_QUESTION, as of this revision


def _cards_weights() -> None:
    """Each topic's cards' weight and its topic: the highest weight among the topic and its
    ancestors (the first in that order among equal weights), as services.weights works it
    out from the scores (from the weights rounded as stored here: a topic whose rounded
    weight equals an ancestor's keeps itself; the next refresh settles that)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, parent_id, weight FROM topics")).all()
    parent = {topic_id: parent_id for topic_id, parent_id, _w in rows}
    weight = {topic_id: float(w) for topic_id, _p, w in rows}
    changes = []
    for topic_id in parent:
        best: tuple[float, int | None] = (0.0, None)
        node: int | None = topic_id
        seen: set[int] = set()
        while node is not None and node in weight and node not in seen:
            seen.add(node)
            if weight[node] > best[0]:
                best = (weight[node], node)
            node = parent[node]
        if best[1] is not None:
            changes.append({"tid": topic_id, "w": best[0], "of": best[1]})
    if changes:
        bind.execute(
            sa.text("UPDATE topics SET card_weight = :w, card_topic_id = :of WHERE id = :tid"),
            changes,
        )


def upgrade() -> None:
    # Columns added in place: SQLite's batch mode would rebuild `topics` and lose its trigger
    # (schema 0018's topic_cards). `card_topic_id` has no foreign key, so that SQLite can
    # drop it in place too (it is refreshed with the weights).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE topics ADD COLUMN card_weight FLOAT DEFAULT 0 NOT NULL")
        op.execute("ALTER TABLE topics ADD COLUMN card_topic_id INTEGER")
    else:
        op.add_column(
            "topics",
            sa.Column("card_weight", sa.Float(), server_default=sa.text("0"), nullable=False),
        )
        op.add_column("topics", sa.Column("card_topic_id", sa.Integer(), nullable=True))
    op.create_index("ix_topics_profile_id_card_weight", "topics", ["profile_id", "card_weight"])
    _cards_weights()
    op.execute(
        "UPDATE cards SET weak_topic_id = (SELECT nt.topic_id FROM note_topics nt"
        " JOIN topics t ON t.id = nt.topic_id WHERE nt.note_id = cards.note_id"
        " ORDER BY t.card_weight DESC, nt.topic_id LIMIT 1)"
    )
    op.execute(
        sa.text("UPDATE cards SET weight = 0 WHERE weight > 0 AND weight < :missed").bindparams(
            missed=MISSED_QUESTION
        )
    )
    op.create_index(
        "ix_cards_new_by_topic",
        "cards",
        ["weak_topic_id", "suspended", "weight", "new_position", "note_id", "ord"],
        unique=False,
        sqlite_where=NEW,
        postgresql_where=NEW,
    )


def downgrade() -> None:
    op.drop_index("ix_cards_new_by_topic", table_name="cards")
    op.execute(
        "UPDATE cards SET weight = (SELECT t.card_weight FROM topics t"
        " WHERE t.id = cards.weak_topic_id) WHERE weight = 0 AND weak_topic_id IS NOT NULL"
    )
    op.execute(
        "UPDATE cards SET weak_topic_id = (SELECT t.card_topic_id FROM topics t"
        " WHERE t.id = cards.weak_topic_id) WHERE weak_topic_id IS NOT NULL"
    )
    op.drop_index("ix_topics_profile_id_card_weight", table_name="topics")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE topics DROP COLUMN card_topic_id")
        op.execute("ALTER TABLE topics DROP COLUMN card_weight")
    else:
        op.drop_column("topics", "card_topic_id")
        op.drop_column("topics", "card_weight")
