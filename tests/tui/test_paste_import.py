"""A missed-question log pasted into the app. Found living with it (tmux, bracketed paste of the
UWorld sample into the open reviewer): nothing happened — the paste was dropped (its digits,
rightly, graded nothing), though the first-run note tells the student to copy the incorrect
questions. Now the paste is read as `qbank import -` reads it, a box says what it would add,
`y` imports it (one batch, as the command would) and `n` leaves it; a paste that is no log
says why in one line. The reviewer goes on with the import's queue."""

from __future__ import annotations

from pathlib import Path

from textual import events

from flashcore.services.qbank import list_batches
from flashcore.tui.screens.paste_import import PasteImportScreen

from .conftest import Notes, screen_text, settle
from .test_review import SIZE, answer, review_app, reviews_today

SAMPLE = (Path(__file__).parents[2] / "decks" / "samples" / "uworld-paste.tsv").read_text()


async def _paste(pilot, text: str) -> None:
    pilot.app.post_message(events.Paste(text))  # as the terminal driver sends it
    await settle(pilot)
    await settle(pilot)


async def _until_box(pilot) -> None:
    """Until a paste's box shows, drawn (under load its text lags its push)."""
    for _ in range(100):
        await pilot.pause(0.1)
        if isinstance(pilot.app.screen, PasteImportScreen) and "Import this paste" in " ".join(
            screen_text(pilot.app).split()
        ):
            break
    assert isinstance(pilot.app.screen, PasteImportScreen)


async def test_a_log_pasted_into_the_reviewer_is_imported_after_y(fc):
    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        review = app.screen
        await answer(pilot)
        await _paste(pilot, SAMPLE)
        assert isinstance(app.screen, PasteImportScreen)
        shown = " ".join(screen_text(app).split())
        assert "12 rows (a UWorld paste): 12 attempts, 12 misses" in shown
        assert list_batches(fc) == []  # a dry run so far
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert app.screen is review
        (batch,) = list_batches(fc)
        assert batch["origin"] == "the paste" and batch["attempts"] == 12
        await answer(pilot)  # the session goes on
    assert reviews_today(fc) == 2
    assert any(
        m.startswith("Imported the paste: 12 misses (0 matching cards)") for m in notes.messages
    ), notes
    assert any(f"undo: flashcore qbank remove {batch['batch_id']}" in m for m in notes.messages)


async def test_n_leaves_a_pasted_log_unimported(fc):
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _paste(pilot, SAMPLE)
        assert isinstance(app.screen, PasteImportScreen)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, PasteImportScreen)
    assert list_batches(fc) == []


async def test_a_paste_that_is_no_log_says_why_and_changes_nothing(fc):
    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        await _paste(pilot, "my notes for today\nremember the enzyme\n")
        assert not isinstance(app.screen, PasteImportScreen)
    assert list_batches(fc) == []
    (said,) = [m for m in notes.messages if m.startswith("The paste was not imported")]
    assert said.startswith("The paste was not imported: the paste:1: ")
    assert "Error" not in said and "Traceback" not in said


async def test_the_same_log_pasted_again_says_it_was_imported_before(fc):
    """The command line's refusal names `--again`, which the app has no way to give: the app
    says the paste was imported before, in one line, and adds nothing."""
    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        await _paste(pilot, SAMPLE)
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        await _paste(pilot, SAMPLE)
        assert not isinstance(app.screen, PasteImportScreen)
    (batch,) = list_batches(fc)
    (said,) = [m for m in notes.messages if m.startswith("The paste was not imported")]
    assert said.startswith(
        f"The paste was not imported: it was imported before (batch {batch['batch_id']}, "
    )
    assert said.endswith(" UTC); nothing added") and "--again" not in said


def _opening_app(fc):
    """An app whose collection opens once the returned event is set (the loading screen
    meanwhile)."""
    import threading

    from flashcore.tui.app import make_lazy_app

    from .conftest import still

    opening = threading.Event()

    def opener():
        opening.wait(10)
        return fc

    return make_lazy_app(opener, ticks=still), opening


async def test_a_log_pasted_while_the_collection_opens_is_read_once_it_is_open(fc):
    # Found by rv2: a paste on the loading screen (the first seconds of `flashcore review` on a
    # large collection) was dropped without a word. It is kept and read once the collection is
    # open: the same box as a paste on Home.
    from flashcore.tui.screens.loading import LoadingScreen

    app, opening = _opening_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        assert isinstance(app.screen, LoadingScreen)
        app.post_message(events.Paste(SAMPLE))
        await pilot.pause(0.3)
        assert isinstance(app.screen, LoadingScreen)
        opening.set()
        await _until_box(pilot)
        assert "12 rows (a UWorld paste)" in " ".join(screen_text(app).split())
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
    (batch,) = list_batches(fc)
    assert batch["attempts"] == 12


CSV_LOG = (Path(__file__).parents[2] / "decks" / "samples" / "missed.csv").read_text()


async def test_two_logs_pasted_while_the_collection_opens_are_each_asked_about(fc):
    # Found by rv3: of two pastes on the loading screen (two question-bank blocks copied one
    # after the other) only the last was kept; the first was dropped without a word.
    app, opening = _opening_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        app.post_message(events.Paste(SAMPLE))
        app.post_message(events.Paste(CSV_LOG))
        await pilot.pause(0.3)
        opening.set()
        await _until_box(pilot)
        assert "(a UWorld paste)" in " ".join(screen_text(app).split())
        await pilot.press("y")
        await _until_box(pilot)
        assert "question_id" in screen_text(app)  # the second paste's first lines
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
    assert len(list_batches(fc)) == 2


async def test_a_paste_while_the_box_shows_is_asked_about_after_it(fc):
    # A second paste while the first one's box showed was dropped without a word. It waits
    # for that box; the same log pasted twice is then refused as imported before.
    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        await _paste(pilot, SAMPLE)
        assert isinstance(app.screen, PasteImportScreen)
        await _paste(pilot, CSV_LOG)
        await _paste(pilot, SAMPLE)
        assert "Paste kept: asked about after this one" in notes.messages
        assert "UWorld paste" in " ".join(screen_text(app).split())  # still the first box
        await pilot.press("y")
        await _until_box(pilot)
        assert "question_id" in screen_text(app)
        await pilot.press("n")  # the CSV left
        for _ in range(30):
            await pilot.pause(0.1)
            if any(m.startswith("The paste was not imported") for m in notes.messages):
                break
        assert not isinstance(app.screen, PasteImportScreen)
    (batch,) = list_batches(fc)
    assert batch["attempts"] == 12
    (said,) = [m for m in notes.messages if m.startswith("The paste was not imported")]
    assert "it was imported before" in said
