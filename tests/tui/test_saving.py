"""The reviewer never freezes and never drops a key (issue 13, point 4): while another process
holds the write lock, an answer is written from a worker and the screen says it is saving; it
is retried until it commits, once, or gives up with a message and the card stays; keys pressed
meanwhile are replayed; quitting waits for the answer in flight. Home refreshes by itself when
another process commits."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from flashcore.services.collection import Flashcore
from flashcore.storage import db as db_module
from flashcore.storage.db import sqlite_path
from flashcore.tui.app import make_app
from flashcore.tui.screens import review_writes as review_module
from flashcore.tui.screens.review import ReviewScreen

from .conftest import DATA, Notes, screen_text, settle, still

SIZE = (80, 24)


def _review_rows(fc) -> int:
    conn = sqlite3.connect(sqlite_path(fc.url))
    try:
        return conn.execute("SELECT COUNT(*) FROM review_logs").fetchone()[0]
    finally:
        conn.close()


@contextmanager
def write_lock(fc) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction (a large import), held until the block ends."""
    holder = sqlite3.connect(sqlite_path(fc.url), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def quick_busy(fc, monkeypatch):
    """SQLite waits 100 ms for a lock (not 10 s) on the collection's new connections."""
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 100)
    fc.engine.dispose()
    return fc


async def _on_back(pilot) -> ReviewScreen:
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await pilot.press("space")
    await pilot.pause()
    assert screen.phase == "back"
    return screen


async def test_an_answer_waits_for_another_writer_says_so_and_keeps_the_keys_pressed_meanwhile(
    quick_busy,
    no_read_ahead,
):
    fc = quick_busy
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_back(pilot)
        first = screen.view.card_id
        with write_lock(fc) as holder:
            await pilot.press("3")
            await pilot.pause(0.4)
            assert screen.phase == "saving"
            shown = screen_text(app)
            assert "saving your answer" in shown
            assert "Again" in shown  # the saving line shows above the answer buttons
            await pilot.press("space")  # the student goes on: kept for the next card
            await pilot.pause(1.6)
            assert "another flashcore is writing" in screen_text(app)
            assert screen.view.card_id == first and _review_rows(fc) == 0
            holder.execute("ROLLBACK")  # the import is done
            for _ in range(30):
                await pilot.pause(0.1)
                if screen.phase == "back" and screen.view.card_id != first:
                    break
        await settle(pilot)
        assert screen.view.card_id != first
        assert screen.phase == "back"  # the Space pressed while saving showed its answer
        assert "saving" not in screen_text(app)
    assert _review_rows(fc) == 1  # written once, however often it was tried


async def test_answers_typed_ahead_while_saving_are_all_given_in_order(quick_busy, no_read_ahead):
    fc = quick_busy
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_back(pilot)
        with write_lock(fc) as holder:
            await pilot.press("3", "space", "3", "space")
            await pilot.pause(0.3)
            holder.execute("ROLLBACK")
            for _ in range(40):
                await pilot.pause(0.1)
                if _review_rows(fc) == 2 and screen.phase == "back":
                    break
        await settle(pilot)
        assert screen.record.count == 2 and screen.phase == "back"
    assert _review_rows(fc) == 2


async def test_an_answer_refused_past_the_limit_is_not_saved_and_the_card_stays(
    quick_busy, no_read_ahead, monkeypatch
):
    fc = quick_busy
    monkeypatch.setattr(review_module, "SAVE_LIMIT_S", 0.5)
    notes = Notes()
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await _on_back(pilot)
        first = screen.view.card_id
        with write_lock(fc):
            await pilot.press("3")
            for _ in range(300):  # the limit is 0.5 s; a loaded machine stretches the pauses
                await pilot.pause(0.1)
                # Wait for the outcome itself: at load 18 the first pause could end before the
                # key was handled, while the phase was still "back".
                if "your answer was not saved" in notes and screen.phase != "saving":
                    break
            assert "your answer was not saved" in notes
            assert screen.phase == "back" and screen.view.card_id == first
            assert _review_rows(fc) == 0
        await pilot.press("3")  # the lock is gone: answered again, saved once
        await settle(pilot)
        assert screen.view.card_id != first
    assert _review_rows(fc) == 1


async def test_quitting_while_an_answer_is_saving_waits_for_it(quick_busy, no_read_ahead):
    fc = quick_busy
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_back(pilot)
        with write_lock(fc) as holder:
            await pilot.press("3")
            await pilot.pause(0.3)
            await pilot.press("q")
            await pilot.pause(0.3)
            assert app.is_running and screen.phase == "saving"
            holder.execute("ROLLBACK")
            for _ in range(30):
                await pilot.pause(0.1)
                if not app.is_running:
                    break
        assert not app.is_running
    assert _review_rows(fc) == 1


async def test_ctrl_c_while_saving_waits_for_the_answer_and_twice_quits_at_once(
    quick_busy, no_read_ahead
):
    fc = quick_busy
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_back(pilot)
        with write_lock(fc):
            await pilot.press("3")
            for _ in range(50):  # a loaded machine may handle the key late
                await pilot.pause(0.1)
                if screen.phase == "saving":
                    break
            assert screen.phase == "saving"
            await pilot.press("ctrl+c")
            await pilot.pause(0.3)
            assert app.is_running  # the first waits for the answer in flight
            await pilot.press("ctrl+c")
            for _ in range(30):
                await pilot.pause(0.1)
                if not app.is_running:
                    break
            assert not app.is_running  # the second does not
            # the lock never came free: the answer was not written (looked at before the lock
            # goes: in this test's process the answer's worker outlives the app and, on a
            # loaded machine, wrote once the lock went; a real process has exited by then)
            assert _review_rows(fc) == 0


async def test_undo_bury_and_flag_also_wait_for_the_lock_instead_of_freezing(
    quick_busy, no_read_ahead
):
    fc = quick_busy
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_back(pilot)
        await pilot.press("3")
        await settle(pilot)
        with write_lock(fc) as holder:
            await pilot.press("u")  # undo
            await pilot.pause(0.3)
            assert screen.phase == "saving" and _review_rows(fc) == 1
            holder.execute("ROLLBACK")
            for _ in range(30):
                await pilot.pause(0.1)
                if screen.phase == "front":
                    break
        await settle(pilot)
        assert _review_rows(fc) == 0 and screen.record.count == 0


async def test_home_shows_a_deck_added_by_another_process_without_a_key(fc, tmp_path):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Second deck" not in screen_text(app)
        other = Flashcore.open(fc.url, clock=fc.clock, timezone="UTC")
        deck = tmp_path / "second.toml"
        deck.write_text(
            (DATA / "tui_deck.toml").read_text(encoding="utf-8")
            .replace('name = "Test::Immunology"', 'name = "Second deck"')
            .replace('key = "tui-test"', 'key = "second"'),
            encoding="utf-8",
        )  # fmt: skip
        try:
            (report,) = other.add_decks([deck])
            assert report.ok, report.problems
        finally:
            other.close()
        for _ in range(40):
            await pilot.pause(0.1)
            if "Second deck" in screen_text(app):
                break
        assert "Second deck" in screen_text(app)


async def test_damage_a_background_check_recorded_is_shown_once(fc):
    from flashcore.storage import backup as files

    notes = Notes()
    app = make_app(fc, ticks=still)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        files.record_damage(sqlite_path(fc.url), "database disk image is malformed")
        for _ in range(40):
            await pilot.pause(0.1)
            if "failed its quick check" in notes:
                break
        assert "flashcore doctor" in notes
        await pilot.pause(2.5)
        assert sum("quick check" in m for m in notes.messages) == 1


async def test_home_does_not_reload_under_a_session_whose_answers_it_would_see(fc, monkeypatch):
    """Every answer is a commit by another connection as Home's watch sees it: Home must not
    reload beneath the session (at 200,000 cards a reload is seconds of queries)."""
    from flashcore.tui.screens import home

    loads: list[int] = []
    real = home.load_home

    def counting(ctx):
        loads.append(1)
        return real(ctx)

    monkeypatch.setattr(home, "load_home", counting)
    app = make_app(fc, ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = len(loads)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        for _ in range(3):
            await pilot.press("space")
            await pilot.pause()
            await pilot.press("3")
            await settle(pilot)
            await pilot.pause(home.WATCH_S + 0.2)
        assert len(loads) == before
        await pilot.press("escape")
        await settle(pilot)
        assert len(loads) == before + 1  # back on Home: loaded once


async def _read_ahead(pilot, screen: ReviewScreen) -> int:
    """Wait until the card after the one on screen was read ahead (while the student reads);
    the card it is."""
    for _ in range(50):
        ahead = screen._ahead_card
        if ahead is not None and ahead[0].after == screen.view.card_id:
            return ahead[1].view.card_id
        await pilot.pause(0.05)
    raise AssertionError("nothing was read ahead")


async def test_an_answer_given_while_another_process_writes_shows_the_next_card_at_once(
    quick_busy,
):
    """The card read ahead is shown at the key while the answer waits for the write lock
    behind it; the answer is written once the lock is free, once; an answer to the new card
    waits for it, kept, and is written after it, in order."""
    fc = quick_busy
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_back(pilot)
        first = screen.view.card_id
        second = await _read_ahead(pilot, screen)
        with write_lock(fc) as holder:
            await pilot.press("3")
            assert screen.view.card_id == second and screen.phase == "front"  # at once
            assert "saving" not in screen_text(app)
            await pilot.press("space")  # its answer shows while the first is still saving
            assert screen.phase == "back"
            await pilot.press("3")  # kept: written after the first
            await pilot.pause(1.8)
            assert "saving your last answer" in screen_text(app)
            assert screen.view.card_id == second and _review_rows(fc) == 0
            holder.execute("ROLLBACK")  # the import is done
            for _ in range(50):
                await pilot.pause(0.1)
                if _review_rows(fc) == 2 and screen.view.card_id not in (first, second):
                    break
        await settle(pilot)
        assert screen.record.count == 2
        assert [a.card_id for a in screen.record.answers] == [first, second]
        assert "saving" not in screen_text(app)
    assert _review_rows(fc) == 2  # each written once, however often it was tried


async def test_an_answer_written_behind_that_fails_brings_its_card_back(quick_busy, monkeypatch):
    fc = quick_busy
    monkeypatch.setattr(review_module, "SAVE_LIMIT_S", 0.5)
    notes = Notes()
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await _on_back(pilot)
        first = screen.view.card_id
        second = await _read_ahead(pilot, screen)
        with write_lock(fc):
            await pilot.press("3")
            assert screen.view.card_id == second
            await pilot.press("space", "3")  # meant for the second card: dropped on failure
            for _ in range(300):
                await pilot.pause(0.1)
                if "your answer was not saved" in notes:
                    break
            await pilot.pause(0.2)
            assert screen.phase == "back" and screen.view.card_id == first
            assert screen.record.count == 0 and _review_rows(fc) == 0
        await pilot.press("3")  # the lock is gone: answered again, saved once
        await settle(pilot)
        assert screen.view.card_id != first and screen.record.count == 1
    assert _review_rows(fc) == 1


async def test_quitting_while_an_answer_is_written_behind_the_next_card_waits_for_it(
    quick_busy,
):
    fc = quick_busy
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_back(pilot)
        second = await _read_ahead(pilot, screen)
        with write_lock(fc) as holder:
            await pilot.press("3", "q")
            await pilot.pause(0.3)
            assert app.is_running and screen.view.card_id == second
            holder.execute("ROLLBACK")
            for _ in range(30):
                await pilot.pause(0.1)
                if not app.is_running:
                    break
        assert not app.is_running
    assert _review_rows(fc) == 1


async def test_a_card_read_ahead_that_cannot_be_read_after_an_answer_leaves_the_reviewer_working(
    fc, monkeypatch
):
    # Found by review: after an answer written behind the card read ahead, the write's worker
    # reads the next card ahead; when that read failed (the card removed by another process:
    # `decks add --prune` while the student reads), the screen never heard the answer was in
    # and kept every later key (answers, undo, quit) for ever.
    from flashcore.core.errors import NotFoundError
    from flashcore.services.study_ahead import ShownAhead
    from tests.tui.test_review import review_app, reviews_today, start_session

    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        await pilot.press("space")
        await settle(pilot)
        assert screen._ahead_card is not None  # the next card is read ahead

        def removed(self, after):
            raise NotFoundError("no card 3 in this profile")

        monkeypatch.setattr(ShownAhead, "ahead", removed)
        await pilot.press("3")  # the next card at once, the answer written behind it
        for _ in range(5):
            await settle(pilot)
        assert not screen._writing
        assert reviews_today(fc) == 1
        monkeypatch.undo()
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("3")  # the next answer goes through
        for _ in range(5):
            await settle(pilot)
        assert reviews_today(fc) == 2 and not screen._writing
