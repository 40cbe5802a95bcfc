"""Which flashcore note and card an Anki package's note and card are (`package_card_ids`), and
flashcore's own notes coming back from Anki. `export anki` gives a note of flashcore's own
decks (a TOML or text deck) the GUID made from its key (exporters.anki.guid_for), and a basic
note's further cards the GUIDs of `<key>@<ord>` (exported as notes of their own). A student who
studies that export in Anki (on the phone) and brings an Anki export back with `decks add FILE
--with-scheduling` must get those reviews on the same cards, not a second copy of every note:
a package note whose GUID names a note of flashcore's own is that note. Its text stays the deck
file's (the file owns it: an edit made in Anki is not taken); its scheduling and history are
merged as a package note's are. Notes that came from a package keep their own GUIDs (they are
known by `package_note_homes`); their split further cards are known here too."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flashcore.core.model import DeckSpec, NoteKind, NoteSpec, basic_ordinals
from flashcore.exporters.anki import guid_for
from flashcore.importers.anki_package.types import NoteTypeKind
from flashcore.services.anki_history import PackageSource
from flashcore.storage import anki_sync, repos


@dataclass(frozen=True, slots=True)
class Returning:
    """The GUIDs flashcore's export gave notes it holds: GUID -> note id (`notes`), and for a
    basic note's further card exported as a note of its own, the card's `ord` (`ords`)."""

    notes: dict[str, int]
    ords: dict[str, int]
    keys: dict[str, str] = field(default_factory=dict)  # a further card's: `<key>@<ord>`


def exported_guids(session: Any, profile_id: int) -> Returning:
    """The GUIDs of the profile's notes as `export anki` writes them (see the module)."""
    own, sides = repos.exported_note_keys(session, profile_id)
    notes = {guid_for(key): note_id for note_id, key in own}
    ords: dict[str, int] = {}
    keys: dict[str, str] = {}
    for note_id, key, ord_ in sides:
        keys[guid := guid_for(f"{key}@{ord_}")] = f"{key}@{ord_}"
        notes[guid] = note_id
        ords[guid] = ord_
    return Returning(notes, ords, keys)


def suspend_deleted_sides(
    session: Any, profile_id: int, specs: list[DeckSpec], known: Returning, now: datetime
) -> list[repos.LoadCounts]:
    """A package note's further card, exported as a note of its own (`<key>@<ord>`), deleted
    in Anki: the package holds the note (its first half) and the deck the export put both in,
    but not that card's note. Deleted as any package note gone from its deck is (and, as
    there, moved to a deck the package does not hold alone): the card is suspended here, its
    schedule and history kept, and said as a note no longer in the package (`<key>@<ord>`);
    the rest of the note stays as flashcore holds it (`_held`). `--prune` deletes no card of
    a note it keeps. A package note that makes that card itself (the package the note came
    from: both templates, no such note) deletes nothing."""
    if not known.keys:
        return []
    held = {n.local_id: n for spec in specs for n in spec.notes}
    deck_keys = {spec.key for spec in specs}
    further: dict[int, list[str]] = {}
    for guid in known.keys:
        further.setdefault(known.notes[guid], []).append(guid)
    gone: dict[tuple[int, int], str] = {}
    for guid, (note_id, deck_key) in repos.package_note_homes(session, profile_id).items():
        note = held.get(guid)
        if note is None or deck_key not in deck_keys:
            continue
        for side in further.get(note_id, ()):
            if side not in held and not _shows(note, known.ords[side]):
                gone[(note_id, known.ords[side])] = known.keys[side]
    suspended = repos.suspend_note_cards(session, sorted(gone), now) if gone else []
    if not suspended:
        return []
    keys = [gone[pair] for pair in suspended]
    return [repos.LoadCounts(removed=len(keys), removed_keys=keys)]


def without_returning(
    session: Any, profile_id: int, specs: list[DeckSpec], known: Returning
) -> tuple[list[DeckSpec], int]:
    """The package's decks without the notes flashcore already holds as its own (a deck left
    with no note is left out: it is one of flashcore's decks); and how many notes were left
    out. A package note whose further cards the export writes as notes of their own
    (`<key>@<ord>`) and that comes without them (with one template: the export's first half,
    whether its other halves are in the package or not, as when only the deck it was moved
    to is exported) would drop the note's other sides taken as the package's text (those
    cards left blank and suspended), so it stays as flashcore holds it (`_kept_as_is`); its
    scheduling still comes, as any package note's. With every side (Anki's own note type, an
    updated deck) it is taken as any package note."""
    if not known.notes:
        return specs, 0
    sides: dict[int, set[int]] = {}
    for guid, ord_ in known.ords.items():
        sides.setdefault(known.notes[guid], set()).add(ord_)
    converted = any(not n.stub and n.local_id not in known.notes for s in specs for n in s.notes)
    kept_as_is = _kept_as_is(session, profile_id, sides) if sides and converted else {}
    out: list[DeckSpec] = []
    left_out = 0
    for spec in specs:
        kept = tuple(_held(n, kept_as_is) for n in spec.notes if n.local_id not in known.notes)
        left_out += len(spec.notes) - len(kept)
        if kept:
            out.append(spec if kept == spec.notes else dataclasses.replace(spec, notes=kept))
    return out, left_out


def _shows(note: NoteSpec, ord_: int) -> bool:
    """Whether the package note makes the card `ord_` itself: the note as its source holds it
    (both templates; found unchanged, a stub), not the export's first half."""
    if note.stub or note.kind is NoteKind.CLOZE:
        return True
    shown = note.ordinals if note.ordinals is not None else basic_ordinals(note.fields)
    return ord_ in set(shown)


def _held(note: NoteSpec, kept_as_is: dict[str, tuple[NoteSpec, set[int]]]) -> NoteSpec:
    """The package note, or the stub of the stored note when it is the export's first half
    of a note split by it (it lacks one of the note's further cards)."""
    found = kept_as_is.get(note.local_id)
    if found is None or note.stub:
        return note
    stub, further = found
    if note.kind is NoteKind.CLOZE:
        return note
    shown = note.ordinals if note.ordinals is not None else basic_ordinals(note.fields)
    return note if further <= set(shown) else stub


def _kept_as_is(
    session: Any, profile_id: int, sides: dict[int, set[int]]
) -> dict[str, tuple[NoteSpec, set[int]]]:
    """GUID -> a stub of the stored note (`NoteSpec.stub`: found unchanged, never written)
    and the ordinals of its further cards, for the package notes split by the export (`sides`:
    note id -> those ordinals). By GUID alone, whatever deck the package puts the note in: a
    note moved to another deck in Anki is moved here (`decks._adopt_moved_notes`), its text
    kept all the same."""
    homes = repos.package_note_homes(session, profile_id)
    hashes = repos.package_note_hashes(session, profile_id)
    out: dict[str, tuple[NoteSpec, set[int]]] = {}
    for guid, (note_id, deck_key) in homes.items():
        digest = hashes.get(f"{deck_key}:{guid}")
        if note_id in sides and digest is not None:
            stub = NoteSpec(local_id=guid, kind=NoteKind.BASIC, fields={}, source_hash=digest,
                            stub=True)  # fmt: skip
            out[guid] = (stub, sides[note_id])
    return out


def package_card_ids(
    session: Any,
    pkg: PackageSource,
    note_ids: dict[str, int],
    ords_of: dict[str, int] | None = None,
) -> dict[int, int]:
    """Anki card id -> flashcore card id, for the package's notes flashcore holds (`note_ids`:
    GUID -> flashcore note id, as the notes import keyed them). A cloze card's flashcore `ord`
    is its cloze number (Anki's ord + 1); a standard note type's is its template's; a note
    whose GUID is in `ords_of` is one card of a flashcore note (exported as a note of its own:
    services.anki_identity), that card's `ord`."""
    kinds = {nt.id: nt.kind for nt in pkg.note_types().values()}
    fixed = ords_of or {}
    home: dict[int, tuple[int, bool, int | None]] = {}
    for anki_note_id, guid, notetype_id in pkg.note_guids():
        found = note_ids.get(guid)
        if found is not None:
            cloze = kinds.get(notetype_id) is not NoteTypeKind.STANDARD
            home[anki_note_id] = (found, cloze, fixed.get(guid))
    ords = anki_sync.cards_of_notes(session, [n for n, _, _ in home.values()])
    out: dict[int, int] = {}
    for card in pkg.cards():
        held = home.get(card.note_id)
        if held is not None:
            note_id, cloze, one = held
            ord_ = card.ord + 1 if cloze else card.ord
            card_id = ords.get((note_id, ord_ if one is None else one + card.ord))
            if card_id is not None:
                out[card.id] = card_id
    return out


def homes_hold(
    homes: dict[str, tuple[int, str]], specs: list[DeckSpec], counts: list[repos.LoadCounts]
) -> bool:
    """Whether the package notes' homes read before the upsert still name every note of the
    file: no note was added or deleted, and each deck was a package's before (a deck first
    loaded from another file becomes a package's deck now, its notes with it)."""
    if any(c.added or c.deleted for c in counts):
        return False
    package_decks = {deck for _note, deck in homes.values()}
    return all(spec.key in package_decks for spec in specs)


def adopt_moved_notes(
    session: Any, profile_id: int, specs: list[DeckSpec], now: Any
) -> dict[str, tuple[int, str]]:
    """Notes of an Anki package that an earlier import put in another deck (the student moved
    them in Anki) move to their new deck before the upsert, so they update, never duplicate.
    Returns the package notes' homes as they were read (GUID -> note id, deck key before)."""
    homes = repos.package_note_homes(session, profile_id)
    if not homes:
        return homes
    for spec in specs:
        moves = [
            (homes[n.local_id][0], n.local_id)
            for n in spec.notes
            if n.local_id in homes and homes[n.local_id][1] != spec.key
        ]
        if moves:
            deck_id = repos.ensure_deck(session, profile_id, spec, now)
            repos.move_notes(session, deck_id, spec.key, moves, now)
    return homes
