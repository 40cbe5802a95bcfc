"""A new SQLite collection in the tests is filled from a migrated template, not by every migration.

`Flashcore.open` on a SQLite file with no tables (the CLI's first command in a fresh home,
`init`, `--db new.sqlite3 --create`) runs all of Alembic's revisions: 1-2 s of CPU at load 2,
ten at the shared machine's usual load, in hundreds of tests that are about something else.
Here the test process migrates one file the real way (`ensure_schema`, once per process, at
first need) and each new empty collection afterwards receives that file's pages through
SQLite's backup API, inside flashcore's own upgrade lock, into the engine's own connection: the
same tables, indexes, triggers and `alembic_version`, page for page, and no Python code touches
the file (tests/guard.py).

What stays real: a file that holds anything (an older schema, junk, another program's tables)
goes to `ensure_schema` untouched, as does PostgreSQL; so does every test of migrations
themselves (REAL_MIGRATIONS, and any test that points flashcore at other scripts or another
HEAD). Processes the tests start (tests/guard.py's reviewer, the CLI in a subprocess) are not
this process and migrate for real.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

# Tests whose subject is migrating a new file: they always run Alembic.
REAL_MIGRATIONS = (
    "tests/migrations/",
    "tests/reliability/test_concurrent_upgrade.py",
    "tests/reliability/test_migration_safety.py",
    "tests/storage/test_schema_parity.py",
)

_enabled = [True]
_folder: list[Callable[[], Path]] = []
_made: dict[tuple[str, str], Path] = {}  # (migrations folder, HEAD) -> template file


def where(folder: Callable[[], Path]) -> None:
    """Where the template file goes (called once per session with a tmp_path_factory maker)."""
    _folder[:] = [folder]


def folder() -> Path:
    """This process's folder for templates (tests/snapshots.py keeps its files there too)."""
    return _folder[0]()


def enable(on: bool) -> None:
    _enabled[0] = on


def template() -> Path:
    """This process's migrated SQLite file at the current HEAD, made by `ensure_schema`."""
    from flashcore.storage import migrate
    from flashcore.storage.db import make_engine

    key = (str(migrate.migrations_dir()), migrate.HEAD)
    made = _made.get(key)
    if made is not None:
        return made
    path = folder() / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}", create=True)
    try:
        _ORIGINAL[0](engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    _made[key] = path
    return path


_ORIGINAL: list[Callable[..., str | None]] = []
_REAL: list[tuple[str, str]] = []  # the shipped migrations folder and HEAD


def _fill_if_new(engine: Any) -> bool:
    """Copy the template into `engine`'s file when it has no table at all; True if it did."""
    from flashcore.storage import migrate
    from flashcore.storage.db import sqlite_path

    if not _enabled[0] or not _folder or engine.dialect.name != "sqlite":
        return False
    if (str(migrate.migrations_dir()), migrate.HEAD) != _REAL[0]:
        return False  # a test made other scripts or another HEAD: they run for real
    if sqlite_path(engine.url.render_as_string(hide_password=False)) is None:
        return False  # in memory
    if not _is_empty(engine):
        return False
    source_path = template()
    with migrate.upgrade_lock(engine):
        if not _is_empty(engine):  # another process created it meanwhile
            return False
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            if driver.in_transaction:
                driver.commit()
            copy_into(Path(source_path), driver)
        finally:
            raw.close()
    return True


def copy_into(source: Path, target: sqlite3.Connection) -> None:
    """The SQLite file `source`'s pages into the open connection `target`, by SQLite's backup."""
    src = sqlite3.connect(source)
    try:
        src.backup(target)
    finally:
        src.close()


def _is_empty(engine: Any) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            count = conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
    except SQLAlchemyError:
        return False  # not a database, busy, ...: ensure_schema says so
    return int(count) == 0


def install() -> None:
    """Put the template in front of `ensure_schema` where `Flashcore.open` calls it."""
    from flashcore.services import context
    from flashcore.storage import migrate

    if _ORIGINAL:
        return
    _ORIGINAL.append(context.ensure_schema)
    _REAL.append((str(migrate.migrations_dir()), migrate.HEAD))

    def ensure_schema(engine: Any, *, now: datetime | None = None) -> str | None:
        if _fill_if_new(engine):
            return None  # what ensure_schema returns for a new file: no backup
        return _ORIGINAL[0](engine, now=now)

    context.ensure_schema = ensure_schema  # type: ignore[assignment]
