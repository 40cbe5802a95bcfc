"""The reviewer left open on "All done for today". Found living with it (tmux, libfaketime's
clock moved overnight as a closed laptop does): the next morning the open reviewer still said
"All done for today" and "Due tomorrow: 31" with a whole new day's cards due, and a change made
in another terminal meanwhile (`config set new_per_day`, an import) did not show either: that
screen looked for nothing. Now it looks every few seconds and, when the study day rolled over or
another process changed the collection, loads the queue again and shows its first card; the
session's summary, when the day ended with nothing held back, says that a new day began."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest

from flashcore.tui.screens import review_writes, session_end
from flashcore.tui.screens.review import ReviewScreen
from flashcore.tui.screens.session_end import SessionEndScreen

from .conftest import NOW, screen_text, settle
from .test_review import SIZE, answer, review_app, reviews_today


@pytest.fixture(autouse=True)
def _look_every_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_writes, "DONE_LOOK_TICKS", 1)


async def _all_done(pilot) -> ReviewScreen:
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await answer(pilot, "4")  # the day's one new card, Easy: nothing left today
    assert screen.phase == "done"
    return screen


async def _until_front(pilot, screen: ReviewScreen, seconds: float = 8.0) -> None:
    """No key pressed: the screen's one-second tick does the looking."""
    for _ in range(int(seconds * 10)):
        await pilot.pause(0.1)
        if screen.phase == "front":
            break
    await settle(pilot)


async def test_a_new_study_day_shows_its_cards_on_a_reviewer_left_on_all_done(fc):
    fc.config_set("new_per_day", "1")
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _all_done(pilot)
        await _until_front(pilot, screen, seconds=2.5)
        assert screen.phase == "done"  # the same day: nothing to show
        fc.clock.set(NOW + timedelta(days=1, hours=-1))  # 08:00 the next morning
        await _until_front(pilot, screen)
        assert screen.phase == "front" and screen.view is not None
        assert screen.queue is not None and screen.queue.new == 1  # the new day's limit
        await answer(pilot, "3")
        assert screen.record.count == 2
    assert reviews_today(fc) == 1  # the new day's answer counts in the new day


async def test_a_raised_limit_in_the_other_terminal_shows_on_a_reviewer_left_on_all_done(fc):
    fc.config_set("new_per_day", "1")
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _all_done(pilot)
        other = type(fc).open(str(fc.url), clock=fc.clock)  # another process's connection
        try:
            other.config_set("new_per_day", "2")
        finally:
            other.close()
        await _until_front(pilot, screen)
        assert screen.phase == "front" and screen.view is not None
        assert screen.view.state.label == "new"


def _summary_app(fc, monkeypatch):
    """A reviewer whose session summary looks at the clock every 0.2 s."""
    monkeypatch.setattr(session_end, "ROLLOVER_LOOK_S", 0.2)
    return review_app(fc)


async def _finish_the_day(pilot) -> SessionEndScreen:
    """Every card Easy: nothing held back, the summary of a finished day."""
    for _ in range(30):
        if isinstance(pilot.app.screen, SessionEndScreen):
            break
        await answer(pilot, "4")
    assert isinstance(pilot.app.screen, SessionEndScreen)
    return pilot.app.screen


async def _overnight(pilot, fc, title: str) -> str:
    """A session summary's text the next morning, after checking that the evening's "Due
    tomorrow" (under `title`) reads "Due today" once that day has begun, the same numbers."""
    await pilot.pause(0.5)
    text = screen_text(pilot.app)
    assert title in text
    evening = re.search(r"Due tomorrow +(\S.*)", text)
    assert evening is not None and "…" not in evening.group(1)
    fc.clock.set(NOW + timedelta(days=1, hours=-1))
    await pilot.pause(0.5)
    text = screen_text(pilot.app)
    assert "Due tomorrow" not in text  # that day has begun: its first queue is today's
    due_today = re.search(r"Due today +(\S.*)", text)
    assert due_today is not None and due_today.group(1) == evening.group(1)
    return text


async def test_the_session_summary_left_open_overnight_says_a_new_day_began(fc, monkeypatch):
    app = _summary_app(fc, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _finish_the_day(pilot)
        assert isinstance(screen, SessionEndScreen) and screen.finished
        text = await _overnight(pilot, fc, "All done for today")
        assert "All done for today" not in text
        assert "A new study day began: Enter for today's cards" in text


async def test_a_summary_of_a_session_ended_early_left_open_overnight_says_due_today(
    fc, monkeypatch
):
    # Found by rv3: only a finished day's summary looked at the clock, so a session ended with
    # `e` and left open overnight still said "Due tomorrow" of the day that had begun.
    app = _summary_app(fc, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "3")
        await pilot.press("e")  # ended with cards left: "Session ended"
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionEndScreen) and not screen.finished
        text = await _overnight(pilot, fc, "Session ended")
        assert "Session ended" in text  # still true: it was ended, not finished


async def test_keys_typed_before_a_load_error_are_dropped_and_the_load_is_tried_again(
    fc, monkeypatch
):
    """Found living with it (PostgreSQL, keys typed fast, the clock set back under the open
    reviewer): the next card could not be loaded ("the clock … is before this card's last
    review; refusing to record"), the screen stayed on that error, and the keys typed while it
    loaded were kept: hours later, when the screen loaded again, they answered six cards in
    130 ms. Now they are dropped with the error, and the load is tried again every few
    seconds: once it works, the next card shows, front up, and nothing was answered."""
    from flashcore.core.errors import FlashcoreError
    from flashcore.tui.screens import review as review_module

    real = review_module.fetch_next
    calls = {"n": 0}
    fixed = threading.Event()  # the clock put right: the loads work again

    def failing_once(*args, **kwargs):
        calls["n"] += 1
        if not fixed.is_set():
            if calls["n"] == 1:
                time.sleep(0.4)  # keys typed meanwhile are kept for the card that comes
            raise FlashcoreError("the clock is before this card's last review; refusing to record")
        return real(*args, **kwargs)

    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await answer(pilot)
        monkeypatch.setattr(review_module, "fetch_next", failing_once)
        screen.load_next()
        await pilot.pause(0.05)
        for key in ("space", "3", "space", "3"):
            await pilot.press(key)
        await _until(pilot, lambda: screen.phase == "done" and calls["n"] >= 1)
        assert "refusing to record" in screen_text(app)
        fixed.set()
        await _until_front(pilot, screen)
        assert screen.phase == "front" and calls["n"] >= 2
        await pilot.pause(0.3)
        assert screen.phase == "front"  # the kept keys did not answer it
    assert reviews_today(fc) == 1


async def _until(pilot, done, seconds: float = 5.0) -> None:
    for _ in range(int(seconds * 20)):
        await pilot.pause(0.05)
        if done():
            return


async def test_a_load_that_keeps_failing_says_so_once(fc, monkeypatch):
    """rv2: each retry said the error again, a toast every 5 seconds; now once, the card keeps
    showing it until a retry works."""
    from flashcore.core.errors import FlashcoreError
    from flashcore.tui.screens import review as review_module

    real = review_module.fetch_next
    calls = {"n": 0}

    def failing_thrice(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 3:
            raise FlashcoreError("the database is busy")
        return real(*args, **kwargs)

    said: list[str] = []
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await answer(pilot)
        real_say = screen.say
        monkeypatch.setattr(screen, "say", lambda m, **k: (said.append(m), real_say(m, **k)))
        monkeypatch.setattr(review_module, "fetch_next", failing_thrice)
        screen.load_next()
        await _until(pilot, lambda: calls["n"] >= 4 and screen.phase == "front", seconds=10)
        assert screen.phase == "front" and calls["n"] == 4
    assert said.count("the database is busy") == 1, said


def test_postponed_cards_are_first_today_once_the_new_day_began():
    from flashcore.tui.session import SessionRecord

    record = SessionRecord("Test", None, 0.0, postponed=3)
    evening = session_end.summary_text(record, 60.0, None).plain
    assert "3 cards over the time budget, first tomorrow" in evening
    morning = session_end.summary_text(record, 60.0, None, new_day=True).plain
    assert "3 cards over the time budget, first today" in morning
    assert "tomorrow" not in morning


async def test_a_summary_left_open_over_several_rollovers_shows_todays_queue_as_home_does(
    fc, monkeypatch
):
    # Left open from one evening over a fortnight away, the summary kept the first new day's
    # projection ("Due today 20 (20 new · 0 learning · 0 review)") while that day's Easy cards
    # had come due: each later rollover now loads today's queue, the numbers Home shows.
    from flashcore.services.study import build_queue

    app = _summary_app(fc, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _finish_the_day(pilot)
        await _overnight(pilot, fc, "All done for today")
        fc.clock.set(NOW + timedelta(days=40, hours=-1))  # every Easy card of that evening due
        for _ in range(50):
            await pilot.pause(0.1)
            text = screen_text(app)
            if "0 review)" not in text:
                break
        queue = build_queue(fc, limit=0, details=False)
        assert queue.review > 0
        due_today = re.search(r"Due today +(\S.*)", screen_text(app))
        assert due_today is not None
        assert due_today.group(1).strip() == session_end.outlook_text(queue)


async def test_a_raised_limit_in_the_other_terminal_shows_on_a_reviewer_waiting_for_a_step(fc):
    """Found living with it (tmux): the reviewer said "Next card in 9m" (a learning step, the
    day's new cards spent) while the other terminal raised `new_per_day`: the waiting screen
    looked only at its clock, so the new cards came once the step was due, minutes later."""
    fc.config_set("new_per_day", "1")
    fc.config_set("learn_ahead_minutes", "0")
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen)
        await answer(pilot, "3")  # the day's one new card, Good: its next step in 10 minutes
        assert screen.phase == "waiting"
        other = type(fc).open(str(fc.url), clock=fc.clock)  # another process's connection
        try:
            other.config_set("new_per_day", "2")
        finally:
            other.close()
        await _until_front(pilot, screen)
        assert screen.phase == "front" and screen.view is not None
        assert screen.view.state.label == "new"
