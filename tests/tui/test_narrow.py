"""The reviewer in a small terminal. Found by hand (tmux resized to 60x20 during a card): the
answer buttons read `1 Again ·    2 Hard · 6m     3 Good ·     4 Easy · 3d`: a label one
cell too long for its button wrapped, and the line it wrapped to (the interval) was cut off,
so Again's and Good's intervals vanished; at 40 columns every interval but Easy's did."""

from __future__ import annotations

import pytest

from flashcore.core.model import Rating
from flashcore.tui.widgets.answer_bar import AnswerBar

from .test_review import review_app, start_session


@pytest.mark.parametrize("size", [(60, 20), (48, 16), (40, 12)])
async def test_every_answer_button_shows_its_interval_in_a_small_terminal(fc, size):
    app = review_app(fc)
    async with app.run_test(size=size) as pilot:
        screen = await start_session(pilot)
        await pilot.press("space")
        await pilot.pause()
        bar = screen.query_one("#answers", AnswerBar)
        line = bar.render_line(0).text
        for rating in Rating:
            start, width = bar.button_span(rating)
            cell = line[start : start + width]
            assert screen.view.outcomes[rating].label in cell, (rating, line)
            assert str(int(rating)) in cell, (rating, line)
