"""Cards from an Anki package in the reviewer: HTML as styled terminal text, `o` opens the
card's images with the (injected) system viewer."""

from __future__ import annotations

import pytest

pytest.importorskip("anki.collection")

from flashcore.core.clock import FixedClock
from flashcore.services.collection import Flashcore
from flashcore.tui.app import make_app
from flashcore.tui.widgets.card_pane import CardPane
from tests.anki_packages import build_student_collection, export

from .conftest import NOW, settle, still


@pytest.fixture
def fc_anki(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    col, _made = build_student_collection(tmp_path / "col.anki2")
    package = export(col, tmp_path / "s.apkg", scheduling=True)
    col.close()
    fc = Flashcore.open(str(tmp_path / "c.sqlite3"), clock=FixedClock(NOW), create=True)
    [report] = fc.add_decks([package])
    assert report.ok, report.problems
    yield fc
    fc.close()


async def test_o_opens_the_cards_images_and_html_shows_as_styled_text(fc_anki):
    opened: list[list[str]] = []
    app = make_app(
        fc_anki, deck="AnKing::Cardio", ticks=still,
        open_files=lambda paths: opened.append([p.name for p in paths]),
    )  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        front = app.screen.query_one("#card", CardPane).lines.front
        assert front is not None
        assert "[...] shows an irregularly irregular rhythm" in front.plain
        assert "[image: heart.png]" in front.plain and "<img" not in front.plain
        assert "• no P waves" in front.plain
        underlined = [
            front.plain[s.start : s.end] for s in front.spans if "underline" in str(s.style)
        ]
        assert "irregularly irregular" in underlined
        await pilot.press("o")
        await settle(pilot)
    assert opened == [["heart.png"]]
