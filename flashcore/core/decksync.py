"""Reloading a deck file, planned: which notes are new, which changed (or came back), which are
unchanged, and which are gone from the file. Pure: the notes of the file and what the database
holds for the deck in, a plan out; `storage.repos.decks.upsert_deck` carries it out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flashcore.core.model import NoteSpec


@dataclass(frozen=True, slots=True)
class StoredNote:
    """A note of the deck as the database holds it."""

    note_id: int
    content_hash: str
    removed: bool  # suspended because it was gone from the file


@dataclass(frozen=True, slots=True)
class NewNote:
    spec: NoteSpec
    key: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class ChangedNote:
    note_id: int
    spec: NoteSpec
    content_hash: str
    was_removed: bool  # back in the file: its cards return (leeches excepted)


@dataclass(frozen=True, slots=True)
class SyncPlan:
    new: tuple[NewNote, ...]
    changed: tuple[ChangedNote, ...]
    unchanged: int
    gone: tuple[tuple[str, int], ...]  # (key, note id) of stored notes missing from the file
    newly_gone: tuple[tuple[str, int], ...]  # of `gone`, those not marked removed before


def note_hash(spec: NoteSpec, deck_key: str) -> str:
    """A note's content fingerprint: a reload leaves a note whose fingerprint is unchanged."""
    payload = json.dumps(
        [deck_key, spec.kind.value, spec.fields, spec.tags, spec.topics, spec.qids],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def plan_sync(
    deck_key: str, notes: Iterable[NoteSpec], stored: Mapping[str, StoredNote]
) -> SyncPlan:
    """Compare the file's notes with the stored ones, by note key. A stored note that was
    removed counts as changed when it is back, even with the same content."""
    seen: set[str] = set()
    new: list[NewNote] = []
    changed: list[ChangedNote] = []
    unchanged = 0
    for note in notes:
        key = note.key(deck_key)
        seen.add(key)
        digest = note_hash(note, deck_key)
        found = stored.get(key)
        if found is None:
            new.append(NewNote(note, key, digest))
        elif found.content_hash == digest and not found.removed:
            unchanged += 1
        else:
            changed.append(ChangedNote(found.note_id, note, digest, found.removed))
    gone = tuple((key, s.note_id) for key, s in stored.items() if key not in seen)
    newly_gone = tuple((key, nid) for key, nid in gone if not stored[key].removed)
    return SyncPlan(tuple(new), tuple(changed), unchanged, gone, newly_gone)
