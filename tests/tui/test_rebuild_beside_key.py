"""Beside an import (issue 19): what a key starts behind its card waits for the card's frame.
The answer written behind a card read ahead starts its worker once the frame is handed to the
terminal (Textual's `call_after_refresh`, used before, ran it first: the screen went idle
before the key's widgets asked for their repaint). The session's rebuild after another
process's commit, ~80 ms of CPU at 50,000 cards in the reviewer's quiet worker while the
student reads, stops at its next step (services.pacing) while a key is handled and goes on
once the key's frame is out; it shared the processor and the GIL with the key before."""

from __future__ import annotations

import asyncio
import threading

from flashcore.services import pacing
from flashcore.services.answering import set_cards

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
            assert order[:2] == [f"frame {nxt}", "write"], order
    assert reviews_today(fc) == 2


async def test_a_key_during_a_rebuild_is_painted_before_the_rebuild_goes_on(fc, monkeypatch):
    real_pause = pacing.pause
    armed, at_step, go = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def step() -> None:
        # the quiet worker's rebuild (paced), once the other terminal has committed
        if armed.is_set() and pacing._PACE.get() is not None and not at_step.is_set():
            at_step.set()
            assert go.wait(10)  # held here until the key comes
            real_pause()  # the reviewer's pace: wait for the key's frame
            order.append("rebuild went on")
            return
        real_pause()

    monkeypatch.setattr(pacing, "pause", step)
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        first = screen.view.card_id
        await pilot.press("space")
        await settle(pilot)  # the student reads: the next card is read ahead
        ahead = screen._ahead_card
        assert ahead is not None
        nxt = ahead[1].view.card_id
        others = [c["card_id"] for c in fc.cards() if c["card_id"] not in (first, nxt)]
        armed.set()
        set_cards(fc, "suspend", others[:1])  # another terminal's commit
        screen._quiet_work()  # the quiet moment takes it in: a rebuild, held at a step
        assert await asyncio.to_thread(at_step.wait, 10)

        came = screen._key_came

        def key_came() -> None:
            came()
            go.set()  # the rebuild's next step comes while the key is handled

        monkeypatch.setattr(screen, "_key_came", key_came)
        _frames(app, monkeypatch, order)
        await pilot.press("3")
        await settle(pilot)
        assert order[:2] == [f"frame {nxt}", "rebuild went on"], order
        assert screen.view.card_id == nxt and screen.record.count == 1
    assert reviews_today(fc) == 1


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


async def test_a_key_holds_no_rebuild_that_an_answer_written_behind_waits_for(fc):
    """The answer written behind the card on screen waits for the session's rebuild (its
    lock), and the next key that answers waits for that answer: a key meanwhile (Space) lets
    the rebuild go on. Without one, a key holds it until its frame is out."""
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        screen._writing = True  # an answer being written behind the card
        try:
            screen._key_came()
            assert screen._no_key.is_set()
        finally:
            screen._writing = False
        screen._key_came()
        assert not screen._no_key.is_set()
        screen.say("a status")  # what the key changed on screen
        await settle(pilot)
        assert screen._no_key.is_set()  # its frame is out
