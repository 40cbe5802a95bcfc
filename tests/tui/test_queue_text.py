"""How the reviewer words what today's limits hold back (`tui.queue_text`)."""

from __future__ import annotations

from flashcore.services.study import TodayQueue
from flashcore.tui.queue_text import held_text


def test_the_reviewers_extra_new_after_a_raise_is_the_raise_plus_the_cards_held():
    # `--extra-new N` sets today's raise (it does not add to it): after a raise of 5, the
    # 3 cards still held need 8, or the suggestion would lower the limit again.
    queue = TodayQueue((), 0, 0, 0, None, new_held=3, new_limit=25, new_raised=5)
    text = held_text(queue, "Step 1", None).plain
    assert "3 more new cards wait beyond today's limit of 25 new" in text
    assert "flashcore review --deck 'Step 1' --extra-new 8)" in text
