"""A write whose foreign keys SQLite checks once, before its commit (`keys_at_commit`: a big
first Anki import's): the keys are off inside it and on again after it, whatever happened; a
row left without its parent (or a delete that counted on ON DELETE CASCADE, which does not run
while the keys are off) rolls the write back whole (`KeysBrokenError`); on PostgreSQL, and for
every other write, nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from flashcore.storage.tables import cards, notes
from flashcore.storage.uow import KeysBrokenError, reading, run_write


def _driver(session: Any) -> Any:
    return session.connection().connection.driver_connection


def _keys_on(session: Any) -> int:
    return int(_driver(session).execute("PRAGMA foreign_keys").fetchone()[0])


def _cards(fc: Any) -> list[tuple[Any, ...]]:
    """Every card's row (id, version, note id, ...)."""
    query = select(cards.c.id, cards.c.version, cards.c.note_id, cards).order_by(cards.c.id)
    with reading(fc.engine) as session:
        return [tuple(r) for r in session.execute(query)]


def test_the_keys_are_off_inside_the_write_and_on_again_after_it(loaded_sqlite_fc: Any) -> None:
    engine = loaded_sqlite_fc.engine
    assert run_write(engine, _keys_on, keys_at_commit=True) == 0
    assert run_write(engine, _keys_on) == 1  # the same pooled connection: on again
    with reading(engine) as session:
        assert _keys_on(session) == 1


def test_a_row_left_without_its_parent_rolls_the_write_back(loaded_sqlite_fc: Any) -> None:
    fc = loaded_sqlite_fc
    before = _cards(fc)
    card_id = before[0][0]

    def orphan(session: Any) -> None:
        _driver(session).execute("UPDATE cards SET note_id = 999999 WHERE id = ?", (card_id,))

    with pytest.raises(KeysBrokenError):
        run_write(fc.engine, orphan, keys_at_commit=True)
    assert _cards(fc) == before
    with reading(fc.engine) as session:
        assert _keys_on(session) == 1


def test_a_delete_that_counts_on_the_cascade_is_found(loaded_sqlite_fc: Any) -> None:
    """The keys off, deleting a note leaves its cards (no cascade): the check finds them and
    nothing is deleted; with the keys on, its cards go with it."""
    fc = loaded_sqlite_fc
    before = _cards(fc)
    note_id = before[0][2]

    def delete_note(session: Any) -> None:
        _driver(session).execute("DELETE FROM notes WHERE id = ?", (note_id,))

    with pytest.raises(KeysBrokenError):
        run_write(fc.engine, delete_note, keys_at_commit=True)
    assert _cards(fc) == before
    run_write(fc.engine, delete_note)
    assert [c for c in _cards(fc) if c[2] == note_id] == []


def test_keys_at_commit_changes_nothing_elsewhere(loaded_fc: Any) -> None:
    """PostgreSQL checks its keys as always; a write without a broken key commits."""
    fc = loaded_fc

    def count(session: Any) -> int:
        return int(session.execute(select(func.count()).select_from(notes)).scalar_one())

    assert run_write(fc.engine, count, keys_at_commit=True) == 3
