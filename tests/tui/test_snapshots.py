"""Layout snapshots at 80×24 (a fixed scheduling clock and a still monotonic clock keep them
stable). Logic is tested elsewhere against the database; these only catch layout changes.
Regenerate with `pytest tests/tui --snapshot-update` and look at the report before committing."""

from __future__ import annotations

from flashcore.tui.app import make_app

from .conftest import settle, still

SIZE = (80, 24)


def keys(*presses: str):
    """A `run_before` that waits for loading, then presses each key and waits again."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in presses:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_home(snap_compare, weak_fc):
    assert snap_compare(make_app(weak_fc, ticks=still), terminal_size=SIZE, run_before=keys())


def test_review_front(snap_compare, weak_fc):
    app = make_app(weak_fc, ticks=still)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("enter"))


def test_review_back(snap_compare, weak_fc):
    app = make_app(weak_fc, ticks=still)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("enter", "space"))


def test_review_cloze_back(snap_compare, weak_fc):
    app = make_app(weak_fc, ticks=still)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("enter", "space", "4", "space"))


def test_session_end(snap_compare, weak_fc):
    app = make_app(weak_fc, ticks=still)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=keys("enter", "space", "1", "space", "4", "e")
    )


def test_weakness(snap_compare, weak_fc):
    assert snap_compare(make_app(weak_fc, ticks=still), terminal_size=SIZE, run_before=keys("w"))


def test_stats(snap_compare, weak_fc):
    app = make_app(weak_fc, ticks=still)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=keys("enter", "space", "4", "escape", "s")
    )
