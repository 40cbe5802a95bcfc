"""Schema upgrades. The version is read cheaply with one SELECT; Alembic is imported only when a
migration is due.

Safety rules, each learnt the hard way: SQLite migrations run with foreign keys OFF (a batch
rebuild of a parent table with them on cascade-deletes every child row), inside one explicit
transaction (pysqlite would otherwise leave a failed migration half-applied), followed by
`PRAGMA foreign_key_check`; a SQLite file holding data is backed up before any upgrade.

One process upgrades at a time: a class's reviewers opening a database that a new flashcore must
upgrade all find it behind at once. The upgrade (with its backup and VACUUM) runs under a lock
(PostgreSQL: a session advisory lock on a fixed key per schema; SQLite: `flock` on a side file
beside the database), and the version is read again once the lock is held, so the processes that
waited find the database at the head and go on.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from flashcore.core.errors import DatabaseBusyError, DatabaseError
from flashcore.storage.db import WRITE, sqlite_path
from flashcore.storage.schema_head import HEAD as HEAD  # checked against Alembic's head

_BUNDLED = Path(__file__).resolve().parent.parent / "_bundled"
_REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def migrations_dir() -> Path:
    """`migrations/` in a checkout, or the copy bundled into an installed package."""
    for candidate in (_BUNDLED / "migrations", _REPO_ROOT / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise DatabaseError("flashcore's migrations are missing from this installation")


def alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["configure_logger"] = False
    return config


def read_revision(engine: Engine) -> str | None:
    """The database's schema revision; None for an empty database.

    Raises DatabaseError for a database flashcore cannot use (unreachable, or not flashcore's).
    """
    try:
        with engine.connect() as conn:
            try:
                row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            except DBAPIError:
                conn.rollback()
                row = None
                tables = inspect(conn).get_table_names()
                if "alembic_version" in tables:
                    # Another process's first upgrade committed between the query and the
                    # listing (PostgreSQL: its tables were invisible until then): read again.
                    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
                elif tables:
                    raise DatabaseError(
                        f"{_where(engine)} is not a flashcore database "
                        f"(it holds tables {', '.join(sorted(tables)[:3])}...)"
                    ) from None
            return None if row is None else str(row[0])
    except DatabaseError:
        raise
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{_where(engine)} is not a usable SQLite database: {exc}") from None
    except SQLAlchemyError as exc:
        problem = _first_line(exc)
        if "locked" in problem or "busy" in problem:  # SQLite: another process holds it
            raise DatabaseBusyError(f"cannot open {_where(engine)}: {problem}") from None
        raise DatabaseError(
            f"cannot open {_where(engine)}: {problem}{_why_cannot_open(engine, problem)}"
        ) from None


def _why_cannot_open(engine: Engine, problem: str) -> str:
    """SQLite's "unable to open database file" names no cause: a folder that may not be
    written (SQLite makes -wal and -shm files beside the database, and the file itself when it
    is new) is the usual one, said in words the command line turns into advice."""
    if "unable to open" not in problem:
        return ""
    path = sqlite_path(engine.url.render_as_string(hide_password=True))
    if path is None:
        return ""
    folder = Path(path).parent
    if folder.is_dir() and not os.access(folder, os.W_OK):
        return f" (its folder {folder} is read-only)"
    return ""  # (a read-only file in a writable folder opens read-only: writes say so)


def _where(engine: Engine) -> str:
    path = sqlite_path(engine.url.render_as_string(hide_password=True))
    return str(path) if path else engine.url.render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def ensure_schema(engine: Engine, *, now: datetime | None = None) -> str | None:
    """Bring the schema to HEAD. Returns the path of the backup made first, if any (named by
    `now`; by the file's last change when no time is given). Safe when many processes open the
    database at once: one upgrades, the others wait for it and find the head."""
    try:
        if read_revision(engine) == HEAD:
            return None
    except DatabaseBusyError:
        pass  # a new SQLite file being created by another process: wait for its upgrade lock
    with upgrade_lock(engine):
        revision = read_revision(engine)  # again: another process may have upgraded meanwhile
        if revision == HEAD:
            return None
        if revision is not None and revision not in known_revisions():
            raise DatabaseError(
                f"{_where(engine)} was written by a newer flashcore (schema {revision}); "
                "upgrade flashcore to open it"
            )
        backup = None
        if revision is not None:
            backup = _backup_before_upgrade(engine, now)
        try:
            upgrade(engine, "head")
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"upgrading {_where(engine)} from schema {revision or '(empty)'} to {HEAD} failed, "
                f"nothing was changed: {_first_line(exc)}"
            ) from None
        return backup


# How long a process waits for another one's upgrade before giving up (an upgrade across a
# table rebuild of a 1 GB collection takes minutes on a slow disk).
UPGRADE_WAIT_S = 900.0
_POLL_S = 0.05
# PostgreSQL advisory locks share one key space per database: flashcore's upgrades take
# (this, hash of the schema), so schemas of one database (the tests') upgrade independently.
UPGRADE_LOCK_KEY = 0x0F1A5C  # "flashcore"


@contextmanager
def upgrade_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's upgrade lock (waiting up to UPGRADE_WAIT_S for another process)."""
    if engine.dialect.name == "postgresql":
        with _pg_upgrade_lock(engine):
            yield
        return
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None:  # in memory: one connection's database, nobody to race
        yield
        return
    with _file_upgrade_lock(engine, path):
        yield


@contextmanager
def _pg_upgrade_lock(engine: Engine) -> Iterator[None]:
    # A session lock, on a connection of its own: it outlives the migration's transaction and
    # is released by the server if this process dies.
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot open {_where(engine)}: {_first_line(exc)}") from None
    try:
        key = text("SELECT :k, hashtext(current_schema())").bindparams(k=UPGRADE_LOCK_KEY)
        keys = tuple(conn.execute(key).one())

        def take() -> bool:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:a, :b)"), dict(a=keys[0], b=keys[1])
            )
            conn.commit()
            return bool(got.scalar_one())

        _wait_for(take, engine)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), dict(a=keys[0], b=keys[1]))
            conn.commit()
    finally:
        conn.close()


@contextmanager
def _file_upgrade_lock(engine: Engine, db: Path) -> Iterator[None]:
    """`flock` on `.<db name>.upgrade` beside the database (never on the database file: closing
    a descriptor of it would drop SQLite's own locks). Released by the kernel if this process
    dies. Where there is no `flock` (Windows) or the folder cannot be written, the upgrade's
    `BEGIN IMMEDIATE` still serialises the writers; Alembic reads the version inside it."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    from flashcore.storage.sidefiles import upgrade_lock_file

    try:
        fd = os.open(upgrade_lock_file(db), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:

        def take() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        _wait_for(take, engine)
        yield
    finally:
        os.close(fd)  # drops the lock


def _wait_for(take: Callable[[], bool], engine: Engine) -> None:
    deadline = time.monotonic() + UPGRADE_WAIT_S
    while not take():
        if time.monotonic() > deadline:
            raise DatabaseError(
                f"another flashcore process has been upgrading {_where(engine)} for over "
                f"{UPGRADE_WAIT_S / 60:g} minutes; try again once it has finished"
            )
        time.sleep(_POLL_S)


def _backup_before_upgrade(engine: Engine, now: datetime | None) -> str | None:
    """A verified backup in the database's backups/ folder (flashcore.storage.backup)."""
    from flashcore.storage.backup import create_backup, prune

    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None or not path.exists():
        return None
    when = now or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    made = create_backup(path, when)
    if now is not None:
        prune(path, now)
    return str(made.path)


def backup_sqlite(engine: Engine, *, suffix: str) -> str | None:
    """A consistent copy of a SQLite database next to it (backup API, temp file then rename)."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None or not path.exists():
        return None
    target = path.with_name(f"{path.name}.{suffix}.bak")
    tmp = target.with_name(target.name + ".tmp")
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(tmp, target)
    return str(target)


@contextmanager
def migration_transaction(conn: Connection) -> Iterator[None]:
    """One transaction for the whole migration; on SQLite with foreign keys off around it."""
    is_sqlite = conn.dialect.name == "sqlite"
    raw = conn.connection.driver_connection if is_sqlite else None
    if raw is not None:
        if conn.in_transaction():
            conn.commit()
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with conn.execution_options(**WRITE).begin():
            yield
            if is_sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise DatabaseError(
                        f"migration would break {len(broken)} references; nothing was changed"
                    )
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")


# Revisions that rebuild a large table: on SQLite the file keeps the old table's pages as free
# pages until a VACUUM, so an upgrade across one ends with one (outside the migration's
# transaction, through SQLite itself).
_REBUILDS = ("0012", "0017")


def upgrade(engine: Engine, target: str = "head") -> None:
    before = read_revision(engine)
    run_alembic(engine, "upgrade", target)
    if engine.dialect.name != "sqlite" or sqlite_path(str(engine.url)) is None:
        return
    after = read_revision(engine)
    crossed = [r for r in _REBUILDS if (before or "") < r <= (after or "")]
    if crossed and before is not None:
        raw = engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            if driver.in_transaction:
                driver.commit()
            driver.execute("VACUUM")
        finally:
            raw.close()


def downgrade(engine: Engine, target: str) -> None:
    run_alembic(engine, "downgrade", target)


def run_alembic(engine: Engine, verb: str, target: str) -> None:
    from alembic import command

    config = alembic_config()
    with engine.connect() as conn, migration_transaction(conn):
        config.attributes["connection"] = conn
        getattr(command, verb)(config, target)


def migrate_url(url: str, *, config: Any) -> None:
    """Used by migrations/env.py under a plain `alembic upgrade head`."""
    from alembic import context

    from flashcore.storage.db import make_engine

    engine = make_engine(url, create=True)
    with engine.connect() as conn, migration_transaction(conn):
        context.configure(
            connection=conn,
            target_metadata=config.attributes.get("target_metadata")
            or __import__("flashcore.storage.models", fromlist=["Base"]).Base.metadata,
            render_as_batch=True,
        )
        context.run_migrations()
    engine.dispose()
