"""Engines. SQLite gets foreign keys, WAL, a busy timeout and `BEGIN IMMEDIATE` for writes.

pysqlite sends no BEGIN before the first SELECT, so a read-modify-write can lose updates. We take
over BEGIN (SQLAlchemy's pysqlite recipe): reads begin DEFERRED, writes begin IMMEDIATE, so two
writers serialize on the lock instead of racing.
"""

from __future__ import annotations

import os
import sqlite3
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore.core.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy import Engine

# SQLAlchemy is imported inside the functions that need it: the health check, the backups and
# the driver-only report (`storage.light_read`) use this module without loading it (~0.8 G
# instructions of a one-shot command's start).

WRITE = {"flashcore_write": True}
BUSY_TIMEOUT_MS = 10_000
AUTOCHECKPOINT_PAGES = 10_000
# A connection record's info key: its automatic checkpoint is off for the transaction that set
# it (a big import's: `storage.checkpoint`), the pages to restore on checkin.
NO_AUTOCHECKPOINT = "flashcore_no_autocheckpoint"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def url_for_path(path: Path) -> str:
    return f"sqlite:///{path}"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    # Checkpoint explicitly when idle rather than in the middle of an answer.
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cursor.close()


ATTACHED = "flashcore_attached"  # a connection record's info key: the databases to detach
# An execution option of a write: SQLite checks its foreign keys once, before its commit
# (`storage.uow.writing`: `PRAGMA foreign_key_check`), instead of at every row it writes. The
# pragma that turns them off cannot be sent inside a transaction: it goes before the BEGIN,
# and the connection record's info key `KEYS_OFF` has the check made and the keys turned on
# again when the connection returns to the pool (after its transaction ended).
KEYS_AT_COMMIT = "flashcore_keys_at_commit"
KEYS_OFF = "flashcore_keys_off"


def _sqlite_checkin(dbapi_connection: Any, record: Any) -> None:
    """A database attached for one transaction (an Anki package read by SQL in an import) is
    detached when its connection returns to the pool: SQLite refuses to detach inside the
    transaction that read it. An automatic checkpoint turned off for one transaction
    (`storage.checkpoint`) is turned on again, and so are foreign keys (`KEYS_AT_COMMIT`)."""
    if record.info.pop(KEYS_OFF, False) and dbapi_connection is not None:
        if dbapi_connection.in_transaction:  # (the pool's reset rolled back already: never)
            dbapi_connection.rollback()  # the pragma is a no-op inside a transaction
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
    names = record.info.pop(ATTACHED, None)
    if names and dbapi_connection is not None:
        for name in names:
            dbapi_connection.execute(f"DETACH DATABASE {name}")
    pages = record.info.pop(NO_AUTOCHECKPOINT, None)
    if pages is not None and dbapi_connection is not None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")


def _sqlite_begin(conn: Any) -> None:
    # Sent on the driver's connection: a transaction's BEGIN needs none of a statement's
    # execution machinery (events, result set-up: ~30 us of an answer's ~300).
    options = conn.get_execution_options()
    write = options.get("flashcore_write")
    begin = "BEGIN IMMEDIATE" if write else "BEGIN"
    driver = conn.connection.driver_connection
    if write and options.get(KEYS_AT_COMMIT):
        conn.connection.info[KEYS_OFF] = True  # turned on again at checkin, whatever happens
        driver.execute("PRAGMA foreign_keys=OFF")
    try:
        if write:
            _begin_immediate(driver, wait=write != WRITE_NOW)
        else:
            driver.execute(begin)
    except Exception as exc:  # e.g. "database is locked": wrapped as SQLAlchemy would
        raise _wrapped(conn, begin, exc) from exc


LOCK_POLL_S = 0.0005  # how often a writer that finds the write lock taken tries again
# `flashcore_write` set to this: the write lock now or "database is locked" at once (a
# rehearsal while the student reads takes it only when it is free: storage.uow.rolled_back).
WRITE_NOW = "now"


def _begin_immediate(driver: Any, *, wait: bool = True) -> None:
    """`BEGIN IMMEDIATE`, waiting up to the busy timeout for the write lock, trying again
    every LOCK_POLL_S. SQLite's own busy handler backs off to 5, 10, 25, then 100 ms between
    tries: beside an import that writes in transactions of a few milliseconds with pauses
    between them, an answer would keep missing the pauses and wait tens of milliseconds.
    (The busy timeout is off only around the BEGIN: ~8 us a write transaction.)"""
    driver.execute("PRAGMA busy_timeout=0")
    try:
        deadline = 0.0
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not (wait and _busy(exc)):
                    raise
                now = time.monotonic()
                if not deadline:
                    deadline = now + BUSY_TIMEOUT_MS / 1000
                elif now >= deadline:
                    raise
            time.sleep(LOCK_POLL_S)
    finally:
        driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _busy(exc: Exception) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _wrapped(conn: Any, statement: str, exc: Exception) -> Exception:
    from sqlalchemy.exc import DBAPIError

    return DBAPIError.instance(statement, None, exc, conn.dialect.loaded_dbapi.Error)


def sqlite_data_version(conn: Any) -> int:
    """SQLite's count of commits made by *other* connections (ours leave it unchanged), read
    on the driver's connection like BEGIN: it is connection state, not data, and a review
    session reads it around every answer."""
    return int(conn.connection.driver_connection.execute("PRAGMA data_version").fetchone()[0])


def others_commits(conn: Any) -> tuple[Any, int] | None:
    """SQLite: this connection's driver connection and its `sqlite_data_version`, the same
    twice only if no other connection committed in between (what was read then still holds
    for what only others change); None elsewhere (never the same: read again)."""
    if conn.dialect.name != "sqlite":
        return None
    return (conn.connection.driver_connection, sqlite_data_version(conn))


def make_engine(url: str, *, create: bool = False) -> Engine:
    """An engine for `url`. A SQLite file that does not exist is created only when `create`."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SAWarning

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(f"not a database URL: {url!r} ({exc})") from None
    path = sqlite_path(url)
    if path is not None:
        if not path.exists():
            if not create:
                raise DatabaseError(
                    f"no database at {path}: run `flashcore init --db {url}` to create one"
                )
            if not path.parent.exists():
                raise DatabaseError(f"folder {path.parent} does not exist")
        elif path.is_dir():
            raise DatabaseError(f"{path} is a folder: give --db a database file or a URL")
    kwargs: dict[str, Any] = {}
    if parsed.drivername.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    elif parsed.drivername.startswith("postgresql"):
        from flashcore.storage.tables import use_postgresql

        use_postgresql()  # the partial indexes' condition (not named on SQLite: see there)
        kwargs["pool_pre_ping"] = False
        kwargs["connect_args"] = {"connect_timeout": 5}
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", SAWarning)
            engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError, NoSuchModuleError, ValueError) as exc:  # no driver
        raise DatabaseError(f"cannot use {parsed.render_as_string()}: {exc}") from None
    for warning in said:  # `?mode=ro` without `uri=true`: ignored, and the file written
        text = str(warning.message)
        if "not accepted by" in text:
            engine.dispose()
            names = text.split("argument(s) ", 1)[-1].split(" are not", 1)[0]
            raise DatabaseError(
                f"cannot use {parsed.render_as_string()}: SQLite's driver passes {names} on to "
                "SQLite only with uri=true in the URL (e.g. ?mode=ro&uri=true); nothing opened"
            )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "checkin", _sqlite_checkin)
    return engine


# The tables a deck or package import fills, whose statistics PostgreSQL's planner needs.
IMPORTED_TABLES = (
    "cards", "notes", "note_topics", "note_qids", "topics", "topic_cards", "anki_cards",
    "review_logs", "imported_answers",
)  # fmt: skip


def refresh_statistics(engine: Engine) -> None:
    """Refresh the planner's table statistics after a bulk change (an import), so it picks
    the selective index. SQLite: one weak topic's cards out of 50,000, 182 -> ~20 ms; sampled
    (`analysis_limit`), ~5 ms on a 300 MB collection. PostgreSQL: the imported tables
    (sampled too, ~0.15 s for the starter decks on a loaded machine). Found live on
    PostgreSQL: a first load of the starter decks left them without statistics (autovacuum
    off, as on this machine's server, or not yet run: it looks every minute) and every
    rebuild of the reviewer's queue took 3.7 s (the new-card quota's count per topic joined
    every card for each of 1,281 topics), 45 ms once analysed. Skipped quietly when the
    database is busy: statistics are an optimisation, the import itself is committed."""
    from sqlalchemy.exc import OperationalError

    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("ANALYZE")
            elif engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                conn.exec_driver_sql(f"ANALYZE {', '.join(IMPORTED_TABLES)}")
            conn.commit()
    except OperationalError:
        pass


def default_db_path() -> Path:
    """The default database file in the user's data directory (platformdirs)."""
    override = os.environ.get("FLASHCORE_HOME")
    if override:
        base = Path(override)
    else:
        from platformdirs import user_data_path

        base = user_data_path("flashcore", appauthor=False)
    return base / "flashcore.sqlite3"
