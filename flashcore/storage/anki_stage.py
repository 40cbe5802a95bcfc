"""A first import's answers staged ahead, in a SQLite file of their own (the import's work
folder), by a connection of its own in a thread of its own (`services.anki_stage`), while the
import's own thread reads the notes: sqlite3 lets other threads run while a statement steps,
so on a machine with a spare core a million answers' lookups cost no time of the import's own.
The import then copies the staged rows (`AttachedCollection.insert_staged`)."""

from __future__ import annotations

import json
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
        """The rows of `statement`, read as one JSON array when they hold no real number (the
        quarters, dues and counts the stage reads: whole numbers), for the reason
        `fill_temp` says; else row by row."""
        args = tuple(params)
        names = [d[0] for d in self._db.execute(
            f"SELECT * FROM ({statement}) LIMIT 0", args).description]  # fmt: skip
        cols = [f"c.[{n}]" for n in names]
        if len(set(names)) == len(names) and not any("]" in n for n in names):
            reals = " OR ".join(f"typeof({c}) = 'real'" for c in cols)
            found, text = self._db.execute(
                f"SELECT IFNULL(MAX({reals}), 0), json_group_array(json_array({', '.join(cols)}))"
                f" FROM ({statement}) c",
                args,
            ).fetchone()
            if not found:
                yield from (tuple(row) for row in json.loads(text))
                return
        cursor = self._db.execute(statement, args)
        while rows := cursor.fetchmany(2000):
            yield from rows

    def fill_temp(self, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Create `temp.<table>` with `columns` and insert `rows`. Rows of whole numbers and
        text only (the study days and dues of `anki_days.fill_days`) go in as one JSON array,
        by one statement: row by row (`executemany`), this thread takes Python's lock back
        after each row, and while the import's thread converts the notes (pure Python) each
        such turn may wait for the switch interval: ~12,000 rows held the window pass back
        by ~1-1.5 s at the bench package, the window then started only as the notes were done."""
        self._db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns})")
        self._db.execute(f"DELETE FROM temp.{table}")
        rows = list(rows)
        width = len(rows[0]) if rows else columns.count(",") + 1
        if all(type(v) is int or type(v) is str for row in rows for v in row):
            values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(width))
            self._db.execute(
                f"INSERT INTO temp.{table} SELECT {values} FROM json_each(?)",
                (json.dumps(rows, separators=(",", ":")),),
            )
            return
        marks = ", ".join("?" for _ in range(width))
        self._db.executemany(f"INSERT INTO temp.{table} VALUES ({marks})", rows)

    def stage(self, columns: str, select: str, params: Iterable[Any]) -> int:
        """`main.answers(<columns>)`, a table WITHOUT ROWID (`columns` declares its key: the
        rows are found by it), filled by `select`; how many rows."""
        self._db.execute(f"CREATE TABLE main.answers ({columns}) WITHOUT ROWID")
        self._db.execute("BEGIN")
        cursor = self._db.execute(f"INSERT INTO main.answers {select}", tuple(params))
        self._db.execute("COMMIT")
        return int(cursor.rowcount)

    def interrupt(self) -> None:
        """Stop the statement running (from another thread)."""
        self._db.interrupt()

    def close(self) -> None:
        self._db.close()
