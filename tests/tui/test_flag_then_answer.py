"""A card flagged (`*`) and then answered in the reviewer. Found while checking how the
reviewer tells a card changed elsewhere: a flag raises the card's version, and the screen kept
the version it had shown, so the answer that followed was refused as "changed elsewhere
(answered, suspended, removed): not saved": flagging a card to fix it later lost its grade."""

from __future__ import annotations

from .conftest import Notes, settle
from .test_review import SIZE, answer, review_app, reviews_today, start_session


async def test_a_card_flagged_then_answered_keeps_its_flag_and_its_answer(fc):
    notes = Notes()
    app = review_app(fc)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await start_session(pilot)
        first = screen.view.card_id
        await pilot.press("asterisk")
        await settle(pilot)
        await answer(pilot, "3")
        second = screen.view.card_id
        await pilot.press("space")  # the answer side up, then flagged twice (back to unflagged)
        await settle(pilot)
        await pilot.press("asterisk")
        await settle(pilot)
        await pilot.press("asterisk")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert screen.record.count == 2, notes.messages
    assert reviews_today(fc) == 2
    cards = {c["card_id"]: c for c in fc.cards()}
    assert cards[first]["flagged"] is True and cards[first]["reps"] == 1
    assert cards[second]["flagged"] is False and cards[second]["reps"] == 1
