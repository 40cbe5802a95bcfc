"""The session's rebuild after another process's commit, done while the student reads
(`StudySession.prepare` in the reviewer's quiet worker), stops between its steps as the caller
of `services.pacing.paced` asks (the reviewer: while a key's card is being shown), and builds
the same ranking; a queue built without it (a key's own, on the key's path) never stops."""

from __future__ import annotations

import threading

from flashcore.services import study
from flashcore.services.pacing import paced
from tests.conftest import SMALL_DECK, write_deck


def _session_with_news(fc, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    session = study.StudySession(fc)
    first = session.queue(details=False).items[0].card_id
    session.show(first)
    rest = [i.card_id for i in study.build_queue(fc, details=False).items if i.card_id != first]
    study.set_cards(fc, "suspend", rest[:1])  # another window, while the card is read
    return session, first


def test_a_rebuild_while_reading_stops_between_its_steps_and_ranks_the_same(fc_sqlite, tmp_path):
    fc = fc_sqlite
    session, _first = _session_with_news(fc, tmp_path)
    with session:
        steps: list[int] = []
        with paced(lambda: steps.append(1)):
            assert session.prepare() is True
        assert len(steps) >= 3  # the reads and the ranking, each a step of its own
        paced_ids = [i.card_id for i in session.queue(details=False).items]

        session.invalidate()
        steps.clear()
        again = session.queue(details=False)  # the key's path: built unpaced
        assert steps == []
        assert [i.card_id for i in again.items] == paced_ids
        fresh = study.build_queue(fc, details=False)
        assert (again.new, again.review) == (fresh.new, fresh.review)


def test_a_paced_rebuild_waits_at_a_step_until_let_go(fc_sqlite, tmp_path):
    fc = fc_sqlite
    session, first = _session_with_news(fc, tmp_path)
    with session:
        at_step, go = threading.Event(), threading.Event()

        def hold() -> None:
            at_step.set()
            assert go.wait(10)

        done: list[bool] = []

        def quiet_work() -> None:
            with paced(hold):
                done.append(session.prepare())

        worker = threading.Thread(target=quiet_work)
        worker.start()
        try:
            assert at_step.wait(10)
            worker.join(0.2)
            assert worker.is_alive() and done == []  # held at a step, not built through
        finally:
            go.set()
            worker.join(10)
        assert done == [True]
        nxt = session.queue(details=False).items[0].card_id
        assert nxt == first  # the card shown keeps its place
