"""The compact review log (schemas 0012 and 0017): an answer given to a card as its previous
answer left it is written chained (its before-state read from that row), undo restores the card
exactly from it, and a row deleted or rewritten first writes the next row's before-state out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from flashcore.core.model import Rating
from flashcore.services import study
from flashcore.storage.repos.answering import (
    CHAINED,
    before_state,
    given_review,
    unchain_successor,
)
from flashcore.storage.tables import cards, review_logs

SCHEDULE = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses",
            "desired_retention", "buried_until", "suspended", "leech")  # fmt: skip


def _card(fc: Any, card_id: int) -> tuple[Any, ...]:
    with fc.engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.select(*(cards.c[n] for n in SCHEDULE)).where(cards.c.id == card_id)
            ).one()
        )


def _rows(fc: Any, card_id: int) -> list[dict[str, Any]]:
    with fc.engine.connect() as conn:
        rows = conn.execute(
            sa.select(review_logs)
            .where(review_logs.c.card_id == card_id)
            .order_by(review_logs.c.id)
        ).all()
        return [given_review(dict(r._mapping)) for r in rows]


def _answer_three_times(fc: Any, clock: Any) -> tuple[int, list[tuple[Any, ...]]]:
    card_id = fc.cards()[0]["card_id"]
    states = [_card(fc, card_id)]
    for rating in (Rating.GOOD, Rating.AGAIN, Rating.GOOD):
        study.answer(fc, card_id, rating)
        states.append(_card(fc, card_id))
        clock.advance(timedelta(minutes=20))
    return card_id, states


def test_later_answers_are_chained_and_undo_restores_each_state_exactly(loaded_fc, clock):
    card_id, states = _answer_three_times(loaded_fc, clock)
    rows = _rows(loaded_fc, card_id)
    assert [r["chained"] for r in rows] == [False, True, True]
    assert all(rows[1][c] is None for c in CHAINED)
    for _ in range(3):
        states.pop()
        study.undo(loaded_fc)
        assert _card(loaded_fc, card_id)[:-2] == states[-1][:-2]  # every scheduling value
    assert _rows(loaded_fc, card_id) == []


def test_a_chained_row_reads_the_before_state_its_answer_started_from(loaded_fc, clock):
    card_id, states = _answer_three_times(loaded_fc, clock)
    rows = _rows(loaded_fc, card_id)
    with loaded_fc.engine.connect() as conn:
        second = before_state(conn, rows[1])
    assert not second["chained"]
    assert (
        second["stability_before"] == states[1][2] and second["difficulty_before"] == states[1][3]
    )
    assert second["due_before"] == states[1][4] and second["last_review_before"] == states[1][5]
    assert second["retention_before"] == states[1][8] and second["step_before"] == states[1][1]


def test_a_row_taken_away_first_writes_the_next_rows_before_state_out(loaded_fc, clock):
    card_id, _states = _answer_three_times(loaded_fc, clock)
    rows = _rows(loaded_fc, card_id)
    with loaded_fc.engine.connect() as conn:
        expected = before_state(conn, rows[2])
    with loaded_fc.engine.begin() as conn:
        unchain_successor(conn, card_id, rows[1]["id"])
        conn.execute(sa.delete(review_logs).where(review_logs.c.id == rows[1]["id"]))
    (_first, third) = _rows(loaded_fc, card_id)
    assert not third["chained"]
    assert {c: third[c] for c in CHAINED} == {c: expected[c] for c in CHAINED}


def test_a_row_is_stored_packed_and_compact(loaded_fc, clock):
    """Schema 0017: the retention as its difference from 0.9 in 1/10,000ths, no sibling as NULL, the rarely stored
    before-state in one column (NULL when chained), `due_before` NULL exactly when chained."""
    card_id, _states = _answer_three_times(loaded_fc, clock)
    with loaded_fc.engine.connect() as conn:
        raw = conn.exec_driver_sql(
            "SELECT desired_retention, buried_siblings, packed_before, due_before"
            f" FROM review_logs WHERE card_id = {card_id} ORDER BY id"
        ).all()
    if loaded_fc.engine.dialect.name == "sqlite":
        assert [r[0] for r in raw] == [0.0] * 3  # 0.9: no byte
    assert [r[1] for r in raw] == [None] * 3
    assert [r[2] is None for r in raw] == [True, True, True]  # a new card: nothing before
    assert [r[3] is None for r in raw] == [False, True, True]
    rows = _rows(loaded_fc, card_id)
    assert [r["desired_retention"] for r in rows] == [0.9] * 3
    assert [r["buried_siblings"] for r in rows] == [[]] * 3


def test_the_forgetting_signal_reads_each_chained_answer_as_its_row_before_says(loaded_fc, clock):
    """`review_outcomes` finds the row before each card's first answer of its window in one
    statement; it must give every answer the stability and last review that `before_state`
    gives it row by row, whatever the window's start (several days of answers, chained rows
    whose row before lies outside the window among them)."""
    from flashcore.storage.repos.review_log import review_outcomes

    start = clock.now()
    ids = [c["card_id"] for c in loaded_fc.cards()][:4]
    for day in range(40):
        for n, card_id in enumerate(ids):
            card = _card(loaded_fc, card_id)
            if card[4] <= clock.now():  # due: answer it (Again now and then)
                rating = Rating.AGAIN if (day + n) % 5 == 0 else Rating.GOOD
                study.answer(loaded_fc, card_id, rating)
        clock.advance(timedelta(days=1))
    review = crossing = 0
    with loaded_fc.engine.connect() as conn:
        every = conn.execute(
            sa.select(review_logs, cards.c.note_id)
            .join(cards, cards.c.id == review_logs.c.card_id)
            .order_by(review_logs.c.card_id, review_logs.c.id)
        ).all()
        for days in (0, 3, 9, 17, 30):
            since = start + timedelta(days=days)
            expected = []
            for row in every:
                values = given_review(dict(row._mapping))
                if values["reviewed_at"] < since or values["state_before"] != 2:
                    continue
                full = before_state(conn, values)
                if full["stability_before"] is None:
                    continue
                expected.append(
                    (row.note_id, values["reviewed_at"], full["stability_before"],
                     full["last_review_before"], values["elapsed_days"], values["rating"] == 1)
                )  # fmt: skip
            got = [
                (o.note_id, o.reviewed_at, o.stability, o.last_review, o.elapsed_days, o.lapsed)
                for o in review_outcomes(conn, loaded_fc.profile_id, since)
            ]
            assert got == expected, days
            review += len(expected)
            # a chained answer whose row before lies before the window (the one-statement read)
            crossing += sum(
                1
                for row in every
                if row.due_before is None
                and row.state_before == 2
                and row.reviewed_at >= since
                and given_review(dict(row._mapping))["chained"]
                and min(r.reviewed_at for r in every if r.card_id == row.card_id) < since
            )
    assert review > 10 and crossing > 0
