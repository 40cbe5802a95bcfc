"""One answer is one transaction; SQLite connections are configured for safety; writes take the
lock up front (`BEGIN IMMEDIATE`)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flashcore.core.errors import StaleCardError
from flashcore.core.model import Rating
from flashcore.services.study import answer, build_queue, show
from flashcore.storage import repos
from flashcore.storage.models import Card, ReviewLog
from flashcore.storage.repos import answering as answering_repo
from flashcore.storage.uow import run_write


def cards_state(fc):
    return {c["card_id"]: c for c in fc.cards()}


def review_count(fc):
    with Session(fc.engine) as session:
        return session.execute(select(func.count()).select_from(ReviewLog)).scalar_one()


def cloze_cards(fc):
    return sorted(c["card_id"] for c in fc.cards() if c["note_key"] == "test:t1-cells")


def test_an_answer_writes_the_card_and_its_log_row_together(loaded_fc):
    first, sibling = cloze_cards(loaded_fc)
    result = answer(loaded_fc, first, Rating.GOOD, duration_ms=4200)
    assert review_count(loaded_fc) == 1
    with Session(loaded_fc.engine) as session:
        log = session.execute(select(ReviewLog)).scalar_one()
    assert log.id == result.review_id
    assert log.card_id == first
    assert log.rating == int(Rating.GOOD)
    assert log.duration_ms == 4200
    assert log.desired_retention == pytest.approx(0.9)
    assert log.state_before == 0
    assert log.state_after == 1
    assert log.reviewed_at == loaded_fc.now()
    assert log.buried_siblings == [sibling]
    assert cards_state(loaded_fc)[first]["reps"] == 1


def test_a_failure_after_the_card_update_rolls_back_the_whole_answer(loaded_fc, monkeypatch):
    first, sibling = cloze_cards(loaded_fc)
    before = cards_state(loaded_fc)

    def broken_insert(session, values):
        raise RuntimeError("disk on fire")

    written_at_once = answering_repo._write_answer_at_once

    def broken_after_writing(*args, **kwargs):  # PostgreSQL: the writes are one statement
        written_at_once(*args, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(answering_repo, "insert_review", broken_insert)
    monkeypatch.setattr(answering_repo, "_write_answer_at_once", broken_after_writing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        answer(loaded_fc, first, Rating.GOOD)
    assert cards_state(loaded_fc) == before  # the card and its buried sibling are unchanged
    assert review_count(loaded_fc) == 0
    monkeypatch.undo()
    answer(loaded_fc, first, Rating.GOOD)
    assert review_count(loaded_fc) == 1
    assert cards_state(loaded_fc)[sibling]["buried"] is True


def test_a_card_changed_since_it_was_shown_is_not_answered_twice(loaded_fc):
    card_id = cloze_cards(loaded_fc)[0]
    view = show(loaded_fc, card_id)
    answer(loaded_fc, card_id, Rating.GOOD, expect_version=view.version)
    with pytest.raises(StaleCardError):
        answer(loaded_fc, card_id, Rating.EASY, expect_version=view.version)
    assert review_count(loaded_fc) == 1
    assert cards_state(loaded_fc)[card_id]["reps"] == 1


def test_save_schedule_refuses_a_stale_version(loaded_fc):
    card_id = cloze_cards(loaded_fc)[0]

    def work(session):
        card = repos.load_card(session, loaded_fc.profile_id, card_id)
        stale = repos.save_schedule(
            session, card_id, card.version + 1, card.schedule, loaded_fc.now(), retention=None
        )
        fresh = repos.save_schedule(
            session, card_id, card.version, card.schedule, loaded_fc.now(), retention=None
        )
        return stale, fresh

    assert run_write(loaded_fc.engine, work) == (False, True)


def test_foreign_keys_are_enforced(loaded_fc):
    with Session(loaded_fc.engine) as session, pytest.raises(IntegrityError):
        session.execute(
            insert(Card).values(
                profile_id=loaded_fc.profile_id,
                note_id=987654,
                ord=0,
                state=0,
                due=loaded_fc.now(),
                reps=0,
                lapses=0,
                suspended=False,
                flagged=False,
                leech=False,
                weight=0.0,
                version=0,
                modified_at=loaded_fc.now(),
            )
        )
        session.commit()


def test_sqlite_connections_have_foreign_keys_wal_and_a_busy_timeout(fc_sqlite):
    with fc_sqlite.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_sqlite_writes_begin_immediate_and_reads_begin_deferred(loaded_sqlite_fc, request):
    fc = loaded_sqlite_fc
    card_id = cloze_cards(fc)[0]
    seen: list[str] = []

    def record(statement):
        words = statement.split()
        seen.append(" ".join(words[:2]).upper() if words[0].upper() == "BEGIN" else words[0])

    # What SQLite itself receives (BEGIN is sent on the driver's connection, past SQLAlchemy's
    # statement events).
    def trace(dbapi_connection, _record, _proxy):
        dbapi_connection.set_trace_callback(record)

    fc.engine.dispose()
    event.listen(fc.engine, "checkout", trace)
    request.addfinalizer(lambda: event.remove(fc.engine, "checkout", trace))
    build_queue(fc)
    reads = list(seen)
    seen.clear()
    answer(fc, card_id, Rating.GOOD)
    # The busy timeout is set around BEGIN IMMEDIATE (storage.db._begin_immediate polls).
    writes = [w for w in seen if w != "PRAGMA"]
    assert "BEGIN" in reads
    assert "BEGIN IMMEDIATE" not in reads
    assert writes[0] == "BEGIN IMMEDIATE", writes
    assert writes.count("BEGIN IMMEDIATE") == 1  # the answer is one write transaction
    assert "BEGIN" not in writes
