"""The stage file's connection (`storage.anki_stage.StageDb`): rows of whole numbers and text go
in and come out as one JSON statement each (the staging thread otherwise takes Python's lock
back after every row), with every value and type as row by row; real numbers, NULLs and names
JSON cannot carry go row by row, exactly."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from flashcore.storage.anki_stage import StageDb


@pytest.fixture
def stage(tmp_path: Path) -> Any:
    collection = tmp_path / "collection.sqlite3"
    sqlite3.connect(collection).close()
    db = StageDb(tmp_path / "stage.sqlite3", collection)
    yield db
    db.close()


def _statements(db: StageDb) -> list[str]:
    seen: list[str] = []
    db._db.set_trace_callback(seen.append)
    return seen


def test_whole_numbers_and_text_go_in_and_come_out_as_one_statement_each(stage: Any) -> None:
    rows = [(1, "a'b"), (2**62, 'é "q" \\ ☃'), (-3, ""), (0, "x\ny")]
    seen = _statements(stage)
    stage.fill_temp("t", "q INTEGER PRIMARY KEY, s TEXT", rows)
    assert [s for s in seen if "INSERT" in s] == [s for s in seen if "json_each" in s]
    assert len([s for s in seen if "INSERT" in s]) == 1
    seen.clear()
    out = list(stage.sql("SELECT q, s, typeof(q), typeof(s) FROM temp.t ORDER BY q"))
    assert [s for s in seen if "json_group_array" in s]
    assert out == [(q, s, "integer", "text") for q, s in sorted(rows)]
    assert list(stage.sql("SELECT q / 2, COUNT(*) FROM temp.t WHERE q > ? GROUP BY 1", (0,))) \
        == [(0, 1), (2**61, 1)]  # fmt: skip
    assert list(stage.sql("SELECT q FROM temp.t WHERE 0")) == []


def test_real_numbers_and_nulls_go_row_by_row_exactly(stage: Any) -> None:
    reals = [(1, 0.1 + 0.2), (2, 1 / 3), (3, 0.9), (4, 1e-300)]
    seen = _statements(stage)
    stage.fill_temp("r", "q INTEGER PRIMARY KEY, v REAL", reals)
    assert not [s for s in seen if "json_each" in s]
    assert list(stage.sql("SELECT q, v FROM temp.r ORDER BY q")) == reals
    stage.fill_temp("n", "q INTEGER PRIMARY KEY, v", [(1, None), (2, 5)])
    assert list(stage.sql("SELECT q, v FROM temp.n ORDER BY q")) == [(1, None), (2, 5)]
    mixed = list(stage.sql("SELECT q, CASE WHEN q = 2 THEN 0.5 ELSE q END FROM temp.r ORDER BY q"))
    assert mixed == [(1, 1), (2, 0.5), (3, 3), (4, 4)]
    assert list(stage.sql("SELECT 1 AS a, 2 AS a")) == [(1, 2)]  # repeated names


def test_an_empty_fill_makes_an_empty_table(stage: Any) -> None:
    stage.fill_temp("e", "q INTEGER PRIMARY KEY, day INTEGER", [])
    assert list(stage.sql("SELECT * FROM temp.e")) == []
