"""Exports: what an export reads: the notes in scope in note-id order, then their cards, topics, qids
and review history one slice of notes at a time, so an export holds one slice in memory
whatever the size of the collection and its history. Plain Core statements (no ORM object
per row); the caller holds one read transaction for the whole export."""

from __future__ import annotations

from array import array
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, bindparam, select

from flashcore.core.model import (
    AnswerRow,
    CardState,
    ExportCard,
    NoteKind,
    ReviewRecord,
)
from flashcore.storage.answer_rows import answer_rows
from flashcore.storage.tables import (
    cards,
    decks,
    note_qids,
    note_topics,
    notes,
    topics,
)
from flashcore.storage.types import from_micros, from_retention, to_micros

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

CHUNK = 900  # ids per IN list
ANSWERS_PER_BATCH = 5_000
_AT, _DUE = itemgetter(1), itemgetter(6)  # an AnswerRow's times
_STATES = tuple(CardState)  # by stored value: a tuple index, not an enum call per review


@dataclass(frozen=True, slots=True)
class NotesInScope:
    """The notes an export writes, known before any of them is read: their ids (ascending),
    their deck names in the order of each deck's first note, and their kinds."""

    note_ids: list[int]
    decks: tuple[str, ...]
    kinds: frozenset[NoteKind]


@dataclass(frozen=True, slots=True)
class ExportedNote:
    note_id: int
    key: str
    kind: NoteKind
    fields: dict[str, str]
    deck: str
    deck_key: str
    deck_source: str | None
    html: bool
    tags: tuple[str, ...]
    topics: tuple[str, ...]
    qids: tuple[str, ...]
    modified_at: datetime
    cards: tuple[ExportCard, ...]  # in scope only, by ord


def notes_in_scope(session: Executor, where: Any) -> NotesInScope:
    """The notes with at least one card matching `where` (a clause on `cards`)."""
    rows = session.execute(
        select(notes.c.id, decks.c.name, notes.c.kind)
        .join(decks, decks.c.id == notes.c.deck_id)
        .where(notes.c.id.in_(select(cards.c.note_id).where(where)))
        .order_by(notes.c.id)
    )
    note_ids: list[int] = []
    deck_names: dict[str, None] = {}
    kinds: set[str] = set()
    for note_id, deck, kind in rows:
        note_ids.append(note_id)
        deck_names.setdefault(deck)
        kinds.add(kind)
    return NotesInScope(note_ids, tuple(deck_names), frozenset(map(NoteKind, kinds)))


def exported_notes(session: Executor, where: Any, note_ids: Sequence[int]) -> list[ExportedNote]:
    """The notes `note_ids` (ascending, all in scope) with their cards matching `where`, by
    note id; `where=None`: all their cards (an export of the whole profile; SQLite then reads
    them by note id, where the profile's clause made it read every card of the profile for each
    slice of notes).

    Ids that fill most of their range (a whole-profile export) are read over that range, the
    rows of other notes skipped here: an expanding IN list of 500 ids cost SQLAlchemy more
    than the rest of the read."""
    c = cards.c
    ids = set(note_ids)
    dense = bool(note_ids) and note_ids[-1] - note_ids[0] < 2 * len(note_ids)
    bounds = {"b_lo": note_ids[0], "b_hi": note_ids[-1]} if dense else {"b_ids": list(note_ids)}
    cards_of: dict[int, list[ExportCard]] = {}
    wanted = _of_notes(c.note_id, dense)
    for row in session.execute(
        select(c.note_id, c.id, c.ord, c.state, c.due, c.step, c.stability, c.difficulty)
        .add_columns(c.last_review, c.reps, c.lapses, c.desired_retention, c.suspended, c.flagged)
        .add_columns(c.buried_until)
        .where(wanted if where is None else and_(where, wanted))
        .order_by(c.note_id, c.ord),
        bounds,
    ):
        note_id, card_id, ord_, state, due, step, stability, difficulty = row[:8]
        if note_id not in ids:
            continue
        last_review, reps, lapses, retention, suspended, flagged, buried_until = row[8:]
        cards_of.setdefault(note_id, []).append(
            ExportCard(
                card_id=card_id,
                ord=ord_,
                state=_STATES[state],
                due=due,
                step=step,
                stability=stability,
                difficulty=difficulty,
                last_review=last_review,
                reps=reps,
                lapses=lapses,
                desired_retention=retention,
                suspended=bool(suspended),
                flagged=bool(flagged),
                buried_until=buried_until,
            )
        )
    topics_of = _texts(session, _topics_statement(dense), bounds, ids)
    qids_of = _texts(session, _qids_statement(dense), bounds, ids)
    rows = session.execute(_notes_statement(dense), bounds)
    return [
        ExportedNote(
            note_id=nid,
            key=key,
            kind=NoteKind(kind),
            fields=dict(fields),
            deck=deck,
            deck_key=deck_key,
            deck_source=deck_source,
            html=bool(html),
            tags=tuple(tags or ()),
            topics=tuple(topics_of.get(nid, ())),
            qids=tuple(qids_of.get(nid, ())),
            modified_at=_modified(modified_at, anki_mod),
            cards=tuple(cards_of.get(nid, ())),
        )
        for nid, key, kind, fields, tags, modified_at, deck, html, deck_key, deck_source, anki_mod in rows
        if nid in ids
    ]


def review_records(session: Executor, card_ids: Sequence[int]) -> dict[int, list[ReviewRecord]]:
    """Each card's answers in the order given (by time, then log id), by card id."""
    out: dict[int, list[ReviewRecord]] = {}
    connection = session if isinstance(session, Connection) else session.connection()
    for start in range(0, len(card_ids), CHUNK):
        chunk = card_ids[start : start + CHUNK]
        if connection.dialect.name == "sqlite":
            try:
                out.update(_sqlite_reviews(connection, chunk))
                continue
            except ValueError:
                pass  # a time not in the stored form: SQLAlchemy's type reads it below
        out.update(_group(connection.execute(_reviews_statement(), {"b_ids": chunk})))
    return out


def answers_by_time(
    session: Executor, profile_id: int, where: Any = None
) -> Generator[list[AnswerRow], None, None]:
    """Every answer of this profile's cards (of those matching `where`, a clause on `cards`,
    when given), by time then log id, as `AnswerRow`s (plain numbers) in lists of
    `ANSWERS_PER_BATCH`.

    One pass along the review log's time index: the log is written in time order, so its pages
    are read in order and each once (reading it card by card touched most pages once per slice
    of cards, and needed a sort). On SQLite the driver's own rows, as stored: no object per
    answer but its tuple."""
    r, batch = answer_rows(*_ANSWER_NAMES).c, ANSWERS_PER_BATCH
    connection = session if isinstance(session, Connection) else session.connection()
    sqlite = connection.dialect.name == "sqlite"
    statement = _answers_statement().where(r.profile_id == profile_id)
    if where is not None:
        statement = statement.where(r.card_id.in_(select(cards.c.id).where(where)))
    if not sqlite:
        statement = statement.execution_options(yield_per=batch)  # a server-side cursor
    result = connection.execute(statement)
    try:
        if not sqlite:
            for typed in result.partitions():
                yield [(r[0], to_micros(r[1]), *r[2:6], to_micros(r[6]), *r[7:]) for r in typed]
            return
        cursor: Any = result.cursor  # the driver's rows: SQLAlchemy's would cost more than the rest
        while rows := cursor.fetchmany(batch):
            kinds = set(map(type, map(_AT, rows)))
            kinds.update(map(type, map(_DUE, rows)))
            yield rows if kinds == {int} else [_stored_times(r) for r in rows]
    finally:
        result.close()


def _stored_times(row: Any) -> AnswerRow:
    """A row whose times are not the integers `UTCMicros` writes on SQLite (text written before
    schema 0012, which its migration converts): read as `UTCMicros` reads them. SQLite orders
    such rows after every integer, so they come last, not in time order."""
    return (row[0], _micros(row[1]), *row[2:6], _micros(row[6]), *row[7:])


def _micros(value: Any) -> int:
    if isinstance(value, int):
        return value
    parsed = datetime.fromisoformat(value)
    return to_micros(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC))


def own_revlog_ids(session: Executor, where: Any) -> array[int]:
    """The Anki revlog ids the answers of the cards matching `where` already have, ascending
    (8 bytes each)."""
    r = answer_rows("card_id", "anki_revlog_id").c
    rows = session.execute(
        select(r.anki_revlog_id)
        .where(r.anki_revlog_id.is_not(None), r.card_id.in_(select(cards.c.id).where(where)))
        .order_by(r.anki_revlog_id)
    )
    return array("q", (revlog_id for (revlog_id,) in rows))


def _sqlite_reviews(
    connection: Connection, card_ids: Sequence[int]
) -> dict[int, list[ReviewRecord]]:
    """`review_records` on the driver's own rows, each stored time (UTC microseconds) converted
    here as `UTCMicros` converts it: SQLAlchemy's row and type handling cost more than the rest of
    the read (an export of 1,000,000 reviews reads every one)."""
    driver: Any = connection.connection.driver_connection
    rows = driver.execute(
        _sqlite_reviews_sql().format(",".join("?" * len(card_ids))), list(card_ids)
    )
    out: dict[int, list[ReviewRecord]] = {}
    parse, states = from_micros, _STATES
    history: list[ReviewRecord] = []
    last = None
    for card_id, at, rating, ms, before, after, due, s, d, dr, revlog_id in rows:
        if card_id != last:
            history = out[card_id] = []
            last = card_id
        reviewed, due_after = parse(at), parse(due)
        before_state, after_state = states[before], states[after]
        if dr.is_integer() and dr != 1.0:  # types.Retention: 1/10,000ths from 0.9
            dr = from_retention(dr)
        history.append(
            ReviewRecord(
                reviewed, rating, ms, before_state, after_state, due_after, s, d, dr, revlog_id
            )
        )
    return out


def _group(rows: Iterable[Any]) -> dict[int, list[ReviewRecord]]:
    out: dict[int, list[ReviewRecord]] = {}
    states = _STATES
    history: list[ReviewRecord] = []
    last = None
    for card_id, at, rating, ms, before, after, due, s, d, dr, revlog_id in rows:
        if card_id != last:
            history = out[card_id] = []
            last = card_id
        history.append(
            ReviewRecord(at, rating, ms, states[before], states[after], due, s, d, dr, revlog_id)
        )
    return out


def _texts(
    session: Executor, statement: Any, bounds: dict[str, Any], note_ids: set[int]
) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for note_id, text in session.execute(statement, bounds):
        if note_id in note_ids:
            out.setdefault(note_id, []).append(text)
    return out


def _modified(modified_at: datetime, anki_mod: int | None) -> datetime:
    """A note's modification time as an export gives it: its last change here, or the Anki copy's
    it took when that is later (a clock behind Anki's): the export back from Anki is then never
    older than that copy (`decks add` keeps a note whose package copy is older)."""
    if anki_mod is None or anki_mod <= modified_at.timestamp():
        return modified_at
    return datetime.fromtimestamp(anki_mod, UTC)


def _of_notes(column: Any, dense: bool) -> Any:
    """`column` is one of the notes: within their range when `dense`, else in their list."""
    if dense:
        return column.between(bindparam("b_lo"), bindparam("b_hi"))
    return column.in_(bindparam("b_ids", expanding=True))


@cache
def _notes_statement(dense: bool) -> Any:
    n = notes.c
    return (
        select(n.id, n.key, n.kind, n.fields, n.tags, n.modified_at, decks.c.name, decks.c.html)
        .add_columns(decks.c.key, decks.c.source, n.anki_mod)
        .join(decks, decks.c.id == n.deck_id)
        .where(_of_notes(n.id, dense))
        .order_by(n.id)
    )


@cache
def _topics_statement(dense: bool) -> Any:
    return (
        select(note_topics.c.note_id, topics.c.path)
        .join(topics, topics.c.id == note_topics.c.topic_id)
        .where(_of_notes(note_topics.c.note_id, dense))
        .order_by(topics.c.path)
    )


@cache
def _qids_statement(dense: bool) -> Any:
    q = note_qids.c
    return (
        select(q.note_id, q.source + ":" + q.qid)
        .where(_of_notes(q.note_id, dense))
        .order_by(q.source, q.qid)
    )


_REVIEW_NAMES = ("card_id", "reviewed_at", "rating", "duration_ms", "state_before",
                 "state_after", "due_after", "stability_after", "difficulty_after",
                 "desired_retention", "anki_revlog_id", "id")  # fmt: skip


@cache
def _sqlite_reviews_sql() -> str:
    """The SQL of `_reviews_statement` on SQLite, its card ids `{}` (a list of `?`)."""
    from sqlalchemy.dialects import sqlite

    names = _REVIEW_NAMES
    union = answer_rows(*names).element.compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
    )
    return (
        f"SELECT {', '.join(names[:-1])} FROM ({union}) AS answers"
        " WHERE card_id IN ({}) ORDER BY card_id, reviewed_at, id"
    )


_ANSWER_NAMES = ("card_id", "reviewed_at", "rating", "duration_ms", "state_before",
                 "state_after", "due_after", "difficulty_after", "anki_revlog_id", "id",
                 "profile_id")  # fmt: skip


@cache
def _answers_statement() -> Any:
    r = answer_rows(*_ANSWER_NAMES).c
    return select(
        r.card_id, r.reviewed_at, r.rating, r.duration_ms, r.state_before, r.state_after,
        r.due_after, r.difficulty_after, r.anki_revlog_id,
    ).order_by(r.reviewed_at, r.id)  # fmt: skip


@cache
def _reviews_statement() -> Any:
    r = answer_rows(*_REVIEW_NAMES).c
    return (
        select(
            r.card_id,
            r.reviewed_at,
            r.rating,
            r.duration_ms,
            r.state_before,
            r.state_after,
            r.due_after,
            r.stability_after,
            r.difficulty_after,
            r.desired_retention,
            r.anki_revlog_id,
        )
        .where(r.card_id.in_(bindparam("b_ids", expanding=True)))
        .order_by(r.card_id, r.reviewed_at, r.id)
    )
