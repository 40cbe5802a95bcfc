"""What a 100,000-row `qbank import` into the bench's large collection cannot go below on SQLite
(issue 19): the leanest import the product could make, written on the driver alone (the stdlib
`csv`, `hashlib` and `sqlite3`; no SQLAlchemy, no flashcore module), timed step by step on a
copy of `tools.bench.qbank`'s large collection (`--keep DIR`).

    python -m tools.bench.qbank_floor --keep /tmp/bench-qbank [--runs 3] [--instructions]

Each run imports the bench's log twice, each time into a fresh copy: once set-based (the rows
staged by `executemany` in a temporary table; duplicates, the copy into qbank_attempts, the
tallies by text, the sums per group and day, the windows per group and the card weights of the
notes listing a missed question as INSERT .. SELECT / UPDATE with GROUP BY, so that the per-row
work runs in SQLite's C code), and once with the rows in Python (duplicates and the sums counted
in dicts, the attempts inserted by one `executemany`). Both write what the product writes per
new attempt (the attempt with its indexes, a tally per text, a row per group and day, a window
per group, the listed questions' cards); neither matches texts to topics, scores, picks
pull-forwards nor writes in steps that keep a reviewer unblocked, so each total is a floor, not
a design. Printed: the median thread CPU of each step, the fixed cost of starting the process
(Python alone, with the driver, with the modules the product's import loads), and the load
average (compare runs only at a like load). `--instructions` also counts, with valgrind, the
instructions of the lean import as a process of its own and of those starts (load-proof).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.bench.qbank import build_large, copy_database

OUTCOMES = {"correct": "correct", "incorrect": "incorrect", "omitted": "omitted"}
PROFILE = 1
# The arithmetic of the decayed sums (the product's settled day and half-life are the
# collection's; any values cost the same).
SETTLED, HALF_LIFE = "2026-10-01", 30.0
Row = tuple[str, str, str, str, str, str, str, str, str, int]


class Steps:
    """Thread CPU seconds per named step, in the order first seen."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.last = time.thread_time()

    def __call__(self, name: str) -> None:
        now = time.thread_time()
        self.spent[name] = self.spent.get(name, 0.0) + now - self.last
        self.last = now


def parse(data: bytes, origin: str) -> list[Row]:
    """The bench's CSV log as the rows the product stores (fingerprint, source, qid, outcome,
    ISO day, subject, system, category, topic, line), checked: a bad result or date is one
    line naming the file and line."""
    from datetime import date

    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    next(reader)
    rows: list[Row] = []
    days: dict[str, str] = {}
    sha = hashlib.sha256
    append = rows.append
    for line, (qid, result, day, subject, system, topic) in enumerate(reader, 2):
        outcome = OUTCOMES.get(result) or OUTCOMES.get(result.strip().lower())
        if outcome is None:
            raise SystemExit(f"{origin}:{line}: unknown result {result!r}")
        iso = days.get(day)
        if iso is None:
            try:
                iso = days[day] = date.fromisoformat(day.strip()).isoformat()
            except ValueError:
                raise SystemExit(f"{origin}:{line}: not a date: {day!r}") from None
        qid = qid.strip()
        fp = sha(f"uworld|{qid}|{iso}|{outcome}".encode()).hexdigest()[:32]
        append((fp, "uworld", qid, outcome, iso, subject.strip(), system.strip(), "",
                topic.strip(), line))  # fmt: skip
    return rows


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # as the product's connections
    conn.execute("PRAGMA foreign_keys=OFF")  # the product checks them once, at the commit
    return conn


def _batch(conn: sqlite3.Connection, rows_read: int) -> int:
    cursor = conn.execute(
        "INSERT INTO qbank_batches (profile_id, source, format, origin, content_hash, "
        "imported_at, rows_read, added) VALUES (?, 'uworld', 'csv', 'new.csv', 'floor', "
        "'2026-11-25 12:00:00.000000', ?, 0)",
        (PROFILE, rows_read),
    )
    return int(cursor.lastrowid or 0)


_INSERT = (
    "INSERT INTO qbank_attempts (profile_id, batch_id, fingerprint, source, qid, outcome, "
    "on_date, subject, system, category, topic) "
)
_GROUP = (
    "CASE WHEN l.qid IS NULL THEN '' ELSE n.source END, coalesce(l.qid, ''), n.topic, "
    "n.category, n.system"
)
_MISS = "(n.outcome <> 'correct')"
_DECAY = f"pow(2, (julianday(n.on_date) - julianday('{SETTLED}')) / {HALF_LIFE})"


def import_sql(db: Path, data: bytes) -> dict[str, float]:
    """The set-based import: staged, then every per-row step as SQL over the stage."""
    step = Steps()
    rows = parse(data, "new.csv")
    step("parse (csv, checks, sha256 fingerprint)")
    conn = _connect(db)
    conn.execute("BEGIN")
    conn.execute(
        "CREATE TEMP TABLE stage (seq INTEGER PRIMARY KEY, fingerprint TEXT, source TEXT, "
        "qid TEXT, outcome TEXT, on_date TEXT, subject TEXT, system TEXT, category TEXT, "
        "topic TEXT, line INTEGER)"
    )
    conn.executemany(
        "INSERT INTO stage (fingerprint, source, qid, outcome, on_date, subject, system, "
        "category, topic, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    step("attempts: the stage, executemany into a temporary table")
    conn.execute(
        "CREATE TEMP TABLE known AS SELECT fingerprint FROM qbank_attempts WHERE profile_id = "
        f"{PROFILE} AND on_date IN (SELECT DISTINCT on_date FROM stage)"
    )
    conn.execute("CREATE INDEX temp.known_fp ON known (fingerprint)")
    conn.execute(
        "CREATE TEMP TABLE new AS SELECT s.* FROM stage AS s WHERE s.seq IN (SELECT min(seq) "
        "FROM stage GROUP BY fingerprint) AND NOT EXISTS (SELECT 1 FROM known AS k WHERE "
        "k.fingerprint = s.fingerprint) ORDER BY seq"
    )
    conn.execute("CREATE TEMP TABLE listed AS SELECT DISTINCT source, qid FROM note_qids")
    conn.execute("CREATE UNIQUE INDEX temp.listed_q ON listed (source, qid)")
    step("duplicates (in the log, stored) and the listed questions, in SQL")
    conn.execute("COMMIT")
    conn.execute("BEGIN IMMEDIATE")
    batch = _batch(conn, len(rows))
    conn.execute(
        f"{_INSERT} SELECT {PROFILE}, {batch}, fingerprint, source, qid, outcome, on_date, "
        "substr(subject, 1, 200), substr(system, 1, 200), substr(category, 1, 300), "
        "substr(topic, 1, 500) FROM new ORDER BY seq"
    )
    step("attempts: INSERT .. SELECT into qbank_attempts")
    conn.execute(
        "INSERT INTO qbank_tallies (profile_id, topic, category, system, attempts, misses) "
        f"SELECT {PROFILE}, n.topic, n.category, n.system, count(*), sum({_MISS}) FROM new AS n "
        "GROUP BY 2, 3, 4"
    )
    step("tallies by text: GROUP BY")
    conn.execute(
        "INSERT INTO qbank_sums (profile_id, source, qid, topic, category, system, on_date, "
        "attempts, misses, decayed_attempts, decayed_misses, last_miss, last_correct) "
        f"SELECT {PROFILE}, {_GROUP}, n.on_date, count(*), sum({_MISS}), 0, 0, "
        f"max(CASE WHEN {_MISS} THEN n.on_date END), max(CASE WHEN NOT {_MISS} THEN n.on_date "
        "END) FROM new AS n LEFT JOIN listed AS l ON l.source = n.source AND l.qid = n.qid "
        "GROUP BY 2, 3, 4, 5, 6, 7"
    )
    step("sums per group and day: GROUP BY")
    conn.execute(
        "INSERT INTO qbank_windows (profile_id, source, qid, topic, category, system, attempts, "
        "misses, decayed_attempts, decayed_misses, recent_attempts, recent_misses, last_miss, "
        f"last_correct, all_misses, last_miss_any) SELECT {PROFILE}, {_GROUP}, count(*), "
        f"sum({_MISS}), sum({_DECAY}), sum({_MISS} * {_DECAY}), count(*), sum({_MISS}), "
        f"max(CASE WHEN {_MISS} THEN n.on_date END), max(CASE WHEN NOT {_MISS} THEN n.on_date "
        f"END), sum({_MISS}), max(CASE WHEN {_MISS} THEN n.on_date END) FROM new AS n LEFT "
        "JOIN listed AS l ON l.source = n.source AND l.qid = n.qid GROUP BY 2, 3, 4, 5, 6"
    )
    step("windows per group: GROUP BY")
    conn.execute(
        "UPDATE cards SET weight = 1.5 WHERE note_id IN (SELECT q.note_id FROM note_qids AS q "
        f"JOIN (SELECT DISTINCT source, qid FROM new AS n WHERE {_MISS}) AS m "
        "ON m.source = q.source AND m.qid = q.qid)"
    )
    step("card weights of the notes listing a missed question: UPDATE")
    conn.execute("COMMIT")
    step("commit")
    conn.close()
    return step.spent


def import_python(db: Path, data: bytes) -> dict[str, float]:
    """The same writes with the rows counted in Python dicts and inserted by executemany."""
    step = Steps()
    rows = parse(data, "new.csv")
    step("parse (csv, checks, sha256 fingerprint)")
    conn = _connect(db)
    conn.execute("BEGIN")
    first: dict[str, Row] = {}
    for r in rows:
        first.setdefault(r[0], r)
    days = sorted({r[4] for r in rows})
    marks = ", ".join("?" * len(days))
    known = {
        fp
        for (fp,) in conn.execute(
            f"SELECT fingerprint FROM qbank_attempts WHERE profile_id = {PROFILE} "
            f"AND on_date IN ({marks})",
            days,
        )
    }
    new = [r for r in first.values() if r[0] not in known]
    listed = set(conn.execute("SELECT DISTINCT source, qid FROM note_qids"))
    notes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for note_id, source, qid in conn.execute("SELECT note_id, source, qid FROM note_qids"):
        notes[(source, qid)].append(note_id)
    step("duplicates (in the log, stored) and the listed questions, in Python")
    conn.execute("COMMIT")
    conn.execute("BEGIN IMMEDIATE")
    batch = _batch(conn, len(rows))
    conn.executemany(
        f"{_INSERT} VALUES ({PROFILE}, {batch}, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [r[:9] for r in new]
    )
    step("attempts: executemany into qbank_attempts")
    tallies: dict[tuple[str, str, str], list[int]] = {}
    for r in new:
        texts = (r[8], r[7], r[6])
        t = tallies.get(texts)
        if t is None:
            t = tallies[texts] = [0, 0]
        t[0] += 1
        t[1] += r[3] != "correct"
    conn.executemany(
        "INSERT INTO qbank_tallies (profile_id, topic, category, system, attempts, misses) "
        f"VALUES ({PROFILE}, ?, ?, ?, ?, ?)",
        [(*texts, n, m) for texts, (n, m) in tallies.items()],
    )
    step("tallies by text: a dict")
    # Counted in C (collections.Counter over key tuples), as the product's fold counts them.
    keys = [
        (r[1], r[2], r[8], r[7], r[6], r[4]) if (r[1], r[2]) in listed
        else ("", "", r[8], r[7], r[6], r[4])
        for r in new
    ]  # fmt: skip
    counted = Counter(keys)
    missed_keys = Counter([k for k, r in zip(keys, new, strict=True) if r[3] != "correct"])
    missed = {(r[1], r[2]) for r in new if r[3] != "correct"}
    miss_day = dict(zip(missed_keys, (k[5] for k in missed_keys), strict=True))
    correct = {k for k in counted if counted[k] != missed_keys.get(k, 0)}
    by_day = {
        k: [n, missed_keys.get(k, 0), miss_day.get(k), k[5] if k in correct else None]
        for k, n in counted.items()
    }
    step("sums per group and day: counted in a dict")
    conn.executemany(
        "INSERT INTO qbank_sums (profile_id, source, qid, topic, category, system, on_date, "
        "attempts, misses, decayed_attempts, decayed_misses, last_miss, last_correct) VALUES "
        f"({PROFILE}, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
        [(*key, *d) for key, d in by_day.items()],
    )
    step("sums per group and day: written by executemany")
    from datetime import date

    settled = date.fromisoformat(SETTLED)
    windows: dict[tuple[Any, ...], list[Any]] = {}
    decay = {day: 2 ** ((date.fromisoformat(day) - settled).days / HALF_LIFE) for day in days}
    for (*group, day), (n, m, last_miss, last_correct) in by_day.items():
        w = windows.get(tuple(group))
        if w is None:
            w = windows[tuple(group)] = [0, 0, 0.0, 0.0, None, None]
        w[0] += n
        w[1] += m
        w[2] += n * decay[day]
        w[3] += m * decay[day]
        if last_miss is not None and (w[4] is None or last_miss > w[4]):
            w[4] = last_miss
        if last_correct is not None and (w[5] is None or last_correct > w[5]):
            w[5] = last_correct
    conn.executemany(
        "INSERT INTO qbank_windows (profile_id, source, qid, topic, category, system, attempts, "
        "misses, decayed_attempts, decayed_misses, recent_attempts, recent_misses, last_miss, "
        f"last_correct, all_misses, last_miss_any) VALUES ({PROFILE}, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?)",
        [(*g, n, m, da, dm, n, m, lm, lc, m, lm) for g, (n, m, da, dm, lm, lc) in windows.items()],
    )
    step("windows per group: a dict over the (group, day) sums")
    note_ids = sorted({n for q in missed for n in notes.get(q, ())})
    card_ids = [
        (card_id,)
        for start in range(0, len(note_ids), 900)
        for (card_id,) in conn.execute(
            "SELECT id FROM cards WHERE note_id IN ({})".format(
                ", ".join("?" * len(note_ids[start : start + 900]))
            ),
            note_ids[start : start + 900],
        )
    ]
    conn.executemany("UPDATE cards SET weight = 1.5 WHERE id = ?", card_ids)
    step("card weights of the notes listing a missed question: executemany")
    conn.execute("COMMIT")
    step("commit")
    conn.close()
    return step.spent


STARTS = (
    ("Python alone", "pass"),
    ("with csv, hashlib and sqlite3", "import csv, hashlib, sqlite3"),
    ("with SQLAlchemy", "import sqlalchemy"),
    ("with the product's import modules", "import flashcore.services.qbank_import, "
     "flashcore.importers.qbank, flashcore.cli.qbank"),
)  # fmt: skip


def start_cpu(code: str, runs: int) -> float:
    """CPU seconds of `python -c code` as a process of its own (median of `runs`)."""
    spent = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(spent)


def instructions(argv: list[str]) -> int | None:
    """Instructions of a process (valgrind's callgrind); None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    done = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{argv} under valgrind failed: {done.stderr[-500:]}")
    return int(found.group(1))


def _wait_background(env: dict[str, str]) -> None:
    """Until the background snapshot or check the command started on its copy has ended
    (before its folder is removed)."""
    from flashcore.services.backup import background_busy

    while background_busy(Path(env["FLASHCORE_DB"])):
        time.sleep(0.2)


def product_import(db: Path, log: Path, counted: bool) -> tuple[float, int | None]:
    """The product's `flashcore qbank import LOG` as a process of its own, into a copy of the
    collection whose history a first report summed (as `tools.bench.qbank` imports it): its
    CPU seconds, and with `counted` its instructions (valgrind, a second copy)."""
    from tools.bench.qbank import NOW, _open

    def prepared(folder: str) -> dict[str, str]:
        from flashcore.services import weakness

        copy = Path(folder) / "large.sqlite3"
        copy_database(db, copy)
        _open(copy).close()
        fc = _open(copy)
        try:
            weakness.report(fc)
        finally:
            fc.close()
        env = {k: v for k, v in os.environ.items() if k != "FLASHCORE_PROFILE"}
        home = str(Path(folder) / "home")
        env.update(FLASHCORE_DB=str(copy), FLASHCORE_NOW=NOW.isoformat(), FLASHCORE_HOME=home)
        return env

    argv = [sys.executable, "-m", "flashcore", "qbank", "import", "--json", str(log)]
    with tempfile.TemporaryDirectory() as folder:
        env = prepared(folder)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        _wait_background(env)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if not counted:
        return cpu, None
    with tempfile.TemporaryDirectory() as folder:
        env = prepared(folder)
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            return cpu, None
        done = subprocess.run(
            [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
        _wait_background(env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"qbank import under valgrind failed: {done.stderr[-500:]}")
    return cpu, int(found.group(1))


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _key(step: str) -> str:
    """What a step does, whichever way (`attempts`, `tallies by text`, ...)."""
    return step.split(":")[0].split(" (")[0]


def _by_key(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each step's median over the runs, added up by `_key`."""
    out: dict[str, float] = {}
    for name in runs[0]:
        out[_key(name)] = out.get(_key(name), 0.0) + statistics.median(r[name] for r in runs)
    return out


def _table(title: str, runs: list[dict[str, float]], rows: int) -> None:
    total = statistics.median(sum(r.values()) for r in runs)
    print(f"{title}: {total:.3f} CPU-s = {rows / total:,.0f} rows/s (median of {len(runs)}; "
          f"load average {_load()})")  # fmt: skip
    for name in runs[0]:
        print(f"  {statistics.median(r[name] for r in runs):6.3f}  {name}")


def _copy_only(_db: Path, _data: bytes) -> dict[str, float]:
    return {}


ONLY: dict[str, Callable[[Path, bytes], dict[str, float]]] = {
    "sql": import_sql,
    "python": import_python,
    "copy": _copy_only,
}


def run(db: Path, data: bytes, how: Callable[[Path, bytes], dict[str, float]]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "floor.sqlite3"
        copy_database(db, copy)
        return how(copy, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.qbank_floor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--keep", type=Path, required=True, help="the large collection's folder")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--cards", type=int, default=200_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions with valgrind (one run each)")  # fmt: skip
    parser.add_argument("--only", choices=ONLY, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only:  # one lean import as a process of its own, the collection built (valgrind)
        folder = args.keep.resolve()
        run(folder / "large.sqlite3", (folder / "new.csv").read_bytes(), ONLY[args.only])
        return 0
    db, log = build_large(args.keep.resolve(), args.cards, args.history, args.attempts)
    data = log.read_bytes()
    rows = len(parse(data, str(log)))
    print(f"lean import of {rows:,} rows into {args.cards:,} cards holding "
          f"{args.history:,} attempts (thread CPU seconds per step)")  # fmt: skip
    sql = [run(db, data, import_sql) for _ in range(args.runs)]
    _table("set-based (SQL)", sql, rows)
    python = [run(db, data, import_python) for _ in range(args.runs)]
    _table("rows in Python", python, rows)
    print(f"process start, CPU-s (median of {args.runs}; load average {_load()}):")
    starts = [start_cpu(code, args.runs) for _label, code in STARTS]
    for (label, _code), spent in zip(STARTS, starts, strict=True):
        print(f"  {spent:6.3f}  {label}")
    cheaper, in_sql = _by_key(python), _by_key(sql)
    floor = sum(min(spent, in_sql.get(key, spent)) for key, spent in cheaper.items()) + starts[1]
    print(f"floor: each step the cheaper way, with the driver's start: {floor:.3f} CPU-s = "
          f"{rows / floor:,.0f} rows/s (before matching texts to topics, scoring, pull-forwards "
          "and the steps that keep a reviewer unblocked)")  # fmt: skip
    cpu, counted = product_import(db, log, args.instructions)
    print(f"the product's `flashcore qbank import` as a process: {cpu:.3f} CPU-s = "
          f"{rows / cpu:,.0f} rows/s (one run; load average {_load()})")  # fmt: skip
    if counted is not None:
        print(f"  {counted / 1e9:6.3f} G  its instructions (valgrind)")
    if args.instructions:
        print("instructions (valgrind, one process each):")
        started = []
        for label, code in STARTS:
            started.append(instructions([sys.executable, "-c", code]) or 0)
            print(f"  {started[-1] / 1e9:6.3f} G  start: {label}")
        # A process that only copies the collection, taken off each lean import's process: the
        # import's own work, to which the start with the driver is added back.
        base = [sys.executable, "-m", "tools.bench.qbank_floor", "--keep", str(args.keep)]
        copying = instructions([*base, "--only", "copy"]) or 0
        for only in ("sql", "python"):
            counted = (instructions([*base, "--only", only]) or 0) - copying + started[1]
            print(f"  {counted / 1e9:6.3f} G  lean import ({only}), with the driver's start")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
