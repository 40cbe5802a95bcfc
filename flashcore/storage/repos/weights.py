"""Weakness weights as stored: each topic's weight and the explanation of it, each card's
weak topic (the topic whose weight the card takes: `tables.card_weight`) and its missed
question's weight, and the study day the weights were last computed for."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, update

from flashcore.core.reasons import Explanation, WeakTopic
from flashcore.storage.explanations import from_json, to_json
from flashcore.storage.tables import cards, note_topics, profiles, topics, weak_candidates

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

FEW_WEIGHING = 500  # topics that weigh, named in one statement (`card_weights_and_topics`)


@dataclass(frozen=True, slots=True)
class TopicWeight:
    topic_id: int
    weight: float
    why: Explanation | None  # why the topic is weak, shown with its cards (None: weight 0)
    path: str  # the topic's path, which its explanation names
    # The weight its cards take (the highest among it and its ancestors) and the topic of it
    # (None when 0): a card reads them through one of its note's topics (schema 0019).
    card_weight: float = 0.0
    card_topic_id: int | None = None


# (card_id, note_id, weight as stored: a missed question's or 0, weak_topic_id: the topic whose
# score sets the weight otherwise): plain tuples, as a whole profile's cards are read (50,000
# objects would cost the refresh ~25 ms).
CardWeight = tuple[int, int, float, int | None]


def weights_day(conn: Executor, profile_id: int) -> date | None:
    """The study day the profile's weights were last computed for (None: never)."""
    return conn.execute(select(profiles.c.weights_day).where(profiles.c.id == profile_id)).scalar()


def set_weights_day(conn: Executor, profile_id: int, day: date) -> None:
    conn.execute(update(profiles).where(profiles.c.id == profile_id).values(weights_day=day))


def topic_weights(conn: Executor, profile_id: int) -> list[TopicWeight]:
    t = topics.c
    rows = conn.execute(
        select(t.id, t.weight, t.explanation, t.path, t.card_weight, t.card_topic_id).where(
            t.profile_id == profile_id
        )
    )
    return [
        TopicWeight(tid, weight, from_json(why), path, cards_weight, of)
        for tid, weight, why, path, cards_weight, of in rows
    ]


def update_topic_weights(conn: Executor, changed: list[TopicWeight]) -> None:
    """Write each topic's weight, explanation and its cards' weight; and, beside them, the
    explanation as text in `reason`, for older versions' readers (flashcore reads
    `explanation`; see migration 0014)."""
    if changed:
        conn.execute(
            update(topics)
            .where(topics.c.id == bindparam("tid"))
            .values(
                weight=bindparam("w"), explanation=bindparam("e"), reason=bindparam("r"),
                card_weight=bindparam("cw"), card_topic_id=bindparam("ct"),
            ),
            [
                {
                    "tid": t.topic_id,
                    "w": t.weight,
                    "e": to_json(t.why),
                    "r": WeakTopic(t.path, t.why).explanation,
                    "cw": t.card_weight,
                    "ct": t.card_topic_id,
                }
                for t in changed
            ],
        )  # fmt: skip


def card_weights_and_topics(
    conn: Executor,
    profile_id: int,
    notes: Collection[int] = (),
    weighing: Collection[int] | None = None,
) -> list[tuple[int, int, float, int | None, int | None]]:
    """The profile's cards whose stored weight a refresh may change, with their note's topics:
    (card id, note id, weight, weak topic id, a topic the note is linked to or None), a row
    per linked topic, by card id and then topic id. Left out (schema 0019): cards of no
    missed question (weight 0) that point at their note's only topic, or at none for a note
    without topics, unless their note is in `notes` (those of open missed questions): no
    topic weight can move them (at 200,000 cards of one topic each, ~0.7 s less); the others
    are read from `weak_candidates`, which the database keeps (schema 0031). Given
    `weighing` (the topics whose cards take a weight above 0; at most `FEW_WEIGHING`), also
    the cards of weight 0 that point at their note's first topic by id, of a note linked to
    none of them: the refresh gives them that topic again (after a first AnKing import, whose
    notes have two topics each and nothing weighs yet: 96,000 rows read for no change)."""
    c, nt = cards.c, note_topics.c
    k, o = note_topics.alias("k"), note_topics.alias("o")
    only_topic = and_(
        exists().where(k.c.note_id == c.note_id, k.c.topic_id == c.weak_topic_id),
        ~exists().where(o.c.note_id == c.note_id, o.c.topic_id != c.weak_topic_id),
    )
    no_topic = and_(c.weak_topic_id.is_(None), ~exists().where(k.c.note_id == c.note_id))
    unmoved = or_(only_topic, no_topic)
    if weighing is not None and len(weighing) <= FEW_WEIGHING:
        first = select(func.min(k.c.topic_id)).where(k.c.note_id == c.note_id).scalar_subquery()
        at_first = c.weak_topic_id.is_not_distinct_from(first)
        if weighing:
            at_first = and_(
                at_first,
                ~exists().where(o.c.note_id == c.note_id, o.c.topic_id.in_(sorted(weighing))),
            )
        unmoved = or_(at_first, unmoved)
    settled = and_(c.weight == 0, unmoved)
    columns = (c.id, c.note_id, c.weight, c.weak_topic_id, nt.topic_id)
    # Only the cards the database keeps as candidates (schema 0031: all but those of weight 0
    # at their note's only topic, or at none without topics) can be left unsettled: read
    # those, not every card (200,000 cards, ~3,900 candidates: ~0.15 CPU-s less).
    w = weak_candidates.c
    rows: list[Any] = [
        tuple(row)
        for row in conn.execute(
            select(*columns)
            .select_from(weak_candidates)
            .join(cards, c.id == w.card_id)
            .outerjoin(note_topics, nt.note_id == c.note_id)
            .where(w.profile_id == profile_id, c.profile_id == profile_id, ~settled)
        )
    ]
    # The notes are the profile's own (they list its missed questions): found by the cards'
    # note index, where a condition on the profile had SQLite walk all of the profile's cards
    # once per 900 notes (3,500 notes at 200,000 cards: ~0.1 CPU-s of every import).
    wanted = sorted(set(notes))
    for start in range(0, len(wanted), 900):
        rows += [
            tuple(row)
            for row in conn.execute(
                select(*columns)
                .outerjoin(note_topics, nt.note_id == c.note_id)
                .where(c.note_id.in_(wanted[start : start + 900]), settled)
            )
        ]  # fmt: skip
    rows.sort(key=lambda r: (r[0], -1 if r[4] is None else r[4]))
    return rows


def update_card_weights(conn: Executor, changed: list[CardWeight]) -> None:
    """Write these cards' stored weights and weak topics. On SQLite by the driver's
    executemany (~4 us a card, where SQLAlchemy's took ~30)."""
    from flashcore.storage.repos.common import _driver, dialect_of

    if changed and dialect_of(conn).name == "sqlite":
        _driver(conn).executemany(
            "UPDATE cards SET weight = ?, weak_topic_id = ? WHERE id = ?",
            [(w, t, card_id) for card_id, _note_id, w, t in changed],
        )
    elif changed:
        conn.execute(
            update(cards)
            .where(cards.c.id == bindparam("cid"))
            .values(weight=bindparam("w"), weak_topic_id=bindparam("t")),
            [{"cid": card_id, "w": w, "t": t} for card_id, _note_id, w, t in changed],
        )
