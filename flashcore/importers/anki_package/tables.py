"""Anki's collections of schema 15 and later (18 as Anki writes them today) keep note types,
decks and deck presets in tables of their own, each row's configuration a protobuf message;
their readings as the package's values, beside the schema-11 JSON read by `legacy`.

Each function takes the rows `reader.AnkiPackage` queried and `message`, which decodes one
configuration blob (naming what it is) or raises the package's error."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flashcore.importers.anki_package import protobuf as pb
from flashcore.importers.anki_package.types import (
    IMAGE_OCCLUSION_STOCK_KIND,
    Deck,
    DeckConfig,
    NoteType,
    NoteTypeKind,
    Template,
)

Message = Callable[[Any, str], dict[int, list[pb.Value]]]
Rows = Iterable[tuple[Any, ...]]

NOTE_TYPE_QUERIES = (
    "SELECT ntid, name FROM fields ORDER BY ntid, ord",
    "SELECT ntid, ord, name, config FROM templates ORDER BY ntid, ord",
    "SELECT id, name, config FROM notetypes",
)
DECKS_QUERY = "SELECT id, name, kind FROM decks"
DECK_CONFIGS_QUERY = "SELECT id, name, config FROM deck_config"


def note_types(
    fields: Rows, templates: Rows, notetypes: Rows, message: Message
) -> dict[int, NoteType]:
    """The note types from the rows of NOTE_TYPE_QUERIES, in that order."""
    field_names: dict[int, list[str]] = {}
    for ntid, name in fields:
        field_names.setdefault(int(ntid), []).append(str(name))
    cards: dict[int, list[Template]] = {}
    for ntid, ord_, name, config in templates:
        found = message(config, "a card template")
        cards.setdefault(int(ntid), []).append(
            Template(int(ord_), str(name), pb.text(found, 1), pb.text(found, 2))
        )
    out: dict[int, NoteType] = {}
    for ntid, name, config in notetypes:
        found = message(config, "a note type")
        stock = pb.first_int(found, 9)
        kind = NoteTypeKind.CLOZE if pb.first_int(found, 1) == 1 else NoteTypeKind.STANDARD
        if stock == IMAGE_OCCLUSION_STOCK_KIND:
            kind = NoteTypeKind.IMAGE_OCCLUSION
        out[int(ntid)] = NoteType(
            id=int(ntid),
            name=str(name),
            kind=kind,
            fields=tuple(field_names.get(int(ntid), [])),
            templates=tuple(cards.get(int(ntid), [])),
            original_stock_kind=stock,
        )
    return out


def decks(rows: Rows, message: Message) -> dict[int, Deck]:
    """The decks from the rows of DECKS_QUERY; a filtered deck has no preset."""
    out: dict[int, Deck] = {}
    for did, name, kind in rows:
        found = message(kind, "a deck")
        display = str(name).replace("\x1f", "::")
        if found.get(1) is None:
            out[int(did)] = Deck(int(did), display, None, filtered=True)
            continue
        deck = pb.message(found, 1)
        out[int(did)] = Deck(
            id=int(did),
            name=display,
            config_id=pb.signed64(pb.first_int(deck, 1)) or 1,
            description=pb.text(deck, 4),
            desired_retention=pb.float32(deck, 10),
        )
    return out


def deck_configs(rows: Rows, message: Message) -> dict[int, DeckConfig]:
    """The deck presets from the rows of DECK_CONFIGS_QUERY, each with its FSRS parameters
    (the newest of the versions the message holds) and its raw configuration."""
    out: dict[int, DeckConfig] = {}
    for cid, name, config in rows:
        found = message(config, "a deck preset")
        params = next((p for p in (pb.packed_floats(found, n) for n in (6, 5, 3)) if p), ())
        out[int(cid)] = DeckConfig(
            id=int(cid),
            name=str(name),
            fsrs_params=params,
            desired_retention=pb.float32(found, 37),
            learn_steps=pb.packed_floats(found, 1),
            relearn_steps=pb.packed_floats(found, 2),
            new_per_day=pb.first_int(found, 9),
            reviews_per_day=pb.first_int(found, 10),
            maximum_interval=pb.first_int(found, 16) or None,
            raw=bytes(config),
        )
    return out
