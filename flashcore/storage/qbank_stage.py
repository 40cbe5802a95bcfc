"""Where a question-bank log's rows wait between reading and saving: a temporary table on the
import's own connection (no lock on the collection), and for a log small enough, memory too.
Duplicates are found here (within the log, and against the profile's stored attempts); the
new rows are copied into `qbank_attempts` and counted into the tallies by text."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from itertools import repeat
from operator import is_not, itemgetter
from typing import Any, TypeVar, cast

from sqlalchemy import Connection

from flashcore.storage.repos.qbank import MISSED, TextTally

T = TypeVar("T")

# One attempt as the reader streams it (importers.qbank's Row): (fingerprint, source, qid,
# outcome, ISO date, subject, system, category, topic, seconds, line, others).
Row = tuple[str, str, str, str, str, str, str, str, str, int | None, int, int | None]
Progress = Callable[[str, int, int], None]  # (phase "reading" | "saving", done, total)

# The stored attempts of a log's days are read this many days at a time (by the index on
# (profile_id, on_date), schema 0023), their fingerprints compared in memory as they stream.
_DAYS_AT_ONCE = 400
_COLUMNS = (
    "fingerprint, source, qid, outcome, on_date, subject, system, category, topic, seconds, others"
)
# A Row's fields as the stage's columns name them, in its order.
_ROW_COLUMNS = (
    "fingerprint, source, qid, outcome, on_date, subject, system, category, topic, seconds, "
    "line, others"
)
# The texts as `save` stores them (cut to their columns' lengths).
_TEXTS = "substr(topic, 1, 500), substr(category, 1, 300), substr(system, 1, 200)"
_SAVED = itemgetter(*range(10), 11)  # a Row's columns as _COLUMNS names them (not its line)
# A Row's fields that a log without such a column leaves None on every row (seconds, others).
# The stage leaves such a field out of its insert (its column stays NULL): the sqlite3 module
# binds None through its adapter lookup (~2 us a value, an AttributeError raised and cleared
# each time), a third of the stage's insert for a CSV without a time column.
_OPTIONAL_FIELDS = (9, 11)
_ROW_NAMES = tuple(_ROW_COLUMNS.split(", "))
# The stage's columns as qbank_attempts stores them (texts cut to their columns' lengths).
_SAVED_COLUMNS = (
    "s.fingerprint, s.source, s.qid, s.outcome, s.on_date, substr(s.subject, 1, 200), "
    "substr(s.system, 1, 200), substr(s.category, 1, 300), substr(s.topic, 1, 500), s.seconds, "
    "s.others"
)


class Stage:
    """Where a log's rows wait between reading and saving: a temporary table on the import's
    connection (it holds no lock on the collection), rows numbered in the log's order. Which
    rows are new is found in SQL: a row is a duplicate of an earlier one with the same
    fingerprint, or of an attempt the profile already has (among those of the log's days,
    gathered in a second temporary table)."""

    def __init__(self, conn: Connection, profile_id: int, sqlite: bool) -> None:
        self.conn = conn
        self.profile_id = int(profile_id)
        self.sqlite = sqlite
        self.mark = "?" if sqlite else "%s"
        self.table = "temp.qbank_stage" if sqlite else "pg_temp.qbank_stage"
        self.created = False
        self.marked = False  # the dup column is up to date

    def _create(self) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table}")
        seq = "INTEGER PRIMARY KEY" if self.sqlite else "BIGSERIAL PRIMARY KEY"
        day = "TEXT" if self.sqlite else "DATE"
        self.conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE qbank_stage (seq {seq}, fingerprint TEXT NOT NULL, "
            f"source TEXT, qid TEXT, outcome TEXT, on_date {day}, subject TEXT, system TEXT, "
            "category TEXT, topic TEXT, seconds INTEGER, others INTEGER, line INTEGER, "
            "dup INTEGER NOT NULL DEFAULT 0)"
        )
        self.created = True

    def _shown(self, alias: str) -> str:
        """SQL: the attempt `alias` is visible (not of a batch still being written: see
        repos.qbank.shown)."""
        return (
            f"{alias}.id < coalesce((SELECT min(pending_from) FROM qbank_batches WHERE "
            f"profile_id = {self.profile_id} AND pending_from IS NOT NULL), {2**62})"
        )

    def reset(self) -> None:
        if self.created:
            self.conn.exec_driver_sql(f"DELETE FROM {self.table}")

    def add(self, rows: list[Row]) -> None:
        if not self.created:
            self._create()
        self._insert(*_carried(rows))

    def _insert(self, columns: str, values: Iterable[tuple[Any, ...]]) -> None:
        """Insert `values` into the stage's `columns`: on SQLite by the driver's executemany,
        on PostgreSQL by COPY (psycopg's `Cursor.copy`: the rows streamed in one statement,
        where executemany sent each as a statement of its own, ~10 us a row of the client's
        CPU and ~40 us of the server's at 100,000 rows)."""
        marks = ", ".join([self.mark] * (columns.count(",") + 1))
        cursor = self.conn.connection.cursor()
        try:
            if not self.sqlite and hasattr(cursor, "copy"):
                with cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
                    write = copy.write_row
                    for row in values:
                        write(row)
                return
            # both drivers take any iterable (rows are made as they are inserted); the DBAPI's
            # stub says Sequence
            rows = cast("Sequence[Sequence[Any]]", values)
            cursor.executemany(f"INSERT INTO {self.table} ({columns}) VALUES ({marks})", rows)
        finally:
            cursor.close()

    def dedupe(self) -> tuple[int, int]:
        """(new rows, duplicates)."""
        if not self.created:
            return 0, 0
        t = self.table
        run = self.conn.exec_driver_sql
        run(f"UPDATE {t} SET dup = 0 WHERE dup = 1")
        index = "temp.qbank_stage_fp" if self.sqlite else "qbank_stage_fp"
        run(f"CREATE INDEX IF NOT EXISTS {index} ON qbank_stage (fingerprint, seq)")
        run(
            f"UPDATE {t} SET dup = 1 WHERE EXISTS (SELECT 1 FROM {t} AS e WHERE "
            "e.fingerprint = qbank_stage.fingerprint AND e.seq < qbank_stage.seq)"
        )
        first = run(f"SELECT min(on_date) FROM {t}").scalar()
        if first is not None and self._stored_from(str(first)):
            known = "temp.qbank_known" if self.sqlite else "pg_temp.qbank_known"
            run(f"DROP TABLE IF EXISTS {known}")
            run(
                f"CREATE TEMPORARY TABLE qbank_known AS SELECT q.fingerprint FROM qbank_attempts "
                f"AS q WHERE q.profile_id = {self.profile_id} AND q.on_date IN (SELECT DISTINCT "
                f"on_date FROM {t}) AND {self._shown('q')}"
            )
            index = "temp.qbank_known_fp" if self.sqlite else "qbank_known_fp"
            run(f"CREATE INDEX {index} ON qbank_known (fingerprint)")
            run(
                f"UPDATE {t} SET dup = 1 WHERE dup = 0 AND EXISTS (SELECT 1 FROM {known} AS k "
                "WHERE k.fingerprint = qbank_stage.fingerprint)"
            )
        self.marked = True
        new, total = run(f"SELECT count(*) - coalesce(sum(dup), 0), count(*) FROM {t}").one()
        return int(new), int(total) - int(new)

    def new_misses(self) -> Iterator[tuple[str, str, str, str, str]]:
        """(source, qid, topic, category, system) of each new incorrect or omitted row, in the
        log's order."""
        if not self.created:
            return
        missed = ", ".join(f"'{o}'" for o in MISSED)
        result = self.conn.exec_driver_sql(
            f"SELECT source, qid, topic, category, system FROM {self.table} "
            f"WHERE dup = 0 AND outcome IN ({missed}) ORDER BY seq",
            execution_options={"stream_results": True, "max_row_buffer": 5000},
        )
        for row in result:
            yield row[0], row[1], row[2], row[3], row[4]

    def all_incorrect(self) -> bool:
        """Whether every row read counts as incorrect."""
        if not self.created:
            return False
        other = self.conn.exec_driver_sql(
            f"SELECT 1 FROM {self.table} WHERE outcome <> 'incorrect' LIMIT 1"
        ).first()
        return other is None

    def _stored_from(self, day: str) -> bool:
        """Whether the profile may have an attempt on `day` (ISO) or later: a published batch
        whose latest day (schema 0021) is that day or later, or not known (an empty batch has
        none). A log of days after every stored one has no duplicate to look for."""
        found = self.conn.exec_driver_sql(
            f"SELECT 1 FROM qbank_batches WHERE profile_id = {self.profile_id} "
            f"AND pending_from IS NULL AND (latest_on >= {self.mark} "
            "OR (latest_on IS NULL AND added > 0)) LIMIT 1",
            (day,),
        ).first()
        return found is not None

    def order(self) -> int:
        """Number the new rows from 1 in the log's order (a second temporary table); how many
        there are. `save_rows` copies them by these numbers."""
        if not self.created:
            return 0
        run = self.conn.exec_driver_sql
        order = "temp.qbank_order" if self.sqlite else "pg_temp.qbank_order"
        run(f"DROP TABLE IF EXISTS {order}")
        run("CREATE TEMPORARY TABLE qbank_order (rank INTEGER PRIMARY KEY, seq INTEGER NOT NULL)")
        new = "WHERE dup = 0 " if self.marked else ""
        run(
            f"INSERT INTO {order} (rank, seq) SELECT row_number() OVER (ORDER BY seq), "
            f"seq FROM {self.table} {new}"
        )
        return int(run(f"SELECT count(*) FROM {order}").scalar_one())

    def save_rows(self, conn: Connection, batch_id: int, low: int, high: int) -> int:
        """Copy the new rows numbered (low, high] by `order` into qbank_attempts under
        `batch_id`; returns the number copied (inside the caller's transaction: an import
        writes its rows a few hundred at a time)."""
        if not self.created or high <= low:
            return 0
        order = "temp.qbank_order" if self.sqlite else "pg_temp.qbank_order"
        sql = (
            f"INSERT INTO qbank_attempts (profile_id, batch_id, {_COLUMNS}) "
            f"SELECT {self.profile_id}, {int(batch_id)}, {_SAVED_COLUMNS} "
            f"FROM {order} AS o JOIN {self.table} AS s ON s.seq = o.seq "
            f"WHERE o.rank > {self.mark} AND o.rank <= {self.mark} ORDER BY o.rank"
        )
        return int(conn.exec_driver_sql(sql, (low, high)).rowcount)

    def refresh_hint(self, batch_id: int) -> dict[str, Any]:
        """How the weight refresh after `save` may count this log's rows: read back (here)."""
        return {}

    def saved_fingerprints(self) -> list[str]:
        """The fingerprints of `refresh_hint`'s rows (none here: they are not in memory)."""
        return []

    def tallies(self) -> list[TextTally]:
        """The saved rows counted by their texts as stored (call after `save`, which saved
        every new row or raised)."""
        if not self.created:
            return []
        new = "WHERE dup = 0 " if self.marked else ""
        missed = ", ".join(f"'{o}'" for o in MISSED)
        rows = self.conn.exec_driver_sql(
            f"SELECT {_TEXTS}, count(*), sum(CASE WHEN outcome IN ({missed}) THEN 1 ELSE 0 END) "
            f"FROM {self.table} {new}GROUP BY 1, 2, 3"
        )
        return [TextTally(t, c, s, int(n), int(m or 0)) for t, c, s, n, m in rows]

    def close(self) -> None:
        """Drop the stage by closing its connection (the import's own, from the pool: the
        database discards a connection's temporary tables with it, at once, where DROP TABLE
        frees a 100,000-row stage page by page, ~30 ms)."""
        if self.created:
            self.conn.invalidate()
            self.created = False


class HeldStage(Stage):
    """A log small enough to hold in memory: duplicates are found with a dict and a look at
    the stored attempts, and the summary is read from memory. Only the new rows go into the
    temporary table, in the log's order and numbered by it, once they are known (`order`,
    still without the write lock): no duplicates to mark, no second table to number them, and
    each step of the copy is one INSERT .. SELECT."""

    def __init__(self, conn: Connection, profile_id: int, sqlite: bool) -> None:
        super().__init__(conn, profile_id, sqlite)
        self.rows: list[Row] = []
        self.new: list[Row] = []

    def reset(self) -> None:
        self.rows = []

    def add(self, rows: list[Row]) -> None:
        self.rows += rows

    def dedupe(self) -> tuple[int, int]:
        rows = self.rows
        first = {r[0]: r for r in reversed(rows)}  # each fingerprint's first row
        known = self._known(first)
        if len(first) == len(rows) and not known:
            self.new = rows
        else:
            self.new = [r for r in rows if first[r[0]] is r and r[0] not in known]
        return len(self.new), len(rows) - len(self.new)

    def _known(self, fingerprints: dict[str, Row]) -> set[str]:
        """The fingerprints among these that the profile already has: none when every stored
        attempt is of an earlier day (`_stored_from`); else those among the stored attempts
        of the log's days, read by the index on (profile_id, on_date) _DAYS_AT_ONCE days at a
        time and compared as they stream (only the ones found are kept)."""
        if not fingerprints or not self._stored_from(min(r[4] for r in fingerprints.values())):
            return set()
        days = sorted({r[4] for r in fingerprints.values()})
        found: set[str] = set()
        for start in range(0, len(days), _DAYS_AT_ONCE):
            part = days[start : start + _DAYS_AT_ONCE]
            marks = ", ".join([self.mark] * len(part))
            rows = self.conn.exec_driver_sql(
                f"SELECT fingerprint FROM qbank_attempts WHERE profile_id = {self.profile_id} "
                f"AND on_date IN ({marks}) AND {self._shown('qbank_attempts')}",
                tuple(part),
            )
            found.update(fp for (fp,) in rows if fp in fingerprints)
        return found

    def order(self) -> int:
        """The new rows into the temporary table in the log's order, numbered from 1 by it
        (see Stage.order); how many there are."""
        ordered = self.new
        if not ordered:
            return 0
        if self.created:
            super().reset()
        else:
            self._create()
        if self.sqlite:  # an empty table numbers its rows from 1, in the order inserted
            self._insert(*_carried(ordered))
        else:  # a sequence goes on counting
            values = [(rank, *_SAVED(r)) for rank, r in enumerate(ordered, 1)]
            self._insert(f"seq, {_COLUMNS}", values)
        return len(ordered)

    def save_rows(self, conn: Connection, batch_id: int, low: int, high: int) -> int:
        """Copy the new rows numbered (low, high] by `order` into qbank_attempts under
        `batch_id`; the number copied."""
        if not self.created or high <= low:
            return 0
        sql = (
            f"INSERT INTO qbank_attempts (profile_id, batch_id, {_COLUMNS}) "
            f"SELECT {self.profile_id}, {int(batch_id)}, {_SAVED_COLUMNS} FROM {self.table} "
            f"AS s WHERE s.seq > {self.mark} AND s.seq <= {self.mark} ORDER BY s.seq"
        )
        return int(conn.exec_driver_sql(sql, (low, high)).rowcount)

    def refresh_hint(self, batch_id: int) -> dict[str, Any]:
        """The saved rows are in memory: the refresh counts them from here and reads only the
        attempts stored before (texts cut as `save` stores them)."""
        added = ((r[1], r[2], r[3], r[4], r[8][:500], r[7][:300], r[6][:200]) for r in self.new)
        return {"skip_batch": batch_id, "added": added}

    def saved_fingerprints(self) -> list[str]:
        """The fingerprints of `refresh_hint`'s rows, in the same order."""
        return [r[0] for r in self.new]

    def all_incorrect(self) -> bool:
        return bool(self.rows) and all(r[3] == "incorrect" for r in self.rows)

    def tallies(self) -> list[TextTally]:
        return _finished(self.tallies_in_slices(len(self.new)))

    def tallies_in_slices(self, rows: int) -> Generator[None, None, list[TextTally]]:
        """`tallies`, yielding after each `rows` rows counted (the same list, returned)."""
        counted: dict[tuple[str, str, str], list[int]] = {}
        new = self.new
        for start in range(0, len(new), max(1, rows)):
            for r in new[start : start + rows]:
                texts = (r[8][:500], r[7][:300], r[6][:200])
                c = counted.get(texts)
                if c is None:
                    c = counted[texts] = [0, 0]
                c[0] += 1
                c[1] += r[3] in MISSED
            yield
        return [TextTally(*texts, n, m) for texts, (n, m) in counted.items()]

    def new_misses(self) -> Iterator[tuple[str, str, str, str, str]]:
        for r in self.new:
            if r[3] in MISSED:
                yield r[1], r[2], r[8], r[7], r[6]


def _finished(slices: Generator[None, None, T]) -> T:
    """What a generator of slices returns, every slice run."""
    while True:
        try:
            next(slices)
        except StopIteration as done:
            return cast("T", done.value)


def _carried(rows: list[Row]) -> tuple[str, Iterable[tuple[Any, ...]]]:
    """The stage's columns for these rows and the rows as they bind to them: the rows as read,
    or, when a field of _OPTIONAL_FIELDS is None on every row, each row without it (picked
    in C; the column stays NULL)."""
    absent = [
        i for i in _OPTIONAL_FIELDS if not any(map(is_not, map(itemgetter(i), rows), repeat(None)))
    ]
    if not absent:
        return _ROW_COLUMNS, rows
    kept = [i for i in range(len(_ROW_NAMES)) if i not in absent]
    return ", ".join(_ROW_NAMES[i] for i in kept), map(itemgetter(*kept), rows)


def stage_for(conn: Connection, profile_id: int, sqlite: bool, held: bool) -> Stage:
    """Where a log waits: in memory when `held`, else a temporary table."""
    return (HeldStage if held else Stage)(conn, profile_id, sqlite)
