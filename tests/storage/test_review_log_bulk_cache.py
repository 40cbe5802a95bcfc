"""Rows inserted by SQLite into the review log from an attached package
(`AttachedCollection.insert_review_logs`): into an empty review log its indexes are built after,
as they were, and the page cache stays the connection's own (a bigger one only set a first
AnKing import's peak memory: 279 -> 226 MB); into a review log that holds rows, the indexes
are kept and grow under the big cache."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from flashcore.storage import anki_attached
from flashcore.storage.anki_attached import AttachedCollection
from flashcore.storage.uow import writing

# IMPORTED_COLUMNS' values for the profile's first three cards (?1: profile, ?2: first revlog id)
ROWS = """
SELECT ?1, c.id, 1000, 3, NULL, 100, 0.0, 'answered in Anki', 0, NULL, NULL, 0, 2, 1.0, 5.0,
  2000, 0, NULL, 0, ?2 + c.id, 1
FROM main.cards c WHERE c.profile_id = ?1 ORDER BY c.id LIMIT 3
"""


def _indexes(db: Any) -> list[tuple[str, str]]:
    return [tuple(r) for r in db.execute(
        "SELECT name, sql FROM main.sqlite_master WHERE type = 'index'"
        " AND tbl_name = 'review_logs' AND sql IS NOT NULL ORDER BY name")]  # fmt: skip


def test_an_empty_review_log_is_filled_in_the_connections_own_cache_and_keeps_its_indexes(
    loaded_sqlite_fc: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fc = loaded_sqlite_fc
    package = tmp_path / "collection.anki21"
    sqlite3.connect(package).close()
    sizes: list[int] = []
    real = anki_attached.big_cache

    @contextmanager
    def spied(driver: Any) -> Iterator[None]:
        with real(driver):
            sizes.append(int(driver.execute("PRAGMA cache_size").fetchone()[0]))
            yield

    monkeypatch.setattr(anki_attached, "big_cache", spied)
    written = []
    for first_revlog_id in (1_000, 2_000):
        with writing(fc.engine) as session:
            db = anki_attached.driver_connection(session)
            before = _indexes(db)
            attached = AttachedCollection(session, package)
            written.append(attached.insert_review_logs(ROWS, (fc.profile_id, first_revlog_id)))
            assert _indexes(db) == before and len(before) == 2
            own = int(db.execute("PRAGMA cache_size").fetchone()[0])
        if first_revlog_id == 1_000:
            assert sizes == []  # the empty review log: the connection's own cache all along
    assert written == [3, 3]
    assert sizes == [-65536] and own != -65536  # the big cache only while the indexes grow
    with writing(fc.engine) as session:
        db = anki_attached.driver_connection(session)
        assert db.execute("SELECT COUNT(*) FROM review_logs").fetchone()[0] == 6
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
