"""A big first import takes faster paths (storage.bulk_cards: the `topic_cards` triggers and the
cards' secondary indexes set aside while it writes, `topic_cards` counted once after); the same
package imported on the card-by-card path gives every row of every table it writes the same
columns, and `check` finds nothing on either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anki.collection")

from sqlalchemy import select

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.services.check import check
from flashcore.storage import bulk_cards
from flashcore.storage.tables import (
    anki_cards,
    cards,
    decks,
    note_qids,
    note_topics,
    notes,
    topic_cards,
    topics,
)
from flashcore.storage.uow import reading
from tests import anki_history as ah
from tests.anki_packages import build_student_collection, export

# One clock for every import (the rows hold their times).
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
clock = FixedClock(NOW - timedelta(days=3))
TABLES = (decks, notes, cards, note_topics, note_qids, topics, topic_cards, anki_cards)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))


def _kinds_package(tmp_path: Path) -> Path:
    """Every kind of note a student's export holds, AnKing tags (topics, question ids) and a
    suspended note."""
    (tmp_path / "kinds").mkdir(exist_ok=True)
    col, _made = build_student_collection(tmp_path / "kinds" / "col.anki2")
    package = export(col, tmp_path / "kinds.apkg", scheduling=True)
    col.close()
    return package


def _studied_package(tmp_path: Path) -> Path:
    """Notes studied in Anki: review, learning, relearning and new cards, flagged, suspended."""
    made = ah.new_student(tmp_path / "studied" / "collection.anki2", notes=10)
    col = made.col
    for i, note_id in enumerate(made.note_ids):
        note = col.get_note(note_id)
        note.tags = [f"#AK_Step1_v12::^Systems::Pharm::Topic{i % 3}",
                     f"#AK_Step1_v12::#UWorld::Step::{100 + i % 4}"]  # fmt: skip
        col.update_note(note)
    ah.study_days(made, [3, 4])
    col = made.col
    reviews = list(col.find_cards("is:review"))
    ah.answer_card(made, reviews[1], 1)
    card = col.get_card(reviews[0])
    card.flags = 2
    col.update_card(card)
    col.sched.suspend_cards([reviews[2]])
    ah.shift_back(made, 4)
    return ah.export(made, tmp_path / "studied.colpkg")


def _rows(fc: Any) -> dict[str, list[tuple[Any, ...]]]:
    with reading(fc.engine) as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
            for table in TABLES
        }


def _imported(url: str, package: Path, *, bulk: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(bulk_cards, "BULK_LOAD_CARDS", 1 if bulk else 10**9)
    taken: list[bool] = []
    real = bulk_cards.bulk_load_applies

    def spied(*args: Any) -> bool:
        taken.append(real(*args))
        return taken[-1]

    monkeypatch.setattr(bulk_cards, "bulk_load_applies", spied)
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        [report] = fc.add_decks([package], with_scheduling=True)
        assert report.ok, report.problems
        assert check(fc).problems == []
        rows = _rows(fc)
    return rows, taken


@pytest.mark.parametrize("which", ["kinds", "studied"])
def test_a_first_import_on_the_bulk_path_writes_what_the_card_by_card_path_writes(
    which: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = (_kinds_package if which == "kinds" else _studied_package)(tmp_path)
    fast, taken = _imported(f"sqlite:///{tmp_path / 'a.sqlite3'}", package, bulk=True,
                            monkeypatch=monkeypatch)  # fmt: skip
    assert taken == [True]
    slow, taken = _imported(f"sqlite:///{tmp_path / 'b.sqlite3'}", package, bulk=False,
                            monkeypatch=monkeypatch)  # fmt: skip
    assert taken == [False]
    assert fast == slow
    assert fast["topic_cards"] and fast["cards"] and fast["note_topics"]


def test_the_bulk_path_puts_the_triggers_and_indexes_back_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a bulk load the schema is as before, and the triggers count again: a second
    package's cards and links (into a profile that holds cards: no bulk path) keep
    `topic_cards` right."""
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    with Flashcore.open(url, clock=clock, create=True) as fc, fc.engine.connect() as conn:
        before = conn.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        ).all()
    _rows, taken = _imported(url, _kinds_package(tmp_path), bulk=True, monkeypatch=monkeypatch)
    assert taken == [True]
    _rows, taken = _imported(url, _studied_package(tmp_path), bulk=True, monkeypatch=monkeypatch)
    assert taken == [False]  # the profile holds cards now
    with Flashcore.open(url, clock=clock) as fc, fc.engine.connect() as conn:
        after = conn.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        ).all()
    assert after == before


def test_a_bulk_load_that_fails_leaves_the_schema_and_the_profile_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flashcore.storage import repos

    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    with Flashcore.open(url, clock=clock, create=True) as fc, fc.engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT name FROM sqlite_master ORDER BY name").all()
    monkeypatch.setattr(bulk_cards, "BULK_LOAD_CARDS", 1)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(repos, "renumber_new_cards", broken)
    with Flashcore.open(url, clock=clock) as fc, pytest.raises(RuntimeError):
        fc.add_decks([_kinds_package(tmp_path)])
    with Flashcore.open(url, clock=clock) as fc, fc.engine.connect() as conn:
        after = conn.exec_driver_sql("SELECT name FROM sqlite_master ORDER BY name").all()
        assert conn.exec_driver_sql("SELECT count(*) FROM cards").scalar() == 0
    assert after == before
