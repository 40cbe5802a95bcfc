"""What `flashcore doctor` finds and rewrites in the tables: rows whose parent is gone, due
dates no scheduler wrote, text that is not clean UTF-8 (see services.doctor for the policy)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, delete, exists, select, update
from sqlalchemy.types import LargeBinary

from flashcore.core import fsrs_adapter
from flashcore.core.model import Rating
from flashcore.core.text import clean_text, clean_value
from flashcore.storage.answer_rows import answer_rows
from flashcore.storage.models import Card, Deck, Note, Profile, ReviewLog
from flashcore.storage.tables import imported_answers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MIN_YEAR, MAX_YEAR = 2000, 9999
# What UTCDateTime writes on SQLite: naive UTC, a space, optional microseconds.
_SQLITE_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$")


# ---------------------------------------------------------------- orphans


IMPORTED = "imported_answers"  # `orphans` gives its rows by card id


def orphans(session: Session) -> dict[str, list[Any]]:
    """Child rows whose parent is missing: table -> rowids (review_logs -> ids)."""
    found: dict[str, set[Any]] = defaultdict(set)
    found["review_logs"] = set(
        session.execute(
            select(ReviewLog.id).where(~exists().where(Card.id == ReviewLog.card_id))
        ).scalars()
    )
    a = imported_answers.c  # keyed by (card, revlog id): its cards stand for its rows
    found[IMPORTED] = set(
        session.execute(
            select(a.card_id).distinct().where(~exists().where(Card.id == a.card_id))
        ).scalars()
    )
    if session.get_bind().dialect.name == "sqlite":
        for row in session.connection().exec_driver_sql("PRAGMA foreign_key_check").all():
            if row[1] is not None:
                found[str(row[0])].add(row[1])
    return {table: sorted(ids) for table, ids in found.items() if ids}


def delete_orphans(session: Session, found: dict[str, list[Any]]) -> dict[str, int]:
    """Delete the rows `orphans` found; how many per table."""
    counts: dict[str, int] = {}
    for table, ids in found.items():
        if table == "review_logs":
            result = session.execute(delete(ReviewLog).where(ReviewLog.id.in_(ids)))
            counts[table] = int(result.rowcount)  # type: ignore[attr-defined]
            continue
        if table == IMPORTED:
            gone = delete(imported_answers).where(imported_answers.c.card_id.in_(ids))
            counts[table] = int(session.execute(gone).rowcount)  # type: ignore[attr-defined]
            continue
        conn = session.connection()
        quoted = '"' + table.replace('"', '""') + '"'
        done = 0
        for rowid in ids:  # only SQLite reports other tables, by rowid
            done += conn.exec_driver_sql(f"DELETE FROM {quoted} WHERE rowid = ?", (rowid,)).rowcount
        counts[table] = done
    return counts


# ---------------------------------------------------------------- due dates


@dataclass(frozen=True, slots=True)
class BadDue:
    """A card whose due cannot be a real due date."""

    card_id: int
    profile_id: int
    state: int
    version: int


def impossible_dues(session: Session) -> list[BadDue]:
    """Cards whose due is NULL, not in the stored format, before 2000 or after 9999."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    rows = session.execute(
        select(Card.id, Card.profile_id, Card.state, Card.version, cast(Card.due, String))
    ).all()
    return [BadDue(r[0], r[1], r[2], r[3]) for r in rows if not _plausible_due(r[4], sqlite)]


def _plausible_due(text: str | None, sqlite: bool) -> bool:
    if text is None:
        return False
    if sqlite and not _SQLITE_STAMP.match(text):
        return False  # not what flashcore writes: an offset, a 'T', a number, junk
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return False
    return MIN_YEAR <= value.year <= MAX_YEAR


def answer_histories(
    session: Session, card_ids: list[int]
) -> dict[int, list[fsrs_adapter.PastAnswer]]:
    """Each card's answers in order, as a replay takes them."""
    history: dict[int, list[fsrs_adapter.PastAnswer]] = defaultdict(list)
    r = answer_rows("id", "card_id", "rating", "reviewed_at", "desired_retention",
                    "elapsed_days").c  # fmt: skip
    for log in session.execute(
        select(r.card_id, r.rating, r.reviewed_at, r.desired_retention, r.elapsed_days)
        .where(r.card_id.in_(card_ids))
        .order_by(r.card_id, r.reviewed_at, r.id)
    ):  # fmt: skip
        history[log.card_id].append(
            fsrs_adapter.PastAnswer(
                Rating(log.rating),
                log.reviewed_at,
                log.desired_retention,
                elapsed_days=log.elapsed_days,
            )
        )
    return history


# ---------------------------------------------------------------- text


@dataclass(frozen=True, slots=True)
class TextFix:
    table: str  # "notes" or "decks"
    row_id: int
    values: dict[str, Any]  # column -> its cleaned value


def _raw_text(raw: Any) -> tuple[str | None, bool]:
    """Stored text as str, and whether its bytes were not valid UTF-8."""
    if raw is None:
        return None, False
    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            return data.decode("utf-8", "replace"), True
    return str(raw), False


def _text_column(session: Session, column: Any) -> Any:
    # SQLite: read the bytes (invalid UTF-8 would fail to decode); PostgreSQL: the text.
    if session.get_bind().dialect.name == "sqlite":
        return cast(column, LargeBinary)
    return cast(column, String)


def broken_texts(session: Session) -> list[TextFix]:
    """Notes and decks whose text holds NUL characters, lone surrogates or bytes that are not
    UTF-8, with their cleaned values."""
    fixes: list[TextFix] = []
    for row in session.execute(
        select(Note.id, _text_column(session, Note.fields), _text_column(session, Note.tags))
    ):
        values: dict[str, Any] = {}
        for name, raw in (("fields", row[1]), ("tags", row[2])):
            text, mangled = _raw_text(raw)
            if text is None:
                continue
            try:
                data = json.loads(text, strict=False)
            except ValueError:
                continue  # not JSON at all: reported by nothing we can repair
            cleaned = clean_value(data)
            if mangled or cleaned != data:
                values[name] = cleaned
        if values:
            fixes.append(TextFix("notes", row[0], values))
    for row in session.execute(
        select(Deck.id, _text_column(session, Deck.name), _text_column(session, Deck.description))
    ):
        values = {}
        for name, raw in (("name", row[1]), ("description", row[2])):
            text, mangled = _raw_text(raw)
            if text is not None and (mangled or clean_text(text) != text):
                values[name] = clean_text(text)
        if values:
            fixes.append(TextFix("decks", row[0], values))
    return fixes


def write_texts(session: Session, fixes: list[TextFix]) -> int:
    for fix in fixes:
        if fix.table == "notes":
            session.execute(update(Note).where(Note.id == fix.row_id).values(**fix.values))
        else:
            session.execute(update(Deck).where(Deck.id == fix.row_id).values(**fix.values))
    return len(fixes)


# ---------------------------------------------------------------- profiles


def profile_settings(session: Session) -> list[tuple[int, str, dict[str, Any]]]:
    """Every profile of the database: (id, name, its stored settings)."""
    rows = session.execute(select(Profile.id, Profile.name, Profile.settings)).all()
    return [(pid, name, dict(raw or {})) for pid, name, raw in rows]
