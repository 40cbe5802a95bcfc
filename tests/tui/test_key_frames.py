"""The reviewer's frames beside an import (issue 19): what a key changes is painted without
waiting for Textual's 60-a-second grid (review_frames), and the answer written behind a card
read ahead starts its worker only once the card's frame is handed to the terminal."""

from __future__ import annotations

from .conftest import settle
from .test_review import review_app, reviews_today, start_session

SIZE = (80, 24)


def _frames(app, monkeypatch, order: list[str]) -> None:
    """Each frame handed to the terminal appends `frame <the card on screen>` to `order`."""
    display = app._display

    def recorded(*args, **kwargs):
        view = getattr(app.screen, "view", None)
        order.append(f"frame {None if view is None else view.card_id}")
        return display(*args, **kwargs)

    monkeypatch.setattr(app, "_display", recorded)


async def test_the_answer_behind_a_card_is_written_after_the_cards_frame(fc, monkeypatch):
    app = review_app(fc)
    order: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        run_worker = screen.run_worker

        def recorded(*args, **kwargs):
            if kwargs.get("group") == "review-write":
                order.append("write")
            return run_worker(*args, **kwargs)

        monkeypatch.setattr(screen, "run_worker", recorded)
        _frames(app, monkeypatch, order)
        for _ in range(2):
            await pilot.press("space")
            await settle(pilot)  # the next card read ahead meanwhile
            ahead = screen._ahead_card
            assert ahead is not None
            order.clear()
            await pilot.press("3")
            await settle(pilot)
            nxt = ahead[1].view.card_id
            # the first frame showing the card, then the write (a frame of the card before
            # may come first: the clock's)
            assert f"frame {nxt}" in order and "write" in order, order
            assert order.index(f"frame {nxt}") < order.index("write"), order
    assert reviews_today(fc) == 2


async def test_a_keys_frame_waits_for_no_60_a_second_grid(fc, monkeypatch):
    """Textual paints on a grid of 60 frames a second: after a frame its timer slept to the
    next point of the grid (17-33 ms), and a key just after another frame (the clock's, each
    second) waited for it. The reviewer's frames are on a grid of FRAME_S."""
    import asyncio as aio

    from textual import timer as textual_timer

    from flashcore.tui.screens.review_frames import FRAME_S

    sleeps: list[float] = []
    real_sleep = textual_timer.sleep

    async def recorded(secs: float) -> None:
        task = aio.current_task()
        if task is not None and task.get_name() == "screen_update":
            sleeps.append(secs)
        await real_sleep(secs)

    monkeypatch.setattr(textual_timer, "sleep", recorded)
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        sleeps.clear()
        for _ in range(2):
            await pilot.press("space")
            await pilot.press("3")
            await settle(pilot)
    assert sleeps, "the reviewer painted no frame"
    assert max(sleeps) <= 2 * FRAME_S
    assert reviews_today(fc) == 2
