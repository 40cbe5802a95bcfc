"""Reloading a deck file, planned: which notes are new, which changed (or came back), which are
unchanged, and which are gone from the file. Pure: the notes of the file and what the database
holds for the deck in, a plan out; `storage.repos.decks.upsert_deck` carries it out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flashcore.core.errors import StaleReadError
from flashcore.core.model import NoteKind, NoteSpec


@dataclass(frozen=True, slots=True)
class StoredNote:
    """A note of the deck as the database holds it."""

    note_id: int
    content_hash: str
    removed: bool  # suspended because it was gone from the file
    anki_mod: int | None = None  # the package copy's modification time taken (NoteSpec)


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
    # (note id, fingerprint) of unchanged notes whose stored fingerprint is not the one read
    # (an older kind, or a changed source that converts the same): stored for next time.
    rehashed: tuple[tuple[int, str], ...] = ()
    # (note id, Anki mod) of unchanged notes whose package copy is newer than the one stored
    # (or the first one known): the copy they now stand for.
    remodded: tuple[tuple[int, int], ...] = ()
    # Notes kept as flashcore holds them because the package's copy is older (`NoteSpec.older`;
    # not in `unchanged`; one back in the package is in `changed` too: it comes back).
    kept_older: int = 0


def note_hash(spec: NoteSpec, deck_key: str) -> str:
    """A note's content fingerprint: a reload leaves a note whose fingerprint is unchanged.
    The reader's fingerprint of the note's source when it made one (`NoteSpec.source_hash`)."""
    if spec.source_hash is not None:
        return spec.source_hash
    return converted_hash(spec, deck_key)


_SOURCE = "src:"


def source_fingerprint(source: str, spec: NoteSpec, deck_key: str) -> str:
    """What a note read with a fingerprint of its source (`source`, hex) stores as its content
    hash: that fingerprint and the converted note's, `src:<24 hex>:<32 hex>`. A reload that
    finds the source unchanged skips the conversion; one that finds it changed but the note
    converted the same (a field no template shows, a topic family that gives it no topic) keeps
    the note as it is."""
    return f"{_SOURCE}{source[:24]}:{_converted_print(spec, deck_key)}"


def source_fingerprint_of(
    source: str,
    deck_key: str,
    kind: NoteKind,
    fields: dict[str, str],
    tags: tuple[str, ...],
    topics: tuple[str, ...],
    qids: tuple[str, ...],
) -> str:
    """`source_fingerprint` of the note these parts make, before it is made (a reader makes
    each note once, its fingerprint in it)."""
    payload = repr((deck_key, kind.value, sorted(fields.items()), tags, topics, qids))
    return f"{_SOURCE}{source[:24]}:{hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()}"


def source_of(stored: str) -> str | None:
    """The source fingerprint part of a stored content hash (None: none stored)."""
    return stored[len(_SOURCE) : len(_SOURCE) + 24] if stored.startswith(_SOURCE) else None


def _converted_same(stored: str, spec: NoteSpec, deck_key: str) -> bool:
    """Whether the stored content hash names this converted note (either form)."""
    if stored.startswith(_SOURCE):
        return stored[len(_SOURCE) + 25 :] == _converted_print(spec, deck_key)
    return stored == converted_hash(spec, deck_key)


def _converted_print(spec: NoteSpec, deck_key: str) -> str:
    """The converted note's part of a source fingerprint (32 hex): what `converted_hash` reads,
    by its repr (~2 us, where the JSON's sorted dump takes ~8)."""
    payload = repr((deck_key, spec.kind.value, sorted(spec.fields.items()), spec.tags,
                    spec.topics, spec.qids))  # fmt: skip
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


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
    removed counts as changed when it is back, even with the same content. A note read with a
    source fingerprint (`source_fingerprint`) whose converted part matches the stored one (or
    the whole stored hash, of the older kind) is unchanged; its new fingerprint is kept
    (`rehashed`)."""
    seen: set[str] = set()
    new: list[NewNote] = []
    changed: list[ChangedNote] = []
    rehashed: list[tuple[int, str]] = []
    remodded: list[tuple[int, int]] = []
    unchanged = kept_older = 0
    for note in notes:
        key = note.key(deck_key)
        seen.add(key)
        digest = note_hash(note, deck_key)
        found = stored.get(key)
        if note.stub and (
            found is None or found.content_hash != digest or (found.removed and not note.older)
        ):
            raise StaleReadError(
                f"{deck_key}: the deck changed while its file was read; nothing was loaded:"
                " run the command again"
            )
        if found is None:
            new.append(NewNote(note, key, digest))
        elif note.older:
            kept_older += 1
            if found.removed:  # back in the package, its older copy: flashcore's text kept
                changed.append(ChangedNote(found.note_id, note, digest, True))
        elif found.content_hash == digest and not found.removed:
            unchanged += 1
            if (mod := _newer(note.anki_mod, found.anki_mod)) is not None:
                remodded.append((found.note_id, mod))
        elif (
            note.source_hash is not None
            and not found.removed
            and _converted_same(found.content_hash, note, deck_key)
        ):
            unchanged += 1
            rehashed.append((found.note_id, digest))
            if (mod := _newer(note.anki_mod, found.anki_mod)) is not None:
                remodded.append((found.note_id, mod))
        else:
            changed.append(ChangedNote(found.note_id, note, digest, found.removed))
    gone = tuple((key, s.note_id) for key, s in stored.items() if key not in seen)
    newly_gone = tuple((key, nid) for key, nid in gone if not stored[key].removed)
    return SyncPlan(tuple(new), tuple(changed), unchanged, gone, newly_gone, tuple(rehashed),
                    tuple(remodded), kept_older)  # fmt: skip


def _newer(read: int | None, stored: int | None) -> int | None:
    """A package copy's modification time (`read`) when it is newer than the stored one (or
    none is stored), else None."""
    return read if read is not None and (stored is None or read > stored) else None
