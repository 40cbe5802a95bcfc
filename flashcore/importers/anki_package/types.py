"""What an Anki package holds, as typed values. The reader (`reader.py`) yields these; the notes
converter and the scheduling import build on them. Raw where Anki's meaning is subtle (card
scheduling columns, deck configs, revlog), so each consumer decides what a column means.

Times are Anki's: `mod` in seconds since the epoch, revlog and card ids in milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple

# Anki's stock kind of its image-occlusion note type (the note type's originalStockKind).
IMAGE_OCCLUSION_STOCK_KIND = 6


class PackageFormat(IntEnum):
    """The `meta` version of a package (Anki's PackageMetadata.Version)."""

    LEGACY_1 = 1  # no `meta`, `collection.anki2` (schema 11)
    LEGACY_2 = 2  # no `meta`, `collection.anki21` (schema 11)
    LATEST = 3  # `meta` 3: `collection.anki21b` zstd-compressed (schema 18), zstd media


class NoteTypeKind(StrEnum):
    STANDARD = "standard"
    CLOZE = "cloze"
    IMAGE_OCCLUSION = "image_occlusion"  # a cloze kind whose cards are drawn on an image


class CardType(IntEnum):
    """`cards.type`: where the card is in its life."""

    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


class CardQueue(IntEnum):
    """`cards.queue`: where the scheduler takes it from (negative: held out)."""

    USER_BURIED = -3
    SCHED_BURIED = -2
    SUSPENDED = -1
    NEW = 0
    LEARNING = 1  # intraday: `due` is a timestamp in seconds
    REVIEW = 2  # `due` is a day number counted from the collection's `crt`
    DAY_LEARNING = 3  # interday learning: `due` is a day number
    PREVIEW = 4


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """The package as a whole. `collection_config` is Anki's `config` table (schema 18) or
    `col.conf` (schema 11), JSON-decoded: `rollover`, `creationOffset`, `sched`... when set."""

    path: str
    format: PackageFormat
    schema_version: int  # col.ver: 11 for the legacy formats, 18 for the latest
    is_colpkg: bool  # a whole collection (`.colpkg`) rather than a deck export
    crt: int  # collection creation, seconds since the epoch (review `due` counts days from it)
    collection_config: dict[str, Any] = field(default_factory=dict)

    @property
    def rollover_hour(self) -> int | None:
        value = self.collection_config.get("rollover")
        return value if isinstance(value, int) else None


@dataclass(frozen=True, slots=True)
class Template:
    """One card template: `front` and `back` are Anki's qfmt and afmt."""

    ord: int
    name: str
    front: str
    back: str


@dataclass(frozen=True, slots=True)
class NoteType:
    id: int
    name: str
    kind: NoteTypeKind
    fields: tuple[str, ...]  # field names, in order
    templates: tuple[Template, ...]
    original_stock_kind: int = 0  # Anki's OriginalStockKind (6: image occlusion), 0 unknown


class Note(NamedTuple):
    """A note as stored (an immutable tuple: an import reads 35,000, and a frozen dataclass
    takes ~5 times as long to make)."""

    id: int
    guid: str
    notetype_id: int
    mod: int  # seconds
    tags: tuple[str, ...]
    fields: tuple[str, ...]  # raw field HTML, in the note type's field order


@dataclass(frozen=True, slots=True)
class FsrsMemory:
    stability: float
    difficulty: float


class Card(NamedTuple):
    """A card with Anki's scheduling columns as they are stored (an immutable tuple: an import
    reads 48,000, and a frozen dataclass of 17 fields takes ~6 times as long to make)."""

    id: int
    note_id: int
    deck_id: int
    ord: int  # template index (standard) or cloze number - 1 (cloze)
    mod: int
    type: int  # CardType when known
    queue: int  # CardQueue when known
    due: int
    interval: int  # ivl: days (negative: seconds, for learning cards of old schedulers)
    factor: int  # ease in permille (2500 = 250 %); 0 for new cards
    reps: int
    lapses: int
    left: int
    original_due: int  # odue (in a filtered deck)
    original_deck_id: int  # odid (in a filtered deck)
    flags: int  # 0-7: the colour flag in the low 3 bits
    data: str  # JSON text: FSRS memory `s`, `d`, desired retention `dr`, `lrt`...

    @property
    def suspended(self) -> bool:
        return self.queue == CardQueue.SUSPENDED

    @property
    def buried(self) -> bool:
        return self.queue in (CardQueue.USER_BURIED, CardQueue.SCHED_BURIED)

    @property
    def home_deck_id(self) -> int:
        """The deck the card belongs to (its home deck when it sits in a filtered deck)."""
        return self.original_deck_id or self.deck_id

    def data_json(self) -> dict[str, Any]:
        """`data` decoded ({} when empty or not an object)."""
        if not self.data:
            return {}
        try:
            value = json.loads(self.data)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def memory(self) -> FsrsMemory | None:
        data = self.data_json()
        s, d = data.get("s"), data.get("d")
        if isinstance(s, int | float) and isinstance(d, int | float):
            return FsrsMemory(float(s), float(d))
        return None

    @property
    def desired_retention(self) -> float | None:
        value = self.data_json().get("dr")
        return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True, slots=True)
class Deck:
    """A deck; `name` uses `::` between levels. A filtered deck has no config (`config_id`
    None)."""

    id: int
    name: str
    config_id: int | None
    filtered: bool = False
    description: str = ""
    desired_retention: float | None = None  # the deck's own override (Anki 24.11+)


@dataclass(frozen=True, slots=True)
class DeckConfig:
    """A preset. The fields flashcore may use are decoded; `raw` keeps the rest (schema 18: the
    DeckConfig.Config protobuf bytes; schema 11: the JSON object)."""

    id: int
    name: str
    fsrs_params: tuple[float, ...] = ()  # the newest set present (FSRS-6, else 5, else 4)
    desired_retention: float | None = None
    learn_steps: tuple[float, ...] = ()  # minutes
    relearn_steps: tuple[float, ...] = ()  # minutes
    new_per_day: int | None = None
    reviews_per_day: int | None = None
    maximum_interval: int | None = None
    raw: bytes | dict[str, Any] = b""


@dataclass(frozen=True, slots=True)
class RevlogEntry:
    """One row of Anki's review log, raw."""

    id: int  # milliseconds since the epoch: when the answer was given; unique in a collection
    card_id: int
    usn: int
    ease: int  # button: 1-4 (0 for manual reschedules)
    interval: int  # days; negative: seconds
    last_interval: int
    factor: int
    taken_millis: int
    kind: int  # 0 learn, 1 review, 2 relearn, 3 filtered, 4 manual, 5 rescheduled


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A media file of the package: `name` as notes refer to it, `zip_name` its entry in the
    zip. Names are checked by the reader: a name with a path part is refused."""

    name: str
    zip_name: str
    size: int | None = None
    sha1: bytes | None = None


@dataclass(frozen=True, slots=True)
class PackageCounts:
    notes: int
    cards: int
    revlog: int
    media: int
    note_types: int
    decks: int
