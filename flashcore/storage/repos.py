"""Repositories: functions that take a Session or a Connection and return plain values. They
never commit, and they query the Core tables (no ORM objects, no ORM import)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from flashcore.core import cloze
from flashcore.core import topics as topic_keys
from flashcore.core.errors import NotFoundError
from flashcore.core.model import CardState, DeckSpec, Memory, NoteKind, NoteSpec, Schedule
from flashcore.storage.tables import (
    cards,
    decks,
    note_qids,
    note_topics,
    notes,
    profiles,
    pull_forwards,
    qbank_attempts,
    review_logs,
    schedulers,
    topics,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    # Repositories run on an ORM Session or on a plain Connection (a review session holds
    # one); they use Core statements on the tables only, so the ORM is never imported here.
    Executor = Session | Connection


def dialect_of(executor: Executor) -> Any:
    get_bind = getattr(executor, "get_bind", None)  # a Session
    if get_bind is not None:
        return get_bind().dialect
    return getattr(executor, "dialect")  # noqa: B009 (a Connection; the Session has none)


# ---------------------------------------------------------------- profiles


def find_profile(session: Executor, name: str) -> tuple[int, dict[str, Any]] | None:
    row = session.execute(
        select(profiles.c.id, profiles.c.settings).where(profiles.c.name == name)
    ).first()
    return None if row is None else (row.id, dict(row.settings or {}))


def create_profile(session: Session, name: str, settings: dict[str, Any], now: datetime) -> int:
    return int(
        session.execute(
            insert(profiles)
            .values(name=name, settings=settings, created_at=now)
            .returning(profiles.c.id)
        ).scalar_one()
    )


def list_profiles(session: Session) -> list[tuple[str, datetime, int]]:
    rows = session.execute(
        select(profiles.c.name, profiles.c.created_at, func.count(decks.c.id))
        .outerjoin(decks, decks.c.profile_id == profiles.c.id)
        .group_by(profiles.c.id)
        .order_by(profiles.c.name)
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


def save_settings(session: Session, profile_id: int, settings: dict[str, Any]) -> None:
    session.execute(update(profiles).where(profiles.c.id == profile_id).values(settings=settings))


def has_any_deck(session: Session, profile_id: int) -> bool:
    return (
        session.execute(select(decks.c.id).where(decks.c.profile_id == profile_id).limit(1)).first()
        is not None
    )


def has_qbank_attempts(session: Executor, profile_id: int) -> bool:
    """Whether any question-bank attempt was ever imported into the profile."""
    found = session.execute(
        select(qbank_attempts.c.id).where(qbank_attempts.c.profile_id == profile_id).limit(1)
    ).first()
    return found is not None


# ---------------------------------------------------------------- decks and notes


@dataclass(slots=True)
class LoadCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    deleted: int = 0
    cards_added: int = 0
    removed_keys: list[str] | None = None


def note_hash(spec: NoteSpec, deck_key: str) -> str:
    payload = json.dumps(
        [deck_key, spec.kind.value, spec.fields, spec.tags, spec.topics, spec.qids],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def ensure_topics(session: Session, profile_id: int, paths: Iterable[str]) -> dict[str, int]:
    """Topic ids by display path, creating each path and its ancestors once (keys normalized)."""
    wanted: dict[str, str] = {}
    for path in paths:
        clean = topic_keys.clean_path(path)
        if not clean:
            continue
        for ancestor in [*topic_keys.ancestors(clean), clean]:
            wanted.setdefault(topic_keys.path_key(ancestor), ancestor)
    if not wanted:
        return {}
    existing = {
        row.key: (row.id, row.path)
        for row in session.execute(
            select(topics.c.id, topics.c.key, topics.c.path).where(
                topics.c.profile_id == profile_id
            )
        )
    }
    # Parents first, one depth at a time, so each child can point at its parent.
    missing = sorted((k, p) for k, p in wanted.items() if k not in existing)
    for depth in sorted({k.count("::") for k, _p in missing}):
        level = [(k, p) for k, p in missing if k.count("::") == depth]
        rows = []
        for key, path in level:
            parents = topic_keys.ancestors(path)
            parent_id = existing[topic_keys.path_key(parents[-1])][0] if parents else None
            rows.append(
                {"profile_id": profile_id, "path": path, "key": key, "parent_id": parent_id,
                 "weight": 0.0, "reason": ""}
            )  # fmt: skip
        ids = (
            session.execute(
                insert(topics).returning(topics.c.id, sort_by_parameter_order=True), rows
            )
            .scalars()
            .all()
        )
        for (key, path), new_id in zip(level, ids, strict=True):
            existing[key] = (int(new_id), path)
    return {
        topic_keys.clean_path(p): existing[topic_keys.path_key(p)][0] for p in paths if p.strip()
    }


def _ordinals(spec: NoteSpec) -> list[int]:
    return cloze.ordinals(spec.fields["text"]) if spec.kind is NoteKind.CLOZE else [0]


def _split_qid(qid: str) -> tuple[str, str]:
    source, _, bare = qid.partition(":")
    return (source.lower(), bare) if bare else ("uworld", source)


def upsert_deck(
    session: Session, profile_id: int, spec: DeckSpec, now: datetime, *, prune: bool
) -> LoadCounts:
    """Load one parsed deck: an upsert keyed by note key; notes gone from the file are suspended
    (or deleted with `prune`)."""
    counts = LoadCounts(removed_keys=[])
    deck_id = session.execute(
        select(decks.c.id).where(decks.c.profile_id == profile_id, decks.c.key == spec.key)
    ).scalar()
    if deck_id is None:
        deck_id = session.execute(
            insert(decks)
            .values(
                profile_id=profile_id,
                key=spec.key,
                name=spec.name,
                description=spec.description,
                html=spec.html,
                source=spec.path,
                created_at=now,
                updated_at=now,
            )
            .returning(decks.c.id)
        ).scalar_one()
    else:
        session.execute(
            update(decks)
            .where(decks.c.id == deck_id)
            .where(
                or_(
                    decks.c.name != spec.name,
                    decks.c.description != spec.description,
                    decks.c.html != spec.html,
                    decks.c.source != spec.path,
                )
            )
            .values(
                name=spec.name,
                description=spec.description,
                html=spec.html,
                source=spec.path,
                updated_at=now,
            )
        )
    existing = {
        row.key: (row.id, row.content_hash, row.removed)
        for row in session.execute(
            select(notes.c.id, notes.c.key, notes.c.content_hash, notes.c.removed).where(
                notes.c.deck_id == deck_id
            )
        )
    }
    topic_ids = ensure_topics(session, profile_id, {t for n in spec.notes for t in n.topics})
    seen: set[str] = set()
    fresh: list[tuple[NoteSpec, str, str]] = []
    changed: list[tuple[int, NoteSpec, str, bool]] = []
    for note in spec.notes:
        key = note.key(spec.key)
        seen.add(key)
        digest = note_hash(note, spec.key)
        found = existing.get(key)
        if found is None:
            fresh.append((note, key, digest))
        elif found[1] == digest and not found[2]:
            counts.unchanged += 1
        else:
            changed.append((found[0], note, digest, found[2]))
    linked: list[tuple[int, NoteSpec]] = []
    if fresh:
        rows = [
            {
                "profile_id": profile_id,
                "deck_id": deck_id,
                "key": key,
                "kind": note.kind.value,
                "fields": note.fields,
                "tags": list(note.tags),
                "content_hash": digest,
                "removed": False,
                "source_line": note.line,
                "created_at": now,
                "modified_at": now,
            }
            for note, key, digest in fresh
        ]
        ids = (
            session.execute(insert(notes).returning(notes.c.id, sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
        linked.extend(zip(ids, (note for note, _k, _d in fresh), strict=True))
        counts.added = len(fresh)
        card_rows = [
            _new_card_row(profile_id, note_id, o, now)
            for note_id, note in linked
            for o in _ordinals(note)
        ]
        session.execute(insert(cards), card_rows)
        counts.cards_added += len(card_rows)
    for note_id, note, digest, was_removed in changed:
        session.execute(
            update(notes)
            .where(notes.c.id == note_id)
            .values(
                kind=note.kind.value,
                fields=note.fields,
                tags=list(note.tags),
                content_hash=digest,
                removed=False,
                source_line=note.line,
                modified_at=now,
            )
        )
        if was_removed:
            # Back in the file: its cards return, except leeches (suspended for a reason).
            session.execute(
                update(cards)
                .where(cards.c.note_id == note_id, cards.c.leech.is_(False))
                .values(suspended=False, version=cards.c.version + 1, modified_at=now)
            )
        counts.cards_added += _sync_cards(session, profile_id, note_id, note, now)
        counts.updated += 1
    if changed:
        old_ids = [note_id for note_id, _n, _d, _r in changed]
        session.execute(delete(note_topics).where(note_topics.c.note_id.in_(old_ids)))
        session.execute(delete(note_qids).where(note_qids.c.note_id.in_(old_ids)))
        linked.extend((note_id, note) for note_id, note, _d, _r in changed)
    _write_links(session, linked, topic_ids)
    gone = [(key, nid) for key, (nid, _h, removed) in existing.items() if key not in seen]
    if prune and gone:
        session.execute(delete(notes).where(notes.c.id.in_([nid for _k, nid in gone])))
        counts.deleted = len(gone)
    else:
        newly = [(k, nid) for k, nid in gone if not existing[k][2]]
        if newly:
            ids = [nid for _k, nid in newly]
            session.execute(update(notes).where(notes.c.id.in_(ids)).values(removed=True))
            session.execute(
                update(cards)
                .where(cards.c.note_id.in_(ids))
                .values(suspended=True, version=cards.c.version + 1, modified_at=now)
            )
        counts.removed = len(newly)
        counts.removed_keys = [k for k, _ in newly]
    return counts


def _write_links(
    session: Session, linked: list[tuple[int, NoteSpec]], topic_ids: dict[str, int]
) -> None:
    topic_rows: list[dict[str, Any]] = []
    qid_rows: list[dict[str, Any]] = []
    for note_id, note in linked:
        ids = {topic_ids[topic_keys.clean_path(t)] for t in note.topics if topic_keys.clean_path(t)}
        topic_rows.extend({"note_id": note_id, "topic_id": t} for t in sorted(ids))
        qids = sorted({_split_qid(q) for q in note.qids})
        qid_rows.extend({"note_id": note_id, "source": s, "qid": q} for s, q in qids)
    if topic_rows:
        session.execute(insert(note_topics), topic_rows)
    if qid_rows:
        session.execute(insert(note_qids), qid_rows)


def _new_card_row(profile_id: int, note_id: int, ordinal: int, now: datetime) -> dict[str, Any]:
    return {
        "profile_id": profile_id,
        "note_id": note_id,
        "ord": ordinal,
        "state": int(CardState.NEW),
        "step": None,
        "stability": None,
        "difficulty": None,
        "due": now,
        "last_review": None,
        "reps": 0,
        "lapses": 0,
        "desired_retention": None,
        "suspended": False,
        "buried_until": None,
        "flagged": False,
        "leech": False,
        "weight": 0.0,
        "weak_topic_id": None,
        "version": 0,
        "modified_at": now,
    }


def _sync_cards(
    session: Session, profile_id: int, note_id: int, note: NoteSpec, now: datetime
) -> int:
    """Create cards for new ordinals; suspend cards whose cloze deletion disappeared."""
    have = {
        row.ord: (row.id, row.suspended)
        for row in session.execute(
            select(cards.c.id, cards.c.ord, cards.c.suspended).where(cards.c.note_id == note_id)
        )
    }
    want = _ordinals(note)
    new = [o for o in want if o not in have]
    if new:
        session.execute(insert(cards), [_new_card_row(profile_id, note_id, o, now) for o in new])
    dropped = [cid for o, (cid, suspended) in have.items() if o not in want and not suspended]
    if dropped:
        session.execute(
            update(cards)
            .where(cards.c.id.in_(dropped))
            .values(suspended=True, version=cards.c.version + 1, modified_at=now)
        )
    return len(new)


def deck_rows(session: Session, profile_id: int) -> list[tuple[int, str, str, str]]:
    rows = session.execute(
        select(decks.c.id, decks.c.key, decks.c.name, decks.c.description)
        .where(decks.c.profile_id == profile_id)
        .order_by(decks.c.name)
    )
    return [(r.id, r.key, r.name, r.description) for r in rows]


def deck_ids_matching(session: Executor, profile_id: int, name: str) -> list[int]:
    """A deck by key or name, with its sub-decks (`Step 1` matches `Step 1::Immunology`)."""
    rows = session.execute(
        select(decks.c.id).where(
            decks.c.profile_id == profile_id,
            or_(decks.c.key == name, decks.c.name == name, decks.c.name.like(_like_prefix(name))),
        )
    )
    return [r.id for r in rows]


def topic_paths(session: Executor, profile_id: int) -> list[str]:
    """Every topic path of the profile."""
    rows = session.execute(select(topics.c.path).where(topics.c.profile_id == profile_id))
    return [r.path for r in rows]


def topic_ids_matching(session: Executor, profile_id: int, path: str) -> list[int]:
    key = topic_keys.path_key(path)
    rows = session.execute(
        select(topics.c.id).where(
            topics.c.profile_id == profile_id,
            or_(topics.c.key == key, topics.c.key.like(_like_prefix(key))),
        )
    )
    return [r.id for r in rows]


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "::%"


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
            cards.c.weight,
            cards.c.version,
            cards.c.note_id,
            notes.c.key.label("note_key"),
            notes.c.kind,
            notes.c.fields,
            notes.c.tags,
            decks.c.name.label("deck"),
            decks.c.html,
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


def question_answers(
    session: Executor, profile_id: int, card_ids: Sequence[int], missed_outcomes: Sequence[str]
) -> dict[int, dict[tuple[str, str], set[tuple[Any, bool]]]]:
    """For each card, the answers (day, missed) to each question (source, qid) its note lists."""
    c, q, a = cards.c, note_qids.c, qbank_attempts.c
    out: dict[int, dict[tuple[str, str], set[tuple[Any, bool]]]] = {}
    for start in range(0, len(card_ids), 900):
        rows = session.execute(
            select(c.id, q.source, q.qid, a.on_date, a.outcome.in_(missed_outcomes))
            .join(note_qids, q.note_id == c.note_id)
            .join(
                qbank_attempts,
                and_(a.source == q.source, a.qid == q.qid, a.profile_id == profile_id),
            )
            .where(c.id.in_(card_ids[start : start + 900]))
            .distinct()
        )
        for card_id, source, qid, on_date, was_missed in rows:
            out.setdefault(card_id, {}).setdefault((source, qid), set()).add(
                (on_date, bool(was_missed))
            )
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
            t.c.buried_until, t.c.flagged, t.c.leech, t.c.weight, t.c.version, t.c.note_id,
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
    for chunk in _chunks(card_ids, 900):
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
    for chunk in _chunks(sorted(note_ids), 900):
        for note_id, path in session.execute(_topics_of_notes_statement(), {"b_ids": chunk}).all():
            by_note.setdefault(note_id, []).append(path)
    for row in rows:
        row["topics"] = by_note.get(row["note_id"], [])


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------- scheduling state


@dataclass(frozen=True, slots=True)
class CardRow:
    """What answering needs of a card, read in the answer's own transaction."""

    card_id: int
    note_id: int
    schedule: Schedule
    version: int
    suspended: bool
    weight: float
    desired_retention: float | None
    leech: bool
    buried_until: datetime | None
    siblings: int | None = None  # the note's other cards, when known (None: look)


def schedule_from(row: Any) -> Schedule:
    memory = (
        Memory(stability=row.stability, difficulty=row.difficulty)
        if row.stability is not None and row.difficulty is not None
        else None
    )
    return Schedule(
        state=CardState(row.state),
        due=row.due,
        step=row.step,
        memory=memory,
        last_review=row.last_review,
        reps=row.reps,
        lapses=row.lapses,
    )


@cache
def _load_card_statement(lock: bool) -> Any:
    t = cards
    query = select(
        t.c.id, t.c.note_id, t.c.state, t.c.step, t.c.due, t.c.stability, t.c.difficulty,
        t.c.last_review, t.c.reps, t.c.lapses, t.c.version, t.c.suspended, t.c.weight,
        t.c.desired_retention, t.c.leech, t.c.buried_until,
    ).where(t.c.id == bindparam("b_id"), t.c.profile_id == bindparam("b_profile"))  # fmt: skip
    return query.with_for_update() if lock else query


def load_card(session: Executor, profile_id: int, card_id: int, *, lock: bool = False) -> CardRow:
    """The card as answering needs it (statements are built once: answering is a hot path)."""
    lock = lock and dialect_of(session).name == "postgresql"
    row = session.execute(
        _load_card_statement(lock), {"b_id": card_id, "b_profile": profile_id}
    ).first()
    if row is None:
        raise NotFoundError(f"no card {card_id} in this profile")
    return CardRow(
        card_id=row.id,
        note_id=row.note_id,
        schedule=schedule_from(row),
        version=row.version,
        suspended=row.suspended,
        weight=row.weight,
        desired_retention=row.desired_retention,
        leech=row.leech,
        buried_until=row.buried_until,
    )


_SCHEDULE_COLUMNS = (
    "state", "step", "due", "stability", "difficulty", "last_review", "reps", "lapses",
    "desired_retention", "version", "modified_at",
)  # fmt: skip


@cache
def _save_statement(extra: tuple[str, ...]) -> Any:
    t = cards
    return (
        update(t)
        .where(t.c.id == bindparam("b_id"), t.c.version == bindparam("b_version"))
        .values({name: bindparam(f"v_{name}") for name in (*_SCHEDULE_COLUMNS, *extra)})
    )


def save_schedule(
    session: Executor,
    card_id: int,
    expected_version: int,
    schedule: Schedule,
    now: datetime,
    *,
    retention: float | None,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Write a card's new schedule if nobody changed it meanwhile; False when they did."""
    memory = schedule.memory
    params: dict[str, Any] = {
        "v_state": int(schedule.state),
        "v_step": schedule.step,
        "v_due": schedule.due,
        "v_stability": memory.stability if memory else None,
        "v_difficulty": memory.difficulty if memory else None,
        "v_last_review": schedule.last_review,
        "v_reps": schedule.reps,
        "v_lapses": schedule.lapses,
        "v_desired_retention": retention,
        "v_version": expected_version + 1,
        "v_modified_at": now,
        "b_id": card_id,
        "b_version": expected_version,
    }
    keys: tuple[str, ...] = ()
    if extra:
        keys = tuple(sorted(extra))
        for k in keys:
            params[f"v_{k}"] = extra[k]
    result = session.execute(_save_statement(keys), params)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


@cache
def _siblings_statement() -> Any:
    t = cards
    return select(t.c.id).where(
        t.c.note_id == bindparam("b_note"),
        t.c.id != bindparam("b_card"),
        t.c.suspended.is_(False),
        or_(t.c.buried_until.is_(None), t.c.buried_until <= bindparam("b_now")),
    )


@cache
def _bury_statement() -> Any:
    t = cards
    return (
        update(t)
        .where(t.c.id.in_(bindparam("b_ids", expanding=True)))
        .values(buried_until=bindparam("b_until"), version=t.c.version + 1)
    )


@cache
def _bury_returning_statement() -> Any:
    t = cards
    return (
        update(t)
        .where(
            t.c.note_id == bindparam("b_note"),
            t.c.id != bindparam("b_card"),
            t.c.suspended.is_(False),
            or_(t.c.buried_until.is_(None), t.c.buried_until <= bindparam("b_now")),
        )
        .values(buried_until=bindparam("b_until"), version=t.c.version + 1)
        .returning(t.c.id)
    )


def bury_siblings(
    session: Executor, note_id: int, card_id: int, until: datetime, now: datetime
) -> list[int]:
    """Bury the note's other active cards until `until`; their ids (one statement where the
    database supports UPDATE … RETURNING)."""
    params = {"b_note": note_id, "b_card": card_id, "b_now": now, "b_until": until}
    if dialect_of(session).update_returning:
        return sorted(session.execute(_bury_returning_statement(), params).scalars())
    ids = list(session.execute(_siblings_statement(), params).scalars())
    if ids:
        session.execute(_bury_statement(), {"b_ids": ids, "b_until": until})
    return ids


def scheduler_id_for(
    session: Session, profile_id: int, digest: str, config: dict[str, Any], now: datetime
) -> tuple[int, bool]:
    """The id of this scheduler configuration (recorded once per profile), and whether this
    call created it."""
    found = session.execute(
        select(schedulers.c.id).where(
            schedulers.c.profile_id == profile_id, schedulers.c.digest == digest
        )
    ).scalar()
    if found is not None:
        return int(found), False
    try:
        with session.begin_nested():  # two first answers may race to record it
            new_id = session.execute(
                insert(schedulers)
                .values(profile_id=profile_id, digest=digest, config=config, created_at=now)
                .returning(schedulers.c.id)
            ).scalar_one()
    except IntegrityError:
        winner = session.execute(
            select(schedulers.c.id).where(
                schedulers.c.profile_id == profile_id, schedulers.c.digest == digest
            )
        ).scalar_one()
        return int(winner), False
    return int(new_id), True


def scheduler_configs(session: Session, profile_id: int) -> dict[int, dict[str, Any]]:
    rows = session.execute(
        select(schedulers.c.id, schedulers.c.config).where(schedulers.c.profile_id == profile_id)
    )
    return {r.id: dict(r.config) for r in rows}


@cache
def _insert_review_statement() -> Any:
    return insert(review_logs)


def insert_review(session: Executor, values: dict[str, Any]) -> int:
    """Insert one review-log row; its id (SQLite's last row id, RETURNING elsewhere)."""
    result = session.execute(_insert_review_statement(), values)
    return int(result.inserted_primary_key[0])  # type: ignore[attr-defined]


def last_reviews(session: Session, profile_id: int, count: int) -> list[dict[str, Any]]:
    """The last `count` answers given in flashcore (answers imported from Anki are history,
    not something to undo)."""
    rows = session.execute(
        select(review_logs)
        .where(review_logs.c.profile_id == profile_id, review_logs.c.imported.is_(False))
        .order_by(review_logs.c.id.desc())
        .limit(count)
    )
    return [dict(r._mapping) for r in rows]


def undo_review(session: Session, log: dict[str, Any], now: datetime) -> None:
    """Restore the card to its state before `log` and delete the log row."""
    card = session.execute(
        select(cards.c.version, cards.c.reps).where(cards.c.id == log["card_id"])
    ).first()
    if card is None:
        raise NotFoundError(f"card {log['card_id']} no longer exists")
    values: dict[str, Any] = {
        "state": log["state_before"],
        "step": log["step_before"],
        "stability": log["stability_before"],
        "difficulty": log["difficulty_before"],
        "due": log["due_before"],
        "last_review": log["last_review_before"],
        "reps": card.reps - 1,
        "lapses": log["lapses_before"],
        "desired_retention": log["retention_before"],
        "buried_until": log.get("buried_until_before"),
        "version": card.version + 1,
        "modified_at": now,
    }
    if log["leeched"]:
        values.update(suspended=False, leech=False)
    session.execute(update(cards).where(cards.c.id == log["card_id"]).values(**values))
    siblings = log.get("buried_siblings") or []
    if siblings:
        session.execute(
            update(cards)
            .where(cards.c.id.in_(siblings))
            .values(buried_until=None, version=cards.c.version + 1)
        )
    session.execute(delete(review_logs).where(review_logs.c.id == log["id"]))


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
        .values(version=cards.c.version + 1, **values)
    )
    return []


def review_counts_since(session: Executor, profile_id: int, since: datetime) -> dict[int, int]:
    """Answers since `since` grouped by the state the card was in (NEW counts introductions)."""
    r = review_logs.c
    rows = session.execute(
        select(r.state_before, func.count())
        .where(r.profile_id == profile_id, r.reviewed_at >= since)
        .group_by(r.state_before)
    )
    return {int(s): int(n) for s, n in rows}


def pulled_forward(session: Executor, profile_id: int, day: Any) -> dict[int, str]:
    p = pull_forwards.c
    rows = session.execute(
        select(p.card_id, p.reason).where(p.profile_id == profile_id, p.study_day == day)
    )
    return {card_id: reason for card_id, reason in rows}


def deck_name_of_key(session: Executor, profile_id: int, key: str) -> str | None:
    return session.execute(
        select(decks.c.name).where(decks.c.profile_id == profile_id, decks.c.key == key)
    ).scalar()


def weak_topic_paths(session: Executor, card_ids: list[int]) -> dict[int, str]:
    """The weak topic (the topic whose score weights the card) of each of these cards."""
    out: dict[int, str] = {}
    for chunk in _chunks(card_ids, 900):
        rows = session.execute(
            select(cards.c.id, topics.c.path)
            .join(topics, topics.c.id == cards.c.weak_topic_id)
            .where(cards.c.id.in_(chunk))
        )
        out.update({card_id: path for card_id, path in rows})
    return out


def topic_keys_of_notes(session: Executor, note_ids: list[int]) -> dict[int, list[str]]:
    """The topic keys (normalized paths) each of these notes is linked to."""
    out: dict[int, list[str]] = {}
    for chunk in _chunks(note_ids, 900):
        rows = session.execute(
            select(note_topics.c.note_id, topics.c.key)
            .join(topics, topics.c.id == note_topics.c.topic_id)
            .where(note_topics.c.note_id.in_(chunk))
        )
        for note_id, key in rows:
            out.setdefault(note_id, []).append(key)
    return out


# ---------------------------------------------------------------- changes (automatic backups)


def changed_since(session: Executor, since: datetime | None) -> datetime | None:
    """When the collection last changed, if after `since` (every change when None), as its
    timestamps tell: the newest answer, question-bank import, note or card change. The cheap
    questions first (the newest review row by id, the few import batches); the note and card
    scans (~25 ms each at 200,000 cards) only when those found nothing newer."""
    from flashcore.storage.tables import qbank_batches

    newest_review = session.execute(
        select(review_logs.c.reviewed_at).order_by(review_logs.c.id.desc()).limit(1)
    ).scalar()
    newest_batch = session.execute(select(func.max(qbank_batches.c.imported_at))).scalar()
    quick: list[datetime] = [t for t in (newest_review, newest_batch) if t is not None]
    if since is not None and quick and max(quick) > since:
        return max(quick)
    times = [
        *quick,
        session.execute(select(func.max(notes.c.modified_at))).scalar(),
        session.execute(select(func.max(cards.c.modified_at))).scalar(),
    ]
    known: list[datetime] = [t for t in times if t is not None]
    if not known:
        return None
    newest = max(known)
    return newest if since is None or newest > since else None


def holds_anything(session: Executor) -> bool:
    """Whether the collection holds anything a student could lose (a note, an answer, an
    imported attempt): a few one-row lookups."""
    from flashcore.storage.tables import qbank_batches

    for table in (notes, review_logs, qbank_batches):
        if session.execute(select(table.c.id).limit(1)).first() is not None:
            return True
    return False
