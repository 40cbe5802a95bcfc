"""Card text is never markup: hostile cards render literally and cannot drive the app or the
terminal."""

from __future__ import annotations

from flashcore.core.cloze import Segment
from flashcore.services.stats import stats
from flashcore.tui.app import make_app
from flashcore.tui.screens.review import ReviewScreen
from flashcore.tui.widgets.card_pane import CardPane
from flashcore.tui.widgets.card_text import clean, render_segments

from .conftest import screen_text, settle, still

HOSTILE_TOPIC = "Misc::Hostile"


def test_clean_strips_c0_del_and_c1_but_keeps_newlines_and_tabs():
    raw = "a\x1b[31mb\x07c\x7fd\x9b2Je\x9d0;title\x9cf\r\ng\th\x00"
    assert clean(raw) == "a[31mbcd2Je0;titlef\ng\th"


def test_segments_become_text_with_styles_by_role_and_no_markup():
    text = render_segments(
        [Segment("[bold]x[/] "), Segment("[...]", "blank"), Segment(" [@click=app.quit]")]
    )
    assert text.plain == "[bold]x[/] [...] [@click=app.quit]"
    assert [(s.start, s.end, str(s.style)) for s in text.spans] == [(11, 16, "bold yellow")]


async def test_a_hostile_card_renders_literally_and_the_app_keeps_running(fc):
    app = make_app(fc, topic=HOSTILE_TOPIC, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        pane = screen.query_one("#card", CardPane)
        assert pane.lines.front is not None
        front = pane.lines.front.plain
        for literal in (
            "[bold]not bold[/]",
            "[/] and [@click=app.quit]click[/]",
            "[link=https://example.com]x[/link]",
            "{{c1::not a cloze}}",
            "<b>html</b>",
            "[31mred[0m",
        ):
            assert literal in front
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in front)
        assert "\x9b" not in front
        shown = screen_text(app)
        assert "[@click=app.quit]click[/]" in shown
        assert "\x1b" not in shown
        await pilot.click("#card", offset=(4, 3))  # on the [@click=...] text: must do nothing
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        back, extra = pane.lines.back, pane.lines.extra
        assert back is not None and extra is not None
        assert back.plain.startswith("longword000 longword001")
        assert len(back.plain) == 2000
        # wrapped onto many lines, inside the scrolling card
        assert pane.line_count > 20 + pane.content_region.height
        assert pane.virtual_size.height == pane.line_count > pane.scrollable_content_region.height
        assert extra.plain == "x" * 300
        await pilot.press("pagedown", "pagedown")
        await pilot.press("3")
        await settle(pilot)
        assert app.is_running
    assert stats(fc)["today"]["reviews"] == 1


async def test_a_long_unbroken_line_is_folded_not_cut(fc):
    app = make_app(fc, topic=HOSTILE_TOPIC, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space")
        await pilot.pause()
        pane = app.screen.query_one("#card", CardPane)
        width = pane.scrollable_content_region.width  # beside the scrollbar
        drawn = pane.drawn
        assert max(len(line.rstrip()) for line in drawn) <= width
        folded = [line.rstrip() for line in drawn if set(line.strip()) == {"x"}]
        assert len(folded) >= 300 // width  # every x shown, folded onto lines of the width
        assert sum(len(line.strip()) for line in folded) == 300
