"""new cards' introduction order: cards.new_position

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 04:00:00

New cards came deck by deck (note id, then cloze number: twenty biostatistics cards first).
`cards.new_position` holds each new card's place in the introduction order of the setting
`new_order` (core.introduction: `interleaved`, the default, lets decks and their topic areas take
turns). The upgrade numbers every profile's new cards in the interleaved order (no profile could
have chosen `deck` before this revision); studied cards get 0 (the order only reads new cards).
The new-card index gains the column after the weight, so the queue still reads new cards in
order from the index. Downgrading drops the column and restores the index of 0004.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flashcore.core.introduction import NewCardPlace, NewOrder, positions, topic_group

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = sa.text("state = 0")


def _number_new_cards() -> None:
    bind = op.get_bind()
    paths: dict[int, list[str]] = defaultdict(list)
    for note_id, path in bind.execute(
        sa.text(
            "SELECT note_topics.note_id, topics.path FROM note_topics"
            " JOIN topics ON topics.id = note_topics.topic_id"
        )
    ):
        paths[note_id].append(path)
    by_profile: dict[int, list[NewCardPlace]] = defaultdict(list)
    for card_id, profile_id, deck_key, note_id, ordinal in bind.execute(
        sa.text(
            "SELECT cards.id, cards.profile_id, decks.key, cards.note_id, cards.ord FROM cards"
            " JOIN notes ON notes.id = cards.note_id JOIN decks ON decks.id = notes.deck_id"
            " WHERE cards.state = 0"
        )
    ):
        place = NewCardPlace(card_id, deck_key, topic_group(paths[note_id]), note_id, ordinal)
        by_profile[profile_id].append(place)
    set_place = sa.text("UPDATE cards SET new_position = :place WHERE id = :card")
    for places in by_profile.values():
        moved = [
            {"card": card_id, "place": place}
            for card_id, place in positions(places, NewOrder.INTERLEAVED).items()
            if place
        ]
        if moved:
            bind.execute(set_place, moved)


def upgrade() -> None:
    # The index first: SQLite's batch mode cannot copy an index on an expression (weight DESC).
    op.drop_index("ix_cards_new_queue", table_name="cards")
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("new_position", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.create_index(
        "ix_cards_new_queue",
        "cards",
        ["profile_id", "suspended", sa.text("weight DESC"), "new_position", "note_id", "ord"],
        unique=False,
        sqlite_where=NEW,
        postgresql_where=NEW,
    )
    _number_new_cards()


def downgrade() -> None:
    op.drop_index("ix_cards_new_queue", table_name="cards")
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_column("new_position")
    op.create_index(
        "ix_cards_new_queue",
        "cards",
        ["profile_id", "suspended", sa.text("weight DESC"), "note_id", "ord"],
        unique=False,
        sqlite_where=NEW,
        postgresql_where=NEW,
    )
