"""Reliability fixtures: a deck of 20 hot cards, table content hashes, totals, and the switch
for the long variants.

The long variants carry `@pytest.mark.slow` and also need FLASHCORE_SLOW=1, because CI runs
every test (no `-m` filter) and the default suite must stay under a minute:

    FLASHCORE_SLOW=1 python -m pytest tests/reliability -m slow -s
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import write_deck

HOT_CARDS = 20
SLOW = os.environ.get("FLASHCORE_SLOW") == "1"
slow = [
    pytest.mark.slow,
    pytest.mark.skipif(not SLOW, reason="long variant: set FLASHCORE_SLOW=1 to run it"),
]


def hot_deck_body(n: int = HOT_CARDS) -> str:
    return "".join(
        f'\n[[cards]]\nid = "hot-{i:02d}"\nfront = "Hot question {i}"\nback = "Answer {i}"\n'
        f'topics = ["Immunology::Hot"]\n'
        for i in range(n)
    )


def write_hot_deck(folder: Path, n: int = HOT_CARDS) -> Path:
    return write_deck(folder / "hot.toml", hot_deck_body(n), name="Hot", key="hot")


@pytest.fixture
def hot_fc(fc: Any, tmp_path: Path) -> Any:
    """The `fc` collection (SQLite and PostgreSQL) holding 20 hot cards."""
    (report,) = fc.add_decks([write_hot_deck(tmp_path)])
    assert report.ok, report.problems
    return fc


@pytest.fixture
def hot_sqlite(fc_sqlite: Any, tmp_path: Path) -> Any:
    (report,) = fc_sqlite.add_decks([write_hot_deck(tmp_path)])
    assert report.ok, report.problems
    return fc_sqlite


def schema_columns(engine: sa.Engine) -> dict[str, list[str]]:
    """Every table and its columns, as the database reports them."""
    inspector = sa.inspect(engine)
    return {t: [c["name"] for c in inspector.get_columns(t)] for t in inspector.get_table_names()}


def table_hashes(
    engine: sa.Engine, columns: dict[str, list[str]] | None = None
) -> dict[str, tuple[int, str]]:
    """Per table: (row count, sha256 of every row in primary-key order), over `columns` (the
    ones a table had before an upgrade, say) or all of them."""
    out: dict[str, tuple[int, str]] = {}
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            wanted = columns.get(name, []) if columns is not None else list(table.columns.keys())
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            count = 0
            query = sa.select(*(table.c[c] for c in wanted)).order_by(*order)
            for row in conn.execute(query):
                digest.update(repr(tuple(row)).encode())
                count += 1
            out[name] = (count, digest.hexdigest())
    return out


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def totals(engine: sa.Engine) -> tuple[int, int]:
    """(sum of cards.reps, count of review rows): equal when no update was lost."""
    with engine.connect() as conn:
        reps = conn.execute(sa.text("SELECT COALESCE(SUM(reps), 0) FROM cards")).scalar_one()
        logs = conn.execute(sa.text("SELECT COUNT(*) FROM review_logs")).scalar_one()
    return int(reps), int(logs)


def cards_disagreeing(engine: sa.Engine) -> list[tuple[int, int, int]]:
    """(card_id, reps, log rows) of every card whose reps differ from its log."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.id, c.reps, (SELECT COUNT(*) FROM review_logs r WHERE r.card_id = c.id)"
                " FROM cards c"
            )
        ).all()
    return [(r[0], r[1], r[2]) for r in rows if r[1] != r[2]]


@pytest.fixture
def sqlite_file(sqlite_url: str) -> Iterator[Path]:
    yield Path(sqlite_url.removeprefix("sqlite:///"))
