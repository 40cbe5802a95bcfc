"""Reloading a deck file, planned: which notes are new, which changed (or came back), which are
unchanged, and which are gone from the file. Pure: the notes of the file and what the database
holds for the deck in, a plan out; `storage.repos.decks.upsert_deck` carries it out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flashcore.core.errors import StaleReadError
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
    # (note id, fingerprint) of unchanged notes whose stored fingerprint is the older kind
    # (of the converted note) where the reader now gives its source's: stored for next time.
    rehashed: tuple[tuple[int, str], ...] = ()


def note_hash(spec: NoteSpec, deck_key: str) -> str:
    """A note's content fingerprint: a reload leaves a note whose fingerprint is unchanged.
    The reader's fingerprint of the note's source when it made one (`NoteSpec.source_hash`)."""
    if spec.source_hash is not None:
        return spec.source_hash
    return converted_hash(spec, deck_key)


def converted_hash(spec: NoteSpec, deck_key: str) -> str:
    """The fingerprint of the note as converted (its kind, fields, tags, topics and qids)."""
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
    removed counts as changed when it is back, even with the same content. A note stored with
    the converted fingerprint that the reader now fingerprints by its source is unchanged when
    its converted fingerprint matches (its new fingerprint is kept: `rehashed`)."""
    seen: set[str] = set()
    new: list[NewNote] = []
    changed: list[ChangedNote] = []
    rehashed: list[tuple[int, str]] = []
    unchanged = 0
    for note in notes:
        key = note.key(deck_key)
        seen.add(key)
        digest = note_hash(note, deck_key)
        found = stored.get(key)
        if note.stub and (found is None or found.content_hash != digest or found.removed):
            raise StaleReadError(
                f"{deck_key}: the deck changed while its file was read; nothing was loaded:"
                " run the command again"
            )
        if found is None:
            new.append(NewNote(note, key, digest))
        elif found.content_hash == digest and not found.removed:
            unchanged += 1
        elif (
            note.source_hash is not None
            and not found.removed
            and found.content_hash == converted_hash(note, deck_key)
        ):
            unchanged += 1
            rehashed.append((found.note_id, digest))
        else:
            changed.append(ChangedNote(found.note_id, note, digest, found.removed))
    gone = tuple((key, s.note_id) for key, s in stored.items() if key not in seen)
    newly_gone = tuple((key, nid) for key, nid in gone if not stored[key].removed)
    return SyncPlan(tuple(new), tuple(changed), unchanged, gone, newly_gone, tuple(rehashed))
