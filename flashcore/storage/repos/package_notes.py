"""The notes that came from Anki packages (`decks add FILE.apkg`): found by GUID, their
fingerprints read before a re-import converts anything, moved with their deck."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from flashcore.storage.tables import cards, decks, notes

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from flashcore.storage.repos.common import Executor


def package_note_homes(session: Session, profile_id: int) -> dict[str, tuple[int, str]]:
    """Notes that came from Anki packages, by GUID: (note id, deck key). A note's key is
    `<deck key>:<GUID>` (a GUID may itself hold `:`)."""
    rows = session.execute(
        select(notes.c.id, notes.c.key, decks.c.key)
        .join(decks, decks.c.id == notes.c.deck_id)
        .where(
            decks.c.profile_id == profile_id,
            or_(decks.c.source.like("%.apkg"), decks.c.source.like("%.colpkg")),
        )
    )
    return {key[len(deck_key) + 1 :]: (note_id, deck_key) for note_id, key, deck_key in rows}


def package_note_hashes(session: Executor, profile_id: int) -> dict[str, str]:
    """The fingerprints of the notes that came from Anki packages and are not removed, by note
    key (`<deck key>:<GUID>`): what a re-import compares a package's notes with before it
    converts them."""
    rows = session.execute(
        select(notes.c.key, notes.c.content_hash)
        .join(decks, decks.c.id == notes.c.deck_id)
        .where(
            decks.c.profile_id == profile_id,
            notes.c.removed.is_(False),
            or_(decks.c.source.like("%.apkg"), decks.c.source.like("%.colpkg")),
        )
    )
    return {key: digest for key, digest in rows}


def package_note_mods(session: Executor, profile_id: int) -> dict[str, tuple[int, str]]:
    """The notes that came from Anki packages with the modification time of the copy taken
    (schema 0030; removed ones too), by GUID: (Anki mod, stored fingerprint). What a re-import
    compares a package's copy of a note with: an older one keeps flashcore's."""
    rows = session.execute(
        select(notes.c.key, decks.c.key, notes.c.anki_mod, notes.c.content_hash)
        .join(decks, decks.c.id == notes.c.deck_id)
        .where(
            decks.c.profile_id == profile_id,
            notes.c.anki_mod.is_not(None),
            or_(decks.c.source.like("%.apkg"), decks.c.source.like("%.colpkg")),
        )
    )
    return {key[len(deck) + 1 :]: (mod, digest) for key, deck, mod, digest in rows}


def move_notes(
    session: Session, deck_id: int, deck_key: str, moves: list[tuple[int, str]], now: datetime
) -> None:
    """Move notes (id, local id) into a deck: their key follows (`<deck key>:<local id>`)."""
    for note_id, local_id in moves:
        session.execute(
            update(notes)
            .where(notes.c.id == note_id)
            .values(deck_id=deck_id, key=f"{deck_key}:{local_id}", modified_at=now)
        )


def suspend_note_cards(
    session: Session, wanted: list[tuple[int, int]], now: datetime
) -> list[tuple[int, int]]:
    """Suspend these cards (note id, ord) where they are not suspended yet (their schedule and
    history kept); those it suspended."""
    c = cards.c
    found = []
    for note_id, ord_ in wanted:
        row = session.execute(
            select(c.id).where(c.note_id == note_id, c.ord == ord_, c.suspended.is_(False))
        ).first()
        if row is not None:
            found.append((note_id, ord_))
            session.execute(
                update(cards)
                .where(c.id == row.id)
                .values(suspended=True, version=c.version + 1, modified_at=now)
            )
    return found
