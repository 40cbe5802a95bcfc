"""The review session warms its connection up while the student reads the first card
(`StudySession.prepare`): the scheduler's id is looked up and the answer to the card on screen
is rehearsed, rolled back (PostgreSQL: its real statement matching no row; SQLite: the real
answer under a write lock taken only if free). It writes nothing, leaves no lock, and the first
answer after it is the same statements as any later one.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import event, text

from flashcore.core.model import Rating
from flashcore.services import study
from flashcore.services.context import Collection
from flashcore.storage.db import sqlite_path
from tests.conftest import SMALL_DECK, write_deck


def _snapshot(fc):
    """Every row an answer could write, and where the review log's ids stand."""
    with fc.engine.connect() as conn:
        shot = {
            name: conn.execute(text(f"SELECT * FROM {name} ORDER BY 1")).all()
            for name in ("cards", "review_logs", "schedulers")
        }
        if fc.engine.dialect.name == "postgresql":  # a rehearsal must not even take an id
            shot["next_log_id"] = conn.execute(
                text(
                    "SELECT last_value FROM pg_sequences"
                    " WHERE schemaname = current_schema() AND sequencename = :s"
                ),
                {"s": "review_logs_id_seq"},
            ).all()
        conn.rollback()
    return shot


def _statements(fc, action):
    seen: list[str] = []

    def note(conn, cursor, statement, *rest):
        seen.append(statement)

    event.listen(fc.engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(fc.engine, "before_cursor_execute", note)
    return seen


def _write_elsewhere_at_once(fc, card_id):
    """Another connection takes the answer's tables whole and writes the card, waiting for no
    lock: it fails if the warm-up left a transaction or a lock behind."""
    path = sqlite_path(fc.url)
    if path is not None:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")
            other.execute("UPDATE cards SET flagged = 1 WHERE id = ?", (card_id,))
            other.execute("COMMIT")
        finally:
            other.close()
        return
    with fc.engine.connect() as other, other.begin():
        other.execute(text("SET LOCAL lock_timeout = '2s'"))
        other.execute(text("LOCK TABLE cards, review_logs, schedulers IN ACCESS EXCLUSIVE MODE"))
        other.execute(text("UPDATE cards SET flagged = true WHERE id = :c"), {"c": card_id})


def _locks_held(fc, session):
    """PostgreSQL: the locks the session's backend holds (none while it is idle)."""
    if fc.engine.dialect.name != "postgresql":
        return []
    pid = session._conn.connection.dbapi_connection.info.backend_pid
    with fc.engine.connect() as conn:
        held = conn.execute(
            text("SELECT locktype, mode FROM pg_locks WHERE pid = :p"), {"p": pid}
        ).all()
        conn.rollback()
    return held


def test_the_warm_up_writes_nothing_and_leaves_no_lock(fc, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        # A profile that never answered: its scheduler is not recorded yet, and the warm-up
        # does not record it (the first answer does).
        card = session.queue(details=False).items[0].card_id
        session.show(card)
        before = _snapshot(fc)
        assert session.prepare() is False  # nothing to rebuild: the warm-up is not a rebuild
        assert _snapshot(fc) == before
        assert before["schedulers"] == []
        view = session.show(card)
        session.answer(card, Rating.GOOD, expect_version=view.version)
    # A new session (a new connection) with the scheduler recorded: the answer is rehearsed.
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        session.show(card)
        before = _snapshot(fc)
        rehearsed = _statements(fc, session.prepare)
        assert _snapshot(fc) == before
        writes = [
            s for s in rehearsed if s.lstrip().upper().startswith(("WITH", "UPDATE", "INSERT"))
        ]
        if fc.engine.dialect.name == "postgresql":
            # the answer's one statement, in both shapes (burying siblings or not), matching
            # no row
            assert len(writes) == 2 and sum("buried AS" in w for w in writes) == 1
        else:
            # SQLite: the real answer's statements in turn, siblings included, rolled back
            assert [w.split()[0] for w in writes] == ["UPDATE", "UPDATE", "INSERT"]
        assert _locks_held(fc, session) == []
        _write_elsewhere_at_once(fc, card)
        assert _snapshot(fc)["cards"] != before["cards"]


def test_the_first_answer_after_the_warm_up_is_what_a_later_answer_is(fc, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    study.answer(fc, next(c["card_id"] for c in fc.cards()), Rating.GOOD)  # scheduler recorded
    answers, rehearsals = [], []
    with study.StudySession(fc) as session:
        for _ in range(2):
            card = session.queue(details=False).items[0].card_id
            view = session.show(card)
            rehearsals.append(_statements(fc, session.prepare))
            logs = _snapshot(fc)["review_logs"]
            said = _statements(
                fc, lambda c=card, v=view: session.answer(c, Rating.GOOD, expect_version=v.version)
            )
            answers.append(said)
            after = study.show(fc, card)
            assert (after.reps, after.version) == (view.reps + 1, view.version + 1)
            assert len(_snapshot(fc)["review_logs"]) == len(logs) + 1
    # The first answer looks nothing up (the scheduler's id was learnt while reading) ...
    assert not any("schedulers" in s for s in answers[0])
    # ... and runs only statements the rehearsal ran (compiled, planned: warm)
    assert set(answers[0]) <= set(rehearsals[0])
    if fc.engine.dialect.name == "postgresql":
        assert len(answers[0]) == len(answers[1]) == 1  # one statement, as later ones are
    assert rehearsals[1] == []  # once per connection: the second card is not rehearsed


def test_an_answer_given_while_the_warm_up_runs_is_written_once(fc, tmp_path, monkeypatch):
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    study.answer(fc, next(c["card_id"] for c in fc.cards()), Rating.GOOD)
    started, go = threading.Event(), threading.Event()
    real = Collection.learn_scheduler_id

    def slow_lookup(self, session):
        started.set()
        go.wait(timeout=10)
        return real(self, session)

    monkeypatch.setattr(Collection, "learn_scheduler_id", slow_lookup)
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        view = session.show(card)
        logs = len(_snapshot(fc)["review_logs"])
        prepared, answered, failed = [], [], []

        def answer():
            try:
                answered.append(session.answer(card, Rating.AGAIN, expect_version=view.version))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                failed.append(exc)

        warm = threading.Thread(target=lambda: prepared.append(session.prepare()))
        warm.start()
        assert started.wait(timeout=10)
        key = threading.Thread(target=answer)  # the student answers while the warm-up runs
        key.start()
        go.set()
        warm.join(timeout=30)
        key.join(timeout=30)
        assert failed == [] and prepared == [False]
        assert answered[0].card_id == card and answered[0].schedule.reps == view.reps + 1
    after = study.show(fc, card)
    assert (after.reps, after.version) == (view.reps + 1, view.version + 1)
    assert len(_snapshot(fc)["review_logs"]) == logs + 1


def test_a_card_suspended_elsewhere_is_not_rehearsed_and_nothing_changes(fc, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    study.answer(fc, next(c["card_id"] for c in fc.cards()), Rating.GOOD)
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        session.show(card)
        study.set_cards(fc, "suspend", [card])  # another window, while the card is read
        before = _snapshot(fc)
        session.prepare()
        assert _snapshot(fc) == before


def test_on_sqlite_the_warm_up_never_waits_for_the_write_lock_and_tries_again(fc_sqlite, tmp_path):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    study.answer(fc, next(c["card_id"] for c in fc.cards()), Rating.GOOD)
    with study.StudySession(fc) as session:
        session.show(session.queue(details=False).items[0].card_id)
        before = _snapshot(fc)
        other = sqlite3.connect(sqlite_path(fc.url), isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # an import writing while the card is read
            started = time.monotonic()
            held = _statements(fc, session.prepare)
            assert time.monotonic() - started < 5  # not the busy timeout (10 s)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert not any(s.startswith("INSERT") for s in held)  # not rehearsed ...
        again = _statements(fc, session.prepare)
        assert any(s.startswith("INSERT INTO review_logs") for s in again)  # ... until free
        assert _snapshot(fc) == before
