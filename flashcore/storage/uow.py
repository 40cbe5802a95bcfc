"""Units of work: one transaction per user action, with a bounded retry on lock contention."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from flashcore.core.errors import DatabaseBusyError, FlashcoreError
from flashcore.storage.db import KEYS_AT_COMMIT, KEYS_OFF, WRITE, WRITE_NOW

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")
# PostgreSQL's deadlock and serialization failures are worth a retry. SQLite's "database is
# locked" is not: the connection already waited its whole busy timeout for the lock.
_RETRYABLE = ("deadlock detected", "could not serialize")
_BUSY = ("database is locked", "database is busy")
# What a failed write raises: a problem flashcore found while writing, or the database's own
# (a full disk, a lost server), for the services that say what failed without importing
# SQLAlchemy.
WRITE_FAILURES: tuple[type[Exception], ...] = (FlashcoreError, SQLAlchemyError)


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    from sqlalchemy.orm import Session  # the ORM loads only for the code that asks for it

    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def reading_core(engine: Engine) -> Iterator[Connection]:
    """`reading` on a plain connection, for readers whose repositories take any Executor:
    the ORM is not imported (~0.1 s of a command's start)."""
    with engine.connect() as conn, transaction(conn, write=False):
        yield conn


@contextmanager
def session_on(conn: Connection) -> Iterator[Session]:
    """An ORM session on a connection the caller holds, inside its transaction (for the
    functions that take a Session)."""
    from sqlalchemy.orm import Session

    with Session(bind=conn) as session:
        yield session


class KeysBrokenError(Exception):
    """A write whose foreign keys SQLite checked only before its commit (`keys_at_commit`)
    left a row without its parent; it was rolled back. Raised also when the write counted on
    the database's own ON DELETE actions, which do not run while the keys are off: written
    again with the keys on (the usual way), it gets them."""


@contextmanager
def writing(engine: Engine, *, keys_at_commit: bool = False) -> Iterator[Session]:
    """A write transaction (`BEGIN IMMEDIATE` on SQLite) that commits or rolls back whole.
    `keys_at_commit` (SQLite; for a write of many rows into a database that holds fewer): the
    foreign keys are checked once, whole, before the commit, not at every row written (an
    AnKing import's million review-log rows: ~0.4 s CPU, the check after ~0.2 s); a row
    without its parent then rolls it back (`KeysBrokenError`). Elsewhere it changes nothing."""
    from sqlalchemy.orm import Session

    options = {**WRITE, KEYS_AT_COMMIT: True} if keys_at_commit else WRITE
    with Session(engine.execution_options(**options), expire_on_commit=False) as session:
        try:
            yield session
            if keys_at_commit:
                _check_keys(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _check_keys(session: Session) -> None:
    """Raise `KeysBrokenError` when the transaction turned SQLite's foreign keys off (see
    `storage.db.KEYS_AT_COMMIT`) and a row of the database now lacks its parent."""
    if not session.in_transaction():
        return
    fairy = session.connection().connection
    if not fairy.info.get(KEYS_OFF):
        return
    driver = fairy.driver_connection
    assert driver is not None  # a live pooled connection (SQLAlchemy 2.1 types it Optional)
    if driver.execute("PRAGMA main.foreign_key_check").fetchone() is not None:
        raise KeysBrokenError("a row written lacks its parent (foreign key)")


def is_retryable(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(marker in text for marker in _RETRYABLE)


def is_busy(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(marker in text for marker in _BUSY)


def run_write(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    attempts: int = 8,
    keys_at_commit: bool = False,
) -> T:
    """Run `work` in one write transaction, retrying with jitter on busy/serialization errors.
    `keys_at_commit`: see `writing` (the caller handles `KeysBrokenError`)."""

    def once() -> T:
        with writing(engine, keys_at_commit=keys_at_commit) as session:
            return work(session)

    return _retrying(once, attempts)


def run_write_core(engine: Engine, work: Callable[[Connection], T], *, attempts: int = 8) -> T:
    """`run_write` on a plain connection, for writers whose repositories take any Executor:
    the ORM is not imported (~0.1 s of a command's start: the day's weight refresh, which
    the day's first command runs)."""
    with engine.connect() as conn:
        return run_write_on(conn, work, attempts=attempts)


@contextmanager
def transaction(conn: Connection, *, write: bool) -> Iterator[Connection]:
    """A transaction on a connection the caller holds (a review session keeps one): `BEGIN
    IMMEDIATE` on SQLite when `write`; committed or rolled back whole."""
    if conn.get_execution_options().get("flashcore_write", False) != write:
        conn.execution_options(flashcore_write=write)
    with conn.begin():
        yield conn


@contextmanager
def deferred_sync(conn: Connection) -> Iterator[Connection]:
    """Write transactions on `conn` whose commits wait for a later one to reach the disk
    (SQLite: `synchronous=NORMAL` in WAL mode, no fsync at each commit; still never a corrupt
    or torn database: a crash may only lose these commits, and the next commit with the
    usual `synchronous=FULL` makes them durable with it). For steps whose work a later
    transaction completes (an import's unseen rows before the publish, its weights before the
    batch is marked done): a commit's fsync cost an import's ~300 steps ~1-4 ms each. Call
    outside a transaction; PostgreSQL: see `unsynced_commit`, in each step."""
    if conn.dialect.name != "sqlite":
        yield conn
        return
    # On the driver's connection: no transaction begins around a PRAGMA.
    driver = conn.connection.driver_connection
    assert driver is not None  # a live pooled connection (SQLAlchemy 2.1 types it Optional)
    driver.execute("PRAGMA synchronous=NORMAL")
    try:
        yield conn
    finally:
        if not conn.invalidated:
            driver.execute("PRAGMA synchronous=FULL")


def unsynced_commit(conn: Connection) -> None:
    """Inside a write transaction of `deferred_sync`'s kind: on PostgreSQL its commit does not
    wait for the WAL to reach the disk (`SET LOCAL synchronous_commit = off`: a crash may lose
    it, never corrupt anything; the next synchronous commit flushes the WAL up to itself, this
    one with it). SQLite: nothing (`deferred_sync` set the connection)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")


def write_now(engine: Engine, work: Callable[[Connection], T]) -> T | None:
    """`work` in one write transaction on a plain connection if the write lock is free at
    once; None, having written nothing, if another connection holds it or the database is
    read-only (SQLite; PostgreSQL runs it). For work a later call may do as well (a cache kept
    by a report)."""
    with engine.connect() as conn:
        conn.execution_options(flashcore_write=WRITE_NOW)
        try:
            with conn.begin():
                return work(conn)
        except OperationalError as exc:
            if any(text in str(exc).lower() for text in (*_BUSY, "readonly database")):
                return None
            raise


@contextmanager
def rolled_back(conn: Connection, *, write: bool = False) -> Iterator[Connection]:
    """A transaction on a held connection that is always rolled back, whatever ran in it (a
    rehearsal: `services.answering.rehearse_answer`). `write`: on SQLite it takes the write
    lock at once if it is free and fails at once ("database is locked") if not, never waiting
    for it; without, a plain BEGIN (no write lock before a statement asks for one)."""
    option = WRITE_NOW if write else False
    if conn.get_execution_options().get("flashcore_write", False) != option:
        conn.execution_options(flashcore_write=option)
    tx = conn.begin()
    try:
        yield conn
    finally:
        tx.rollback()


def run_write_on(
    conn: Connection,
    work: Callable[[Connection], T],
    *,
    attempts: int = 8,
    one_statement: bool = False,
) -> T:
    """`run_write` on a held connection. `one_statement`: the caller promises that `work`
    writes in one statement at most (its reads see committed data and are guarded by what it
    writes, like a version-checked UPDATE). On PostgreSQL that statement then commits itself,
    without BEGIN and COMMIT: one round trip to the server instead of three, the same
    atomicity and durability (an answer is one statement there: repos.write_answer)."""

    def once() -> T:
        with transaction(conn, write=True):
            return work(conn)

    if not one_statement or conn.dialect.name != "postgresql":
        return _retrying(once, attempts)
    conn.execution_options(isolation_level="AUTOCOMMIT")
    try:
        return _retrying(once, attempts)
    finally:
        conn.execution_options(isolation_level=conn.default_isolation_level)


def _retrying(once: Callable[[], T], attempts: int) -> T:
    delay = 0.02
    for attempt in range(attempts):
        try:
            return once()
        except (OperationalError, DBAPIError) as exc:
            if is_busy(exc):
                raise DatabaseBusyError(
                    "the database is busy: another flashcore held the write lock past the "
                    "timeout; close the other window or wait for it, then try again; "
                    "nothing was changed"
                ) from None
            if attempt == attempts - 1 or not is_retryable(exc):
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")
