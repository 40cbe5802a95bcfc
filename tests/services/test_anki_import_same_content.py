"""A first `--with-scheduling` import of generated Anki packages writes the same database,
every row of every table (cards, their states and due dates, review-log rows with their ids,
anchors, topics, the topic index's generation), with the bulk load's faster paths of issue
16f (`storage.bulk_cards`: the 0024 link-insert triggers set aside and counted once after;
`storage.checkpoint`: the commit's checkpoint run beside the weight refresh) as without them;
`check` finds nothing, and the write-ahead log is checkpointed when `decks add` returns, each
connection's automatic checkpoint back on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anki.collection")

from sqlalchemy import select

from flashcore.services import Flashcore, anki_stage
from flashcore.services import decks as decks_service
from flashcore.services.check import check
from flashcore.storage import bulk_cards
from flashcore.storage.checkpoint import Checkpoint
from flashcore.storage.columns import metadata
from flashcore.storage.db import AUTOCHECKPOINT_PAGES
from flashcore.storage.uow import reading
from tests.services import test_anki_import_paths as paths

clock = paths.clock


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(bulk_cards, "BULK_LOAD_CARDS", 1)  # the small packages load in bulk
    monkeypatch.setattr(anki_stage, "spare_core", lambda: False)  # the same path each time


def _everything(fc: Any) -> dict[str, list[tuple[Any, ...]]]:
    with reading(fc.engine) as session:
        return {
            table.name: sorted((tuple(r) for r in session.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }


def _imported(url: str, package: Path, monkeypatch: pytest.MonkeyPatch, *, fast: bool) -> Any:
    with monkeypatch.context() as m:
        if not fast:  # as before issue 16f: the triggers kept, the checkpoint at the commit
            m.setattr(bulk_cards, "INDEX_INSERT_TRIGGERS", {})
            m.setattr(decks_service, "defer_checkpoint", lambda session: False)
        taken: list[Checkpoint] = []

        class Spied(Checkpoint):
            def __init__(self, engine: Any) -> None:
                super().__init__(engine)
                taken.append(self)

        m.setattr(decks_service, "Checkpoint", Spied)
        with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
            [report] = fc.add_decks([package], with_scheduling=True)
            assert report.ok, report.problems
            assert report.scheduling is not None and report.scheduling.reviews_added > 20
            if fast:
                _assert_checkpointed(fc, taken)
            assert check(fc).problems == []
            return _everything(fc)


def _assert_checkpointed(fc: Any, taken: list[Checkpoint]) -> None:
    """The import's checkpoint was done whole when `decks add` returned, and no pooled
    connection is left with its automatic checkpoint off."""
    [checkpoint] = taken
    assert checkpoint.result is not None
    busy, frames, done = checkpoint.result
    assert busy == 0 and frames == done > 0
    pool: Any = fc.engine.pool
    for record in list(pool._pool.queue):
        connection = record.driver_connection
        assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == (
            AUTOCHECKPOINT_PAGES
        )


def _anking_package(tmp_path: Path) -> Path:
    """The benchmark's AnKing-like package, small: cloze notes with a dozen fields, AnKing's
    tag families, images, 70 % of the cards studied with FSRS memory, an eighth suspended."""
    from tools.bench.anki_import import build

    return build(tmp_path, notes=300, revlog=4000, media=3)


@pytest.mark.parametrize("which", ["studied", "anking"])
def test_a_first_import_writes_the_same_database_with_the_faster_paths_as_without(
    which: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make = paths._studied_package if which == "studied" else _anking_package
    package = make(tmp_path)
    before = _imported(f"sqlite:///{tmp_path / 'before.sqlite3'}", package, monkeypatch,
                       fast=False)  # fmt: skip
    after = _imported(f"sqlite:///{tmp_path / 'after.sqlite3'}", package, monkeypatch, fast=True)
    assert before.keys() == after.keys()
    for name in before:
        assert after[name] == before[name], name
    assert after["imported_answers"] and after["cards"] and after["note_topics"]
