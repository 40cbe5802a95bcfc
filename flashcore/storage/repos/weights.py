"""Weakness weights as stored: each topic's weight and the explanation of it, each card's
weight and the topic that sets it (copied so the queue ranks without joins), and the study day
the weights were last computed for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, update

from flashcore.core.reasons import Explanation
from flashcore.storage.explanations import from_json, to_json
from flashcore.storage.tables import cards, profiles, topics

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


@dataclass(frozen=True, slots=True)
class TopicWeight:
    topic_id: int
    weight: float
    why: Explanation | None  # why the topic is weak, shown with its cards (None: weight 0)


# (card_id, note_id, weight, weak_topic_id: the topic whose score sets the weight): plain
# tuples, as a whole profile's cards are read (50,000 objects would cost the refresh ~25 ms).
CardWeight = tuple[int, int, float, int | None]


def weights_day(conn: Executor, profile_id: int) -> date | None:
    """The study day the profile's weights were last computed for (None: never)."""
    return conn.execute(select(profiles.c.weights_day).where(profiles.c.id == profile_id)).scalar()


def set_weights_day(conn: Executor, profile_id: int, day: date) -> None:
    conn.execute(update(profiles).where(profiles.c.id == profile_id).values(weights_day=day))


def topic_weights(conn: Executor, profile_id: int) -> list[TopicWeight]:
    rows = conn.execute(
        select(topics.c.id, topics.c.weight, topics.c.explanation).where(
            topics.c.profile_id == profile_id
        )
    )
    return [TopicWeight(topic_id, weight, from_json(why)) for topic_id, weight, why in rows]


def update_topic_weights(conn: Executor, changed: list[TopicWeight]) -> None:
    if changed:
        conn.execute(
            update(topics)
            .where(topics.c.id == bindparam("tid"))
            .values(weight=bindparam("w"), explanation=bindparam("e"), reason=""),
            [{"tid": t.topic_id, "w": t.weight, "e": to_json(t.why)} for t in changed],
        )


def card_weights(conn: Executor, profile_id: int) -> list[CardWeight]:
    rows = conn.execute(
        select(cards.c.id, cards.c.note_id, cards.c.weight, cards.c.weak_topic_id).where(
            cards.c.profile_id == profile_id
        )
    ).all()
    return [tuple(row) for row in rows]


def update_card_weights(conn: Executor, changed: list[CardWeight]) -> None:
    if changed:
        conn.execute(
            update(cards)
            .where(cards.c.id == bindparam("cid"))
            .values(weight=bindparam("w"), weak_topic_id=bindparam("t")),
            [{"cid": card_id, "w": w, "t": t} for card_id, _note_id, w, t in changed],
        )
