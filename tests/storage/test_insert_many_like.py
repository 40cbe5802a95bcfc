"""`insert_many_like` on SQLite: a value stored as NULL in every row goes into the statement as
the literal, never bound per row (Python 3.11's sqlite3 binds a None through its slow
adaptation path), and the rows stored are those SQLAlchemy's own insert stores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select

from flashcore.storage.repos import common
from flashcore.storage.tables import cards, metadata, notes

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
CARD = {"profile_id": 1, "state": 0, "step": None, "stability": None, "difficulty": None,
        "due": NOW, "last_review": None, "reps": 0, "lapses": 0, "desired_retention": None,
        "buried_until": None, "flagged": False, "leech": False, "weight": 0.0, "version": 0,
        "modified_at": NOW}  # fmt: skip
NOTE = {"profile_id": 1, "deck_id": 1, "removed": False, "created_at": NOW, "modified_at": NOW}


class _Spy:
    """The driver connection, each value `executemany` binds recorded."""

    def __init__(self, driver: Any, bound: list[Any]) -> None:
        self._driver = driver
        self._bound = bound

    def executemany(self, sql: str, rows: Any) -> Any:
        rows = list(rows)
        self._bound.extend(value for row in rows for value in row)
        return self._driver.executemany(sql, rows)


def _stored(conn: Any, table: Any, ids: range) -> list[tuple[Any, ...]]:
    """The rows `ids`, but their own keys (id, a card's note, a note's key)."""
    columns = [c for c in table.c if c.name not in ("id", "note_id", "key")]
    return [tuple(r) for r in conn.execute(
        select(*columns).where(table.c.id.in_(list(ids))).order_by(table.c.id))]  # fmt: skip


def test_values_null_in_every_row_are_not_bound_and_rows_match_sqlalchemys_insert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'rows.sqlite3'}")
    metadata.create_all(engine)
    bound: list[Any] = []
    real = common._driver
    monkeypatch.setattr(common, "_driver", lambda executor: _Spy(real(executor), bound))
    card_rows = [(note, 0, note % 2 == 0, None) for note in range(1, 5)]  # weak topic: none
    note_rows = [(f"k{n}", "cloze", {"text": f"{{{{c1::x{n}}}}}"}, None, "h", None)
                 for n in range(1, 5)]  # tags JSON None (stored as JSON null), no line  # fmt: skip
    with engine.begin() as conn:
        common.insert_many_like(conn, cards, CARD, ("note_id", "ord", "suspended",
                                                    "weak_topic_id"), card_rows)  # fmt: skip
        common.insert_many_like(conn, notes, {**NOTE, "key": None, "kind": None, "fields": None,
                                              "tags": None, "content_hash": None,
                                              "source_line": None},
                                ("key", "kind", "fields", "tags", "content_hash",
                                 "source_line"), note_rows)  # fmt: skip
        assert bound and all(value is not None for value in bound)
        names = ("note_id", "ord", "suspended", "weak_topic_id")
        conn.execute(insert(cards), [{**CARD, **dict(zip(names, (note + 10, *rest), strict=True))}
                                     for note, *rest in card_rows])  # fmt: skip
        names = ("key", "kind", "fields", "tags", "content_hash", "source_line")
        conn.execute(insert(notes), [{**NOTE, **dict(zip(names, (f"s{k}", *rest), strict=True))}
                                     for k, *rest in note_rows])  # fmt: skip
        assert _stored(conn, cards, range(1, 5)) == _stored(conn, cards, range(5, 9))
        assert _stored(conn, notes, range(1, 5)) == _stored(conn, notes, range(5, 9))
        raw = conn.exec_driver_sql("SELECT tags, source_line FROM notes WHERE id = 1").one()
        assert tuple(raw) == ("null", None)
