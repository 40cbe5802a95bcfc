"""The collector stays off the path from a key to the next card: off while a session is on
screen, on again when the session is covered or left."""

from __future__ import annotations

import gc

from flashcore.tui.app import make_app
from flashcore.tui.screens.home import HomeScreen
from flashcore.tui.screens.review import ReviewScreen

from .conftest import settle, still


async def test_automatic_collection_is_off_only_while_a_session_is_on_screen(fc):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert gc.isenabled()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert not gc.isenabled()
        await pilot.press("question_mark")
        await settle(pilot)
        assert gc.isenabled()  # help covers the session
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert not gc.isenabled()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert gc.isenabled()
    assert gc.isenabled()


async def test_the_wal_checkpoint_runs_while_the_student_reads(fc, monkeypatch):
    # Every CHECKPOINT_EVERY answers the session checkpoints SQLite's log, from a worker, once
    # a card is on screen — never inside an answer.
    import asyncio

    from flashcore.services.study import StudySession

    monkeypatch.setattr(StudySession, "CHECKPOINT_EVERY", 1)
    done: list[bool] = []
    real = StudySession.idle

    def counting(self: StudySession) -> bool:
        done.append(real(self))
        return done[-1]

    monkeypatch.setattr(StudySession, "idle", counting)
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("space", "3")
        await settle(pilot)
        await asyncio.sleep(0.3)  # the card is read for a moment
        await settle(pilot)
    assert True in done  # it ran after the answer, and checkpointed


async def test_a_screen_left_as_it_is_still_frees_its_cyclic_garbage(fc):
    # A card left on screen (or "All done" overnight) redraws its clock every second; with the
    # automatic collector held off, the cycles that drawing leaves were never freed: an open
    # reviewer grew ~14 MB an hour in a real terminal. Its one-second tick collects them now.
    import weakref

    from flashcore.tui import collector

    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.phase == "front"
        assert not gc.isenabled()
        freed: list[str] = []

        class Node:
            pass

        old = Node()
        old.me = old  # a cycle: only the collector frees it
        weakref.finalize(old, freed.append, "old")
        gc.collect(1)  # `old` survives a young collection: it is in the oldest generation now
        young = Node()
        young.me = young
        weakref.finalize(young, freed.append, "young")
        del young, old
        for _ in range(collector.IDLE_EVERY):
            screen._tick()
        assert "young" in freed
        for _ in range(collector.IDLE_EVERY * collector.IDLE_FULL_EVERY):
            screen._tick()
        assert sorted(freed) == ["old", "young"]
        assert not gc.isenabled()  # the keys' path is still kept clear


def test_a_worker_pause_ending_under_a_session_leaves_the_collector_held():
    # Enter pressed while Home's queue build still ran in a worker (its collector pause began
    # with the collector on): the worker's end turned the collector back on under the session,
    # so collections landed between keys and cards again. Pauses are counted now.
    import threading

    from flashcore.services.memory import no_cycle_collection
    from flashcore.tui import collector

    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def worker() -> None:
        with no_cycle_collection():
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    try:
        inside.wait(5)
        collector.hold()  # the session starts while the worker is paused
        leave.set()
        t.join(5)
        assert not gc.isenabled()  # still held for the session
        collector.release()
        assert gc.isenabled()
    finally:
        leave.set()
        t.join(5)
        gc.enable()


def test_the_idle_collections_count_from_the_last_card_shown(monkeypatch):
    # A student answering every few seconds keeps showing cards: the idle collections are for a
    # screen left as it is, never on the way between a key and the next card.
    from flashcore.tui import collector

    made: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: made.append(generation) or 0)
    monkeypatch.setattr(collector, "settle", lambda: None)
    for _ in range(20):  # a card every three seconds
        collector.collect()
        made.clear()
        for _ in range(3):
            collector.idle_tick()
        assert made == []
    for _ in range(collector.IDLE_EVERY):  # then left as it is
        collector.idle_tick()
    assert made == [1]
