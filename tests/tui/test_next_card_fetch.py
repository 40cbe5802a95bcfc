"""The next card is fetched in the answer's worker thread, right after the answer commits (one
trip to a thread per key); when that fetch fails, the screen loads the card itself."""

from __future__ import annotations

from textual.worker import get_current_worker

from flashcore.core.errors import FlashcoreError
from flashcore.tui.screens import review

from .conftest import Notes, settle
from .test_review import answer, review_app, reviews_today, start_session

SIZE = (80, 24)


async def test_the_next_card_is_fetched_in_the_answers_thread(fc, monkeypatch):
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


async def test_a_failed_fetch_after_the_answer_falls_back_to_loading_the_card(fc, monkeypatch):
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
