"""The reviewer left open on "All done for today". Found living with it (tmux, libfaketime's
clock moved overnight as a closed laptop does): the next morning the open reviewer still said
"All done for today" and "Due tomorrow: 31" with a whole new day's cards due, and a change made
in another terminal meanwhile (`config set new_per_day`, an import) did not show either: that
screen looked for nothing. Now it looks every few seconds and, when the study day rolled over or
another process changed the collection, loads the queue again and shows its first card; the
session's summary, when the day ended with nothing held back, says that a new day began."""

from __future__ import annotations

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


async def test_the_session_summary_left_open_overnight_says_a_new_day_began(fc, monkeypatch):
    monkeypatch.setattr(session_end, "ROLLOVER_LOOK_S", 0.2)
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(30):  # every card Easy: nothing held back, the summary of a finished day
            if isinstance(app.screen, SessionEndScreen):
                break
            await answer(pilot, "4")
        screen = app.screen
        assert isinstance(screen, SessionEndScreen) and screen.finished
        await pilot.pause(0.5)
        assert "All done for today" in screen_text(app)
        fc.clock.set(NOW + timedelta(days=1, hours=-1))
        await pilot.pause(0.5)
        text = screen_text(app)
        assert "All done for today" not in text
        assert "A new study day began: Enter for today's cards" in text
