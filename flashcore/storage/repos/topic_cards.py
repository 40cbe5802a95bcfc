"""Each topic's cards as `topic_cards` keeps them (schema 0018, by the database's triggers):
read for the weakness report, compared with the cards counted afresh and recounted by
`check`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, select

from flashcore.storage.tables import cards, note_topics, topic_cards, topics

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


def kept_and_counted_topic_cards(
    conn: Executor, profile_id: int
) -> list[tuple[int, str, int, int]]:
    """Each of the profile's topics: (id, path, cards as `topic_cards` keeps them, cards
    counted from the cards), where they differ (`check`); a topic without a kept row counts
    as keeping -1."""
    tc, tp, nt, c = topic_cards.c, topics.c, note_topics.c, cards.c
    kept: dict[int, int] = dict(
        conn.execute(
            select(tc.topic_id, tc.cards).join(topics, tp.id == tc.topic_id)
            .where(tp.profile_id == profile_id)
        ).all()
    )  # fmt: skip
    counted: dict[int, int] = dict(
        conn.execute(
            select(nt.topic_id, func.count())
            .select_from(cards)
            .join(note_topics, nt.note_id == c.note_id)
            .where(c.profile_id == profile_id)
            .group_by(nt.topic_id)
        ).all()
    )
    out = []
    for topic_id, path in conn.execute(
        select(tp.id, tp.path).where(tp.profile_id == profile_id).order_by(tp.path)
    ):
        have, want = int(kept.get(topic_id, -1)), int(counted.get(topic_id, 0))
        if have != want:
            out.append((int(topic_id), str(path), have, want))
    return out


def recount_topic_cards(conn: Executor, profile_id: int) -> None:
    """The profile's `topic_cards` counted afresh from the cards (`check --repair`)."""
    tp = topics.c
    ids = select(tp.id).where(tp.profile_id == profile_id)
    conn.execute(delete(topic_cards).where(topic_cards.c.topic_id.in_(ids)))
    per_topic = (
        select(func.count())
        .select_from(cards)
        .join(note_topics, note_topics.c.note_id == cards.c.note_id)
        .where(note_topics.c.topic_id == tp.id)
        .scalar_subquery()
    )
    conn.execute(
        insert(topic_cards).from_select(
            ["topic_id", "cards"], select(tp.id, per_topic).where(tp.profile_id == profile_id)
        )
    )


def cards_per_topic(session: Executor, profile_id: int, topic_ids: list[int]) -> dict[int, int]:
    """The cards of each of these topics' notes (directly linked notes only), as the database
    keeps them (`topic_cards`, schema 0018: no card is read). Topics of another profile or
    without cards are absent."""
    tc, tp = topic_cards.c, topics.c
    wanted = set(topic_ids)
    rows = session.execute(
        select(tc.topic_id, tc.cards)
        .join(topics, tp.id == tc.topic_id)
        .where(tp.profile_id == profile_id, tc.cards > 0)
    ).all()
    return {int(t): int(n) for t, n in rows if t in wanted}


def topics_with_new_cards(session: Executor, profile_id: int) -> set[int]:
    """The profile's topics with a new (never studied), unsuspended card on one of their own
    notes: topics not yet fully introduced (core.memory_floor's ONLY_INTRODUCED ablation)."""
    c, nt = cards.c, note_topics.c
    rows = session.execute(
        select(nt.topic_id)
        .distinct()
        .select_from(note_topics.join(cards, c.note_id == nt.note_id))
        .where(c.profile_id == profile_id, c.state == 0, c.suspended.is_(False))
    )
    return {int(r[0]) for r in rows}


def leech_cards(session: Executor, topic_ids: list[int]) -> list[tuple[int, int, bool, int]]:
    """The cards marked leech (suspended as one or tagged) whose notes are linked directly to
    one of these topics: (card id, lapses, suspended, topic id), by card then topic. Read
    through the topics' links (`note_topics`' topic index, then each note's cards), so a
    report of a few topics reads their cards only, never the whole collection's: the topics
    are the profile's, so its cards are named by them alone (a test of `cards.profile_id`
    beside them had SQLite walk the profile's every card instead: ~24 against ~7 ms of CPU
    for ten topics of 200,000 cards on a synthetic copy of the tables)."""
    if not topic_ids:
        return []
    c, nt = cards.c, note_topics.c
    rows = session.execute(
        select(c.id, c.lapses, c.suspended, nt.topic_id)
        .select_from(note_topics)
        .join(cards, c.note_id == nt.note_id)
        .where(nt.topic_id.in_(sorted(topic_ids)), c.leech.is_(True))
        .order_by(c.id, nt.topic_id)
    ).all()
    return [(int(card), int(lapses), bool(held), int(topic)) for card, lapses, held, topic in rows]
