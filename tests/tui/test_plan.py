"""The plan screen: opened from Home with `p`, its three charts drawn at 80×24 from the plan,
the summary line, a collection without an exam told how to set one, and `s` solving the
retention steps in a worker with progress, stored in the database."""

from __future__ import annotations

from datetime import date

from textual_plotext import PlotextPlot

from flashcore.services import assess, exam
from flashcore.tui.app import make_app
from flashcore.tui.screens.plan import NO_EXAM, PlanScreen

from .conftest import Notes, screen_text, settle, still


async def open_plan(pilot) -> PlanScreen:
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PlanScreen)
    return screen


def _reviews_outgrow_their_limit(fc) -> None:
    """An exam in 2027-01-20 at 120 minutes a day, every card answered Easy, 25 days on (before
    the exam, the cards due again), and a review limit of 1."""
    from datetime import timedelta

    from flashcore.core.model import Rating
    from flashcore.services import study

    exam.set_exam(fc, date(2027, 1, 20), minutes_per_day=120)
    for item in study.build_queue(fc).items:
        study.answer(fc, item.card_id, Rating.EASY)
    fc.clock.advance(timedelta(days=25))
    fc.config_set("reviews_per_day", "1")


async def test_the_plan_screen_draws_load_readiness_and_assessments(fc):
    exam.set_exam(fc, date(2027, 1, 20), minutes_per_day=30)
    assess.add(fc, "NBME 30", 55, taken_on=date(2026, 11, 10))
    assess.add(fc, "NBME 31", 61, taken_on=date(2026, 11, 24))
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plan(pilot)
        text = screen_text(app)
        assert screen.data is not None and screen.data["days_left"] == 56
        plots = list(screen.query(PlotextPlot))
        assert len(plots) == 2 and all(p.size.height >= 6 for p in plots)
    assert "exam 2027-01-20" in text and "56 days left" in text
    assert "Minutes a day to 2027-01-20" in text
    assert "Points at risk by system" in text
    assert "Self-assessments" in text and "on exam day" in text
    assert "a day" in text and "At risk" in text


async def test_without_self_assessments_the_chart_says_how_to_log_one_and_draws_no_axes(fc):
    """Found by hand (tmux, 80x24): with an exam set and no self-assessment yet, the chart drew
    empty axes from -1.00 to 1.00 under its title."""
    exam.set_exam(fc, date(2027, 1, 20), minutes_per_day=30)
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_plan(pilot)
        text = " ".join(screen_text(app).split())
    assert "No self-assessments yet" in text
    assert "after an NBME or UWSA:" in text and 'flashcore assess add "NBME 31" 68' in text
    assert "-1.00" not in text and "0.50" not in text


async def test_without_an_exam_the_screen_says_how_to_set_one(fc):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_plan(pilot)
        text = " ".join(screen_text(app).split())
    assert "no exam date set: flashcore exam set" in text
    assert NO_EXAM  # the screen's own words, kept for the README


async def test_s_solves_retention_in_the_background_and_stores_it(fc, monkeypatch):
    exam.set_exam(fc, date(2027, 1, 20), minutes_per_day=30)
    seen: list[tuple[int, int]] = []

    def fake_solve(collection, *, progress):
        from dataclasses import replace

        from flashcore.storage import planning
        from flashcore.storage.uow import run_write

        for k in range(3):
            progress(k, 2)
            seen.append((k, 2))
        solved = replace(collection.exam, retention_plan=((7, 0.95),), solved_on=date(2026, 11, 25))
        run_write(
            collection.engine,
            lambda s: planning.save_exam(s, collection.profile_id, solved, collection.now()),
        )
        collection.forget_exam()
        return ((7, 0.95),)

    monkeypatch.setattr("flashcore.services.optimize.solve_retention", fake_solve)
    notes = Notes()
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24), message_hook=notes) as pilot:
        screen = await open_plan(pilot)
        await pilot.press("s")
        await settle(pilot)
        await settle(pilot)
        assert screen.data is not None and screen.data["retention_plan"] == [[7, 0.95]]
    assert seen[-1] == (2, 2)
    assert "Retention toward the exam: ≤7 d: 0.95" in notes
    assert fc.exam is not None and fc.exam.retention_plan == ((7, 0.95),)


async def test_past_the_exam_day_the_screen_says_it_is_behind_and_what_to_do(fc):
    """Found living with it: past the exam the screen's title said '-1 days left'."""
    from datetime import timedelta

    exam.set_exam(fc, date(2026, 11, 30), minutes_per_day=30)
    fc.clock.instant += timedelta(days=6)  # 2026-12-01: the exam was yesterday
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plan(pilot)
        text = " ".join(screen_text(app).split())
        assert screen.data is not None and screen.data["passed"]
    assert "behind (1 day ago)" in text
    assert "days left" not in text and "flashcore exam set" in text


async def test_a_review_limit_the_reviews_outgrow_comes_first_with_its_backlog(fc):
    """The plan screen shows one warning: when `reviews_per_day` leaves reviews waiting, that
    one (found with an imported Anki collection: the screen said only "give more minutes")."""
    _reviews_outgrow_their_limit(fc)
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_plan(pilot)
        text = " ".join(screen_text(app).split())
        assert screen.data is not None
        waiting = max(d["held_reviews"] for d in screen.data["days"])
    assert waiting > 0 and f"Waiting up to {waiting:,} reviews" in text
    assert "(all: flashcore plan): reviews_per_day 1 leaves due reviews waiting on" in text


async def test_at_80x24_the_first_warning_has_room_and_says_how_many_there_are(fc):
    """Found by hand (tmux, 80x24): the summary's warning stopped after its first line and a
    half ("… waiting on 6 of 70 days (0 today,"), before the command it recommends, and the
    plan's other warnings (new_per_day below the plan's rate) were not mentioned at all."""
    _reviews_outgrow_their_limit(fc)
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plan(pilot)
        text = " ".join(screen_text(app).split())
        assert screen.data is not None
        warnings = screen.data["warnings"]
        plots = list(screen.query(PlotextPlot))
        assert all(p.size.height >= 8 for p in plots)  # the charts keep their room
    assert len(warnings) > 1 and warnings[0]["kind"] == "review_limit"
    assert f"! 1 of {len(warnings)} (all: flashcore plan): reviews_per_day 1" in text
    assert "a day fall due after today. Raise it (`flashcore config set" in text


def test_a_summary_longer_than_its_room_is_cut_with_an_ellipsis():
    """Found by hand (tmux, 80x24): the first warning stopped mid-sentence ("… or let new cards
    pass it") as if it ended there; a cut summary now ends with an ellipsis."""
    from rich.text import Text

    from flashcore.tui.screens.plan import fitted

    long = Text("word " * 200)
    cut = fitted(long, 40, 6)
    lines = cut.plain.split("\n")
    assert len(lines) == 6 and lines[-1].endswith("…")
    assert all(len(line) <= 40 for line in lines)
    short = Text("New 10 left\n! one warning")
    assert fitted(short, 40, 6) is short
