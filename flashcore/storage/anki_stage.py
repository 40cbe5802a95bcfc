"""A first import's review-log rows staged ahead, in a SQLite file of their own (the import's
work folder), by a connection of its own in a thread of its own (`services.anki_stage`), while
the import's own thread reads the notes: sqlite3 lets other threads run while a statement
steps, so on a machine with a spare core the window over a million answers costs no time of
the import's own. The import then copies the staged rows (`AttachedCollection.insert_staged`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

STAGE = "anki_stage"  # the name the staged file is attached under on the import's connection
_PACKAGE = "anki_package"


class StageDb:
    """The stage file (created: a fresh work folder's) with the package's collection attached read-only; for the
    thread that fills it. Scratch data: no journal, no syncs (it is thrown away with the
    import's work folder)."""

    def __init__(self, path: Path, collection: Path) -> None:
        self._db = sqlite3.connect(
            path.resolve().as_uri(), uri=True, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        uri = collection.resolve().as_uri() + "?mode=ro"
        self._db.execute(f"ATTACH DATABASE ? AS {_PACKAGE}", (uri,))

    def sql(self, statement: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
        cursor = self._db.execute(statement, tuple(params))
        while rows := cursor.fetchmany(2000):
            yield from rows

    def fill_temp(self, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Create `temp.<table>` with `columns` and insert `rows`."""
        self._db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns})")
        self._db.execute(f"DELETE FROM temp.{table}")
        marks = ", ".join("?" for _ in range(columns.count(",") + 1))
        self._db.executemany(f"INSERT INTO temp.{table} VALUES ({marks})", rows)

    def stage(self, columns: str, select: str, params: Iterable[Any]) -> int:
        """`main.answers(<columns>)` (no declared types: each value kept as computed) filled
        by `select`; how many rows."""
        self._db.execute(f"CREATE TABLE main.answers ({columns})")
        self._db.execute("BEGIN")
        cursor = self._db.execute(f"INSERT INTO main.answers {select}", tuple(params))
        self._db.execute("COMMIT")
        return int(cursor.rowcount)

    def interrupt(self) -> None:
        """Stop the statement running (from another thread)."""
        self._db.interrupt()

    def close(self) -> None:
        self._db.close()
