"""Two `flashcore review` windows on one collection are allowed, not refused.

Decision: the engine already makes a second window safe. Every answer is one write transaction
(`BEGIN IMMEDIATE` on SQLite, a row lock on PostgreSQL) that names the card version the screen
showed; the window that answers second finds a newer version and gets StaleCardError instead of
recording the card twice, and then shows the card's current state. Refusing a second window
would need a lock file that a crash leaves behind, for no gain in safety. These tests hold the
engine to that promise on both backends.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from flashcore.core.errors import StaleCardError
from flashcore.core.model import Rating
from flashcore.services import Flashcore
from flashcore.services.study import answer, show
from tests.reliability.conftest import totals


def test_two_windows_answering_one_card_record_it_once_and_tell_the_loser(hot_fc, clock):
    first = hot_fc
    card_id = min(c["card_id"] for c in first.cards())
    with Flashcore.open(first.url, clock=clock) as second:
        shown_first = show(first, card_id)
        shown_second = show(second, card_id)
        assert shown_first.version == shown_second.version

        won = answer(first, card_id, Rating.GOOD, expect_version=shown_first.version)
        with pytest.raises(StaleCardError):
            answer(second, card_id, Rating.EASY, expect_version=shown_second.version)
        assert totals(first.engine) == (1, 1)

        clock.advance(timedelta(minutes=10))  # the second window shows the card again
        again = show(second, card_id)
        assert again.reps == 1 and again.version > shown_second.version
        later = answer(second, card_id, Rating.GOOD, expect_version=again.version)
    assert totals(first.engine) == (2, 2)
    assert later.review_id != won.review_id
    assert next(c for c in first.cards() if c["card_id"] == card_id)["reps"] == 2


def test_two_windows_on_different_cards_both_succeed(hot_fc, clock):
    ids = sorted(c["card_id"] for c in hot_fc.cards())
    with Flashcore.open(hot_fc.url, clock=clock) as second:
        for a, b in zip(ids[:5], ids[5:10], strict=True):
            answer(hot_fc, a, Rating.GOOD, expect_version=show(hot_fc, a).version)
            answer(second, b, Rating.HARD, expect_version=show(second, b).version)
    assert totals(hot_fc.engine) == (10, 10)
