"""The round trip a student makes between flashcore and Anki, with real Anki on the Anki side:
a phone collection with weeks of history is added with `decks add FILE --with-scheduling`,
studied in flashcore over several days (`check` clean every day), exported with `export anki
--with-scheduling`, imported into another Anki (a new device) and studied there, exported again
and added back. Every answer of both sides is in the review log exactly once; the cards take
the newest state (Anki's, which saw every answer); `check` finds nothing; a third import adds
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.services.check import check
from flashcore.services.export import export_anki
from tests import anki_history as ah
from tests.scenarios.test_anki_both_sides import phone_with_history, study_in_flashcore
from tests.scenarios.test_own_decks_via_anki import _phone
from tests.services.test_anki_scheduling import flashcore_cards, review_rows


def added(fc: Flashcore, package: Path) -> dict:
    (report,) = fc.add_decks([package], with_scheduling=True)
    assert report.ok, report.problems
    assert report.scheduling is not None
    return report.scheduling.to_json()


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_flashcore_to_anki_and_back_keeps_every_answer_once(request, url_fixture, tmp_path):
    url = request.getfixturevalue(url_fixture)
    phone = phone_with_history(tmp_path)
    first = ah.export(phone, tmp_path / "phone.colpkg")
    phone_answers = sum(map(len, ah.revlog_ids(phone.col).values()))
    wall = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock((wall - timedelta(days=29)).replace(hour=9, minute=0, second=0))
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        summary = added(fc, first)
        assert summary["reviews_added"] == phone_answers and check(fc).problems == []
        given = study_in_flashcore(fc, clock, days=12, seed=5)
        assert given > 8
        out = tmp_path / "from-flashcore.apkg"
        export_anki(fc, out, with_scheduling=True)
        exported_at = clock.now()

        # Another device: a fresh Anki collection takes the export, and is studied (now).
        desk = _phone(tmp_path, out, "desk")
        desk_before = sum(map(len, ah.revlog_ids(desk.col).values()))
        assert desk_before == phone_answers + given  # Anki took every answer of both
        desk_answers = ah.answer_due(desk, ah.mixed(11))
        assert desk_answers > 5
        back = ah.export(desk, tmp_path / "desk.apkg")

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        summary = added(fc, back)
        assert summary["reviews_added"] == desk_answers
        assert summary["reviews_linked"] == given  # flashcore's own answers, recognised
        assert summary["reviews_skipped"] == phone_answers
        logs = review_rows(fc)
        rows = [r for card in logs.values() for r in card]
        assert len(rows) == phone_answers + given + desk_answers
        assert len({r.anki_revlog_id for r in rows}) == len(rows)  # each once, all known to Anki
        assert check(fc).problems == []

        # The cards answered on the new device are due when Anki says.
        due = ah.anki_due_dates(desk.col, datetime.now(UTC))
        mine = flashcore_cards(fc)
        exported_ms = int(exported_at.timestamp() * 1000)
        answered = {cid for cid, ids in ah.revlog_ids(desk.col).items() if ids[-1] > exported_ms}
        assert answered
        by_anki = _anki_ids(fc)
        for anki_id in answered & due.keys():
            assert mine[by_anki[anki_id]].due == due[anki_id]

        again = added(fc, back)
        assert again["reviews_added"] == 0 and again["cards_updated"] == 0
        assert sum(map(len, review_rows(fc).values())) == len(rows)


def _anki_ids(fc: Flashcore) -> dict[int, int]:
    from sqlalchemy import select

    from flashcore.storage.tables import anki_cards
    from flashcore.storage.uow import reading

    with reading(fc.engine) as session:
        return dict(session.execute(select(anki_cards.c.anki_card_id, anki_cards.c.card_id)).all())


def test_answers_anki_moves_back_to_its_own_clock_come_home_once(sqlite_url, tmp_path):
    """Found living with it: flashcore's clock ran ahead of Anki's (a desktop whose clock is
    ahead of the phone's; here days ahead, as a replayed study week is). Anki gives a revlog
    row whose id lies ahead of its own clock a new id when it imports it, so the time no longer
    tells those answers apart, and each came back as a second answer of its card: 848 of 882
    answers doubled. They are recognised by their card, rating and milliseconds taken."""
    import random

    from flashcore.core.model import Rating
    from flashcore.services import study

    wall = datetime.now(UTC).replace(microsecond=0)
    # Yesterday at 09:00, then from tomorrow on at 09:00: the first day's answers all behind
    # Anki's clock, the others' all ahead of it, whatever the hour the test runs at (with today
    # as the second day, its answers fell behind or ahead by the hour of the run, and at some
    # hours too few were ahead: it failed in a full run at 09:30 UTC, 4 ahead).
    yesterday = (wall - timedelta(days=1)).replace(hour=9, minute=0, second=0)
    days = [yesterday] + [yesterday + timedelta(days=n) for n in range(2, 6)]
    clock = FixedClock(days[0])
    rng = random.Random(21)
    with Flashcore.open(sqlite_url, clock=clock, create=True, timezone="UTC") as fc:
        first = ah.export(phone_with_history(tmp_path), tmp_path / "phone.colpkg")
        added(fc, first)
        given = 0
        for morning in days:  # a day behind Anki's clock, then ahead of it
            clock.set(max(clock.now(), morning))
            for _ in range(40):
                queue = study.build_queue(fc, limit=1)
                if not queue.items:
                    break
                item = queue.items[0]
                clock.set(max(clock.now(), item.due))
                rating = Rating.AGAIN if rng.random() < 0.15 else Rating.GOOD
                study.answer(fc, item.card_id, rating, duration_ms=rng.randint(1500, 30000))
                given += 1
                clock.advance(timedelta(seconds=30))
        ahead = sum(1 for card in review_rows(fc).values() for r in card
                    if not r.imported and r.reviewed_at > wall)  # fmt: skip
        assert ahead >= 5, (ahead, given)  # answers whose ids Anki will move
        out = tmp_path / "ahead.apkg"
        export_anki(fc, out, with_scheduling=True)
        desk = _phone(tmp_path, out, "desk")
        back = ah.export(desk, tmp_path / "desk.apkg")
        before = sum(map(len, review_rows(fc).values()))
        summary = added(fc, back)
        assert summary["reviews_added"] == 0, summary
        assert summary["reviews_linked"] == given
        assert sum(map(len, review_rows(fc).values())) == before
        assert check(fc).problems == []
        again = added(fc, back)
        assert again["reviews_added"] == 0 and again["reviews_linked"] == 0


def test_a_later_anki_answer_tied_with_an_unseen_one_on_rating_and_time_taken_is_added(
    sqlite_url, tmp_path
):
    """Found in review of the match by card, rating and milliseconds taken (for the answers
    Anki moves back to its own clock): it looked at no time at all, so a card answered on both
    sides between two syncs, Good each time and in the same milliseconds, came home as one
    answer: Anki's, given after flashcore's, was taken for flashcore's (which Anki never saw)
    and not added. An id Anki moved is its clock at its import, before the answer's own time;
    an answer given later than flashcore's is a new one."""
    from flashcore.core.model import Rating
    from flashcore.services import study

    wall = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock((wall - timedelta(days=3)).replace(hour=9, minute=0, second=0))
    with Flashcore.open(sqlite_url, clock=clock, create=True, timezone="UTC") as fc:
        added(fc, ah.export(phone_with_history(tmp_path), tmp_path / "phone.colpkg"))
        out = tmp_path / "to-desk.apkg"
        export_anki(fc, out, with_scheduling=True)
        desk = _phone(tmp_path, out, "desk")
        # After the export the same card is answered on both sides: Good, in 4,321 ms each,
        # flashcore's first (its clock three days behind), Anki's now.
        logs = review_rows(fc)
        card_id, known = next(  # a card due today that Anki's history knows
            (item.card_id, r.anki_revlog_id)
            for item in study.build_queue(fc).items
            for r in logs.get(item.card_id, ())
            if r.anki_revlog_id
        )
        anki_id = desk.col.db.scalar("SELECT cid FROM revlog WHERE id = ?", known)
        study.answer(fc, card_id, Rating.GOOD, duration_ms=4321)
        ah.answer_card(desk, anki_id, 3)
        desk.col.db.execute(
            "UPDATE revlog SET time = 4321 WHERE id = (SELECT max(id) FROM revlog WHERE cid = ?)",
            anki_id,
        )
        before = sum(map(len, review_rows(fc).values()))
        clock.set(datetime.now(UTC) + timedelta(hours=1))
        summary = added(fc, ah.export(desk, tmp_path / "desk.apkg"))
        assert summary["reviews_added"] == 1, str(summary)
        assert sum(map(len, review_rows(fc).values())) == before + 1
        assert check(fc).problems == []
