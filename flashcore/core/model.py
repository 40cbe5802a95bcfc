"""Values of the domain: ratings, card states, scheduling state, notes as read from files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum


class Rating(IntEnum):
    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4

    @classmethod
    def parse(cls, text: str) -> Rating:
        """`again|hard|good|easy` or `1-4`."""
        key = text.strip().lower()
        if key.isdigit() and 1 <= int(key) <= 4:
            return cls(int(key))
        try:
            return cls[key.upper()]
        except KeyError:
            raise ValueError(
                f"unknown rating {text!r}: use again, hard, good, easy or 1-4"
            ) from None

    @property
    def label(self) -> str:
        return self.name.capitalize()


class CardState(IntEnum):
    """Stored as a small integer. NEW means never answered."""

    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Memory:
    """FSRS memory of a card that has been answered at least once."""

    stability: float
    difficulty: float


@dataclass(frozen=True, slots=True)
class Schedule:
    """The scheduling state of one card; a value, replaced on every answer.

    A new card has `memory is None` and `last_review is None`; every answered card has both.
    """

    state: CardState
    due: datetime
    step: int | None = None
    memory: Memory | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0

    @property
    def is_new(self) -> bool:
        return self.state is CardState.NEW


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One answer as the review log keeps it: when, the rating, and the card's state before
    and after (what an export to Anki carries of it)."""

    reviewed_at: datetime
    rating: int
    duration_ms: int | None
    state_before: CardState
    state_after: CardState
    due_after: datetime
    stability_after: float
    difficulty_after: float
    desired_retention: float
    # The Anki revlog id the answer already has (imported from Anki, or exported before and
    # seen again): an export writes it as it is, so Anki and a later import recognize it.
    revlog_id: int | None = None


# One answer as plain numbers, for an export of a long history (no object per answer beyond the
# tuple the database driver makes): reviewed_at and due_after in UTC microseconds since the Unix
# epoch, state_before and state_after as CardState values, and the other fields of ReviewRecord
# in its order: (reviewed_at, rating, duration_ms, state_before, state_after, due_after,
# stability_after, difficulty_after, desired_retention, revlog_id).
ReviewRow = tuple[int, int, int | None, int, int, int, float, float, float, int | None]

# An answer as an Anki revlog row is made of it, its card in front: what an export reads in one
# pass over the review log, in time order, after it has written the cards: (card_id,
# reviewed_at, rating, duration_ms, state_before, state_after, due_after, difficulty_after,
# revlog_id), as in `ReviewRow` (no stability or retention: a revlog row has neither).
AnswerRow = tuple[int, int, int, int | None, int, int, int, float, int | None]


def answer_row(card: int, row: ReviewRow) -> AnswerRow:
    """`row`, an answer of `card`, as an `AnswerRow`."""
    return (card, *row[:6], row[7], row[9])


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def review_row(record: ReviewRecord) -> ReviewRow:
    """A `ReviewRecord` as a `ReviewRow` (times exact to the microsecond)."""
    return (
        (record.reviewed_at - _EPOCH) // _MICROSECOND, record.rating, record.duration_ms,
        int(record.state_before), int(record.state_after),
        (record.due_after - _EPOCH) // _MICROSECOND, record.stability_after,
        record.difficulty_after, record.desired_retention, record.revlog_id,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExportCard:
    """One card as an export carries it: `ord` is 0 for a basic note and N for cloze deletion
    cN; its scheduling state, and its answers (`reviews`, when the export takes history).
    `card_id`: the flashcore card it was read from (None for a card made elsewhere)."""

    ord: int
    state: CardState
    due: datetime
    step: int | None
    stability: float | None
    difficulty: float | None
    last_review: datetime | None
    reps: int
    lapses: int
    desired_retention: float | None
    suspended: bool
    flagged: bool
    reviews: tuple[ReviewRecord, ...] = ()
    card_id: int | None = None
    # The answers as plain numbers (an export that reads a long history gives these instead of
    # `reviews`); a card has one or the other.
    review_rows: tuple[ReviewRow, ...] = ()
    # Buried until then (by hand or as a sibling); an export after it ignores it.
    buried_until: datetime | None = None

    @classmethod
    def unstudied(cls, ord_: int, due: datetime, *, suspended: bool = False) -> ExportCard:
        """A card never answered: new, no memory state, no history."""
        return cls(ord_, CardState.NEW, due, None, None, None, None, 0, 0, None, suspended, False)


class NoteKind(StrEnum):
    BASIC = "basic"
    CLOZE = "cloze"


@dataclass(frozen=True, slots=True)
class NoteSpec:
    """A note as read from a file, before it meets the database.

    `local_id` is the card id inside its deck file (or the Anki GUID); the note key is
    `<deck key>:<local_id>`. Basic notes use fields `front`, `back`; cloze notes use `text`.
    Both may carry `extra`.
    """

    local_id: str
    kind: NoteKind
    fields: dict[str, str]
    topics: tuple[str, ...] = ()
    qids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    line: int | None = None
    # Cards (by ordinal) that start suspended when they are created (an Anki package's
    # suspended cards); a card that exists already keeps its own state.
    suspended: frozenset[int] = frozenset()
    # The note's card ordinals when the reader has worked them out already (an Anki package's
    # cloze notes: a second parse of 35,000 texts is ~1 s); None: from the fields.
    ordinals: tuple[int, ...] | None = None
    # A fingerprint the reader made of the note's source (an Anki package's note: its raw
    # fields, tags, note type and how flashcore reads them): a reload compares it with the
    # stored one instead of the converted fields. A `stub` is a note the reader found unchanged
    # by it and did not convert: it carries no fields and is never written.
    source_hash: str | None = None
    stub: bool = False
    # An Anki package's note: its modification time (Anki's `notes.mod`, seconds), stored with
    # the note when taken. `older`: a stub standing for a note whose package copy is older
    # than the one taken before (Anki's "update notes: if newer"): flashcore's is kept.
    anki_mod: int | None = None
    older: bool = False

    def key(self, deck_key: str) -> str:
        return f"{deck_key}:{self.local_id}"


@dataclass(frozen=True, slots=True)
class DeckSpec:
    """A deck as read from one file: its identity and its notes."""

    name: str
    key: str
    notes: tuple[NoteSpec, ...]
    description: str = ""
    html: bool = False
    path: str = ""
    warnings: tuple[str, ...] = field(default=())


# A basic note makes one card from `front`/`back` (and `extra`). A note imported from an Anki
# note type with several templates (Basic and reversed, optional reversed...) carries each
# further template's sides under `front@N`, `back@N`, `extra@N`, N being the template's number:
# one card per side pair, as Anki makes them. The first template's sides keep the plain names.
SIDE_SEPARATOR = "@"


def side_key(name: str, ordinal: int) -> str:
    return name if ordinal == 0 else f"{name}{SIDE_SEPARATOR}{ordinal}"


def basic_ordinals(fields: dict[str, str]) -> list[int]:
    """The cards of a basic note: 0 for `front` (when it is there), and N for each `front@N`."""
    extra = sorted(
        int(key.partition(SIDE_SEPARATOR)[2])
        for key in fields
        if key.startswith("front" + SIDE_SEPARATOR) and key.partition(SIDE_SEPARATOR)[2].isdigit()
    )
    first = [0] if "front" in fields or not extra else []
    return first + extra


def basic_sides(fields: dict[str, str], ordinal: int) -> tuple[str, str, str]:
    """(front, back, extra) of card `ordinal` of a basic note."""
    return (
        fields.get(side_key("front", ordinal), ""),
        fields.get(side_key("back", ordinal), ""),
        fields.get(side_key("extra", ordinal), ""),
    )
