"""Storage fixtures: a collection (both backends) holding the small test deck."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SMALL_DECK, write_deck


@pytest.fixture
def deck_path(tmp_path: Path) -> Path:
    return write_deck(tmp_path / "small.toml", SMALL_DECK)


@pytest.fixture
def loaded_fc(fc: Any, deck_path: Path) -> Any:
    """The `fc` collection (SQLite and PostgreSQL) with SMALL_DECK: 3 notes, 4 cards."""
    (report,) = fc.add_decks([deck_path])
    assert report.ok, report.problems
    return fc


@pytest.fixture
def loaded_sqlite_fc(fc_sqlite: Any, deck_path: Path) -> Any:
    """A SQLite collection with SMALL_DECK."""
    (report,) = fc_sqlite.add_decks([deck_path])
    assert report.ok, report.problems
    return fc_sqlite
