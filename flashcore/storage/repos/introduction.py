"""New cards' introduction order: the stored `new_position` of a profile's new cards, computed
by `core.introduction` from their decks, topics, notes and ordinals."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import literal_column, select

from flashcore.core.introduction import NewCardPlace, NewOrder, positions, topic_group
from flashcore.storage.repos.common import update_many
from flashcore.storage.tables import cards, decks, note_topics, notes, topics

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


def new_card_places(conn: Executor, profile_id: int) -> tuple[list[NewCardPlace], dict[int, int]]:
    """The profile's new cards (suspended ones too: unsuspended, they find their place) as the
    order needs them, and each one's stored position."""
    c, n, d = cards.c, notes.c, decks.c
    rows = conn.execute(
        select(c.id, d.key, c.note_id, c.ord, c.new_position)
        .join(notes, n.id == c.note_id)
        .join(decks, d.id == n.deck_id)
        .where(c.profile_id == profile_id, c.state == literal_column("0"))
    ).all()
    # The topic links of the notes of new cards only (after a first AnKing import, a third of
    # them), looked up by note; the paths apart (joined on, a fresh database without
    # statistics took every topic times every note).
    new_notes = select(c.note_id).where(c.profile_id == profile_id, c.state == literal_column("0"))
    path_of: dict[int, str] = {
        topic_id: path
        for topic_id, path in conn.execute(
            select(topics.c.id, topics.c.path).where(topics.c.profile_id == profile_id)
        ).all()
    }
    paths: dict[int, list[str]] = defaultdict(list)
    for note_id, topic_id in conn.execute(
        select(note_topics.c.note_id, note_topics.c.topic_id).where(
            note_topics.c.note_id.in_(new_notes)
        )
    ).all():
        path = path_of.get(topic_id)
        if path is not None:
            paths[note_id].append(path)
    groups: dict[tuple[str, ...], str] = {}  # a group per set of paths, worked out once
    places = []
    for card_id, deck_key, note_id, ordinal, _stored in rows:
        held = tuple(paths.get(note_id, ()))
        group = groups.get(held)
        if group is None:
            group = groups[held] = topic_group(held)
        places.append(NewCardPlace(card_id, deck_key, group, note_id, ordinal))
    return places, {r[0]: r[4] for r in rows}


def renumber_new_cards(conn: Executor, profile_id: int, order: NewOrder) -> int:
    """Store each new card's place in the introduction order; only the cards whose place moved
    are written (a reload that adds nothing writes nothing). Neither `version` nor
    `modified_at` changes: the order is not the card's scheduling. Returns the cards moved."""
    places, stored = new_card_places(conn, profile_id)
    moved = [
        {"id": card_id, "new_position": place}
        for card_id, place in positions(places, order).items()
        if stored.get(card_id) != place
    ]
    update_many(conn, cards, moved, key="id")  # the driver's executemany on SQLite
    return len(moved)
