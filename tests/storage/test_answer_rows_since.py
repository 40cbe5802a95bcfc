"""Readers of recent answers (`answer_rows(..., since=)`) read the imported answers from their
start by the revlog id's index (schema 0028) and get exactly the answers at or after it, at
any microsecond (an imported answer's time is its revlog id's milliseconds); a reader of the
whole history reads the imported answers in their key's order, each previous answer found by
the key (no join of the table to itself)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from flashcore.core.fsrs_adapter import Rating
from flashcore.services import study
from flashcore.storage.answer_rows import answer_rows
from flashcore.storage.tables import imported_answers
from flashcore.storage.uow import reading, run_write
from tests.conftest import NOW, SMALL_DECK, write_deck

T0 = int((NOW - timedelta(days=3)).timestamp() * 1000)  # a revlog id: epoch milliseconds
NAMES = ("card_id", "profile_id", "reviewed_at", "state_before", "elapsed_days", "rating")


def _with_answers(fc: Any, tmp_path: Path) -> list[int]:
    """Two cards with imported answers a millisecond apart, then a day apart; one answered
    here too (a review-log row). Their revlog ids."""
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK)])
    assert report.ok, report.problems
    cards = [c["card_id"] for c in fc.cards()[:2]]
    ids = [T0, T0 + 1, T0 + 86_400_000, T0 + 86_400_001]
    rows = [
        {"card_id": cards[i % 2], "anki_revlog_id": at, "profile_id": fc.profile_id,
         "rating": 3, "duration_ms": 4000, "kind": 0 if i < 2 else 1, "interval": 1,
         "factor": 2500, "day": 100 + i // 2, "due_after": NOW, "desired_retention": 0.9}
        for i, at in enumerate(ids)
    ]  # fmt: skip
    run_write(fc.engine, lambda s: s.execute(insert(imported_answers), rows))
    study.answer(fc, cards[0], Rating.GOOD, duration_ms=3000)
    return ids


def _read(fc: Any, rows: Any, since: Any = None) -> list[tuple[Any, ...]]:
    query = select(rows).order_by(rows.c.reviewed_at, rows.c.card_id)
    if since is not None:
        query = query.where(rows.c.reviewed_at >= since)
    with reading(fc.engine) as session:
        return [tuple(r) for r in session.execute(query)]


def test_answers_since_a_time_are_those_at_or_after_it_at_any_microsecond(fc, tmp_path):
    ids = _with_answers(fc, tmp_path)
    every = _read(fc, answer_rows(*NAMES))
    assert len(every) == 5
    start = NOW - timedelta(days=3)
    for since in (
        start - timedelta(days=1),
        start,  # exactly the first answer's millisecond
        start + timedelta(microseconds=1),  # between it and the next millisecond
        start + timedelta(microseconds=999),
        start + timedelta(milliseconds=1),
        start + timedelta(days=1, microseconds=500),
        NOW - timedelta(hours=1),  # only the answer given here
        NOW + timedelta(days=1),  # none
    ):
        assert _read(fc, answer_rows(*NAMES, since=since)) == _read(fc, answer_rows(*NAMES), since)
    got = _read(fc, answer_rows(*NAMES, since=start + timedelta(microseconds=1)))
    assert [row[2] for row in got][:2] == [every[1][2], every[2][2]]  # T0 + 1 ms first
    assert len(ids) == 4


def _plan(fc: Any, query: Any) -> str:
    """SQLite's query plan of `query`, its details one a line."""
    with fc.engine.connect() as conn:

        @event.listens_for(conn, "before_cursor_execute", retval=True)
        def explain(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> Any:
            return f"EXPLAIN QUERY PLAN {statement}", params

        return "\n".join(str(row[-1]) for row in conn.execute(query).cursor.fetchall())


def test_readers_of_recent_answers_seek_the_imported_ones_by_time(fc_sqlite, tmp_path):
    _with_answers(fc_sqlite, tmp_path)
    r = answer_rows("profile_id", "reviewed_at", "state_before", since=NOW - timedelta(days=1)).c
    plan = _plan(fc_sqlite, select(r.state_before, func.count()).group_by(r.state_before))
    assert "USING INDEX ix_imported_answers_anki_revlog_id (anki_revlog_id>?)" in plan, plan


def test_a_reader_of_every_answer_finds_each_previous_one_by_the_key_without_a_join(
    fc_sqlite, tmp_path
):
    _with_answers(fc_sqlite, tmp_path)
    r = answer_rows("card_id", "profile_id", "reviewed_at", "elapsed_days", "state_before").c
    plan = _plan(fc_sqlite, select(r.card_id, r.elapsed_days, r.state_before))
    assert "LEFT-JOIN" not in plan, plan
    assert (
        "SCAN ia" in plan and "SEARCH iq USING PRIMARY KEY (card_id=? AND anki_revlog_id<?)" in plan
    ), plan


@pytest.mark.parametrize(
    "name", ["elapsed_days", "due_before", "last_review_before", "state_after"]
)
def test_a_card_s_first_imported_answer_has_no_previous_one(fc, tmp_path, name):
    ids = _with_answers(fc, tmp_path)
    r = answer_rows("reviewed_at", "card_id", "elapsed_days", "due_before", "last_review_before",
                    "state_after", "state_before", "anki_revlog_id").c  # fmt: skip
    with reading(fc.engine) as session:
        rows = {
            row.anki_revlog_id: row._mapping
            for row in session.execute(select(r).where(r.anki_revlog_id.in_(ids)))
        }
    first, second = rows[ids[0]], rows[ids[2]]  # one card's first and second answer
    expect_first = {"elapsed_days": 0, "due_before": first["reviewed_at"],
                    "last_review_before": None, "state_after": 2}  # fmt: skip
    expect_second = {"elapsed_days": 1, "due_before": NOW, "last_review_before": first["reviewed_at"],
                     "state_after": 2}  # fmt: skip
    assert first[name] == expect_first[name]
    assert second[name] == expect_second[name]
