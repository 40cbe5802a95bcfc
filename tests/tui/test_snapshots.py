"""Layout snapshots of Home, the reviewer, the weakness screen and stats at 80×24 and 140×45
(a fixed scheduling clock and a still monotonic clock keep them stable). Logic is tested
elsewhere against the database; these only catch layout changes: the deck counts under their
header, the Today panel's topic paths, the card's readable width, the ends of topic paths kept,
the topic session's counts, the status in the card's border instead of a toast, the first-run
note. Regenerate with `pytest tests/tui --snapshot-update` and look at the report before
committing."""

from __future__ import annotations

import pytest

from flashcore.services.collection import Flashcore
from flashcore.tui.app import make_app

from .conftest import DATA, add_misses, settle, still

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((140, 45), id="140x45")]


def keys(*presses: str):
    """A `run_before` that waits for loading, then presses each key and waits again."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in presses:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.fixture
def layout_fc(weak_fc: Flashcore) -> Flashcore:
    """The test deck with misses on Type I, plus a deck with a long name whose topics have
    long paths, missed too."""
    reports = weak_fc.add_decks([DATA / "layout_deck.toml"])
    assert all(r.ok for r in reports), [r.problems for r in reports]
    add_misses(weak_fc, "2001", 2)
    add_misses(weak_fc, "2002", 1)
    return weak_fc


@pytest.mark.parametrize("size", SIZES)
def test_home(snap_compare, layout_fc, size):
    app = make_app(layout_fc, ticks=still)
    assert snap_compare(app, terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", SIZES)
def test_home_first_run(snap_compare, fc, size):
    assert snap_compare(make_app(fc, ticks=still), terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", SIZES)
def test_review_front(snap_compare, layout_fc, size):
    app = make_app(layout_fc, ticks=still)
    assert snap_compare(app, terminal_size=size, run_before=keys("enter"))


@pytest.mark.parametrize("size", SIZES)
def test_review_back(snap_compare, layout_fc, size):
    app = make_app(layout_fc, ticks=still)
    assert snap_compare(app, terminal_size=size, run_before=keys("enter", "space"))


@pytest.mark.parametrize("size", SIZES)
def test_review_status_after_flag(snap_compare, layout_fc, size):
    app = make_app(layout_fc, ticks=still)
    assert snap_compare(app, terminal_size=size, run_before=keys("enter", "space", "asterisk"))


@pytest.mark.parametrize("size", SIZES)
def test_review_cloze_back(snap_compare, weak_fc, size):
    app = make_app(weak_fc, ticks=still)
    run = keys("enter", "space", "4", "space")
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_topic_session(snap_compare, layout_fc, size):
    """The weakest topic (a long path) studied alone: its counts stay in the header."""
    app = make_app(layout_fc, ticks=still)
    assert snap_compare(app, terminal_size=size, run_before=keys("w", "down", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_session_end(snap_compare, weak_fc, size):
    app = make_app(weak_fc, ticks=still)
    run = keys("enter", "space", "1", "space", "4", "e")
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_weakness(snap_compare, layout_fc, size):
    app = make_app(layout_fc, ticks=still)
    assert snap_compare(app, terminal_size=size, run_before=keys("w"))


@pytest.mark.parametrize("size", SIZES)
def test_weakness_empty(snap_compare, fc, size):
    assert snap_compare(make_app(fc, ticks=still), terminal_size=size, run_before=keys("w"))


@pytest.mark.parametrize("size", SIZES)
def test_stats(snap_compare, layout_fc, size):
    app = make_app(layout_fc, ticks=still)
    run = keys("enter", "space", "4", "escape", "s")
    assert snap_compare(app, terminal_size=size, run_before=run)
