"""The reviewer over study days (issue 14): Home's deck tree and Today panel agree; Enter on a
weak topic studies its unseen cards even when the day's new cards are spent; a limit that holds
cards back is named, and `+` brings them in; the session end's "Due tomorrow" and "Weak topics
worked" speak of the session's own scope and weak topics."""

from __future__ import annotations

from datetime import date, timedelta

from flashcore.core.model import Rating
from flashcore.services import qbank, study
from flashcore.tui.app import make_app
from flashcore.tui.screens.home import HomeScreen
from flashcore.tui.screens.review import ReviewScreen
from flashcore.tui.screens.session_end import SessionEndScreen
from flashcore.tui.session import Answered, SessionRecord
from flashcore.tui.widgets.deck_tree import DeckTree

from .conftest import Notes, add_misses, screen_text, settle, still

TYPE_I = "Immunology::Hypersensitivity::Type I"
SIZE = (80, 24)


async def answer(pilot, key: str = "3") -> None:
    await pilot.press("space")
    await pilot.pause()
    await pilot.press(key)
    await settle(pilot)


def test_weak_topics_worked_are_the_weak_topics_that_brought_the_cards():
    record = SessionRecord(None, None, 0.0)
    # A card of two topics, brought by one: only that one was worked as a weak topic.
    record.add(Answered(1, Rating.GOOD, "new; weak topic: A — 3 misses", ("A", "B"), 900, "A"))
    record.add(Answered(2, Rating.GOOD, "due today", ("B",), 900, None))
    assert record.weak_topics() == ["A"]


async def test_home_s_deck_tree_counts_the_pulled_forward_cards_as_the_today_panel(fc):
    clock = fc.clock
    for item in study.build_queue(fc).items:
        study.answer(fc, item.card_id, Rating.EASY)
    clock.advance(timedelta(days=1))
    today = (clock.now()).date()
    qbank.import_log(fc, b"1001\n", origin="ids.txt", fmt="qids", on_date=today)
    queue = study.build_queue(fc)
    assert queue.review >= 1  # pulled forward
    app = make_app(fc, ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        data = app.screen.data
        tree = app.screen.query_one(DeckTree)
        root_label = str(tree.root.label)
        text = screen_text(app)
    assert data.tree[None] == (queue.new, queue.learning, queue.review)
    assert root_label.split()[-3:] == [str(queue.new), str(queue.learning), str(queue.review)]
    assert f"{queue.new} new · {queue.learning} learning · {queue.review} review" in text


async def test_enter_on_a_weak_topic_studies_its_unseen_cards_when_the_daily_new_are_spent(fc):
    fc.config_set("new_per_day", "1")
    first = study.build_queue(fc).items[0]
    study.answer(fc, first.card_id, Rating.EASY)  # the day's one new card
    add_misses(fc)
    assert study.build_queue(fc, topic=TYPE_I).new == 0
    app = make_app(fc, ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.topic == TYPE_I
        assert screen.view is not None and screen.view.state.label == "new"
    # 3 misses: 30 suggested minutes; the topic has one unseen note left: it is in today's queue
    assert study.build_queue(fc, topic=TYPE_I).new == 1
    assert study.build_queue(fc).new == 0  # the collection keeps its limit


async def _done_for_the_day(pilot) -> ReviewScreen:
    """The reviewer's one new card of the day answered Easy: "done"."""
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await answer(pilot, "4")
    assert screen.phase == "done"
    return screen


async def test_the_reviewer_names_the_cards_a_limit_holds_back_and_plus_brings_them(fc):
    fc.config_set("new_per_day", "1")
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _done_for_the_day(pilot)
        text = screen_text(app)
        assert "more new cards wait beyond today's limit of 1 new" in text
        assert "--deck Test --extra-new" in text.replace("\n", " ")
        await pilot.press("plus")
        await settle(pilot)
        assert screen.phase == "front" and screen.view.state.label == "new"
    # `+` brings a day's worth more (new_per_day), at most the cards waiting
    assert study.build_queue(fc, deck="Test").new_limit == 2


async def test_new_cards_the_review_limit_keeps_out_are_named_as_such_without_plus(fc):
    """Found living with it: with the day's reviews filling reviews_per_day, the reviewer
    offered `+` and `--extra-new` for new cards that only the review limit kept out."""
    fc.config_set("new_per_day", "3")
    for item in study.build_queue(fc).items:
        study.answer(fc, item.card_id, Rating.EASY)
    fc.clock.advance(timedelta(days=60))  # the three come back due together
    fc.config_set("reviews_per_day", "2")
    queue = study.build_queue(fc)
    assert (queue.review, queue.new, queue.review_held, queue.new_squeezed) == (2, 0, 1, 1)
    app = make_app(fc, ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await answer(pilot)
        await answer(pilot)
        assert screen.phase == "done"
        text = " ".join(screen_text(app).split())
        assert "1 new card of today's 3 waits: new cards count against the review limit" in text
        assert "1 more due review wait beyond today's review limit" in text
        assert "more new cards" not in text and "--extra-new" not in text
        await pilot.press("plus")  # no `+` offered: nothing comes
        await settle(pilot)
        assert screen.phase == "done"


async def test_a_topic_session_s_end_counts_tomorrow_for_that_topic(weak_fc):
    fc = weak_fc
    app = make_app(fc, topic=TYPE_I, ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        for _ in range(8):
            if not isinstance(app.screen, ReviewScreen):
                break
            await answer(pilot, "4")
        assert isinstance(app.screen, SessionEndScreen)
        await settle(pilot)
        text = screen_text(app)
    whole, topic = study.tomorrow(fc), study.tomorrow(fc, topic=TYPE_I)
    assert whole.total > topic.total
    expected = (
        f"{topic.total} ({topic.new} new · {topic.learning} learning · {topic.review} review)"
        if topic.total
        else "0"
    )
    assert f"Due tomorrow    {expected}" in text
    assert "Weak topics worked" in text and TYPE_I in text
    assert date(2026, 11, 25) == fc.now().date()


async def test_a_session_from_home_that_cannot_start_goes_back_home(fc, monkeypatch):
    # e.g. another window's clock ran ahead: the first card cannot be shown (ClockError).
    from flashcore.core.errors import ClockError

    def refuse(self, card_id):
        raise ClockError("the clock is before this card's last review; refusing to record")

    monkeypatch.setattr(study.StudySession, "show", refuse)
    notes = Notes()
    app = make_app(fc, ticks=still)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # all decks: the command line named no scope
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.is_running
    assert "refusing to record" in notes


async def test_the_reviewer_refuses_to_undo_an_answer_of_the_previous_study_day(fc):
    """A session open across the day's rollover: `u` would reach yesterday's answer; it is
    refused with the same line as `flashcore undo`, and nothing changes."""
    notes = Notes()
    app = make_app(fc, ticks=still)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await answer(pilot, "4")
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.record.count == 1
        fc.clock.advance(timedelta(days=1))  # past the rollover, the session still open
        await pilot.press("u")
        await settle(pilot)
        assert screen.record.count == 1
    assert "not undone: the last answer was given on an earlier study day (2026-11-25)" in notes
    assert len(study.undo(fc, earlier_days=True)) == 1  # it was still there


async def test_the_last_answer_shows_all_done_at_once_and_tomorrow_after_it(fc, monkeypatch):
    # Issue 19r: the answer's fetch built tomorrow's first queue (a whole ranking: 2.2 s at
    # 200,000 new cards) before the last card's key showed "All done"; it is read after.
    fc.config_set("new_per_day", "1")
    built_in: list[str] = []
    original = study.tomorrow

    def recording(*args, **kwargs):
        from textual.worker import get_current_worker

        built_in.append(get_current_worker().group)
        return original(*args, **kwargs)

    monkeypatch.setattr(study, "tomorrow", recording)
    app = make_app(fc, deck="Test", ticks=still)
    async with app.run_test(size=SIZE) as pilot:
        await _done_for_the_day(pilot)
        assert "review-write" not in built_in  # not between the key and the notice
        assert built_in == ["outlook"]
        text = screen_text(app)
        expected = original(fc, deck="Test").total
        assert f"Due tomorrow: {expected}" in text and "…" not in text
        assert "more new cards wait beyond today's limit of 1 new" in text
