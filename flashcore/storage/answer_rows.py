"""The review log as its readers see it: the review log's own rows and the answers a first Anki
import took over (`imported_answers`, schema 0027) as one history, each imported answer with the
columns its review-log row would hold. Every reader of answers reads `answer_rows(...)`, never
`review_logs` alone; writers (an answer, undo, a merge) write the review log.

An imported answer's columns, as the first import's statement wrote them before schema 0027
(`importers.anki_revlog_sql`): its time is its revlog id's; the state it was answered in from
Anki's revlog type and whether it is the card's first answer; its state after from the interval
and the same; elapsed study days from the card's previous answer here (0 for the first); lapses
before, the Again answers in review before it; due and last review before, its previous answer's
due after and time (its own time for a first answer). It has no step, no memory before, stability
after 0.0 (none known) and difficulty after from Anki's factor. Its row id is 0: it sorts before
the review log's rows at equal times, as its id did (an import's rows came before the answers
given here after it), and nothing refers to it by id (`undo` never takes an imported answer back).

The previous answer's columns are looked up by the card's key (a correlated subquery, one seek
where a row's value needs it: a CASE evaluates only its branch), so a reader of a few recent
answers reads those alone, and a reader of every answer reads the table in its key's order with
one seek an answer at most per column (not a join: two seeks an answer, whatever it needs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Subquery,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from flashcore.storage.tables import review_logs
from flashcore.storage.tables_imported import imported_answers
from flashcore.storage.types import UTCMicros

IMPORTED_REASON = "answered in Anki"


class revlog_time(FunctionElement[Any]):
    """An Anki revlog id (epoch milliseconds) as the review log stores a time."""

    type = UTCMicros()
    inherit_cache = True


@compiles(revlog_time)
def _revlog_time_micros(element: Any, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} * 1000)"  # UTCMicros on SQLite


@compiles(revlog_time, "postgresql")
def _revlog_time_pg(element: Any, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"(TIMESTAMPTZ 'epoch' + {arg} * INTERVAL '1 millisecond')"


_NEW, _LEARNING, _REVIEW, _RELEARNING = 0, 1, 2, 3


class least(FunctionElement[Any]):
    """The smaller of two values (SQLite's two-argument `min`, PostgreSQL's `least`); where one
    is NULL, NULL on SQLite and the other on PostgreSQL: wrap it where that matters."""

    inherit_cache = True


@compiles(least)
def _least_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(least, "postgresql")
def _least_pg(element: Any, compiler: Any, **kw: Any) -> str:
    return f"least({compiler.process(element.clauses, **kw)})"


class _Imported:
    """The imported answers' derived columns, for one FROM of `imported_answers`."""

    def __init__(self) -> None:
        self.a = imported_answers.alias("ia")

    def previous(self, name: str) -> Any:
        """The card's previous answer's column `name`, NULL for its first answer: one seek by
        the key where it is evaluated (a CASE evaluates it only in the branch that needs it)."""
        a, q = self.a.c, imported_answers.alias("iq")
        return (
            select(q.c[name])
            .where(q.c.card_id == a.card_id, q.c.anki_revlog_id < a.anki_revlog_id)
            .order_by(q.c.anki_revlog_id.desc())
            .limit(1)
            .scalar_subquery()
            .correlate_except(q)
        )

    def first(self) -> Any:
        return self.previous("anki_revlog_id").is_(None)

    def column(self, name: str) -> Any:
        a = self.a.c
        if name in _STORED:
            return a[name]
        if name == "id":
            return literal(0, Integer)
        if name == "reviewed_at":
            return revlog_time(a.anki_revlog_id)
        if name == "reason":
            return literal(IMPORTED_REASON)
        if name == "state_before":
            return case(
                (a.kind == 0, case((self.first(), _NEW), else_=_LEARNING)),
                (a.kind == 1, _REVIEW),
                (a.kind == 2, _RELEARNING),
                else_=case((self.first(), _NEW), else_=_REVIEW),  # a filtered deck's
            )
        if name == "state_after":
            reviewing = or_(a.kind == 1, a.kind == 2, and_(a.kind == 3, ~self.first()))
            return case((a.interval > 0, _REVIEW), (reviewing, _RELEARNING), else_=_LEARNING)
        if name == "elapsed_days":  # the days since the previous answer, 0 for none or fewer
            return func.coalesce(a.day - least(self.previous("day"), a.day), 0)
        if name == "due_before":  # its own time for a first answer (due_after is never NULL)
            return func.coalesce(self.previous("due_after"), revlog_time(a.anki_revlog_id))
        if name == "last_review_before":  # NULL for a first answer
            return revlog_time(self.previous("anki_revlog_id"))
        if name == "lapses_before":
            return _lapses_before(a)
        if name == "difficulty_after":  # as the import's SQL computed it, constants and all
            factor = f"{self.a.name}.factor"
            return literal_column(
                f"CASE WHEN {factor} BETWEEN 100 AND 1100"
                f" THEN (CAST({factor} AS FLOAT) / 1000.0 - 0.1) * 9 + 1 ELSE 0.0 END",
                Float,
            )
        if name == "stability_after":
            return literal(0.0, Float)
        if name in ("packed_before", "step_after", "buried_siblings", "scheduler_id"):
            return null()
        if name == "leeched":
            return false()
        if name == "imported":
            return true()
        raise KeyError(f"no review-log column {name!r}")


_STORED = ("card_id", "profile_id", "rating", "duration_ms", "due_after", "desired_retention",
           "anki_revlog_id")  # fmt: skip


def _lapses_before(a: Any) -> Any:
    """Again answers in review before this one: a review row, or a filtered-deck row that is
    not the card's first answer."""
    q, m = imported_answers.alias("il"), imported_answers.alias("im")
    first = (
        select(func.min(m.c.anki_revlog_id))
        .where(m.c.card_id == a.card_id)
        .scalar_subquery()
        .correlate_except(m)
    )
    lapse = or_(q.c.kind == 1, and_(q.c.kind == 3, q.c.anki_revlog_id > first))
    return (
        select(func.count())
        .where(q.c.card_id == a.card_id, q.c.anki_revlog_id < a.anki_revlog_id,
               q.c.rating == 1, lapse)
        .scalar_subquery()
        .correlate_except(q)
    )  # fmt: skip


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _revlog_id_from(since: datetime) -> int:
    """The least revlog id whose time (`revlog_time`: its milliseconds as microseconds) is at
    or after `since` (aware)."""
    micros = (since - _EPOCH) // timedelta(microseconds=1)
    return -(-micros // 1000)


def imported_select(
    names: Sequence[str], card_ids: Sequence[int] | None = None, since: datetime | None = None
) -> Any:
    """The imported answers (of `card_ids` only, card by card in time order, when given; only
    those at or after `since`, when given) as review-log rows of the columns `names` (a SELECT)."""
    imported = _Imported()
    columns = [type_coerce(imported.column(n), review_logs.c[n].type).label(n) for n in names]
    query = select(*columns).select_from(imported.a)
    if since is not None:  # by the revlog id's index: the derived reviewed_at has none
        query = query.where(imported.a.c.anki_revlog_id >= _revlog_id_from(since))
    if card_ids is not None:
        a = imported.a.c
        query = query.where(a.card_id.in_(card_ids)).order_by(a.card_id, a.anki_revlog_id)
    return query


# Every column of a review-log row, and those it is written with (its id left to the database).
REVIEW_LOG_COLUMNS = tuple(c.name for c in review_logs.c)
_WRITTEN = tuple(name for name in REVIEW_LOG_COLUMNS if name != "id")


def move_to_review_log(session: Any, card_ids: Sequence[int]) -> int:
    """Move these cards' imported answers into the review log, each as the whole row a first
    import wrote before schema 0027 (in time order: their ids ascend with it), before their
    rows are rewritten (a merge with answers given here). How many moved."""
    moved = 0
    ids = sorted(set(card_ids))
    for start in range(0, len(ids), 500):  # SQLite's bound parameters, in chunks
        chunk = ids[start : start + 500]
        session.execute(
            insert(review_logs).from_select(list(_WRITTEN), imported_select(_WRITTEN, chunk))
        )
        moved += session.execute(
            delete(imported_answers).where(imported_answers.c.card_id.in_(chunk))
        ).rowcount
    return moved


@cache
def _answer_rows(names: tuple[str, ...]) -> Subquery:
    native = select(*(review_logs.c[n] for n in names))
    return union_all(native, imported_select(names)).subquery("answers")


def answer_rows(*names: str, since: datetime | None = None) -> Subquery:
    """Every answer (the review log's and the imported ones) with the review-log columns
    `names`, as one subquery named `answers`: filter, group and order it by those columns
    (`answer_rows("card_id", "rating").c.rating`). Its filters reach both parts, so a read of
    a profile's recent answers reads the review log by its time index.

    `since`: only the answers at or after it, each part read from there by its time index (the
    imported answers' by revlog id: a filter on the derived `reviewed_at` cannot use it)."""
    if since is None:
        return _answer_rows(tuple(names))
    native = select(*(review_logs.c[n] for n in names)).where(review_logs.c.reviewed_at >= since)
    return union_all(native, imported_select(names, since=since)).subquery("answers")
