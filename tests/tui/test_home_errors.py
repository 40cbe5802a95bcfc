"""Home that cannot be built or loaded says so in one line, never a blank screen or a crash."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from flashcore.core.errors import DatabaseError
from flashcore.tui.app import make_app, make_lazy_app
from flashcore.tui.screens import home
from flashcore.tui.screens.home import HomeScreen

from .conftest import screen_text, settle, still


def refuse(message: str, error: type[Exception] = RuntimeError):
    def fail(*_args, **_kwargs):
        raise error(message)

    return fail


@pytest.mark.parametrize("lazy", [True, False], ids=["review", "make_app"])
async def test_a_home_that_cannot_be_built_ends_the_app_with_its_error(fc, monkeypatch, lazy):
    monkeypatch.setattr(home, "ChangeWatch", refuse("disk I/O error"))
    app = make_lazy_app(lambda: fc, ticks=still) if lazy else make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
    # `flashcore review` raises app.error: the command line prints it in one line
    assert app.return_code == 1
    assert isinstance(app.error, RuntimeError) and str(app.error) == "disk I/O error"


async def test_home_numbers_that_fail_to_load_show_one_line_and_r_tries_again(fc, monkeypatch):
    monkeypatch.setattr(home, "load_home", refuse("no such table: cards\nSQL: SELECT ..."))
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        today = str(app.screen.query_one("#today", Static).render())
        assert today == "Home could not load: RuntimeError: no such table: cards (r tries again)"
        assert "no such table" in screen_text(app) and "SQL:" not in screen_text(app)
        monkeypatch.undo()
        await pilot.press("r")
        await settle(pilot)
        assert "could not load" not in screen_text(app)
        assert "Due now" in screen_text(app)


async def test_a_flashcore_error_while_loading_home_is_shown_as_it_is(fc, monkeypatch):
    monkeypatch.setattr(home, "load_home", refuse("the database is busy", DatabaseError))
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        assert "the database is busy" in screen_text(app)
