"""The answers an export reads in one pass (`exports.answers_by_time`), on SQLite and
PostgreSQL: every answer of the cards in scope, by time then log id, as the plain numbers of
each answer (the same as the typed read gives, card by card)."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

from flashcore.core.model import Rating, answer_row, review_row
from flashcore.services import study
from flashcore.storage import repos
from flashcore.storage.repos import exports
from flashcore.storage.uow import reading


def _answer_in_turns(fc: Any, clock: Any) -> list[int]:
    card_ids = [c["card_id"] for c in fc.cards()]
    for turn in range(3):
        for card_id in reversed(card_ids):  # later cards first: log ids differ from card order
            study.answer(fc, card_id, Rating.AGAIN if turn == 1 else Rating.GOOD)
            if card_id % 2:
                clock.advance(timedelta(minutes=3))  # else the next answer has the same instant
        clock.advance(timedelta(days=2))
    return card_ids


def test_answers_come_by_time_then_log_id_with_their_cards_in_scope(
    loaded_fc: Any, clock: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(exports, "ANSWERS_PER_BATCH", 5)  # several batches
    fc = loaded_fc
    card_ids = _answer_in_turns(fc, clock)
    with reading(fc.engine) as session:
        records = exports.review_records(session, card_ids)  # by card, typed
        batches = list(exports.answers_by_time(session, fc.profile_id))
        where = repos.card_scope(session, fc.profile_id, None, None)
        scoped = [
            row for batch in exports.answers_by_time(session, fc.profile_id, where) for row in batch
        ]
    answers = [row for batch in batches for row in batch]
    assert [len(b) for b in batches[:-1]] == [5] * (len(batches) - 1)
    expected = [
        answer_row(card_id, review_row(record))
        for card_id, history in records.items()
        for record in history
    ]
    assert sorted(answers) == sorted(expected) and len(answers) == 3 * len(card_ids)
    assert [row[1] for row in answers] == sorted(row[1] for row in answers)  # by time
    same_instant = [(a[0], b[0]) for a, b in pairwise(answers) if a[1] == b[1]]
    assert same_instant and all(a > b for a, b in same_instant)  # then by log id
    assert scoped == answers


def test_times_stored_as_text_read_as_the_integers_would(
    fc_sqlite: Any, deck_path: Any, clock: Any
) -> None:
    """A row whose times are still text (written before schema 0012) reads as the same answer."""
    fc = fc_sqlite
    fc.add_decks([deck_path])
    _answer_in_turns(fc, clock)
    with reading(fc.engine) as session:
        before = [row for batch in exports.answers_by_time(session, fc.profile_id) for row in batch]
    with fc.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE review_logs SET reviewed_at = strftime('%Y-%m-%d %H:%M:%S', reviewed_at"
            " / 1000000, 'unixepoch') || '.' || printf('%06d', reviewed_at % 1000000),"
            " due_after = strftime('%Y-%m-%d %H:%M:%S', due_after / 1000000, 'unixepoch')"
            " || '.' || printf('%06d', due_after % 1000000) WHERE id % 2 = 0"
        )
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM review_logs WHERE typeof(reviewed_at) = 'text'"
        ).scalar()
    with reading(fc.engine) as session:
        after = [row for batch in exports.answers_by_time(session, fc.profile_id) for row in batch]
    assert sorted(after) == sorted(before)
