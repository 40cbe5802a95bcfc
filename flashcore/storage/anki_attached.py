"""An Anki package's extracted collection attached to an import's own SQLite connection: the
review-log rows computed and inserted by SQLite itself (storage.anki_sync re-exports these
names)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore.storage import repos
from flashcore.storage.anki_first_states import FirstStates, take_first_states
from flashcore.storage.anki_stage import STAGE
from flashcore.storage.db import ATTACHED
from flashcore.storage.tables_imported import imported_answers

if TYPE_CHECKING:
    from flashcore.storage.repos import Executor

# An imported review-log row's columns, in the order the rows are given (the others are NULL).
IMPORTED_COLUMNS = (
    "profile_id", "card_id", "reviewed_at", "rating", "scheduler_id", "duration_ms",
    "desired_retention", "reason", "state_before", "due_before", "last_review_before",
    "lapses_before", "state_after", "stability_after", "difficulty_after", "due_after",
    "leeched", "buried_siblings", "elapsed_days", "anki_revlog_id", "imported",
)  # fmt: skip


def driver_connection(session: Executor) -> Any:
    """The sqlite3 connection under a Session (its `connection()` method) or a Connection."""
    held: Any = session
    connection = held.connection() if callable(held.connection) else held
    return connection.connection.driver_connection


_PACKAGE = "anki_package"
_STEPS = 250_000  # SQLite's VM steps between two reports of `RowsProgress`


@dataclass(frozen=True, slots=True)
class RowsProgress:
    """A progress bar's report during one big statement: `rows` the statement will write,
    about `steps_per_row` of SQLite's VM steps each (the index builds after counted in), and
    `report(rows_so_far)` called every `_STEPS` steps with the estimate (below `rows`)."""

    rows: int
    steps_per_row: int
    report: Callable[[int], None]


def rows_progress(
    bar: tuple[Callable[[int, int], None], int, int] | None, rows: int, steps_per_row: int
) -> RowsProgress | None:
    """A bar's `RowsProgress` (`bar`: its report of (done, total), the done before the
    statement, the total) for a statement writing `rows`; None without a bar."""
    if bar is None:
        return None
    report, done, total = bar
    return RowsProgress(rows, steps_per_row, lambda n: report(min(done + n, total), total))


@contextmanager
def _reporting(driver: Any, progress: RowsProgress | None) -> Iterator[None]:
    """`progress` reported while the connection's statements run (SQLite's progress handler:
    a million rows' statement calls it a few hundred times)."""
    if progress is None or progress.rows <= 0:
        yield
        return
    steps = [0]
    estimate = max(1, progress.steps_per_row)
    cap = progress.rows - 1  # the caller reports the whole when the statement is done

    def tick() -> int:
        steps[0] += _STEPS
        progress.report(min(cap, steps[0] // estimate))
        return 0  # (a nonzero, or an exception, interrupts the statement)

    driver.set_progress_handler(tick, _STEPS)
    try:
        yield
    finally:
        driver.set_progress_handler(None, 0)


class AttachedCollection:
    """An Anki package's extracted collection attached to the import's own SQLite connection,
    inside its transaction: the review-log rows are computed and inserted by one statement
    (`insert_review_logs`), none of a million rows passing through Python. The statements read
    the package's `revlog` unqualified (flashcore has no such table) and its helper tables in
    `temp`. Detached when the connection goes back to the pool (`db._sqlite_checkin`)."""

    def __init__(self, session: Executor, path: Path) -> None:
        held: Any = session
        connection = held.connection() if callable(held.connection) else held
        fairy = connection.connection
        self._db = fairy.driver_connection
        attached = fairy.info.setdefault(ATTACHED, [])
        if _PACKAGE in attached:
            raise RuntimeError("a package is attached already in this transaction")
        self._db.execute(f"ATTACH DATABASE ? AS {_PACKAGE}", (str(path),))
        attached.append(_PACKAGE)
        self._attached: list[str] = attached
        self._temp: set[str] = set()

    def sql(self, statement: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
        cursor = self._db.execute(statement, tuple(params))
        while rows := cursor.fetchmany(2000):
            yield from rows

    def fill_temp(self, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Create (or empty) `temp.<table>` with `columns` and insert `rows`."""
        self._create_temp(table, columns)
        marks = ", ".join("?" for _ in range(columns.count(",") + 1))
        self._db.executemany(f"INSERT INTO temp.{table} VALUES ({marks})", rows)

    def index_temp(self, table: str, column: str) -> None:
        """An index `<table>_<column>` on `temp.<table>(<column>)` (dropped with the table)."""
        self._db.execute(f"CREATE INDEX IF NOT EXISTS temp.{table}_{column} ON {table} ({column})")

    def fill_known(self, table: str, columns: str, profile_id: int) -> None:
        """`temp.<table>(id)`: the revlog ids the profile's review log holds, by SQL."""
        self._create_temp(table, columns)
        self._db.execute(
            f"INSERT OR IGNORE INTO temp.{table} SELECT anki_revlog_id FROM main.review_logs"
            " WHERE profile_id = ? AND anki_revlog_id IS NOT NULL"
            " UNION ALL SELECT anki_revlog_id FROM main.imported_answers WHERE profile_id = ?",
            (profile_id, profile_id),
        )

    def insert_review_logs(
        self,
        select: str,
        params: Sequence[Any],
        *,
        progress: RowsProgress | None = None,
    ) -> int:
        """Insert the rows `select` gives (in `IMPORTED_COLUMNS` order, as SQLite stores
        them); how many. Into an empty review log (a first import) without its secondary
        indexes, built again after, as they were, in the same transaction: a million rows
        took ~2.6 s CPU that way, ~2.9 s into the indexes as they grow. Indexes built after
        are packed full: the answers given later split their leaves, measured at +5 us an
        answer (20,000 answers: 0.47 s CPU against 0.37-0.46 s). `progress`: a bar's estimate
        of the rows written while the statement and the index builds run."""
        names = ", ".join(IMPORTED_COLUMNS)
        with (
            _reporting(self._db, progress),
            self._indexes_after("review_logs") as kept,
            big_cache(self._db) if kept else nullcontext(),
        ):
            cursor = self._db.execute(f"INSERT INTO main.review_logs ({names}) {select}", params)
        return int(cursor.rowcount)

    def insert_imported_answers(
        self,
        select: str,
        params: Sequence[Any],
        progress: RowsProgress | None = None,
        *,
        in_key_order: bool = False,
    ) -> int:
        """Insert the `imported_answers` rows `select` gives (in `IMPORTED_ANSWER_COLUMNS`
        order, the table's: a first import's answers, schema 0027); how many. Rows given
        `in_key_order` (card, then revlog id) into an empty table go in without its revlog-id
        index, built after as it was: appended in key order, the rows' own B-tree is written
        at its end and the index sorted once (given in another order, each row is placed
        where it goes either way, and the index built after gained nothing: measured)."""
        names = ", ".join(c.name for c in imported_answers.c)
        later = self._indexes_after("imported_answers") if in_key_order else nullcontext()
        with _reporting(self._db, progress), later:
            cursor = self._db.execute(
                f"INSERT INTO main.imported_answers ({names}) {select}", params
            )
        return int(cursor.rowcount)

    def insert_staged(
        self,
        stage: Path,
        select: str,
        params: Sequence[Any],
        progress: RowsProgress | None = None,
    ) -> int:
        """`insert_imported_answers` of rows staged ahead in the file `stage` (attached as
        `anki_stage` for `select` to read, until the transaction ends)."""
        if STAGE not in self._attached:
            self._db.execute(f"ATTACH DATABASE ? AS {STAGE}", (str(stage),))
            self._attached.append(STAGE)
        return self.insert_imported_answers(select, params, progress=progress, in_key_order=True)

    @contextmanager
    def _indexes_after(self, table: str) -> Iterator[bool]:
        """Into an empty `table` (the review log, or `imported_answers`), its secondary
        indexes are dropped and built after, as they were (sorted within the usual cache: the big one took +22 MB peak); yields
        whether they are kept (rows into a review log that holds some: they then grow at
        several places at once, in `big_cache`). Rows appended to a table without indexes
        gain nothing from a big cache, and the index builds after read the table back from
        the log either way: with the connection's own small cache a first import's million
        rows took ~0.3 s CPU less (alone), its peak memory the cache's 64 MB less."""
        rebuilt = self._indexes_if_empty(table)
        for name, _sql in rebuilt:
            self._db.execute(f'DROP INDEX main."{name}"')
        yield not rebuilt
        for _name, sql in rebuilt:
            self._db.execute(sql)

    def imported_counts(self, *, narrow: bool = False) -> list[tuple[int, int, int]]:
        """For each card the review log (`imported_answers` when `narrow`) holds revlog ids
        for: (the flashcore card id, how many, the greatest). From its (card, revlog id)
        index alone."""
        table, known = (
            ("imported_answers", "")
            if narrow
            else ("review_logs", " WHERE anki_revlog_id IS NOT NULL")
        )
        return [
            (int(card_id), int(n), int(last))
            for card_id, n, last in self._db.execute(
                f"SELECT card_id, COUNT(*), MAX(anki_revlog_id) FROM main.{table}{known}"
                " GROUP BY card_id"
            )
        ]

    def take_first_states(self, fresh: Iterable[tuple[Any, ...]], **options: Any) -> FirstStates:
        """`storage.anki_first_states.take_first_states` on this connection."""
        return take_first_states(self._db, fresh, **options)

    def _indexes_if_empty(self, table: str) -> list[tuple[str, str]]:
        """The secondary indexes of `table` (name, its SQL as the schema holds it), when it
        holds no row; else none."""
        if self._db.execute(f"SELECT 1 FROM main.{table} LIMIT 1").fetchone() is not None:
            return []
        return [
            (str(name), str(sql))
            for name, sql in self._db.execute(
                "SELECT name, sql FROM main.sqlite_master WHERE type = 'index'"
                " AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
                (table,),
            )
        ]

    def drop_temp(self) -> None:
        for table in sorted(self._temp):
            self._db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        self._temp.clear()

    def _create_temp(self, table: str, columns: str) -> None:
        """`temp.<table>` made anew with `columns` (one table may be made with more columns)."""
        self._db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        self._db.execute(f"CREATE TEMP TABLE {table} ({columns})")
        self._temp.add(table)


def attach_collection(session: Executor, path: Path | None) -> AttachedCollection | None:
    """The package's collection attached to the session's connection, on SQLite; None on
    another database (the rows then go through Python: `insert_stored`)."""
    if path is None or repos.dialect_of(session).name != "sqlite":
        return None
    return AttachedCollection(session, path)


@contextmanager
def big_cache(driver: Any) -> Iterator[None]:
    """A 64 MB page cache while review-log rows go in (their indexes grow at several places at
    once), the connection's own size after."""
    (size,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute("PRAGMA cache_size = -65536")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {int(size)}")
