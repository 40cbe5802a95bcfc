"""The next card is read ahead while the student reads (services.study_ahead) and shown at the
answer's key, the answer written behind it; when it cannot be read ahead it is fetched in the
answer's worker thread, right after the answer commits (one trip to a thread per key); when
that fetch fails, the screen loads the card itself. All three draw the same screens."""

from __future__ import annotations

import shutil

from textual.worker import get_current_worker

from flashcore.core.clock import FixedClock
from flashcore.core.errors import FlashcoreError
from flashcore.services.collection import Flashcore
from flashcore.tui.screens import review

from .conftest import NOW, Notes, screen_text, settle
from .test_review import answer, review_app, reviews_today, start_session

SIZE = (80, 24)


async def test_a_card_read_ahead_is_shown_at_the_key_and_the_answer_written_behind_it(
    fc, monkeypatch
):
    fetched_in: list[str] = []
    original = review.fetch_next

    def recording(*args, **kwargs):
        fetched_in.append(get_current_worker().group)
        return original(*args, **kwargs)

    monkeypatch.setattr(review, "fetch_next", recording)
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        first = screen.view.card_id
        await pilot.press("space")
        await settle(pilot)  # the student reads: the next card is read ahead meanwhile
        ahead = screen._ahead_card
        assert ahead is not None and ahead[0].after == first
        loads = len(fetched_in)
        await pilot.press("3")  # shown by the key's handler itself, nothing read
        assert screen.view.card_id == ahead[1].view.card_id != first
        assert screen.phase == "front" and screen.cards_shown == 2
        await settle(pilot)
        assert fetched_in[loads:] == []
        assert screen.record.count == 1
    assert reviews_today(fc) == 1


async def test_the_next_card_is_fetched_in_the_answers_thread(fc, monkeypatch, no_read_ahead):
    fetched_in: list[str] = []
    original = review.fetch_next

    def recording(*args, **kwargs):
        fetched_in.append(get_current_worker().group)  # the Textual worker it runs in
        return original(*args, **kwargs)

    monkeypatch.setattr(review, "fetch_next", recording)
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        first = screen.view.card_id
        loads = len(fetched_in)
        await answer(pilot, "3")
        assert screen.view.card_id != first
        assert screen.phase == "front"
        assert screen.cards_shown == 2
        # one fetch for the answer, in the worker that wrote it (no load worker after it)
        assert fetched_in[loads:] == ["review-write"]
    assert reviews_today(fc) == 1


async def test_a_failed_fetch_after_the_answer_falls_back_to_loading_the_card(
    fc, monkeypatch, no_read_ahead
):
    original = review.fetch_next
    failures: list[str] = []

    def failing_once_in_the_write_thread(*args, **kwargs):
        if get_current_worker().group == "review-write" and not failures:
            failures.append("fetch")
            raise FlashcoreError("the database went away for a moment")
        return original(*args, **kwargs)

    monkeypatch.setattr(review, "fetch_next", failing_once_in_the_write_thread)
    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await start_session(pilot)
        first = screen.view.card_id
        await answer(pilot, "3")
        await settle(pilot)
        assert failures == ["fetch"]
        assert screen.view is not None and screen.view.card_id != first
        assert screen.phase == "front"
        assert not any("went away" in m for m in notes.messages)  # the load's retry worked
    assert reviews_today(fc) == 1


async def _screens(fc, pilot_app) -> list[str]:
    """What the terminal shows over three answers: each card's front and its answer side."""
    shots: list[str] = []
    async with pilot_app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        for _ in range(3):
            shots.append(screen_text(pilot_app))
            await pilot.press("space")
            await settle(pilot)
            shots.append(screen_text(pilot_app))
            await pilot.press("3")
            await settle(pilot)
        shots.append(screen_text(pilot_app))
    return shots


async def test_a_card_read_ahead_or_fetched_with_the_answer_looks_as_one_loaded_on_demand(
    fc, deck_template, tmp_path, monkeypatch
):
    """The texts built in the worker and the updates skipped when nothing changed draw the
    same screens as the screen's own load, card for card."""
    from flashcore.services.study import StudySession

    read_ahead = await _screens(fc, review_app(fc))
    shots = []
    for name in ("fetched", "on demand"):
        copy = tmp_path / f"{name}.sqlite3"
        shutil.copy(deck_template, copy)
        other = Flashcore.open(str(copy), clock=FixedClock(NOW), timezone="UTC")
        try:
            monkeypatch.setattr(StudySession, "ahead", lambda self, after: None)
            if name == "on demand":
                monkeypatch.setattr(review.ReviewScreen, "_fetch_after_write", lambda self: None)
            shots.append(await _screens(other, review_app(other)))
        finally:
            other.close()
    prefetched, on_demand = shots
    assert len(prefetched) == 7
    assert read_ahead == prefetched == on_demand
    assert len(set(prefetched)) > 3  # the cards and their answer sides differ


async def test_a_quiet_moment_during_a_write_behind_reads_the_next_card_ahead(fc):
    """Beside an import: the answer written behind the card reads the card after it ahead once
    the answer is in, but never waits for the session; when the quiet worker's rebuild held the
    session then, it found nothing, and the quiet worker, seeing the answer still being
    written, read nothing either: the card's key waited for its write and the queue (~150 ms,
    3 keys in 150 in one run). The quiet moment now reads ahead too (the answer is in, the
    screen not told yet: it finds the card)."""
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("3")  # the card read ahead shown, the answer written behind it
        await settle(pilot)
        # the answer is in; its worker's read ahead found the session busy; the screen has not
        # heard of the answer yet
        screen._ahead_card = None
        screen._writing = True
        try:
            screen._quiet_work()
            await pilot.app.workers.wait_for_complete()
            ahead = screen._ahead_card
            assert ahead is not None and ahead[0].after == screen.view.card_id
        finally:
            screen._writing = False
        await pilot.press("space")
        await pilot.press("3")  # shown at the key from what the quiet moment read
        assert screen.view.card_id == ahead[1].view.card_id
        await settle(pilot)
    assert reviews_today(fc) == 2
