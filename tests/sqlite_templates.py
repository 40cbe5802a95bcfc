"""SQLite files made once per test process and copied into each test that needs them.

Some setups are repeated by many tests that are about what comes after them: a new file
upgraded by Alembic to an older revision (a migration test's starting point), a released
fixture loaded at its revision, a collection seeded with a history. Here each is made once per
process, the real way (`make(url)` on a new file: Alembic, the fixture loader, flashcore's own
services), and every test afterwards gets a new file holding that file's pages, copied through
SQLite's backup API (tests/guard.py: no Python code touches a database file). The copy holds the
same tables, indexes, triggers, rows and `alembic_version`, page for page.

A template is named by a key that must say everything its content depends on (the revision, the
migrations folder, the fixture, the seed). PostgreSQL has no cheap copy of a schema: the tests
still build their PostgreSQL variants step by step.

`at_revision` makes its files incrementally: the file at revision R is the nearest earlier
revision's file, copied and upgraded by Alembic to R. A process that asks for 0001, 0002, ...
0024 in turn runs each revision's upgrade once, instead of 1 + 2 + ... + 24 of them.
tests/migrations/test_sqlite_templates.py checks both against what the real steps give.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Hashable
from pathlib import Path

from tests import migrated_template

_made: dict[Hashable, Path] = {}
_numbers = itertools.count()


def copy_pages(source: Path, target: Path) -> None:
    """`source`'s pages into the SQLite file `target` (new, or replaced whole), by SQLite."""
    dst = sqlite3.connect(target)
    try:
        migrated_template.copy_into(source, dst)
    finally:
        dst.close()


def template(key: Hashable, make: Callable[[str], None]) -> Path:
    """This process's template for `key`: a new file `make(url)` filled, at the first call."""
    made = _made.get(key)
    if made is not None:
        return made
    path = migrated_template.folder() / f"made-{next(_numbers)}.sqlite3"
    make(f"sqlite:///{path}")
    conn = sqlite3.connect(path)  # self-contained: the WAL folded into the file
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    _made[key] = path
    return path


def copied(key: Hashable, make: Callable[[str], None], target: Path) -> str:
    """A new file at `target` holding the template for `key`; its URL."""
    copy_pages(template(key, make), target)
    return f"sqlite:///{target}"


def history() -> list[str]:
    """The migration scripts' revisions, oldest first (a single line of history)."""
    from alembic.script import ScriptDirectory

    from flashcore.storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return [s.revision for s in script.walk_revisions()][::-1]


def _revision_key(revision: str) -> tuple[str, str, str]:
    from flashcore.storage.migrate import migrations_dir

    return ("revision", str(migrations_dir()), revision)


def at_revision(target: Path, revision: str) -> str:
    """A new SQLite file at `target` that Alembic upgraded to `revision` (no rows but what the
    migrations write), as `upgrade(engine, revision)` leaves a new file; its URL."""
    return copied(_revision_key(revision), lambda url: _upgraded_to(url, revision), target)


def _upgraded_to(url: str, revision: str) -> None:
    """The nearest earlier revision's template, if this process has one, upgraded to
    `revision` by Alembic; else a new file upgraded from nothing."""
    from flashcore.storage.db import make_engine, sqlite_path
    from flashcore.storage.migrate import upgrade

    order = history()
    earlier = [_made.get(_revision_key(r)) for r in order[: order.index(revision)]]
    start = next((p for p in reversed(earlier) if p is not None), None)
    path = sqlite_path(url)
    if start is not None and path is not None:
        copy_pages(start, path)
    engine = make_engine(url, create=True)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()


def schema_of(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[str, ...]]]:
    """A SQLite file's `sqlite_master` and `alembic_version`, for comparing two files. Each
    statement as its sorted comma-separated parts: Alembic's batch rebuild writes a table's
    constraints in set order, which differs between processes."""
    conn = sqlite3.connect(path)
    try:
        master = [
            (kind, name, table, sorted(p.strip() for p in (sql or "").rstrip(")").split(",")))
            for kind, name, table, sql in conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
            )
        ]
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        return master, version
    finally:
        conn.close()
