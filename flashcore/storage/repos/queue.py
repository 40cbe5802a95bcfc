"""What today's queue reads of the cards: the compact scheduling columns of a scope's active
cards (not suspended, not buried at `now`), as rows in core.queue.Candidate's field order.
Core statements and plain tuples: a queue ranks ~2,500 of them on every build."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, and_, cast, func, literal_column, or_, select

from flashcore.core import introduction
from flashcore.core.model import CardState
from flashcore.storage.repos.cards import card_filter
from flashcore.storage.repos.common import chunks
from flashcore.storage.tables import (
    INTRODUCTION_ORDER,
    NEW_CARD_ORDER,
    card_weight,
    cards,
    note_topics,
    notes,
    topics,
)

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

# (card_id, note_id, state, due, stability, last_review, weight): core.queue.Candidate's order.
QueueRow = tuple[int, int, int, datetime, float | None, datetime | None, float]
# The same and the card's deck: (…, deck_id).
DeckRow = tuple[int, int, int, datetime, float | None, datetime | None, float, int]
# A new card of a deck: (…, deck_id, ord, new_position, place in its deck's introduction order).
NewDeckRow = tuple[
    int, int, int, datetime, float | None, datetime | None, float, int, int, int, int
]

STUDIED = [int(CardState.LEARNING), int(CardState.REVIEW), int(CardState.RELEARNING)]

SCHEDULE_COLUMNS = (
    cards.c.id, cards.c.note_id, cards.c.state, cards.c.due, cards.c.stability,
    cards.c.last_review,
)  # fmt: skip
# The weight read with each card (a missed question's on the card, else its weak topic's).
CARD_COLUMNS = (*SCHEDULE_COLUMNS, card_weight().label("weight"))


def _active(scope: Any, now: datetime) -> Any:
    c = cards.c
    return and_(scope, c.suspended.is_(False), or_(c.buried_until.is_(None), c.buried_until <= now))


def _not_answered_since(start: datetime) -> Any:
    c = cards.c
    return or_(c.last_review.is_(None), c.last_review < start)


def _new() -> Any:
    return cards.c.state == literal_column("0")  # the partial index's own term


def due_rows(conn: Executor, scope: Any, now: datetime, horizon: datetime) -> list[QueueRow]:
    """The scope's studied cards due before `horizon` (`scope`: repos.card_scope's clause)."""
    c = cards.c
    rows = conn.execute(
        select(*CARD_COLUMNS).where(_active(scope, now), c.state.in_(STUDIED), c.due < horizon)
    ).all()
    return [tuple(r) for r in rows]


def pulled_rows(
    conn: Executor, scope: Any, now: datetime, card_ids: list[int], day_start: datetime
) -> list[QueueRow]:
    """Of these (pulled-forward) cards, those of the scope not answered since `day_start`: a
    pulled card answered today is done for the day, whatever its answer."""
    rows = conn.execute(
        select(*CARD_COLUMNS).where(
            _active(scope, now), cards.c.id.in_(card_ids), _not_answered_since(day_start)
        )
    ).all()
    return [tuple(r) for r in rows]


def new_rows(
    conn: Executor,
    profile_id: int,
    scope: Any,
    now: datetime,
    fetch: int,
    *,
    by_weight: bool = True,
) -> list[QueueRow]:
    """The scope's first `fetch` new cards in the queue's order: weak topics' first
    (NEW_CARD_ORDER, `new_in_order`), or without `by_weight` in introduction order, missed
    questions' cards first (INTRODUCTION_ORDER)."""
    if by_weight:
        return new_in_order(conn, profile_id, _active(scope, now), fetch)
    rows = conn.execute(
        select(*CARD_COLUMNS)
        .where(_active(scope, now), _new())
        .order_by(*INTRODUCTION_ORDER)
        .limit(fetch)
    ).all()
    return [tuple(r) for r in rows]


def new_in_order(
    conn: Executor, profile_id: int, where: Any, fetch: int | None, *extra: Any
) -> list[tuple[Any, ...]]:
    """The first `fetch` (None: all) of the profile's new cards matching `where`, in
    NEW_CARD_ORDER, as CARD_COLUMNS and `extra` columns, each part read in order from an index
    without a sort (`new_parts`): the cards of missed questions (their weight on the card),
    then those of weak topics, topic by topic from the heaviest (the weight on the topic),
    then the rest. The parts' weights are apart (>= 1, between 0 and 1, 0), so one follows
    the other."""
    rows: list[tuple[Any, ...]] = []
    for part in new_parts(profile_id, where, *extra):
        if fetch is not None and len(rows) >= fetch:
            break
        rows += [
            tuple(r)
            for r in conn.execute(part.limit(fetch if fetch is None else fetch - len(rows)))
        ]
    return rows


def new_parts(profile_id: int, where: Any, *extra: Any) -> list[Any]:
    """The three statements of `new_in_order`, each in its order. A weak topic's new cards are
    a range of `ix_cards_new_by_topic`; topics of the same weight are merged by a sort of
    their new cards alone (SQLite: "temp b-tree for right part of order by")."""
    c, t = cards.c, topics.c
    order = (c.new_position, c.note_id, c.ord)
    missed = (
        select(*SCHEDULE_COLUMNS, c.weight, *extra)
        .where(where, _new(), c.weight > 0)
        .order_by(c.weight.desc(), *order)
    )
    weak = (
        select(*SCHEDULE_COLUMNS, t.card_weight, *extra)
        .select_from(topics.join(cards, c.weak_topic_id == t.id))
        .where(t.profile_id == profile_id, t.card_weight > 0, where, _new(), c.weight == 0)
        .order_by(t.card_weight.desc(), *order)
    )
    topic_weight = select(t.card_weight).where(t.id == c.weak_topic_id).scalar_subquery()
    rest = (
        select(*SCHEDULE_COLUMNS, cast(literal_column("0.0"), Float), *extra)
        .where(where, _new(), c.weight == 0, func.coalesce(topic_weight, 0.0) <= 0)
        .order_by(c.weight.desc(), *order)  # the new-card index's order, from weight 0
    )
    return [missed, weak, rest]


WALK_BATCH = 500  # the probe walk's rows read at a time, and probes checked against the scope
RANKED_TOPICS_MAX = 64  # up to this many short topics, their cards are ranked; more, walked


def first_of_topics(
    conn: Executor,
    profile_id: int,
    scope: Any,
    now: datetime,
    quota: Callable[[int], int],
    count_up_to: int,
    fetch: int,
    round_robin: bool = False,
) -> list[QueueRow]:
    """The scope's new cards among the first `quota(n)` cards of one of their note's topics
    (n: the topic's cards, counted up to `count_up_to`), by position (at most `fetch`): a
    topic's studied cards count first, then its new ones in introduction order (suspended cards
    do not count). core.introduction's probe cards.

    Cheap once topics have their first cards studied (the usual case): each topic's cards are
    counted up to `count_up_to` through the note_topics index, and only the notes of the few
    topics short of their quota are read. When many are short (a large deck none of whose
    topics is studied yet), the new cards are walked in introduction order instead, until
    `fetch` probes are found: ranking every new card of 1,281 short topics took 3.5 s at
    200,000 new cards, where the walk stops after a few hundred (it sorts every new card
    first, ~0.6 s there, which ranking a few topics' cards never pays)."""
    studied: dict[int, int] | None = {} if round_robin else None
    short = _topics_short_of(conn, profile_id, quota, count_up_to, studied)
    probes: Iterator[int]
    ranked: list[int] = []
    if len(short) <= RANKED_TOPICS_MAX:
        ranked = _ranked_probes(conn, short, studied)
        probes = iter(ranked)
    else:
        probes = _walked_probes(conn, profile_id, short)
    rows: list[QueueRow] = []
    batch: list[int] = []
    for card_id in probes:  # in introduction order: stop once `fetch` are found
        batch.append(card_id)
        if len(batch) < WALK_BATCH:
            continue
        rows += _in_scope(conn, scope, now, batch)
        batch = []
        if len(rows) >= fetch:
            break
    else:
        if batch:
            rows += _in_scope(conn, scope, now, batch)
    close = getattr(probes, "close", None)
    if close is not None:
        close()
    if studied is not None:  # the round robin's order, not each batch's introduction order
        order = {card_id: n for n, card_id in enumerate(ranked)}
        rows.sort(key=lambda r: order.get(r[0], len(order)))
    return rows[:fetch]


def _in_scope(conn: Executor, scope: Any, now: datetime, ids: list[int]) -> list[QueueRow]:
    """The probes `ids` in this scope and active now, in introduction order."""
    c = cards.c
    return [
        tuple(r)
        for r in conn.execute(
            select(*CARD_COLUMNS)
            .where(_active(scope, now), _new(), c.id.in_(ids))
            .order_by(c.new_position, c.note_id, c.ord)
        )
    ]


def _ranked_probes(
    conn: Executor, short: dict[int, int], studied: dict[int, int] | None = None
) -> list[int]:
    """Each short topic's first `lacking` new cards, its notes read through note_topics and
    ranked per topic; every probe once, in introduction order. With `studied` (each topic's
    studied cards: core.introduction.COVERAGE's round robin), by the topic's count of cards
    each would make first, then introduction order: the least-studied topics' first."""
    c, nt = cards.c, note_topics.c
    topics_of: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks(sorted(short), 900):
        for note_id, topic_id in conn.execute(
            select(nt.note_id, nt.topic_id).where(nt.topic_id.in_(chunk))
        ):
            topics_of[note_id].append(topic_id)
    found: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for chunk in chunks(sorted(topics_of), 900):
        for card_id, note_id, ord_, position in conn.execute(
            select(c.id, c.note_id, c.ord, c.new_position).where(
                c.note_id.in_(chunk), c.suspended.is_(False), _new()
            )
        ):
            for topic_id in topics_of[note_id]:
                found[topic_id].append((position, note_id, ord_, card_id))
    if studied is not None:
        return introduction.round_robin(found, short, studied)
    firsts: set[tuple[int, int, int, int]] = set()
    for topic_id, new in found.items():
        firsts.update(sorted(new)[: short[topic_id]])
    return [card_id for *_, card_id in sorted(firsts)]


def _walked_probes(conn: Executor, profile_id: int, short: dict[int, int]) -> Iterator[int]:
    """The probes found walking the profile's new cards in introduction order, each with its
    note's topics (a row a topic): a card is one when a short topic of its note has had fewer
    than its `lacking` new cards before it. Every probe once, in introduction order."""
    c, nt = cards.c, note_topics.c
    walk = conn.execute(
        select(c.id, nt.topic_id)
        .join(note_topics, nt.note_id == c.note_id)
        .where(c.profile_id == profile_id, c.suspended.is_(False), _new())
        .order_by(c.new_position, c.note_id, c.ord, c.id)
        .execution_options(yield_per=WALK_BATCH)
    )
    seen: dict[int, int] = {}  # short topic -> its new cards walked so far
    last = None
    try:
        for card_id, topic_id in walk:
            lacking = short.get(topic_id)
            if lacking is None:
                continue
            count = seen.get(topic_id, 0)
            seen[topic_id] = count + 1
            if count < lacking and card_id != last:
                last = card_id  # a card probing two topics is one probe
                yield card_id
    finally:
        walk.close()


def _topics_short_of(
    conn: Executor,
    profile_id: int,
    quota: Callable[[int], int],
    count_up_to: int,
    studied_out: dict[int, int] | None = None,
) -> dict[int, int]:
    """The profile's topics with fewer studied cards on their own notes than `quota(their
    cards)` (suspended cards do not count) -> how many new cards they still lack. Each topic's
    cards are counted up to `count_up_to` only, its studied ones up to the largest quota."""
    c2, nt2, t = cards.c, note_topics.c, topics.c
    most = quota(count_up_to)  # no topic needs more studied cards than this

    def counted(up_to: int, *where: Any) -> Any:
        some = (
            select(literal_column("1"))
            .select_from(note_topics.join(cards, c2.note_id == nt2.note_id))
            .where(nt2.topic_id == t.id, c2.suspended.is_(False), *where)
            .limit(up_to)
            .correlate(topics)
            .subquery()
        )
        return select(func.count()).select_from(some).scalar_subquery()

    rows = conn.execute(
        select(t.id, counted(count_up_to), counted(most, c2.state != literal_column("0"))).where(
            t.profile_id == profile_id
        )
    ).all()
    out = {}
    for topic_id, total, studied in rows:
        lacking = quota(total) - studied
        if lacking > 0:
            out[topic_id] = lacking
            if studied_out is not None:
                studied_out[topic_id] = studied
    return out


def new_waiting(conn: Executor, scope: Any, now: datetime, *, by_note: bool) -> int:
    """The scope's new cards (its notes with new cards, `by_note`), counted."""
    counted = func.count(func.distinct(cards.c.note_id)) if by_note else func.count()
    return int(conn.execute(select(counted).where(_active(scope, now), _new())).scalar_one())


# ---------------------------------------------------------------- per deck, in one pass


def due_rows_by_deck(
    conn: Executor, profile_id: int, now: datetime, horizon: datetime
) -> list[DeckRow]:
    c, n = cards.c, notes.c
    rows = conn.execute(
        select(*CARD_COLUMNS, n.deck_id)
        .join(notes, n.id == c.note_id)
        .where(_active(card_filter(profile_id, None, None), now), c.state.in_(STUDIED),
               c.due < horizon)
    ).all()  # fmt: skip
    return [tuple(r) for r in rows]


def pulled_rows_by_deck(
    conn: Executor, profile_id: int, now: datetime, card_ids: list[int], day_start: datetime
) -> list[DeckRow]:
    c, n = cards.c, notes.c
    rows = conn.execute(
        select(*CARD_COLUMNS, n.deck_id)
        .join(notes, n.id == c.note_id)
        .where(_active(card_filter(profile_id, None, None), now), c.id.in_(card_ids),
               _not_answered_since(day_start))
    ).all()  # fmt: skip
    return [tuple(r) for r in rows]


def new_rows_by_deck(
    conn: Executor, profile_id: int, now: datetime, fetch: int
) -> dict[int, list[NewDeckRow]]:
    """Each deck's first `fetch` new cards in introduction order: a scope's first `fetch` are
    among its decks' (a window function, one pass over new cards)."""
    c, n = cards.c, notes.c
    place = func.row_number().over(partition_by=n.deck_id, order_by=NEW_CARD_ORDER)
    ranked = (
        select(*CARD_COLUMNS, n.deck_id, c.ord, c.new_position, place.label("place"))
        .join(notes, n.id == c.note_id)
        .where(_active(card_filter(profile_id, None, None), now), _new())
        .subquery()
    )
    out: dict[int, list[NewDeckRow]] = defaultdict(list)
    for r in conn.execute(select(ranked).where(ranked.c.place <= fetch)).all():
        out[r[7]].append(tuple(r))
    return out


def new_waiting_by_deck(
    conn: Executor, profile_id: int, now: datetime, *, by_note: bool
) -> dict[int, int]:
    """Each deck's new cards (its notes with new cards, `by_note`), counted."""
    c, n = cards.c, notes.c
    counted = func.count(func.distinct(c.note_id)) if by_note else func.count()
    rows = conn.execute(
        select(n.deck_id, counted)
        .join(notes, n.id == c.note_id)
        .where(_active(card_filter(profile_id, None, None), now), _new())
        .group_by(n.deck_id)
    ).all()
    return {deck_id: int(count) for deck_id, count in rows}


def first_answer_topics(conn: Executor, profile_id: int) -> dict[int, float]:
    """The profile's topics weighted by their first answers at the last weight refresh (an
    explanation with `first`: core.first_answers) -> their first-answer ratio."""
    t = topics.c
    rows = conn.execute(
        select(t.id, t.explanation).where(t.profile_id == profile_id, t.weight > 0)
    ).all()
    out = {}
    for topic_id, data in rows:
        first = data.get("first") if isinstance(data, dict) else None
        if first:
            out[int(topic_id)] = float(first[2])
    return out


def new_of_topics(
    conn: Executor, scope: Any, now: datetime, topic_ids: Collection[int], fetch: int
) -> list[tuple[Any, ...]]:
    """The scope's new cards on these topics' own notes, by position (at most `fetch`), each
    with the topic: CARD_COLUMNS and the topic id."""
    c, nt = cards.c, note_topics.c
    rows: list[tuple[Any, ...]] = []
    for chunk in chunks(sorted(topic_ids), 900):
        rows += [
            tuple(r)
            for r in conn.execute(
                select(*CARD_COLUMNS, nt.topic_id)
                .join(note_topics, nt.note_id == c.note_id)
                .where(_active(scope, now), _new(), nt.topic_id.in_(chunk))
                .order_by(c.new_position, c.note_id, c.ord)
                .limit(fetch)
            )
        ]
    return rows


def studied_share(conn: Executor, profile_id: int) -> float:
    """The share of the profile's unsuspended cards studied (not new), 0-1 (0: no card):
    core.introduction's COVERAGE quota (an ablation, read only when it is on)."""
    c = cards.c
    total, new = conn.execute(
        select(func.count(), func.count().filter(c.state == literal_column("0"))).where(
            c.profile_id == profile_id, c.suspended.is_(False)
        )
    ).one()
    return (int(total) - int(new)) / int(total) if total else 0.0
