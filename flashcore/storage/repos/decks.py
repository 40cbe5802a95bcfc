"""Decks, notes, topics and their links: loading a deck file (upsert) and lookups by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    delete,
    insert,
    or_,
    select,
    update,
)

from flashcore.core import topics as topic_keys
from flashcore.core.model import CardState, DeckSpec, NoteKind, NoteSpec, basic_ordinals
from flashcore.storage.tables import (
    cards,
    decks,
    note_qids,
    note_topics,
    notes,
    topics,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from flashcore.core.decksync import SyncPlan
    from flashcore.storage.repos.common import Executor

from flashcore.storage.repos.common import (
    chunks,
    insert_many_like,
    insert_tuples,
    like_prefix,
    update_many,
)
from flashcore.storage.repos.note_returns import cards_come_back, come_back, retire
from flashcore.storage.repos.scoped_changes import forget_deleted_cards

# What differs between the new cards of a load (`_new_card_row` gives the rest).
_CARD_VARIES = ("note_id", "ord", "suspended", "weak_topic_id")
_NOTE_VARIES = ("key", "kind", "fields", "tags", "content_hash", "source_line", "anki_mod")


@dataclass(slots=True)
class LoadCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    deleted: int = 0
    cards_added: int = 0
    removed_keys: list[str] | None = None
    kept_older: int = 0  # notes kept: the package's copy is older (`SyncPlan.kept_older`)


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


def _ordinals(spec: NoteSpec) -> list[int] | tuple[int, ...]:
    if spec.ordinals is not None:
        return spec.ordinals
    if spec.kind is NoteKind.CLOZE:
        from flashcore.core import cloze  # loading decks only: reports never make its values

        return cloze.ordinals(spec.fields["text"])
    return basic_ordinals(spec.fields)


def _split_qid(qid: str) -> tuple[str, str]:
    source, _, bare = qid.partition(":")
    return (source.lower(), bare) if bare else ("uworld", source)


def ensure_deck(session: Session, profile_id: int, spec: DeckSpec, now: datetime) -> int:
    """The id of the deck `spec` names, created or its name, description and source updated."""
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
    return int(deck_id)


def upsert_deck(
    session: Session, profile_id: int, spec: DeckSpec, now: datetime, *, prune: bool
) -> LoadCounts:
    """Load one parsed deck: an upsert keyed by note key (planned by `core.decksync.plan_sync`);
    notes gone from the file are suspended (or deleted with `prune`)."""
    from flashcore.core.decksync import StoredNote, plan_sync  # loading decks only

    counts = LoadCounts(removed_keys=[])
    deck_id = ensure_deck(session, profile_id, spec, now)
    n = notes.c
    stored = {
        row.key: StoredNote(row.id, row.content_hash, row.removed, row.anki_mod)
        for row in session.execute(
            select(n.id, n.key, n.content_hash, n.removed, n.anki_mod).where(n.deck_id == deck_id)
        )
    }
    topic_ids = _LinkedTopics(
        ensure_topics(session, profile_id, {t for n in spec.notes for t in n.topics})
    )
    plan = plan_sync(spec.key, spec.notes, stored)
    counts.unchanged = plan.unchanged
    counts.kept_older = plan.kept_older
    fresh = [(n.spec, n.key, n.content_hash) for n in plan.new]
    changed = [(c.note_id, c.spec, c.content_hash, c.was_removed) for c in plan.changed]
    back = [note_id for note_id, spec, _d, _r in changed if spec.stub]  # their text kept
    changed = [c for c in changed if not c[1].stub]
    linked: list[tuple[int, NoteSpec]] = []
    if fresh:
        added, counts.cards_added = _insert_notes(
            session, profile_id, deck_id, fresh, now, topic_ids
        )
        linked.extend(added)
        counts.added = len(fresh)
    if changed:
        counts.cards_added += _update_notes(session, profile_id, changed, now)
        counts.updated = len(changed)
        linked.extend((note_id, note) for note_id, note, _d, _r in changed)
    if back:
        come_back(session, back, now)
        counts.updated += len(back)
    _write_links(session, linked, topic_ids)
    _restamp(session, plan)
    gone = plan.gone
    if prune and gone:
        note_ids = [nid for _k, nid in gone]
        deleted = session.scalars(select(cards.c.id).where(cards.c.note_id.in_(note_ids)))
        forget_deleted_cards(session, profile_id, list(deleted))
        session.execute(delete(notes).where(notes.c.id.in_(note_ids)))
        counts.deleted = len(gone)
    else:
        newly = plan.newly_gone
        if newly:
            retire(session, [nid for _k, nid in newly], now)
        counts.removed = len(newly)
        counts.removed_keys = [k for k, _ in newly]
    return counts


def _restamp(session: Session, plan: SyncPlan) -> None:
    """Unchanged notes' new fingerprints and package copies' times (`SyncPlan.rehashed`,
    `remodded`)."""
    if plan.rehashed:
        update_many(
            session, notes, [{"id": i, "content_hash": h} for i, h in plan.rehashed], key="id"
        )
    if plan.remodded:
        update_many(session, notes, [{"id": i, "anki_mod": m} for i, m in plan.remodded], key="id")


def _insert_notes(
    session: Session,
    profile_id: int,
    deck_id: int,
    fresh: list[tuple[NoteSpec, str, str]],
    now: datetime,
    topic_ids: _LinkedTopics,
) -> tuple[list[tuple[int, NoteSpec]], int]:
    """Insert the new notes (spec, key, content hash) and their cards; returns each note's id
    with its spec, and the cards added. A card's weak topic starts as its note's first topic
    (`topic_ids`: the ids of the notes' topics), what the weight refresh that follows gives it
    while no topic of the note weighs more: a first import's refresh rewrote every card."""
    template = {"profile_id": profile_id, "deck_id": deck_id, "removed": False,
                "created_at": now, "modified_at": now, **dict.fromkeys(_NOTE_VARIES)}  # fmt: skip
    insert_many_like(
        session,
        notes,
        template,
        _NOTE_VARIES,
        [
            (key, note.kind.value, note.fields, list(note.tags), digest, note.line, note.anki_mod)
            for note, key, digest in fresh
        ],
    )
    note_id_of = _note_ids(session, deck_id, [key for _n, key, _d in fresh])
    linked = [(note_id_of[key], note) for note, key, _d in fresh]
    first = topic_ids.first
    card_rows = [
        (note_id, o, o in note.suspended, topic)
        for note_id, note in linked
        for topic in (first(note.topics),)
        for o in _ordinals(note)
    ]
    template = _new_card_row(profile_id, 0, 0, now)
    insert_many_like(session, cards, template, _CARD_VARIES, card_rows)
    return linked, len(card_rows)


def _update_notes(
    session: Session,
    profile_id: int,
    changed: list[tuple[int, NoteSpec, str, bool]],
    now: datetime,
) -> int:
    """Rewrite the changed notes (id, spec, content hash, whether it was gone from the file),
    their cards to their ordinals, and drop their topic and qid links (written again by the
    caller); returns the cards added."""
    added = 0
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
                anki_mod=note.anki_mod,
                modified_at=now,
            )
        )
        if was_removed:
            cards_come_back(session, note_id, note.suspended, now)
        added += _sync_cards(session, profile_id, note_id, note, now)
    old_ids = [note_id for note_id, _n, _d, _r in changed]
    session.execute(delete(note_topics).where(note_topics.c.note_id.in_(old_ids)))
    session.execute(delete(note_qids).where(note_qids.c.note_id.in_(old_ids)))
    return added


def _write_links(
    session: Session, linked: list[tuple[int, NoteSpec]], topic_ids: _LinkedTopics
) -> None:
    topic_rows: list[tuple[int, int]] = []
    qid_rows: list[tuple[int, str, str]] = []
    of = topic_ids.of
    for note_id, note in linked:
        topic_rows.extend([(note_id, t) for t in of(note.topics)])
        if note.qids:
            qids = sorted({_split_qid(q) for q in note.qids})
            qid_rows.extend([(note_id, s, q) for s, q in qids])
    insert_tuples(session, note_topics, ("note_id", "topic_id"), topic_rows)
    insert_tuples(session, note_qids, ("note_id", "source", "qid"), qid_rows)


def _note_ids(session: Session, deck_id: int, keys: list[str]) -> dict[str, int]:
    """The ids of a deck's notes by key (those just inserted: one read of the deck's notes
    when they are most of it, lookups by key otherwise)."""
    wanted = set(keys)
    query = select(notes.c.key, notes.c.id).where(notes.c.deck_id == deck_id)
    if len(keys) <= 900:
        query = query.where(notes.c.key.in_(keys))
    return {key: note_id for key, note_id in session.execute(query) if key in wanted}


class _LinkedTopics:
    """The topic ids of notes' topic paths (`ids`: by clean path), sorted and each once; worked
    out once per set of paths (a deck's notes share a few hundred)."""

    def __init__(self, ids: dict[str, int]) -> None:
        self.ids = ids
        self._of: dict[tuple[str, ...], tuple[int, ...]] = {}

    def of(self, paths: tuple[str, ...]) -> tuple[int, ...]:
        found = self._of.get(paths)
        if found is None:
            ids = self.ids
            cleaned = (topic_keys.clean_path(t) for t in paths)
            found = self._of[paths] = tuple(sorted({ids[c] for c in cleaned if c}))
        return found

    def first(self, paths: tuple[str, ...]) -> int | None:
        found = self.of(paths)
        return found[0] if found else None


def _new_card_row(
    profile_id: int,
    note_id: int,
    ordinal: int,
    now: datetime,
    *,
    suspended: bool = False,
    topic: int | None = None,
) -> dict[str, Any]:
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
        "suspended": suspended,
        "buried_until": None,
        "flagged": False,
        "leech": False,
        "weight": 0.0,
        "weak_topic_id": topic,
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
        session.execute(
            insert(cards),
            [
                _new_card_row(profile_id, note_id, o, now, suspended=o in note.suspended)
                for o in new
            ],
        )
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
            or_(decks.c.key == name, decks.c.name == name, decks.c.name.like(like_prefix(name))),
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
            or_(topics.c.key == key, topics.c.key.like(like_prefix(key))),
        )
    )
    return [r.id for r in rows]


def deck_name_of_key(session: Executor, profile_id: int, key: str) -> str | None:
    return session.execute(
        select(decks.c.name).where(decks.c.profile_id == profile_id, decks.c.key == key)
    ).scalar()


def topic_keys_of_notes(session: Executor, note_ids: list[int]) -> dict[int, list[str]]:
    """The topic keys (normalized paths) each of these notes is linked to."""
    out: dict[int, list[str]] = {}
    for chunk in chunks(note_ids, 900):
        rows = session.execute(
            select(note_topics.c.note_id, topics.c.key)
            .join(topics, topics.c.id == note_topics.c.topic_id)
            .where(note_topics.c.note_id.in_(chunk))
        )
        for note_id, key in rows:
            out.setdefault(note_id, []).append(key)
    return out


def exported_note_keys(
    session: Executor, profile_id: int
) -> tuple[list[tuple[int, str]], list[tuple[int, str, int]]]:
    """What names the notes in flashcore's Anki export, to know them when a package brings them
    back: the notes not from a package (their GUID is made from their key), `(note id, key)`;
    and every basic note's cards beyond the first (exported as notes of their own, keyed
    `<key>@<ord>`), `(note id, key, ord)`. Removed notes are left out."""
    package = or_(decks.c.source.like("%.apkg"), decks.c.source.like("%.colpkg"))
    own = session.execute(
        select(notes.c.id, notes.c.key)
        .join(decks, decks.c.id == notes.c.deck_id)
        .where(decks.c.profile_id == profile_id, notes.c.removed.is_(False), ~package)
    )
    sides = session.execute(
        select(notes.c.id, notes.c.key, cards.c.ord)
        .join(cards, cards.c.note_id == notes.c.id)
        .where(
            notes.c.profile_id == profile_id,
            notes.c.removed.is_(False),
            notes.c.kind == NoteKind.BASIC.value,
            cards.c.ord > 0,
        )
    )
    return [(int(i), str(k)) for i, k in own], [(int(i), str(k), int(o)) for i, k, o in sides]
