"""Per-row work out of the interpreter's loop (issue 19q2): cheaper ways to do the large
`qbank import`'s per-row steps, measured beside the product's own on the bench's large
collection and log (`tools.bench.qbank`'s, kept in `--keep DIR`; read only).

    python -m tools.bench.qbank_options --keep /tmp/bench-qbank [--runs 5]

Each line is one way to do one step: its median CPU seconds (the process's) over `--runs`,
the cycle collector paused as the import pauses it, with the load average (compare only at a
like load). Every alternative is checked to give what the product's way gives (the same keys,
counts, rows or cards) before it is timed. The steps:

- reading the log: the product's reader (checks, caches, fingerprints), or polars' CSV reader
  and its columns as Python lists (when polars is importable; it checks nothing);
- the duplicate key of each row: the product's sha256 fingerprint (as `importers.qbank.table`
  makes it from a run's columns) or the row's own (source, qid, day, outcome) zipped in C,
  and the dict of each key's first row;
- the attempts counted per group and day (the fold's `repos.group_days`): the product's, the
  same with every per-row step in C (`map`, `zip`, `compress`, `Counter`), and with numpy
  (each column factorized, one code per key, `np.unique`) when numpy is installed;
- the new rows into a table shaped as `qbank_attempts` (in memory, with its date index): a
  temporary stage then INSERT .. SELECT (the product's way), `executemany` straight in, or
  one JSON text read by `json_each` (one value bound, not nine a row);
- the cards a weight refresh reads (`repos.weights.card_weights_and_topics`, the product's
  query), the cards of weight above 0 or of a note with several topics (a superset of the
  product's rows whenever every other card points at its note's only topic, or at none for a
  note without topics: checked here; the refresh finds the same changes in a superset), and
  the weighted cards alone: about what the read would cost if the database kept that
  invariant and the notes of several topics itself (triggers, a schema change).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Callable
from itertools import compress
from operator import mul
from pathlib import Path
from typing import Any

from tools.bench.qbank import NOW, build_large

Row = tuple[Any, ...]
Held = tuple[str, str, str, str, str, str, str]


def _median_cpu(action: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """The median CPU of `runs` calls (the process's: polars reads in threads of its own),
    with the cycle collector paused as the product's import pauses it
    (`services.memory.no_cycle_collection`), and the last call's result."""
    spent, out = [], None
    for _ in range(runs):
        out = None
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            out = action()
            spent.append(time.process_time() - start)
        finally:
            gc.enable()
    return statistics.median(spent), out


def read_rows(data: bytes) -> list[Row]:
    """The log's rows as the product's reader streams them."""
    from flashcore.importers.qbank import LogSource, QbankReader

    reader = QbankReader(LogSource(data), path="new.csv", default_date=NOW.date())
    return [row for chunk in reader.chunks() if chunk for row in chunk]


def sha_keys(columns: list[tuple[Any, ...]]) -> list[str]:
    """The fingerprints as `importers.qbank.table` makes them from a run's columns (one
    sha256 a row)."""
    from flashcore.importers.qbank.attempts import FINGERPRINT_CHARS

    sha = hashlib.sha256
    keys = zip(columns[1], columns[2], columns[4], columns[3], strict=True)
    return [sha(f"{s}|{q}|{d}|{o}".encode()).hexdigest()[:FINGERPRINT_CHARS] for s, q, d, o in keys]


def tuple_keys(columns: list[tuple[Any, ...]]) -> list[tuple[str, str, str, str]]:
    """The row's own (source, qid, day, outcome), zipped from the same columns in C: equal
    exactly when the fingerprints are (no field can hold the '|' the fingerprint joins them
    with; 128-bit collisions aside)."""
    return list(zip(columns[1], columns[2], columns[4], columns[3], strict=True))


def first_rows(keys: list[Any], rows: list[Row]) -> dict[Any, Row]:
    return {k: r for k, r in zip(reversed(keys), reversed(rows), strict=True)}


def held_of(rows: list[Row]) -> list[Held]:
    """The rows as an import holds them for the fold (`HeldStage.refresh_hint`)."""
    return [(r[1], r[2], r[3], r[4], r[8][:500], r[7][:300], r[6][:200]) for r in rows]


def group_days_c(held: list[Held], listed: frozenset[str]) -> dict[Any, tuple[int, int]]:
    """`repos.group_days` with every per-row step in C: a listed id keeps its source and id
    (`str * True`), any other row has both blank (`str * False`)."""
    from flashcore.storage.repos.qbank import MISSED

    source, qid, outcome, day, topic, category, system = zip(*held, strict=True)
    kept = list(map(listed.__contains__, qid))
    keys = list(zip(map(mul, source, kept), map(mul, qid, kept), topic, category, system, day,
                    strict=True))  # fmt: skip
    counted = Counter(keys)
    missed = Counter(compress(keys, map(set(MISSED).__contains__, outcome)))
    return {k: (n, missed.get(k, 0)) for k, n in counted.items()}


def group_days_numpy(held: list[Held], listed: frozenset[str]) -> dict[Any, tuple[int, int]]:
    """The same counted by numpy: each key column factorized (a dict of its values), one int64
    code per row, `np.unique` with counts, the misses by `np.bincount`."""
    import numpy as np

    from flashcore.storage.repos.qbank import MISSED

    source, qid, outcome, day, topic, category, system = zip(*held, strict=True)
    kept = list(map(listed.__contains__, qid))
    columns = [list(map(mul, source, kept)), list(map(mul, qid, kept)), topic, category, system,
               day]  # fmt: skip
    code = np.zeros(len(held), dtype=np.int64)
    values = []
    for column in columns:
        seen = {v: i for i, v in enumerate(dict.fromkeys(column))}
        values.append(list(seen))
        code = code * len(seen) + np.fromiter(map(seen.__getitem__, column), np.int64, len(held))
    unique, inverse, counts = np.unique(code, return_inverse=True, return_counts=True)
    misses = np.bincount(
        inverse, weights=np.fromiter(map(set(MISSED).__contains__, outcome), bool, len(held))
    )
    out: dict[Any, tuple[int, int]] = {}
    for c, n, m in zip(unique.tolist(), counts.tolist(), misses.tolist(), strict=True):
        key = []
        for column_values in reversed(values):
            c, at = divmod(c, len(column_values))
            key.append(column_values[at])
        out[tuple(reversed(key))] = (n, int(m))
    return out


def group_days_product(held: list[Held], listed: frozenset[str]) -> dict[Any, tuple[int, int]]:
    from flashcore.storage import repos

    return {(*g, d.isoformat()): (n, m) for g, d, n, m in repos.group_days(held, listed)}


def polars_columns(data: bytes) -> list[list[Any]] | None:
    """The log's columns as Python lists, read by polars (None without polars)."""
    try:
        import io

        import polars as pl
    except ImportError:
        return None
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    return [frame.get_column(name).to_list() for name in frame.columns]


_ATTEMPTS = (
    "CREATE TABLE qbank_attempts (id INTEGER PRIMARY KEY, profile_id INTEGER NOT NULL, "
    "batch_id INTEGER NOT NULL, fingerprint TEXT NOT NULL, source TEXT, qid TEXT, outcome TEXT, "
    "on_date TEXT, subject TEXT, system TEXT, category TEXT, topic TEXT)"
)
_COLUMNS = "fingerprint, source, qid, outcome, on_date, subject, system, category, topic"


def _attempts_table() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(_ATTEMPTS)
    conn.execute("CREATE INDEX ix_on_date ON qbank_attempts (profile_id, on_date)")
    return conn


def _copied(conn: sqlite3.Connection) -> list[Row]:
    return conn.execute(f"SELECT {_COLUMNS} FROM qbank_attempts ORDER BY id").fetchall()


def copy_staged(values: list[Row]) -> sqlite3.Connection:
    conn = _attempts_table()
    conn.execute(f"CREATE TEMP TABLE stage (seq INTEGER PRIMARY KEY, {_COLUMNS})")
    conn.executemany(f"INSERT INTO stage ({_COLUMNS}) VALUES ({', '.join('?' * 9)})", values)
    conn.execute(f"INSERT INTO qbank_attempts (profile_id, batch_id, {_COLUMNS}) SELECT 1, 2, "
                 f"{_COLUMNS} FROM stage ORDER BY seq")  # fmt: skip
    return conn


def copy_direct(values: list[Row]) -> sqlite3.Connection:
    conn = _attempts_table()
    conn.executemany(f"INSERT INTO qbank_attempts (profile_id, batch_id, {_COLUMNS}) VALUES "
                     f"(1, 2, {', '.join('?' * 9)})", values)  # fmt: skip
    return conn


def copy_json(values: list[Row]) -> sqlite3.Connection:
    conn = _attempts_table()
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    fields = ", ".join(f"value ->> {i}" for i in range(9))
    conn.execute(f"INSERT INTO qbank_attempts (profile_id, batch_id, {_COLUMNS}) SELECT 1, 2, "
                 f"{fields} FROM json_each(?) ORDER BY key", (text,))  # fmt: skip
    return conn


_WEIGHTED = (
    "SELECT c.id, c.note_id, c.weight, c.weak_topic_id, t.topic_id FROM cards AS c "
    "LEFT JOIN note_topics AS t ON t.note_id = c.note_id WHERE c.profile_id = ? AND "
)
CARD_READS = {
    "of weight above 0 or of a note with several topics": _WEIGHTED + "(c.weight <> 0 OR "
    "c.note_id IN (SELECT note_id FROM note_topics GROUP BY note_id HAVING count(*) > 1))",
    "of weight above 0 only": _WEIGHTED + "c.weight <> 0",
}


def card_read_product(db: Path, runs: int) -> tuple[float, list[Row]]:
    """The product's read of the cards a refresh may change (weighing the topics whose cards
    weigh now, as `services.weights` passes them): its median CPU and its rows."""
    from sqlalchemy import create_engine

    from flashcore.storage.repos import weights as weights_repo

    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            weighing = {
                t for (t,) in conn.exec_driver_sql("SELECT id FROM topics WHERE card_weight > 0")
            }
            return _median_cpu(
                lambda: weights_repo.card_weights_and_topics(conn, 1, (), weighing), runs
            )
    finally:
        engine.dispose()


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _line(seconds: float, label: str) -> None:
    print(f"  {seconds:6.3f}  {label}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.qbank_options",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--keep", type=Path, required=True, help="the large collection's folder")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--cards", type=int, default=200_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    db, log = build_large(args.keep.resolve(), args.cards, args.history, args.attempts)
    data, runs = log.read_bytes(), args.runs
    print(f"per-row steps of a {args.attempts:,}-row import into {args.cards:,} cards holding "
          f"{args.history:,} attempts: CPU-s, median of {runs} (load average {_load()})")  # fmt: skip
    spent, rows = _median_cpu(lambda: read_rows(data), runs)
    print("reading the log")
    _line(spent, "the product's reader (checks, caches, sha256 fingerprints)")
    if polars_columns(data) is None:
        print("           polars' CSV reader: polars is not installed")
    else:
        spent, _ = _median_cpu(lambda: polars_columns(data), runs)
        _line(spent, "polars' CSV reader and its columns as lists (checks nothing)")
    print("the duplicate key")
    columns = list(zip(*rows, strict=True))  # as importers.qbank.table holds a run
    spent, fingerprints = _median_cpu(lambda: sha_keys(columns), runs)
    assert fingerprints == [r[0] for r in rows]
    _line(spent, "sha256 fingerprints (the product's)")
    spent, keys = _median_cpu(lambda: tuple_keys(columns), runs)
    assert len(set(keys)) == len(set(fingerprints))
    _line(spent, "(source, qid, day, outcome) tuples")
    spent, _ = _median_cpu(lambda: first_rows(fingerprints, rows), runs)
    _line(spent, "first row by fingerprint (the product's dict)")
    spent, _ = _median_cpu(lambda: first_rows(keys, rows), runs)
    _line(spent, "first row by tuple")
    print("the attempts counted per group and day (the fold)")
    with sqlite3.connect(db) as conn:
        listed = frozenset(q for (q,) in conn.execute("SELECT DISTINCT qid FROM note_qids"))
    spent, held = _median_cpu(lambda: held_of(rows), runs)
    _line(spent, "the rows as an import holds them (HeldStage.refresh_hint)")
    spent, counted = _median_cpu(lambda: group_days_product(held, listed), runs)
    _line(spent, f"repos.group_days (the product's; {len(counted):,} groups and days)")
    spent, counted_c = _median_cpu(lambda: group_days_c(held, listed), runs)
    assert counted_c == counted
    _line(spent, "every per-row step in C (map, zip, compress, Counter)")
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("           numpy: not installed")
    else:
        spent, counted_np = _median_cpu(lambda: group_days_numpy(held, listed), runs)
        assert counted_np == counted
        _line(spent, "numpy (columns factorized, np.unique, np.bincount)")
    print("the new rows into a table shaped as qbank_attempts (in memory, date index)")
    values = [r[:9] for r in rows]
    expected: list[Row] | None = None
    for label, how in (("stage, then INSERT .. SELECT (the product's)", copy_staged),
                       ("executemany straight in", copy_direct),
                       ("one JSON text, json_each", copy_json)):  # fmt: skip
        spent, conn = _median_cpu(lambda how=how: how(values), runs)
        copied = _copied(conn)
        conn.close()
        expected = copied if expected is None else expected
        assert copied == expected
        _line(spent, label)
    print("the cards a weight refresh reads (the collection as built)")
    spent, product = card_read_product(db, runs)
    _line(spent, f"the product's query ({len(product):,} rows)")
    with sqlite3.connect(db) as conn:
        for at, (label, sql) in enumerate(CARD_READS.items()):
            spent, found = _median_cpu(lambda sql=sql: conn.execute(sql, (1,)).fetchall(), runs)
            if at == 0:  # every other card points at its note's only topic (or none) here
                assert set(product) <= set(found)
            _line(spent, f"{label} ({len(found):,} rows)")
    print(f"(load average {_load()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
