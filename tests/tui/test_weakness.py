"""Weakness: ranked topics; Enter studies one topic, or says nothing is due for it."""

from __future__ import annotations

from flashcore.services import study, weakness
from flashcore.services.stats import stats
from flashcore.tui.app import make_app
from flashcore.tui.screens.review import ReviewScreen
from flashcore.tui.screens.weakness import WeaknessScreen
from flashcore.tui.widgets.bars import score_bar

from .conftest import Notes, screen_text, settle, still

TYPE_I = "Immunology::Hypersensitivity::Type I"


def test_score_bar_fills_its_share_of_ten_cells():
    assert score_bar(0.5) == "█████░░░░░"
    assert score_bar(0.0) == "░" * 10
    assert score_bar(1.7) == "█" * 10


async def open_weakness(pilot) -> WeaknessScreen:
    await settle(pilot)
    await pilot.press("w")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WeaknessScreen)
    return screen


async def test_weak_topics_are_ranked_with_a_bar(weak_fc):
    app = make_app(weak_fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_weakness(pilot)
        text = screen_text(app)
        assert screen.rows[0]["topic"] == TYPE_I
    assert "█" in text and "░" in text
    # Three misses and no correct answer imported: "3", not "3/3".
    row = next(line for line in text.splitlines() if "Type" in line)
    assert " 3 " in row and "3/3" not in text
    # The retention the scheduler uses for the topic (against the student's average since
    # issue 21: three misses on three of the collection's few cards), however the detail wraps.
    target = weakness.report_rows(weak_fc)[0]["desired_retention"]
    assert 0.90 < target < 0.97
    assert f"retention target {round(target * 100)}%" in " ".join(text.split())


async def test_enter_on_a_topic_starts_a_session_on_that_topic_only(weak_fc):
    fc = weak_fc
    in_topic = {c["card_id"] for c in fc.cards(topic=TYPE_I)}
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_weakness(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.topic == TYPE_I
        assert screen.view.card_id in in_topic
        answered = screen.view.card_id
        await pilot.press("space")
        await pilot.pause()
        await pilot.press("4")
        await settle(pilot)
        assert screen.view.card_id in in_topic
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WeaknessScreen)
    assert stats(fc)["today"]["reviews"] == 1
    assert next(c for c in fc.cards() if c["card_id"] == answered)["reps"] == 1


async def test_enter_on_a_topic_with_nothing_due_shows_a_notice(weak_fc):
    fc = weak_fc
    study.set_cards(fc, "suspend", [c["card_id"] for c in fc.cards(topic=TYPE_I)])
    notes = Notes()
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24), message_hook=notes) as pilot:
        await open_weakness(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WeaknessScreen)
    assert f"Nothing is due for {TYPE_I} today" in notes


async def test_without_missed_questions_the_screen_says_so(fc):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_weakness(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert "No missed questions imported yet" in screen_text(app)


GAP_PASTE = b"1 - 7001\tImmunology\tAllergy\tImmune reactions\tDelayed hypersensitivity reaction\t50%\t9 sec\n"
GAP_COMMAND = (
    "flashcore topics alias 'Delayed hypersensitivity reaction' Immunology::Hypersensitivity"
)


async def test_gaps_show_below_the_topics_with_the_alias_to_run_and_go_once_it_is_run(weak_fc):
    from flashcore.services import qbank

    qbank.import_log(weak_fc, GAP_PASTE, origin="paste")
    app = make_app(weak_fc, ticks=still)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_weakness(pilot)
        text = screen_text(app)
        assert screen.gaps[0]["suggestion"]["command"] == GAP_COMMAND
        assert "Gaps — misses that matched no card or topic" in text
        assert "Delayed hypersensitivity reaction · 1 miss, the last on 2026-11-25" in text
        assert GAP_COMMAND in text
        # Rollups follow the ranked topic, marked with their level.
        assert [r["level"] for r in screen.rows] == ["topic", "system", "subject"]
        assert "(system)" in text and "(subject)" in text
        await pilot.press("escape")
        await settle(pilot)
        qbank.add_alias(
            weak_fc, "Delayed hypersensitivity reaction", "Immunology::Hypersensitivity"
        )
        again = await open_weakness(pilot)
        assert again.gaps == []
        assert "Gaps" not in screen_text(app)


async def test_the_empty_weakness_screen_says_how_to_fill_it(fc):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_weakness(pilot)
        text = screen_text(app)
    assert "No missed questions imported yet" in text
    for command in ("pbpaste", "xclip -o -selection clipboard", "wl-paste", "Get-Clipboard"):
        assert f"{command} | flashcore qbank import -" in text


async def test_a_long_topic_keeps_its_end_in_the_table(weak_fc):
    app = make_app(weak_fc, ticks=still)
    async with app.run_test(size=(60, 24)) as pilot:
        await open_weakness(pilot)
        text = screen_text(app)
    assert "…::Hypersensitivity::Type I" in text or "…::Type I" in text
