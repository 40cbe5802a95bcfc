"""The reviewer on the bundled starter decks: the first new cards of a fresh collection come
from many decks and topics (the default `new_order`), and deck by deck with `new_order deck`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services.collection import Flashcore
from flashcore.services.decks import bundled_decks_dir
from flashcore.tui.app import make_app
from flashcore.tui.screens.review import ReviewScreen

from .conftest import NOW, settle, still

FIRST = 12  # new cards answered in the reviewer


@pytest.fixture(scope="module")
def starter_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("starter") / "s.sqlite3"
    collection = Flashcore.open(str(path), clock=FixedClock(NOW), create=True, timezone="UTC")
    reports = collection.add_decks(sorted(bundled_decks_dir().glob("*.toml")))
    assert all(r.ok for r in reports) and len(reports) > 10
    with collection.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    collection.close()
    return path


@pytest.fixture
def starter(tmp_path: Path, starter_template: Path) -> Iterator[Flashcore]:
    target = tmp_path / "s.sqlite3"
    shutil.copy(starter_template, target)
    collection = Flashcore.open(str(target), clock=FixedClock(NOW), timezone="UTC")
    yield collection
    collection.close()


async def first_cards_shown(fc: Flashcore) -> list[int]:
    """Enter on Home's root (all decks), then Space and Good on each card: the cards shown."""
    shown = []
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        for _ in range(FIRST):
            assert screen.phase == "front"
            shown.append(screen.view.card_id)
            await pilot.press("space")
            await pilot.pause()
            await pilot.press("3")
            await settle(pilot)
    return shown


def places(fc: Flashcore, card_ids: list[int]) -> list[tuple[str, str]]:
    """(deck key, first topic) of each card."""
    by_id = {c["card_id"]: c for c in fc.cards()}
    return [
        (by_id[i]["note_key"].split(":")[0], min(by_id[i]["topics"], default="")) for i in card_ids
    ]


async def test_the_first_new_cards_in_the_reviewer_span_many_decks_and_topics(starter):
    shown = await first_cards_shown(starter)
    assert len(set(shown)) == FIRST
    seen = places(starter, shown)
    decks = [deck for deck, _topic in seen]
    assert len(set(decks)) >= FIRST - 1, decks  # the largest deck may come up twice
    assert len({topic for _deck, topic in seen}) == FIRST
    assert all(
        state == "learning"
        for state in (c["state"] for c in starter.cards() if c["card_id"] in shown)
    )


async def test_with_new_order_deck_the_reviewer_goes_deck_by_deck(starter):
    starter.config_set("new_order", "deck")
    decks = [deck for deck, _topic in places(starter, await first_cards_shown(starter))]
    assert decks == [decks[0]] * FIRST
