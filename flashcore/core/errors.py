"""The error hierarchy. Every error a user can cause is a FlashcoreError with a one-line message."""

from __future__ import annotations

from dataclasses import dataclass


class FlashcoreError(Exception):
    """Base of every error flashcore reports to a user as one line."""


class UsageError(FlashcoreError):
    """The command was called wrongly (exit code 2)."""


class ConfigError(FlashcoreError):
    """An unknown setting or a value out of range."""


class DatabaseError(FlashcoreError):
    """The database cannot be opened, is not flashcore's, or is from a newer flashcore."""


class DatabaseBusyError(DatabaseError):
    """Another connection held the write lock past the busy timeout; nothing was written, so
    the same write may simply be tried again."""


class PartlyLoadedError(FlashcoreError):
    """`decks add` loaded (committed) some files, then one failed to be written: the files
    before it stay loaded, it and those after it changed nothing. `reports`: every file's
    report (`services.deck_report.FileReport`, ok for the loaded ones); `path` and `cause`:
    the file that failed and why."""

    def __init__(self, path: str, cause: BaseException) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause
        self.reports: list[object] = []
        self.not_tried: list[str] = []  # the files after it, not written


class NotFoundError(FlashcoreError):
    """A card, deck, profile or batch that does not exist."""


class StaleCardError(FlashcoreError):
    """The card changed since it was shown (answered elsewhere)."""


class StaleReadError(FlashcoreError):
    """What a file was compared with when it was read changed before it was written (another
    process loaded it meanwhile); nothing was written, so it may simply be loaded again."""


class ClockError(FlashcoreError):
    """The clock moved backwards past the card's last review."""


class EarlierDayUndoError(FlashcoreError):
    """An undo would reach an answer of an earlier study day (its counts, streak and the
    cards' schedules were already built on it): refused unless asked for explicitly."""

    def __init__(self, message: str, *, answers: int, first_day: str) -> None:
        super().__init__(message)
        self.answers = answers  # how many of the answers to undo are of earlier days
        self.first_day = first_day  # the earliest such study day, ISO


class IdenticalLogError(FlashcoreError):
    """A missed-question log identical to a batch imported before: nothing added (its message
    names the command line's `--again`; the app says it its own way)."""

    def __init__(self, message: str, *, batch_id: int, imported_at: str) -> None:
        super().__init__(message)
        self.batch_id = batch_id
        self.imported_at = imported_at  # "YYYY-MM-DD HH:MM IST", in the profile's zone


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in an input file, with its place."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


class InputFileError(FlashcoreError):
    """A file with one or more problems; nothing from it was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid input"
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(first + more)


class DeckFormatError(InputFileError):
    """A deck file (TOML or Anki text) with problems."""


class QbankFormatError(InputFileError):
    """A missed-question log with problems. `whole_file`: no row could be read at all (not a
    text file, no question id column, no rows), which `--skip-invalid` cannot help."""

    def __init__(self, problems: list[Problem], *, whole_file: bool = False) -> None:
        super().__init__(problems)
        self.whole_file = whole_file


class ReportFormatError(InputFileError):
    """A self-assessment score report with problems."""


class AnkiPackageError(DeckFormatError):
    """An Anki package (`.apkg`, `.colpkg`) that cannot be read; nothing from it was written."""


class PackageMediaError(AnkiPackageError):
    """An Anki package's media file that could not be read or staged while its import wrote
    the database (`services.anki_import.MediaCopy`); its transaction was rolled back."""


class DamagedHistoryError(FlashcoreError):
    """An Anki package's review history no date can hold (found while its scheduling is
    written; `decks add` names the file); nothing from it was written."""
