"""Answers taken away behind an open reviewer. Found by hand (tmux, the reviewer open, a second
terminal): after `flashcore backup restore` of a backup taken before the last three answers,
the database held 5 answers of the day while the reviewer's progress still said 8 (and its
end-of-session summary would have counted 8); `flashcore undo` in the other terminal did the
same. The quiet moment that takes the other terminal's change now also looks whether this
session's answers are still in the review log, counts only those, and says how many went."""

from __future__ import annotations

from tests.scenarios.test_import_while_reading import _cli

from .conftest import NOW, Notes, settle
from .test_review import SIZE, answer, review_app, reviews_today, start_session

GONE = "of this session gone: a backup restore or undo elsewhere"


async def _until(pilot, done, tries: int = 40) -> None:
    """The reviewer's one-second quiet moment, no key pressed."""
    for _ in range(tries):
        await pilot.pause(0.1)
        if done():
            return
    await settle(pilot)


async def test_a_restore_in_the_other_terminal_takes_its_answers_off_the_session(fc, tmp_path):
    db, now, home = str(fc.url), NOW.isoformat(), tmp_path / "home"
    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await start_session(pilot)
        await answer(pilot)
        await answer(pilot)
        _cli(db, now, home, "backup", "create")
        backup = _cli(db, now, home, "backup", "list").stdout.split("\n")[2].split()[0]
        for _ in range(3):
            await answer(pilot)
        assert screen.record.count == 5 and reviews_today(fc) == 5
        assert all(a.review_id is not None for a in screen.record.answers)  # ids settled
        _cli(db, now, home, "backup", "restore", backup, "--yes")  # the other terminal
        await _until(pilot, lambda: screen.record.count != 5)
        assert screen.record.count == 2 == reviews_today(fc)
        left = screen.queue.new + screen.queue.learning + screen.queue.review
        assert (screen._progress._done, screen._progress._total) == (2, 2 + left)
        await answer(pilot)  # the session goes on, and counts on from what is kept
        assert screen.record.count == 3 == reviews_today(fc)
    assert f"3 answers {GONE}" in notes, notes.messages


async def test_an_undo_in_the_other_terminal_takes_its_answer_off_the_session(fc, tmp_path):
    db, now, home = str(fc.url), NOW.isoformat(), tmp_path / "home"
    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await start_session(pilot)
        for _ in range(3):
            await answer(pilot)
        kept = [a.card_id for a in screen.record.answers[:2]]
        _cli(db, now, home, "undo")
        await _until(pilot, lambda: screen.record.count != 3)
        assert [a.card_id for a in screen.record.answers] == kept
        assert reviews_today(fc) == 2
    assert f"1 answer {GONE}" in notes, notes.messages


async def test_an_answer_in_the_other_terminal_leaves_the_session_count_alone(fc, tmp_path):
    """Only this session's own answers are looked for: another terminal's answer adds to the
    day (stats) but not to this session, and takes nothing from it."""
    db, now, home = str(fc.url), NOW.isoformat(), tmp_path / "home"
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        await answer(pilot)
        await answer(pilot)
        shown = screen.view.card_id
        other = next(c["card_id"] for c in fc.cards() if c["card_id"] != shown and c["reps"] == 0)
        _cli(db, now, home, "answer", other, "good")
        before = screen.queue
        await _until(pilot, lambda: screen.queue is not before)
        await settle(pilot)
        assert screen.record.count == 2 and reviews_today(fc) == 3
