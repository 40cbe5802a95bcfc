"""A qbank import runs with Python's cycle collector paused (its passes over the heap cost
~0.3 CPU-s of a 100,000-row import at 200,000 cards and found nothing), and leaves it as it
found it: on again after an import, after one that fails, and off if it was off."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from flashcore.core.errors import FlashcoreError
from flashcore.services import qbank, qbank_import
from tests.conftest import write_deck
from tests.services.test_qbank_import import DECK, MIXED


@pytest.fixture
def deck_fc(fc: Any, tmp_path: Path) -> Any:
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", DECK)])
    assert report.ok, report.problems
    return fc


def test_the_collector_is_paused_while_an_import_runs_and_on_again_after(deck_fc, monkeypatch):
    seen: list[bool] = []
    summarize = qbank_import._summarize

    def watching(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return summarize(*args, **kwargs)

    monkeypatch.setattr(qbank_import, "_summarize", watching)
    assert gc.isenabled()
    report = qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    assert report.added == 5
    assert seen and not any(seen)
    assert gc.isenabled()


def test_a_failed_import_turns_the_collector_on_again(deck_fc):
    qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    with pytest.raises(FlashcoreError, match="identical"):
        qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    assert gc.isenabled()


def test_an_import_leaves_a_paused_collector_paused(deck_fc):
    gc.disable()
    try:
        qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
        assert not gc.isenabled()
    finally:
        gc.enable()
