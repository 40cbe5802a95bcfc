"""Two reviewers open on one collection (two terminals), answering in turn. Found by hand
(tmux, two `flashcore review` on the same file): the second answered the card the first had
just answered; its answer was rightly refused ("changed elsewhere"), but its progress bar
went on counting that answer (1/20 with nothing answered) and its header kept the other
terminal's answer out of its counts (learn 0 with a card in learning) until its next answer."""

from __future__ import annotations

from flashcore.core.model import Rating
from flashcore.services import study

from .conftest import settle
from .test_review import SIZE, answer, review_app, start_session


async def _until(pilot, done, tries: int = 40) -> None:
    for _ in range(tries):
        await pilot.pause(0.1)
        if done():
            return
    await settle(pilot)


def _counts(queue) -> tuple[int, int, int]:
    return (queue.new, queue.learning, queue.review)


async def test_an_answer_refused_as_given_elsewhere_leaves_progress_and_header_honest(fc):
    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        first = screen.view.card_id
        await pilot.pause(0.5)  # the next card is read ahead while this one is read
        study.answer(fc, first, Rating.GOOD)  # the other reviewer answers it: learning
        await answer(pilot, "3")  # refused: changed elsewhere
        assert screen.view.card_id != first and screen.record.count == 0
        expected = study.build_queue(fc, deck="Test")
        assert expected.learning == 1
        await _until(pilot, lambda: _counts(screen.queue) == _counts(expected))
        assert _counts(screen.queue) == _counts(expected)
        left = expected.new + expected.learning + expected.review
        assert (screen._progress._done, screen._progress._total) == (0, left)


async def test_a_new_card_limit_lowered_in_another_terminal_shows_in_the_open_reviewers_header(fc):
    """Found by hand (tmux): `flashcore config set new_per_day 5` in the other terminal after
    three answers; Home's tree and `due` said 2 new, the open reviewer's header kept `new 17`
    and its progress bar 3/23."""
    from flashcore.services import Flashcore

    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        await answer(pilot, "3")
        await pilot.pause(1.5)  # reading the next card: its quiet moments come and go
        before = _counts(screen.queue)
        with Flashcore.open(fc.url, clock=fc.clock) as other:  # the other terminal
            other.config_set("new_per_day", "2")
            expected = study.build_queue(other, deck="Test")
        assert _counts(expected) != before
        await _until(pilot, lambda: _counts(screen.queue) == _counts(expected))
        assert _counts(screen.queue) == _counts(expected)
        left = expected.new + expected.learning + expected.review
        assert (screen._progress._done, screen._progress._total) == (1, 1 + left)


async def test_undo_takes_back_this_reviewers_answer_not_the_other_reviewers_later_one(fc):
    """Found by hand (tmux): with two reviewers open, `u` in the first undid the answer the
    second had just given ("undid card N: the latest answer was given elsewhere"), a grade the
    student never meant to take back, while the first's progress bar dropped its own answer,
    which stayed in the database."""
    from flashcore.services.stats import stats

    app = review_app(fc)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot)
        mine = screen.view.card_id
        await answer(pilot, "3")
        theirs = screen.view.card_id
        study.answer(fc, theirs, Rating.EASY)  # the other reviewer, on another card
        await pilot.press("u")
        await settle(pilot)
        assert screen.record.count == 0
        assert screen.view.card_id == mine  # shown again, to be answered anew
    cards = {c["card_id"]: c for c in fc.cards()}
    assert cards[mine]["reps"] == 0 and cards[mine]["state"] == "new"
    assert cards[theirs]["reps"] == 1 and cards[theirs]["state"] == "review"
    assert stats(fc)["today"]["reviews"] == 1


async def test_undo_of_an_answer_whose_card_was_answered_again_elsewhere_is_refused(fc):
    from .conftest import Notes

    notes = Notes()
    fc.config_set("learning_steps", "1m")
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await start_session(pilot)
        mine = screen.view.card_id
        await answer(pilot, "1")  # Again: still in learning
        study.answer(fc, mine, Rating.GOOD)  # the other reviewer answers the same card
        await pilot.press("u")
        await settle(pilot)
        assert screen.record.count == 1  # nothing undone
    card = next(c for c in fc.cards() if c["card_id"] == mine)
    assert card["reps"] == 2
    assert f"not undone: card {mine} was answered again since (elsewhere)" in notes


async def test_a_card_answered_by_the_other_reviewer_while_read_gives_way_to_the_next(fc):
    """Found with two reviewers open (tmux), answering in turn: both showed the same card, and
    the second's answers were refused one after the other ("not saved": 12 of its 16). The
    quiet moment that takes the other reviewer's answer now also sees that the card read was
    answered there, and moves on before the student answers it in vain."""
    from .conftest import Notes

    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await start_session(pilot)
        first = screen.view.card_id
        study.answer(fc, first, Rating.GOOD)  # the other reviewer
        await _until(pilot, lambda: screen.view is not None and screen.view.card_id != first)
        assert screen.view.card_id != first and screen.phase == "front"
        await answer(pilot, "3")  # the next card is answered
        assert screen.record.count == 1
    assert "card changed elsewhere (answered, suspended, removed): on to the next" in notes
    assert stats_reviews(fc) == 2


def stats_reviews(fc) -> int:
    from flashcore.services.stats import stats

    return stats(fc)["today"]["reviews"]


async def test_undo_leaves_the_answer_another_terminal_gave_the_same_card_after_undoing_ours(fc):
    """The other terminal undoes this reviewer's answer (`flashcore undo`) and answers the same
    card again: on SQLite its answer takes the undone row's id. This reviewer's `u` named its
    answer by row and card only and took the other terminal's answer back, a grade nobody
    meant to undo; it names the answer's time too now, and says its answer is gone."""
    from datetime import timedelta

    from .conftest import Notes

    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await start_session(pilot)
        mine = screen.view.card_id
        await answer(pilot, "3")
        await _until(pilot, lambda: all(a.review_id for a in screen.record.answers))
        fc.clock.advance(timedelta(minutes=2))
        study.undo(fc)  # the other terminal
        theirs = study.answer(fc, mine, Rating.AGAIN)
        await pilot.press("u")
        await settle(pilot)
    card = next(c for c in fc.cards() if c["card_id"] == mine)
    assert (card["reps"], card["state"]) == (1, "learning"), theirs
    assert "nothing to undo: that answer is gone (undone elsewhere?)" in notes, notes.messages
