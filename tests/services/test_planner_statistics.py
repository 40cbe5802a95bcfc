"""A deck import leaves the planner statistics of what it filled, on both backends. Found live
on PostgreSQL (the reviewer in tmux, ten answers a minute): after the first load of the
starter decks every rebuild of the queue took 3.7 s on a loaded machine, and each answer
waited ("saving… another flashcore is writing") behind the rebuild. The tables had never been
analysed (this machine's server runs without autovacuum; elsewhere it looks once a minute),
and the planner, taking `cards` for 12,504 rows of which most pass, joined every card once for
each of the 1,281 topics to count the new-card quota; analysed, 45 ms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from flashcore.storage.db import IMPORTED_TABLES
from tests.conftest import write_deck


def _deck(notes: int) -> str:
    lines = []
    for i in range(notes):
        lines += ["[[cards]]", f'id = "n{i}"', f'front = "Q{i}"', 'back = "A"',
                  f'topics = ["Pathology::System {i % 40}::Topic {i % 400}"]', ""]  # fmt: skip
    return "\n".join(lines)


def _analysed(fc: Any) -> set[str]:
    """The imported tables the planner has statistics for."""
    with fc.engine.connect() as conn:
        if fc.engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT DISTINCT tbl FROM sqlite_stat1")).scalars()
        else:  # a table never analysed has no pg_stats rows (reltuples -1)
            rows = conn.execute(
                text(
                    "SELECT relname FROM pg_class WHERE reltuples >= 0 AND relkind = 'r'"
                    " AND relnamespace = current_schema()::regnamespace"
                )
            ).scalars()
        return set(rows) & set(IMPORTED_TABLES)


def test_a_first_deck_import_leaves_the_planner_statistics_of_what_it_filled(
    fc: Any, tmp_path: Path
) -> None:
    [report] = fc.add_decks([write_deck(tmp_path / "d.toml", _deck(1_200))])
    assert report.ok, report.problems
    assert {"cards", "notes", "note_topics", "topics"} <= _analysed(fc)
    if fc.engine.dialect.name == "postgresql":
        with fc.engine.connect() as conn:
            tuples = conn.execute(
                text(
                    "SELECT reltuples FROM pg_class WHERE relname = 'cards'"
                    " AND relnamespace = current_schema()::regnamespace"
                )
            ).scalar_one()
        assert tuples == 1_200  # the planner counts the cards as they are
