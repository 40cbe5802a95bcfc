"""Cards as the student browses them: filters, per-deck counts, details, the reviewer's view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)

from flashcore.core.errors import FlashcoreError
from flashcore.core.model import CardState
from flashcore.core.reasons import WeakTopic
from flashcore.storage.explanations import from_json
from flashcore.storage.repos.common import chunks
from flashcore.storage.repos.decks import deck_ids_matching, topic_ids_matching
from flashcore.storage.repos.note_returns import by_hand
from flashcore.storage.repos.qbank import shown
from flashcore.storage.tables import (
    card_weight,
    cards,
    decks,
    note_qids,
    note_topics,
    notes,
    qbank_attempts,
    topics,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from flashcore.storage.repos.common import Executor


def card_filter(
    profile_id: int, deck_ids: Sequence[int] | None, topic_ids: Sequence[int] | None
) -> Any:
    """A WHERE clause on the cards table for an optional deck and topic filter (Core columns:
    cheap to compile on the queue's path, and usable in ORM statements too)."""
    c, n, nt = cards.c, notes.c, note_topics.c
    clauses: list[Any] = [c.profile_id == profile_id]
    if deck_ids is not None:
        clauses.append(c.note_id.in_(select(n.id).where(n.deck_id.in_(deck_ids))))
    if topic_ids is not None:
        clauses.append(c.note_id.in_(select(nt.note_id).where(nt.topic_id.in_(topic_ids))))
    return and_(*clauses)


def deck_state_counts(
    session: Session, profile_id: int, now: datetime, rollover: datetime
) -> dict[int, dict[str, int]]:
    """Per deck id: total, new, learning (due now or later today), due reviews, suspended."""
    active = and_(
        cards.c.suspended.is_(False),
        or_(cards.c.buried_until.is_(None), cards.c.buried_until <= now),
    )
    rows = session.execute(
        select(
            notes.c.deck_id,
            func.count(),
            func.sum(_case(and_(active, cards.c.state == int(CardState.NEW)))),
            func.sum(
                _case(
                    and_(
                        active,
                        cards.c.state.in_([int(CardState.LEARNING), int(CardState.RELEARNING)]),
                        cards.c.due < rollover,
                    )
                )
            ),
            func.sum(
                _case(and_(active, cards.c.state == int(CardState.REVIEW), cards.c.due < rollover))
            ),
            func.sum(_case(cards.c.suspended.is_(True))),
        )
        .join(notes, notes.c.id == cards.c.note_id)
        .where(cards.c.profile_id == profile_id)
        .group_by(notes.c.deck_id)
    )
    return {
        r[0]: {
            "cards": int(r[1] or 0),
            "new": int(r[2] or 0),
            "learning": int(r[3] or 0),
            "due": int(r[4] or 0),
            "suspended": int(r[5] or 0),
        }
        for r in rows
    }


def _case(condition: Any) -> Any:
    from sqlalchemy import case

    return case((condition, 1), else_=0)


def card_details(
    session: Session, where: Any, *, order_by_note: bool = True
) -> list[dict[str, Any]]:
    """Cards with their note, deck and topics, as plain dicts."""
    query = (
        select(
            cards.c.id,
            cards.c.ord,
            cards.c.state,
            cards.c.step,
            cards.c.due,
            cards.c.stability,
            cards.c.difficulty,
            cards.c.last_review,
            cards.c.reps,
            cards.c.lapses,
            cards.c.desired_retention,
            cards.c.suspended,
            cards.c.buried_until,
            cards.c.flagged,
            cards.c.leech,
            card_weight().label("weight"),
            cards.c.version,
            cards.c.note_id,
            notes.c.key.label("note_key"),
            notes.c.kind,
            notes.c.fields,
            notes.c.tags,
            decks.c.name.label("deck"),
            decks.c.html,
            decks.c.key.label("deck_key"),
            decks.c.source.label("deck_source"),
        )
        .join(notes, notes.c.id == cards.c.note_id)
        .join(decks, decks.c.id == notes.c.deck_id)
        .where(where)
    )
    if order_by_note:
        query = query.order_by(decks.c.name, notes.c.id, cards.c.ord)
    rows = [dict(r._mapping) for r in session.execute(query)]
    attach_topics(session, rows)
    return rows


def card_texts(
    session: Executor, card_ids: list[int]
) -> dict[int, tuple[str, dict[str, str], int, bool]]:
    """What each card's text is made from: (note kind, note fields, ord, deck is html)."""
    out: dict[int, tuple[str, dict[str, str], int, bool]] = {}
    for chunk in chunks(card_ids, 900):
        rows = session.execute(
            select(cards.c.id, notes.c.kind, notes.c.fields, cards.c.ord, decks.c.html)
            .join(notes, notes.c.id == cards.c.note_id)
            .join(decks, decks.c.id == notes.c.deck_id)
            .where(cards.c.id.in_(chunk))
        )
        for card_id, kind, fields, ordinal, html in rows:
            out[card_id] = (kind, dict(fields or {}), ordinal, bool(html))
    return out


# Up to this many question ids an IN list takes in one pass over the attempts (see
# question_answers); more take one pass each this many.
QUESTION_IDS_PER_PASS = 2000


def question_answers(
    session: Executor, profile_id: int, card_ids: Sequence[int], missed_outcomes: Sequence[str]
) -> dict[int, dict[tuple[str, str], set[tuple[Any, bool]]]]:
    """For each card, the answers (day, missed) to each question (source, qid) its note lists:
    the cards' questions, then their attempts in one pass in table order (no index on the
    question, schema 0023; a join per card read every attempt once per card: 8.5 s for a
    queue's 19 cards at 1,000,000 attempts, ~0.4 s so)."""
    c, q, a = cards.c, note_qids.c, qbank_attempts.c
    listed: dict[int, list[tuple[str, str]]] = {}
    for chunk in chunks(list(card_ids), 900):
        rows = session.execute(
            select(c.id, q.source, q.qid)
            .join(note_qids, q.note_id == c.note_id)
            .where(c.id.in_(chunk))
        )
        for card_id, source, qid in rows:
            listed.setdefault(card_id, []).append((source, qid))
    wanted = {pair for pairs in listed.values() for pair in pairs}
    days: dict[tuple[str, str], set[tuple[Any, bool]]] = {}
    qids = sorted({qid for _source, qid in wanted})
    for start in range(0, len(qids), QUESTION_IDS_PER_PASS):
        found = session.execute(
            select(a.source, a.qid, a.on_date, a.outcome.in_(missed_outcomes))
            .where(
                (a.profile_id + 0) == profile_id,  # `+ 0`: in table order, not by the index
                shown(profile_id),
                a.qid.in_(qids[start : start + QUESTION_IDS_PER_PASS]),
            )
            .distinct()
        )
        for source, qid, on_date, was_missed in found:
            if (source, qid) in wanted:  # the same id under another source is another question
                days.setdefault((source, qid), set()).add((on_date, bool(was_missed)))
    out: dict[int, dict[tuple[str, str], set[tuple[Any, bool]]]] = {}
    for card_id, pairs in listed.items():
        for pair in pairs:
            if pair in days:
                out.setdefault(card_id, {})[pair] = set(days[pair])
    return out


@cache
def _card_view_statement() -> Any:
    t, n, d = cards, notes, decks
    others = cards.alias("others")
    siblings = (
        select(func.count())
        .select_from(others)
        .where(others.c.note_id == t.c.note_id, others.c.id != t.c.id)
        .scalar_subquery()
    )
    return (
        select(
            t.c.id, t.c.ord, t.c.state, t.c.step, t.c.due, t.c.stability, t.c.difficulty,
            t.c.last_review, t.c.reps, t.c.lapses, t.c.desired_retention, t.c.suspended,
            t.c.buried_until, t.c.flagged, t.c.leech, card_weight(t).label("weight"), t.c.version,
            t.c.note_id,
            n.c.key.label("note_key"), n.c.kind, n.c.fields, n.c.tags, d.c.name.label("deck"),
            d.c.html, siblings.label("siblings"),
        )
        .join(n, n.c.id == t.c.note_id)
        .join(d, d.c.id == n.c.deck_id)
        .where(t.c.id == bindparam("b_id"), t.c.profile_id == bindparam("b_profile"))
    )  # fmt: skip


@cache
def _note_topics_statement() -> Any:
    nt, tp = note_topics, topics
    return (
        select(tp.c.path)
        .join(nt, nt.c.topic_id == tp.c.id)
        .where(nt.c.note_id == bindparam("b_note"))
        .order_by(tp.c.path)
    )


def card_view(conn: Executor, profile_id: int, card_id: int) -> dict[str, Any] | None:
    """One card as the reviewer shows it (the card_details columns), or None. Statements are
    built once: showing the next card is a hot path."""
    row = conn.execute(_card_view_statement(), {"b_id": card_id, "b_profile": profile_id}).first()
    if row is None:
        return None
    out = row._asdict()
    out["topics"] = list(
        conn.execute(_note_topics_statement(), {"b_note": out["note_id"]}).scalars()
    )
    return out


@cache
def _queue_details_statement() -> Any:
    t, n, d = cards, notes, decks
    return (
        select(t.c.id, t.c.note_id, t.c.reps, n.c.key, d.c.name)
        .join(n, n.c.id == t.c.note_id)
        .join(d, d.c.id == n.c.deck_id)
        .where(t.c.id.in_(bindparam("b_ids", expanding=True)))
    )


@cache
def _topics_of_notes_statement() -> Any:
    nt, tp = note_topics, topics
    return (
        select(nt.c.note_id, tp.c.path)
        .join(tp, tp.c.id == nt.c.topic_id)
        .where(nt.c.note_id.in_(bindparam("b_ids", expanding=True)))
        .order_by(tp.c.path)
    )


def queue_details(session: Executor, card_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What a queue listing shows of each card (note key, deck, topics, reps), by card id."""
    out: dict[int, dict[str, Any]] = {}
    for chunk in chunks(card_ids, 900):
        for row in session.execute(_queue_details_statement(), {"b_ids": chunk}).all():
            out[row[0]] = {
                "id": row[0], "note_id": row[1], "reps": row[2], "note_key": row[3],
                "deck": row[4],
            }  # fmt: skip
    rows = list(out.values())
    attach_topics(session, rows)
    return out


def attach_topics(session: Executor, rows: list[dict[str, Any]]) -> None:
    note_ids = {r["note_id"] for r in rows}
    by_note: dict[int, list[str]] = {}
    for chunk in chunks(sorted(note_ids), 900):
        for note_id, path in session.execute(_topics_of_notes_statement(), {"b_ids": chunk}).all():
            by_note.setdefault(note_id, []).append(path)
    for row in rows:
        row["topics"] = by_note.get(row["note_id"], [])


def missed_suspended(
    conn: Executor,
    profile_id: int,
    batch_id: int,
    missed_outcomes: Sequence[str],
    *,
    from_id: int = 0,
) -> list[int]:
    """The suspended cards (leeches aside: they are suspended for a reason) whose note carries
    a question the batch `batch_id` has a miss of (its attempts have ids from `from_id` on).
    None without a look at the batch when the profile has no such card (at 200,000 cards
    and a 100,000-row batch, ~0.05 CPU-s of every import that unsuspends nothing)."""
    c, q, a = cards.c, note_qids.c, qbank_attempts.c
    suspended = (c.profile_id == profile_id, c.suspended.is_(True), c.leech.is_(False))
    if conn.execute(select(c.id).where(*suspended).limit(1)).first() is None:
        return []
    missed_notes = (
        select(q.note_id)
        .join(qbank_attempts, and_(a.source == q.source, a.qid == q.qid))
        .where(
            a.id >= from_id,
            a.batch_id == batch_id,
            # `+ 0`: the batch's ids from `from_id` on, not the profile's index (SQLite
            # would otherwise walk every attempt of the profile: 0.1 s at 1,000,000)
            (a.profile_id + 0) == profile_id,
            a.outcome.in_(list(missed_outcomes)),
        )
    )
    return list(conn.execute(select(c.id).where(*suspended, c.note_id.in_(missed_notes))).scalars())


def unsuspend_by_batch(
    conn: Executor, card_ids: Sequence[int], batch_id: int, now: datetime
) -> list[int]:
    """Unsuspend these cards (those still suspended and no leech), marked as brought back by
    batch `batch_id` (AnKing's workflow); returns the cards unsuspended."""
    c = cards.c
    done: list[int] = []
    for chunk in chunks(list(card_ids), 900):
        still = conn.execute(
            select(c.id).where(c.id.in_(chunk), c.suspended.is_(True), c.leech.is_(False))
        ).scalars()
        ids = sorted(still)
        if not ids:
            continue
        conn.execute(
            update(cards)
            .where(c.id.in_(ids))
            .values(suspended=False, unsuspended_by=batch_id, version=c.version + 1,
                    modified_at=now)
        )  # fmt: skip
        done += ids
    return done


def resuspend_unsuspended_by(
    conn: Executor,
    profile_id: int,
    batch_id: int,
    missed_outcomes: Sequence[str],
    now: datetime,
) -> list[int]:
    """Before batch `batch_id` goes: the cards its misses unsuspended are suspended again,
    unless another batch holds a miss of a question their note lists (the mark then moves to
    the latest such batch). Returns the cards suspended again."""
    c, q, a = cards.c, note_qids.c, qbank_attempts.c
    marked = conn.execute(
        select(c.id, c.note_id).where(c.profile_id == profile_id, c.unsuspended_by == batch_id)
    ).all()
    if not marked:
        return []
    other: dict[int, int] = {}
    note_ids = sorted({note_id for _card, note_id in marked})
    for chunk in chunks(note_ids, 900):
        rows = conn.execute(
            select(q.note_id, func.max(a.batch_id))
            .join(qbank_attempts, and_(a.source == q.source, a.qid == q.qid))
            .where(
                q.note_id.in_(chunk),
                a.profile_id == profile_id,
                shown(profile_id),
                a.batch_id != batch_id,
                a.outcome.in_(list(missed_outcomes)),
            )
            .group_by(q.note_id)
        )
        other.update({note_id: int(kept_by) for note_id, kept_by in rows})
    kept = [(card_id, other[note_id]) for card_id, note_id in marked if note_id in other]
    again = [card_id for card_id, note_id in marked if note_id not in other]
    for card_id, kept_by in kept:
        conn.execute(update(cards).where(c.id == card_id).values(unsuspended_by=kept_by))
    for chunk in chunks(again, 900):
        conn.execute(
            update(cards)
            .where(c.id.in_(chunk))
            .values(suspended=True, unsuspended_by=None, version=c.version + 1, modified_at=now)
        )
    return again


def unsuspended_by_miss(conn: Executor, card_ids: Sequence[int]) -> set[int]:
    """Of these cards, those a missed question unsuspended (`unsuspend_on_miss`)."""
    out: set[int] = set()
    for chunk in chunks(sorted(set(card_ids)), 900):
        rows = conn.execute(
            select(cards.c.id).where(cards.c.id.in_(chunk), cards.c.unsuspended_by.is_not(None))
        )
        out.update(card_id for (card_id,) in rows)
    return out


def set_card_flags(
    session: Session, profile_id: int, card_ids: Sequence[int], values: dict[str, Any]
) -> list[int]:
    """Apply `values` to the listed cards of this profile; returns the ids that do not exist."""
    found = {
        r.id
        for r in session.execute(
            select(cards.c.id).where(cards.c.profile_id == profile_id, cards.c.id.in_(card_ids))
        )
    }
    missing = [c for c in card_ids if c not in found]
    if missing:
        return missing
    session.execute(
        update(cards)
        .where(cards.c.id.in_(list(found)))
        .values(version=cards.c.version + 1, **by_hand(values))
    )
    return []


def ids_to_change(
    session: Executor, where: Any, values: dict[str, Any], *, new_only: bool, lock: bool = False
) -> list[int]:
    """The ids of the cards `where` selects (only new cards with `new_only`) whose values
    differ from `values`, ascending. `lock`: their rows held until the transaction ends
    (PostgreSQL: another process's write to one between this read and the change's write,
    such as an answer that makes it a leech, waits for the change instead of being overwritten
    by it; SQLite's write lock already keeps every other writer out)."""
    differs = [cards.c[k].is_distinct_from(v) for k, v in values.items() if k != "modified_at"]
    query = select(cards.c.id).where(where, or_(*differs))
    if new_only:
        query = query.where(cards.c.state == int(CardState.NEW))
    query = query.order_by(cards.c.id)
    return list(session.scalars(query.with_for_update(of=cards) if lock else query))


def update_cards(session: Executor, ids: Sequence[int], values: dict[str, Any]) -> None:
    """Apply `values` to these cards (their version goes up), a few hundred at a time."""
    for chunk in chunks(list(ids), 900):
        session.execute(
            update(cards).where(cards.c.id.in_(chunk)).values(version=cards.c.version + 1, **values)
        )


def weak_topics(session: Executor, card_ids: list[int]) -> dict[int, WeakTopic]:
    """The weak topic (the topic whose score weights the card) of each of these cards that has
    one, with why its weight refresh found the topic weak (None when its score is 0). Each
    topic's stored explanation is read and decoded once, however many cards it weights (a
    queue's ~1,400 weighted cards share a few hundred topics): cards share its value."""
    topic_of: dict[int, int] = {}
    through = topics.alias("through")  # the note's topic the card reads its weight through
    for chunk in chunks(card_ids, 900):
        rows = session.execute(
            select(cards.c.id, through.c.card_topic_id)
            .join(through, through.c.id == cards.c.weak_topic_id)
            .where(cards.c.id.in_(chunk), through.c.card_topic_id.is_not(None))
        )
        topic_of.update({card_id: topic_id for card_id, topic_id in rows})
    named: dict[int, WeakTopic] = {}
    for chunk in chunks(sorted(set(topic_of.values())), 900):
        found = session.execute(
            select(topics.c.id, topics.c.path, topics.c.explanation).where(topics.c.id.in_(chunk))
        )
        named.update({topic_id: WeakTopic(path, from_json(why)) for topic_id, path, why in found})
    return {card_id: named[t] for card_id, t in topic_of.items() if t in named}


def card_scope(session: Executor, profile_id: int, deck: str | None, topic: str | None) -> Any:
    """The WHERE clause for this profile's cards in a deck (with sub-decks) and/or a topic
    (with sub-topics); an unknown deck or topic is an error naming it."""
    deck_ids = topic_ids = None
    if deck is not None:
        deck_ids = deck_ids_matching(session, profile_id, deck)
        if not deck_ids:
            raise FlashcoreError(f"no deck named {deck!r} (see `flashcore decks list`)")
    if topic is not None:
        topic_ids = topic_ids_matching(session, profile_id, topic)
        if not topic_ids:
            raise FlashcoreError(f"no topic {topic!r} (see `flashcore topics list`)")
    return card_filter(profile_id, deck_ids, topic_ids)
