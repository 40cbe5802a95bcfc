"""The notes of a package re-import that are not converted (`notes.convert`): a note found
unchanged by its fingerprint (`kept`), and one whose package copy is older than the one
flashcore took (`older`): each a stub (`NoteSpec.stub`) never written."""

from __future__ import annotations

import re

from flashcore.core.html_text import image_names
from flashcore.core.model import NoteKind, NoteSpec
from flashcore.importers.anki_package.types import Card, CardQueue, Note, NoteType, NoteTypeKind

SOUND = re.compile(r"\[sound:([^\]]+)\]")
NONE_SUSPENDED: frozenset[int] = frozenset()
SUSPENDED = int(CardQueue.SUSPENDED)


def anki_card_ord(kind: NoteTypeKind, anki_ord: int) -> int:
    """The flashcore card `ord` of an Anki card: the cloze number for cloze note types (Anki
    counts deletions from 0), the template number for standard ones."""
    return anki_ord + 1 if kind is not NoteTypeKind.STANDARD else anki_ord


def kept(
    note: Note,
    kind_of: NoteType,
    cards: list[Card],
    digest: str,
    media: set[str],
    missing: frozenset[str],
) -> NoteSpec:
    """A note found unchanged by its fingerprint, not converted (`NoteSpec.stub`). Its media
    files were written when it was loaded: those of `missing` its raw fields name are wanted
    again (added to `media`)."""
    kind = NoteKind.BASIC if kind_of.kind is NoteTypeKind.STANDARD else NoteKind.CLOZE
    if missing:
        for value in note.fields:
            names = [*image_names(value), *SOUND.findall(value)]
            media.update(n for n in names if n in missing)
    return NoteSpec(
        local_id=note.guid,
        kind=kind,
        fields={},
        suspended=suspended_ords(kind_of.kind, cards),
        source_hash=digest,
        stub=True,
        anki_mod=note.mod,
    )


def older(note: Note, kind_of: NoteType, digest: str) -> NoteSpec:
    """A note whose package copy is older than the one flashcore took (`digest`: the stored
    fingerprint): kept as flashcore holds it (a stub, `NoteSpec.older`), as Anki's importer
    does by default ("update notes: if newer")."""
    kind = NoteKind.BASIC if kind_of.kind is NoteTypeKind.STANDARD else NoteKind.CLOZE
    return NoteSpec(local_id=note.guid, kind=kind, fields={}, source_hash=digest, stub=True,
                    older=True)  # fmt: skip


def suspended_ords(kind: NoteTypeKind, cards: list[Card]) -> frozenset[int]:
    """The ords of a note's suspended cards (most notes have none: one empty set for them)."""
    if all(c.queue != SUSPENDED for c in cards):
        return NONE_SUSPENDED
    return frozenset(anki_card_ord(kind, c.ord) for c in cards if c.suspended)
