"""The values the Anki writer is handed (it never sees the database): notes with their cards and
answers, the plan of a package, the summary of one written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from flashcore.core.model import ExportCard, NoteKind, ReviewRecord

# One flashcore review-log row (the core's value, under the name this module has always used).
ExportReview = ReviewRecord


@dataclass(frozen=True, slots=True)
class ExportNote:
    """One note: basic (fields front, back, extra?) or cloze (fields text, extra?)."""

    key: str
    kind: NoteKind
    fields: dict[str, str]
    deck_name: str
    html: bool
    tags: tuple[str, ...]
    topics: tuple[str, ...]
    qids: tuple[str, ...]
    modified_at: datetime
    cards: tuple[ExportCard, ...]
    guid: str | None = None  # the note's own Anki GUID (from a package); else from its key


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What a package holds, known before its notes are read: the number of notes expected
    (for progress: the notes written are counted as they come), the deck names in the order of
    their first note, and the note kinds."""

    notes: int
    decks: tuple[str, ...]
    kinds: frozenset[NoteKind]
    # The revlog ids the answers already have (`ExportReview.revlog_id`), ascending: no other
    # answer is given one of them.
    revlog_ids: Sequence[int] = ()
    # The profile's study day: review cards are due on its dates in Anki (whose day D is
    # 2020-01-01 + D in the phone's own local days), intervals count its days.
    zone: tzinfo = UTC
    day_start_hour: int = 4

    @classmethod
    def of(cls, notes: Sequence[ExportNote]) -> ExportPlan:
        decks = tuple(dict.fromkeys(note.deck_name for note in notes))
        ids = [review.revlog_id for note in notes for card in note.cards for review in card.reviews]
        ids += [row[9] for note in notes for card in note.cards for row in card.review_rows]
        own = sorted({revlog_id for revlog_id in ids if revlog_id is not None})
        return cls(len(notes), decks, frozenset(note.kind for note in notes), own)


@dataclass(frozen=True, slots=True)
class ExportSummary:
    notes: int
    cards: int
    bytes: int
    path: Path
    # Notes that came from Anki packages (written with their own GUIDs: `ExportNote.guid`)
    from_packages: int = 0
