"""What happened in one review session, for the header, undo and the summary at the end."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flashcore.core.errors import FlashcoreError
from flashcore.core.leech import Leeched
from flashcore.core.model import Rating

# An answer refused because the card changed since it was shown: another window or terminal
# answered it, or suspended, buried or removed it (`cards suspend`, `decks add --prune`).
# (short: it shows in the card's bottom border, ~76 cells at 80 columns)
STALE_NOTICE = "changed elsewhere (answered, suspended, removed): not saved"
# The same seen while the card was read, before it was answered: the reviewer moves on.
GONE_NOTICE = "changed elsewhere (answered, suspended, removed): on to the next"


# SQLite's words for what the student can act on, said short enough for the card's border (at
# most 96 columns: "the database refused it: database or disk is full" was cut before its end).
_DATABASE_TROUBLE = (
    (("disk is full", "no space"), "the disk is full: free some space"),
    (("readonly", "read-only"), "the file or its folder is read-only"),
    (("disk i/o error",), "the disk failed a write (full?)"),
    (("locked", "is busy"), "another flashcore holds the database"),
    (("malformed", "not a database"), "damaged database: `flashcore doctor`"),
)


def one_line(exc: BaseException) -> str:
    """An error as the reviewer says it: its first line; a database error by the database's
    own words (never the driver's exception name, as `(sqlite3.IntegrityError) ...`)."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    if not lines:
        return "an unexpected error (run `flashcore doctor`)"
    if orig is not None:
        lowered = lines[0].lower()
        for markers, said in _DATABASE_TROUBLE:
            if any(marker in lowered for marker in markers):
                return said
        return f"the database refused it: {lines[0]}"
    # flashcore's own errors are sentences; anything else (a KeyError says only 'x') is named
    # as unexpected
    return lines[0] if isinstance(exc, FlashcoreError) else f"an unexpected error: {lines[0]}"


@dataclass(frozen=True, slots=True)
class Answered:
    card_id: int
    rating: Rating
    reason: str
    topics: tuple[str, ...]
    duration_ms: int
    weak_topic: str | None = None  # the weak topic that brought the card, if one did
    review_id: int | None = None  # its review-log row, once written
    reviewed_at: datetime | None = None  # that row's time (`u` names the row by both)
    leeched: Leeched | None = None  # the answer made the card a leech (the summary names it)


@dataclass(slots=True)
class SessionRecord:
    """Answers committed in this session, in order (undo pops the last)."""

    deck: str | None
    topic: str | None
    started: float
    answers: list[Answered] = field(default_factory=list)
    postponed: int = 0  # cards the session's time budget left for tomorrow

    @property
    def scope(self) -> str:
        if self.topic:
            return f"topic {self.topic}"
        return self.deck or "All decks"

    def add(self, answered: Answered) -> None:
        self.answers.append(answered)

    def settle(
        self,
        card_id: int,
        review_id: int,
        reviewed_at: datetime | None = None,
        leeched: Leeched | None = None,
    ) -> None:
        """An answer added at the key (written behind the next card) is in: its row's id and
        time, and the leech it made."""
        for i in range(len(self.answers) - 1, -1, -1):
            a = self.answers[i]
            if a.card_id == card_id and a.review_id is None:
                self.answers[i] = replace(
                    a, review_id=review_id, reviewed_at=reviewed_at, leeched=leeched
                )
                return

    def written(self) -> set[tuple[int, int]]:
        """(review-log row, card) of this session's answers written so far."""
        return {(a.review_id, a.card_id) for a in list(self.answers) if a.review_id is not None}

    def drop_gone(self, looked: set[tuple[int, int]], kept: set[tuple[int, int]]) -> int:
        """Forget the answers whose rows were looked for (`looked`) and are gone from the
        database (not in `kept`): a backup restored, or `flashcore undo`, in another
        terminal. How many went."""
        before = len(self.answers)
        self.answers = [
            a
            for a in self.answers
            if (key := (a.review_id, a.card_id)) not in looked or key in kept
        ]
        return before - len(self.answers)

    def pop(self) -> Answered | None:
        return self.answers.pop() if self.answers else None

    @property
    def count(self) -> int:
        return len(self.answers)

    @property
    def cards(self) -> int:
        return len({a.card_id for a in self.answers})

    @property
    def again_rate(self) -> float | None:
        if not self.answers:
            return None
        return sum(a.rating is Rating.AGAIN for a in self.answers) / len(self.answers)

    def weak_topics(self) -> list[str]:
        """The weak topics whose cards were answered (each card counts for the weak topic that
        weights it, never for its other topics)."""
        seen: dict[str, None] = {}
        for a in self.answers:
            if a.weak_topic:
                seen.setdefault(a.weak_topic, None)
        return list(seen)

    def leeches(self) -> dict[int, Leeched]:
        """The cards this session's answers made leeches (undone answers are gone), each with
        its last such answer's leech."""
        return {a.card_id: a.leeched for a in self.answers if a.leeched is not None}


def plural(count: int, word: str) -> str:
    """`1 answer`, `2 answers`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def format_duration(seconds: float) -> str:
    """`mm:ss`, or `h:mm:ss` past an hour."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"
