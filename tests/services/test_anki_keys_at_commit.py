"""A big first `--with-scheduling` import writes with SQLite's foreign keys checked once before
its commit (`PackageRead.write`, `storage.uow.writing(keys_at_commit=True)`): every row of every
table the same as the import checked at each row writes; chosen only for a first import of a
big history on SQLite; a write the check finds broken (one that counted on an ON DELETE
action) is written again the usual way, the preset's settings as before it."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anki.collection")

from flashcore.importers.anki_package import open_package
from flashcore.importers.anki_package.notes import ConvertReport
from flashcore.services import Flashcore, anki_import
from flashcore.storage import uow
from tests.conftest import SMALL_DECK, write_deck
from tests.services import test_anki_import_paths as paths
from tests.services.test_anki_staged_answers import imported_rows

clock = paths.clock


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))


def _imported(url: str, package: Path, monkeypatch: pytest.MonkeyPatch, *,
              rows: int) -> tuple[dict[str, list[tuple[Any, ...]]], list[bool]]:  # fmt: skip
    """`package` imported with scheduling into a fresh profile, the keys checked at the commit
    from `rows` revlog rows on: its rows, and for each write whether its keys were off."""
    monkeypatch.setattr(anki_import, "KEYS_AT_COMMIT_ROWS", rows)
    off: list[bool] = []
    real = uow._check_keys

    def spied(session: Any) -> None:
        off.append(bool(session.connection().connection.info.get(uow.KEYS_OFF)))
        real(session)

    monkeypatch.setattr(uow, "_check_keys", spied)
    return imported_rows(url, package), off


def test_keys_checked_at_the_commit_give_every_row_the_usual_write_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = paths._studied_package(tmp_path)
    at_commit, off = _imported(f"sqlite:///{tmp_path / 'a.sqlite3'}", package, monkeypatch,
                               rows=1)  # fmt: skip
    assert off == [True]
    usual, off = _imported(f"sqlite:///{tmp_path / 'b.sqlite3'}", package, monkeypatch,
                           rows=10**9)  # fmt: skip
    assert off == []
    assert at_commit == usual
    assert at_commit["imported_answers"] and at_commit["anki_cards"]


def test_only_a_first_big_import_on_sqlite_without_prune_checks_its_keys_at_the_commit(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = paths._studied_package(tmp_path)
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        with open_package(package, work_dir=tmp_path / "work") as pkg:
            assert not anki_import.checks_keys_at_commit(fc, pkg)  # a small history
            monkeypatch.setattr(anki_import, "KEYS_AT_COMMIT_ROWS", 1)
            sqlite = fc.engine.dialect.name == "sqlite"
            assert anki_import.checks_keys_at_commit(fc, pkg) == sqlite
        for prune in (False, True):  # `--prune` deletes notes: the usual way from the start
            read = anki_import.read_package(fc, package, with_scheduling=True, prune=prune)
            assert read.keys_at_commit == (sqlite and not prune)
            read.discard()
        [report] = fc.add_decks([package], with_scheduling=True)
        assert report.ok, report.problems
        with open_package(package, work_dir=tmp_path / "again") as pkg:
            assert not anki_import.checks_keys_at_commit(fc, pkg)  # a re-import


def test_a_write_found_broken_at_the_commit_is_written_again_with_the_keys_on(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The write deletes a card's note, counting on ON DELETE CASCADE: the keys off, the card
    stays and the check finds it; written again, the card goes with its note, and the
    settings the first try took are not kept."""
    with Flashcore.open(sqlite_url, clock=clock, create=True, timezone="UTC") as fc:
        [report] = fc.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
        assert report.ok, report.problems
        before = fc.settings
        [first, *_] = fc.cards()
        keys: list[int] = []

        def work(session: Any) -> int:
            driver = session.connection().connection.driver_connection
            keys.append(int(driver.execute("PRAGMA foreign_keys").fetchone()[0]))
            if len(keys) == 1:  # as a preset taken in the write would
                fc.use_settings(replace(fc.settings, desired_retention=0.8))
            note_id = driver.execute(
                "SELECT note_id FROM cards WHERE id = ?", (first["card_id"],)
            ).fetchone()[0]
            driver.execute("DELETE FROM notes WHERE id = ?", (note_id,))
            return int(note_id)

        read = anki_import.PackageRead([], ConvertReport(), tmp_path / "w", tmp_path / "m",
                                       None, keys_at_commit=True)  # fmt: skip
        read.write(fc, work)
        assert keys == [0, 1]
        assert fc.settings == before
        assert first["card_id"] not in {c["card_id"] for c in fc.cards()}


def test_a_file_already_holding_an_orphan_is_imported_the_usual_way_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: the check at the commit reads the whole database, so a file that
    already held a row without its parent (an older flashcore's, a crash's) failed it
    whatever the import wrote, and the whole import was written a second time. Such a file is
    imported the usual way from the start: one write, the same rows."""
    package = paths._studied_package(tmp_path)
    url = f"sqlite:///{tmp_path / 'o.sqlite3'}"
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        [report] = fc.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
        assert report.ok, report.problems
        raw = sqlite3.connect(tmp_path / "o.sqlite3")  # its keys off, as an older writer's
        with raw:
            raw.execute("UPDATE cards SET note_id = 999999 WHERE id = 1")
        raw.close()
        monkeypatch.setattr(anki_import, "KEYS_AT_COMMIT_ROWS", 1)
        with open_package(package, work_dir=tmp_path / "work") as pkg:
            assert not anki_import.checks_keys_at_commit(fc, pkg)
        writes: list[int] = []
        real = anki_import.run_write

        def counted(*args: Any, **kwargs: Any) -> Any:
            writes.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(anki_import, "run_write", counted)
        [report] = fc.add_decks([package], with_scheduling=True)
        assert report.ok, report.problems
        assert report.scheduling is not None and report.scheduling.reviews_added > 20
        assert len(writes) == 1
