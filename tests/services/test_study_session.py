"""StudySession keeps today's queue between answers and agrees with a fresh rebuild."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import event

from flashcore.core.errors import StaleCardError
from flashcore.core.model import Rating
from flashcore.services import study
from tests.conftest import SMALL_DECK, write_deck


def test_session_queue_matches_a_rebuild_after_each_answer(fc_sqlite, clock, tmp_path):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    session = study.StudySession(fc)
    seen = []
    for _ in range(3):
        q = session.queue()
        fresh = study.build_queue(fc, limit=1)
        assert [i.card_id for i in q.items] == [i.card_id for i in fresh.items]
        assert (q.new, q.review) == (fresh.new, fresh.review)
        card = q.items[0]
        seen.append(card.card_id)
        session.answered(study.answer(fc, card.card_id, Rating.GOOD))
    # The cloze sibling was buried with the first answer: three notes, three cards shown.
    assert len(set(seen)) == 3
    # Nothing else is left: learning cards due within 20 minutes are shown early (Anki's rule),
    # the same card a full rebuild picks.
    q = session.queue()
    assert q.items[0].card_id == seen[0] == study.build_queue(fc, limit=1).items[0].card_id
    clock.advance(timedelta(minutes=11))
    again = session.queue()
    assert again.items[0].kind == "learning" and again.items[0].card_id == seen[0]
    assert again.learning == 3


def test_invalidate_picks_up_changes_made_elsewhere(fc_sqlite, tmp_path):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    session = study.StudySession(fc)
    first = session.queue().items[0].card_id
    study.set_cards(fc, "suspend", [first])
    session.invalidate()
    assert session.queue().items[0].card_id != first


def test_a_commit_elsewhere_is_picked_up_without_invalidate(fc_sqlite, tmp_path):
    # Another connection (here: the pool, as another window or a qbank import would be)
    # changes the collection; SQLite's data_version tells the session to rebuild.
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        first = session.queue().items[0].card_id
        study.set_cards(fc, "suspend", [first])
        assert session.queue().items[0].card_id != first


def test_a_commit_elsewhere_before_an_answer_is_picked_up_by_the_next_card(fc_sqlite, tmp_path):
    # The next card after an answer is chosen without a check of its own: the answer's
    # transaction saw, under the write lock, whether another connection had committed.
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        view = session.show(card)
        rest = [i.card_id for i in study.build_queue(fc).items if i.card_id != card]
        study.set_cards(fc, "suspend", rest[:1])  # another window, before this answer
        session.answer(card, Rating.GOOD, expect_version=view.version)
        shown = []
        for _ in range(6):
            q = session.queue(details=False)
            if not q.items:
                break
            nxt = q.items[0].card_id
            shown.append(nxt)
            view = session.show(nxt)
            session.answer(nxt, Rating.EASY, expect_version=view.version)
        assert rest[0] not in shown


def test_a_refused_answer_makes_the_next_card_check_for_other_commits(fc_sqlite, tmp_path):
    # A stale-card refusal proves another connection committed: the next `queue()` must not
    # trust the previous answer's check and serve the card answered elsewhere again.
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        a = session.queue(details=False).items[0].card_id
        session.answer(a, Rating.GOOD, expect_version=session.show(a).version)
        b = session._next_pending().card_id
        shown = session.show(b)
        study.answer(fc, b, Rating.GOOD)  # another window answers b
        with pytest.raises(StaleCardError):
            session.answer(b, Rating.GOOD, expect_version=shown.version)
        assert session.queue(details=False).items[0].card_id != b


def test_a_lost_connection_rebuilds_the_ranking(fc_sqlite, tmp_path):
    # data_version is counted per connection: after a reconnect the old count means nothing.
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        first = session.queue(details=False).items[0].card_id
        session._connection().invalidate()
        study.set_cards(fc, "suspend", [first])
        assert session.queue(details=False).items[0].card_id != first


def test_the_next_card_reads_no_database_after_an_answer(fc_sqlite, tmp_path):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    traced: list[str] = []
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        view = session.show(card)
        session.answer(card, Rating.GOOD, expect_version=view.version)
        session._connection().connection.driver_connection.set_trace_callback(traced.append)
        assert session.queue(details=False).items
        assert traced == []
        session.queue(details=False)  # a second look does check for other commits
        assert traced == ["PRAGMA data_version"]


def test_own_answers_do_not_rebuild_the_queue(fc_sqlite, tmp_path, monkeypatch):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        builds = []
        real = study.build_queue
        monkeypatch.setattr(study, "build_queue", lambda *a, **k: builds.append(1) or real(*a, **k))
        for _ in range(2):
            view = session.show(card)
            session.answer(card, Rating.GOOD, expect_version=view.version)
            card = session.queue(details=False).items[0].card_id
        assert builds == []


def test_session_answer_refuses_a_card_answered_in_another_window(fc, tmp_path):
    # Window A shows a card; window B answers it; A's answer (from the row it showed) is
    # refused by the version-guarded update, and nothing of A's is written.
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as a:
        card = a.queue().items[0].card_id
        view = a.show(card)
        study.answer(fc, card, Rating.GOOD)  # window B
        with pytest.raises(StaleCardError):
            a.answer(card, Rating.AGAIN, expect_version=view.version)
    assert study.show(fc, card).reps == 1


def test_session_answer_writes_the_same_as_a_plain_answer(fc, tmp_path, clock):
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        card = session.queue().items[0].card_id
        view = session.show(card)
        got = session.answer(card, Rating.GOOD, duration_ms=4000, expect_version=view.version)
    undone = study.undo(fc)
    assert undone[0].card_id == card
    again = study.answer(fc, card, Rating.GOOD, duration_ms=4000)
    assert again.schedule == got.schedule and again.buried_siblings == got.buried_siblings


def test_idle_checkpoints_the_wal_every_so_many_answers(fc_sqlite, tmp_path):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    seen: list[str] = []
    event.listen(fc.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    with study.StudySession(fc) as session:
        session.CHECKPOINT_EVERY = 2
        assert session.idle() is False  # nothing answered yet
        for _ in range(2):
            card = session.queue(details=False).items[0].card_id
            view = session.show(card)
            session.answer(card, Rating.GOOD, expect_version=view.version)
        assert not any("wal_checkpoint" in sql for sql in seen)  # never inside an answer
        assert session.idle() is True
        assert [sql for sql in seen if "wal_checkpoint" in sql] == [
            "PRAGMA wal_checkpoint(PASSIVE)"
        ]
        assert session.idle() is False  # counted again from zero
    with sqlite3.connect(fc.location) as conn:  # the log is in the database file now
        busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and log == done


def test_learning_count_includes_cards_due_within_learn_ahead_as_anki_counts(fc, tmp_path):
    # Press Again on a new card: it is due in a minute, and the learning count shows it at once
    # (in the session and in a fresh build alike).
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        before = session.queue()
        card = before.items[0].card_id
        view = session.show(card)
        session.answer(card, Rating.AGAIN, expect_version=view.version)
        after = session.queue()
        assert after.learning == before.learning + 1
        assert after.items[0].card_id != card  # not shown again before its step is due
    assert study.build_queue(fc).learning == after.learning


def _log_rows(fc, card_id):
    from sqlalchemy import text

    with fc.engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT due_before, packed_before, buried_siblings FROM review_logs "
                "WHERE card_id = :c ORDER BY id"
            ),
            {"c": card_id},
        ).all()


def test_a_shown_card_is_answered_in_one_statement_on_postgresql_and_chained_as_before(
    fc, tmp_path, clock
):
    # Once the scheduler is known, an answer to the card as shown reads nothing and writes
    # once: on PostgreSQL one statement (no BEGIN/COMMIT), the log row chained by the same rule.
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    statements = []
    with study.StudySession(fc) as session:
        first = session.queue().items[0].card_id
        session.answer(first, Rating.AGAIN, expect_version=session.show(first).version)
        second = session.queue().items[0].card_id  # its answer finds the scheduler recorded
        session.answer(second, Rating.GOOD, expect_version=session.show(second).version)
        clock.advance(timedelta(minutes=11))
        view = session.show(first)

        def seen(conn, cursor, statement, *rest):
            statements.append(statement)

        event.listen(fc.engine, "before_cursor_execute", seen)
        try:
            session.answer(first, Rating.GOOD, expect_version=view.version)
        finally:
            event.remove(fc.engine, "before_cursor_execute", seen)
    if fc.engine.dialect.name == "postgresql":
        assert len(statements) == 1 and statements[0].startswith("WITH")
    rows = _log_rows(fc, first)
    # the second follows the first exactly: chained (schema 0017: no due before, nothing packed)
    assert [r.due_before is None for r in rows] == [False, True]
    assert rows[1].packed_before is None
    assert study.undo(fc)[0].card_id == first  # and undoes exactly
    assert study.show(fc, first).reps == 1


def test_a_one_statement_answer_to_a_card_changed_elsewhere_writes_nothing(fc, tmp_path):
    # The version-guarded update finds nothing: no log row, no sibling buried, refused.
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    cloze = sorted(c["card_id"] for c in fc.cards() if c["note_key"] == "imm:t1-cells")
    card, sibling = cloze
    with study.StudySession(fc) as session:
        other = next(c["card_id"] for c in fc.cards() if c["card_id"] not in cloze)
        session.answer(other, Rating.GOOD, expect_version=session.show(other).version)
        view = session.show(card)
        study.set_cards(fc, "suspend", [card])  # another window changes the card and back
        study.set_cards(fc, "unsuspend", [card])
        with pytest.raises(StaleCardError):
            session.answer(card, Rating.AGAIN, expect_version=view.version)
    assert study.show(fc, card).reps == 0
    assert _log_rows(fc, card) == []
    assert not next(c for c in fc.cards() if c["card_id"] == sibling)["buried"]


def test_prepare_rebuilds_after_a_commit_elsewhere_so_the_next_card_does_not(
    fc_sqlite, tmp_path, monkeypatch
):
    # While the student reads, `prepare` takes in what another connection committed (a
    # finished import, another window): the next card after the answer needs no rebuild.
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        first = session.queue(details=False).items[0].card_id
        view = session.show(first)
        assert session.prepare() is False  # nothing changed elsewhere
        rest = [i.card_id for i in study.build_queue(fc).items if i.card_id != first]
        study.set_cards(fc, "suspend", rest[:1])  # another window, while the card is read
        builds = []
        real = study.build_queue
        monkeypatch.setattr(study, "build_queue", lambda *a, **k: builds.append(1) or real(*a, **k))
        assert session.prepare() is True
        assert builds == [1]
        session.answer(first, Rating.GOOD, expect_version=view.version)
        nxt = session.queue(details=False).items[0].card_id
        assert builds == [1]  # already built while the card was read
        assert nxt not in (first, rest[0])


def test_prepare_leaves_the_queue_alone_while_an_import_runs(fc_sqlite, tmp_path, monkeypatch):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        first = session.queue(details=False).items[0].card_id
        running = [True]
        asked = []
        monkeypatch.setattr(session, "_importing", lambda: asked.append(1) or running[0])
        study.set_cards(fc, "suspend", [first])  # a commit, as an import's steps make
        assert session.prepare() is False
        assert session.prepare() is False
        assert asked == [1, 1]  # prepare asks each time (it is off the key's path) ...
        assert session.queue(details=False).items[0].card_id == first
        assert asked == [1, 1]  # ... the key's queue() trusts an answer a moment old
        running[0] = False
        assert session.prepare() is True  # the import is done: rebuilt while reading
        assert session.queue(details=False).items[0].card_id != first


def test_an_invalidate_during_prepare_still_rebuilds_the_next_queue(fc_sqlite, tmp_path):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        first = session.queue(details=False).items[0].card_id
        study.set_cards(fc, "bury", [first])
        real = session._rebuild

        def rebuild_then_invalidated(now):
            real(now)
            session.invalidate()  # the screen's bury, while the rebuild ran in a worker

        session._rebuild = rebuild_then_invalidated
        assert session.prepare() is True
        session._rebuild = real
        assert session._pending is None  # the overlapped rebuild is not trusted
        assert session.queue(details=False).items[0].card_id != first


def test_prepare_waits_for_nothing_while_an_answer_holds_the_session(fc_sqlite, tmp_path):
    import threading

    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        first = session.queue(details=False).items[0].card_id
        study.set_cards(fc, "suspend", [first])
        result = []
        with session._lock:  # an answer being written in another thread
            t = threading.Thread(target=lambda: result.append(session.prepare()))
            t.start()
            t.join(timeout=5)
        assert result == [False]
        assert session.prepare() is True


def test_a_new_card_answered_after_an_import_reordered_the_ranking_spends_todays_new_limit(
    fc_sqlite, tmp_path
):
    # The reviewer shows a new card; meanwhile a qbank import (another process) makes the other
    # topic weak and `prepare` rebuilds the ranking while the student reads: the shown card is
    # no longer among today's new cards. Its answer still spends one of them: the session's
    # counts stay a fresh queue's (the header once showed one new card too many), and no more
    # new cards are offered than the day's limit.
    from flashcore.services import qbank
    from tests.services.test_probe_cards import deck_text, topic_path
    from tests.weak_week import paste

    fc = fc_sqlite
    fc.config_set("new_per_day", "3")
    fc.add_decks([write_deck(tmp_path / "d.toml", deck_text(["Alpha", "Beta"]), key="d")])
    with study.StudySession(fc) as session:
        shown = session.queue().items[0]
        view = session.show(shown.card_id)
        other = "Beta" if shown.topics[0] == topic_path("Alpha") else "Alpha"
        rows = [(str(700000 + k), f"System {other}", f"System {other}", f"{other} disease")
                for k in range(4)]  # fmt: skip
        qbank.import_log(fc, paste(*rows), origin="elsewhere.tsv")
        assert session.prepare() is True
        assert shown.card_id not in {i.card_id for i in study.build_queue(fc).items}
        session.answer(shown.card_id, Rating.GOOD, expect_version=view.version)
        q = session.queue(details=False)
        fresh = study.build_queue(fc, limit=0)
        assert (q.new, q.learning, q.review) == (fresh.new, fresh.learning, fresh.review) == (
            2, 1, 0,
        )  # fmt: skip
        new_answered = 1
        while (q := session.queue(details=False)).items and q.items[0].kind == "new":
            card = q.items[0].card_id
            session.answer(card, Rating.GOOD, expect_version=session.show(card).version)
            new_answered += 1
        assert new_answered == 3


def test_closing_a_session_whose_connection_fails_to_roll_back_does_not_raise(
    fc_sqlite, tmp_path, monkeypatch
):
    # The reviewer closes its session when it quits; a second Ctrl+C quits while an answer in
    # a worker still waits for the write lock, and the close's rollback can race the worker's
    # ("cannot rollback - no transaction is active", seen once in the full suite): quitting must
    # not end in a traceback, and the connection is dropped.
    from sqlalchemy.exc import OperationalError

    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    session = study.StudySession(fc)
    session.queue()
    conn = session._conn
    assert conn is not None

    def racing_close() -> None:
        raise OperationalError("ROLLBACK", {}, sqlite3.OperationalError("no transaction"))

    monkeypatch.setattr(conn, "close", racing_close)
    session.close()
    assert conn.invalidated and session._conn is None
    assert study.build_queue(fc, limit=1).items  # the collection is fine


def test_closing_a_session_whose_close_fails_after_closing_does_not_raise(
    fc_sqlite, tmp_path, monkeypatch
):
    # SQLAlchemy's own close: when the rollback fails it still lets the connection go (closed,
    # its driver connection back to the pool) and then raises; invalidating it would raise
    # again ("This Connection is closed", seen in the full suite after the fix above).
    from sqlalchemy.exc import OperationalError

    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    session = study.StudySession(fc)
    session.queue()
    conn = session._conn
    assert conn is not None
    real_close = conn.close

    def racing_close() -> None:
        real_close()
        raise OperationalError("ROLLBACK", {}, sqlite3.OperationalError("no transaction"))

    monkeypatch.setattr(conn, "close", racing_close)
    session.close()
    assert conn.closed and session._conn is None
    assert study.build_queue(fc, limit=1).items


def test_prepare_refreshes_a_postgresql_ranking_before_a_key_would(fc, tmp_path):
    # PostgreSQL has no data_version: the ranking is rebuilt every REFRESH_SECONDS. prepare()
    # (while the student reads) does it PREPARE_AHEAD_S early, so that it is not a key's.
    if fc.engine.dialect.name == "sqlite":
        pytest.skip("SQLite sees another connection's commit at once (data_version)")
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    age = study.StudySession.REFRESH_SECONDS - study.StudySession.PREPARE_AHEAD_S / 2
    with study.StudySession(fc) as session:
        session.queue(details=False)
        session._built_at -= age
        built = session._built_at
        session.queue(details=False)
        assert session._built_at == built  # not yet due for a key
        assert session.prepare() is True  # due for the quiet moment: rebuilt while reading
        assert session._built_at > built


def test_the_first_answer_of_a_session_is_followed_by_no_rebuild(fc, tmp_path, monkeypatch):
    # The session's connection opens with the first card shown, after the ranking was built
    # (on PostgreSQL the build reads on the pool): the ranking stands, and the next card after
    # the first answer is taken from it, not from a rebuild between the key and the card.
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    builds = []
    real = study.build_queue
    monkeypatch.setattr(study, "build_queue", lambda *a, **k: builds.append(1) or real(*a, **k))
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        view = session.show(card)
        session.prepare()
        session.answer(card, Rating.GOOD, expect_version=view.version)
        assert session.queue(details=False).items
    assert builds == [1]
