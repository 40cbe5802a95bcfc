"""A text deck file (`.txt/.csv/.tsv`) as `decks add` reads it: Anki's plain-text notes, unless
the file is one of the other text files a student keeps beside their decks — a missed-question
log or a self-assessment's score report. Anki's reader takes any file of two columns or more,
so `decks add missed.csv` made 16 flashcards of a UWorld log ("question_id" on the front of
one); such a file is now refused with the command that reads it, nothing loaded."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from flashcore.core.errors import DeckFormatError, Problem, QbankFormatError
from flashcore.core.model import DeckSpec
from flashcore.importers.anki_text import parse_anki_text
from flashcore.importers.qbank import FORMAT_WORDS, AttemptSpec, parse_qbank
from flashcore.importers.qbank.columns import column_roles
from flashcore.importers.score_report import looks_like_report

HEAD_BYTES = 65_536  # a log is recognised by its first rows

_NO_DATE = date(2000, 1, 1)


# Anki's own header lines (`#separator:tab`, `#columns:…`): the file is Anki's, not a log.
_ANKI_HEADER = re.compile(rb"\s*#[a-z ]+:", re.IGNORECASE)


def parse_text_deck(path: Path) -> list[DeckSpec]:
    """`parse_anki_text(path)`, after refusing a missed-question log or a score report (one
    problem naming the command that loads it). Raises DeckFormatError."""
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DeckFormatError([Problem(where, None, f"cannot read: {exc.strerror}")]) from None
    other = _other_kind(data, where)
    if other is not None:
        raise DeckFormatError([Problem(where, None, other)])
    return parse_anki_text(path, _header_as_columns(data))


# A plain header row's names -> Anki's `#columns:` names (others stay fields nobody shows)
_COLUMN_NAMES = {
    **dict.fromkeys(("question", "front", "prompt"), "front"),
    **dict.fromkeys(("answer", "back", "response"), "back"),
    **dict.fromkeys(("extra", "notes", "explanation"), "extra"),
    **dict.fromkeys(("id", "guid", "noteid"), "guid"),
    **dict.fromkeys(("tags", "tag"), "tags"),
    "deck": "deck",
}


def _header_as_columns(data: bytes) -> bytes:
    """A first row that names a card's sides (`ID,Question,Answer,Topic`) is a header, not a
    note: read as Anki's `#columns:` line, so that its names place the fields (the question on
    the front whatever its column) and it makes no card of its own."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _ANKI_HEADER.match(data):
        return data
    end = data.find(b"\n")
    first, rest = (data, b"") if end < 0 else (data[:end], data[end:])
    if not first.strip() or not _names_a_back(first):
        return data
    parts = re.split(r"([,\t;|])", first.decode("utf-8-sig", "replace").rstrip("\r"))
    for i in range(0, len(parts), 2):
        name = parts[i].strip().strip('"').strip()
        parts[i] = _COLUMN_NAMES.get("".join(filter(str.isalnum, name.lower())), name.lower())
    return ("#columns:" + "".join(parts)).encode() + rest


def _other_kind(data: bytes, where: str) -> str | None:
    """What the file is if it is not a deck: a score report or a missed-question log."""
    head = data[:HEAD_BYTES]
    if b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # binary: Anki's reader says what it looks like
    if looks_like_report(head):
        return (
            "a self-assessment's score report, not a deck: load it with "
            f"`flashcore assess add NAME SCORE --report {where}`"
        )
    if _ANKI_HEADER.match(head):
        return None
    if len(data) > HEAD_BYTES:
        head = head[: head.rfind(b"\n") + 1]
    try:
        log = parse_qbank(head, path=where, default_date=_NO_DATE)
    except QbankFormatError:
        return None  # some row is no question row: a deck, read as one
    if not log.attempts or (log.format == "csv" and not any(map(_logged, log.attempts))):
        return None  # a table whose only log-like column is an id (`id,front,back`): a deck
    if log.format == "csv" and _names_a_back(head):
        return None  # `ID,Question,Answer,Topic`: a deck's header, whatever else it names
    if log.format == "uworld" and not any(map(_timed, log.attempts)):
        return None  # `135-145<tab>Normal sodium`: a deck of ranges, not UWorld's % and time
    rows = len(log.attempts)
    more = "+" if len(data) > HEAD_BYTES else ""
    kind = FORMAT_WORDS.get(log.format, log.format)
    return (
        f"a missed-question log ({kind}, {rows}{more} question{'' if rows == 1 else 's'}), "
        "not a deck: "
        f"load it with `flashcore qbank import {where}`"
    )


def _logged(attempt: AttemptSpec) -> bool:
    """Whether a CSV row says more than a question id: a date, a subject, system, category or
    topic, a time or the share of others correct."""
    a = attempt
    return (
        a.on_date != _NO_DATE
        or any((a.subject, a.system, a.category, a.topic))
        or a.seconds is not None
        or a.others is not None
    )


def _timed(attempt: AttemptSpec) -> bool:
    """Whether a row read as a UWorld paste has what only the results table has: the share of
    others correct, the time taken or a date (a deck whose front is a range has none)."""
    return attempt.others is not None or attempt.seconds is not None or attempt.on_date != _NO_DATE


_DECK_COLUMNS = {"answer", "back", "front", "prompt", "response"}  # a card's sides; a log
# says "your answer", "correct answer", "your response"
_LOG_ONLY = ("result", "date", "seconds", "others")  # columns a deck does not have


def _names_a_back(head: bytes) -> bool:
    """Whether the table's first line is a header naming a card's side (`Answer`, `Back`,
    `Prompt`) and nothing only a log has (a result, a date, a time: `QID,Result,Date,Response`
    is a log of the letters chosen)."""
    for line in head.decode("utf-8-sig", "replace").splitlines():
        if line.strip():
            cells = re.split(r"[,\t;|]", line)
            if not any(
                "".join(filter(str.isalnum, cell.lower())) in _DECK_COLUMNS for cell in cells
            ):
                return False
            roles, _ = column_roles(cells)
            return not any(role in roles for role in _LOG_ONLY)
    return False
