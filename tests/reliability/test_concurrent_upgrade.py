"""Twenty processes opening one database that needs an upgrade, at the same moment (a class
starting its reviewers after flashcore was updated; tools/bench/pg_class.py found 19 of 20 failing
with a raw SQLAlchemy error): the upgrade runs once, under a lock, every process ends at the
head and opens its collection, and no row is lost, on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import time
import traceback
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.core.clock import FixedClock
from flashcore.storage import backup as files
from flashcore.storage.db import make_engine, sqlite_path
from flashcore.storage.migrate import HEAD, read_revision, upgrade
from tests.migrations.fixtures import fixture_paths, load, read_fixture

PROCESSES = 20
# An old schema whose upgrade crosses the review log's rebuild (0012) and the VACUUM after it.
OLD = "0008"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_db(request: pytest.FixtureRequest, tmp_path) -> tuple[str, dict[str, Any]]:
    """A database at schema OLD holding that release's fixture rows."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    fixture = read_fixture(fixture_paths()[OLD])
    engine = make_engine(url, create=True)
    try:
        upgrade(engine, OLD)
        load(engine, fixture)
    finally:
        engine.dispose()
    return url, fixture


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_db(request: pytest.FixtureRequest, tmp_path) -> str:
    """No database yet: a SQLite file that does not exist, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'new.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def _open_once(url: str, now: str, start: float, reply: Any) -> None:
    """One process: wait for the common start, open the collection (upgrading it if needed)."""
    from flashcore.core.errors import FlashcoreError
    from flashcore.services import Flashcore

    while time.time() < start:
        time.sleep(0.002)
    try:
        clock = FixedClock(datetime.fromisoformat(now))
        with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
            reply.send(("ok", fc.backup, len(fc.list_profiles())))
    except FlashcoreError as exc:  # the one clear line a user would read
        reply.send(("refused", str(exc), 0))
    except BaseException as exc:  # noqa: BLE001 - a raw error is what this test looks for
        reply.send(("raw", "".join(traceback.format_exception(exc)), 0))
    finally:
        reply.close()


def _counts(url: str, tables: list[str]) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: int(conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one())
                for t in tables
            }
    finally:
        engine.dispose()


def _open_at_once(url: str, now: str) -> list[tuple[str, Any, int]]:
    """PROCESSES processes open `url` at the same moment; what each one saw."""
    context = multiprocessing.get_context("fork")  # real processes, without re-importing
    start = time.time() + 1.0
    pipes, processes = [], []
    for _ in range(PROCESSES):
        mine, theirs = context.Pipe(duplex=False)
        process = context.Process(target=_open_once, args=(url, now, start, theirs))
        process.start()
        theirs.close()
        pipes.append(mine)
        processes.append(process)
    results = []
    for pipe, process in zip(pipes, processes, strict=True):
        results.append(pipe.recv() if pipe.poll(300) else ("silent", "", 0))
        process.join(60)
    return results


def test_twenty_processes_opening_an_old_database_at_once_all_end_at_the_head(old_db):
    url, fixture = old_db
    results = _open_at_once(url, fixture["now"])
    assert [r for r in results if r[0] != "ok"] == []
    assert {r[2] for r in results} == {2}  # each saw both profiles of the fixture

    engine = make_engine(url)
    try:
        assert read_revision(engine) == HEAD
    finally:
        engine.dispose()
    expected = {t: n for t, n in fixture["counts"].items() if t != "alembic_version"}
    assert _counts(url, sorted(expected)) == expected

    path = sqlite_path(url)
    made = [r[1] for r in results if r[1] is not None]
    if path is None:
        assert made == []  # PostgreSQL: pg_dump is the user's backup
        return
    assert len(made) == 1, "the upgrade (and its backup) ran more than once"
    assert [b.path for b in files.list_backups(path)] == [files.list_backups(path)[0].path]


def test_twenty_processes_creating_a_new_database_at_once_share_one_default_profile(new_db):
    results = _open_at_once(new_db, "2026-11-25T09:00:00+00:00")
    assert [r for r in results if r[0] != "ok"] == []
    assert {r[2] for r in results} == {1}
    assert [r[1] for r in results] == [None] * PROCESSES  # nothing to back up in a new one
    engine = make_engine(new_db)
    try:
        assert read_revision(engine) == HEAD
    finally:
        engine.dispose()
    assert _counts(new_db, ["profiles"]) == {"profiles": 1}


def test_a_revision_committed_between_the_failed_read_and_the_table_listing_is_read(new_db):
    """The window the twenty processes hit once on PostgreSQL (a reviewer refused with "is not
    a flashcore database (it holds tables alembic_version, ...)"): the version query fails while
    another process's first upgrade is uncommitted, that upgrade commits, and the listing then
    finds its tables. The query is made to fail once here, at the head schema."""
    engine = make_engine(new_db, create=True)
    try:
        upgrade(engine, "head")
        failed = []

        @sa.event.listens_for(engine, "before_cursor_execute", retval=True)
        def miss_once(conn, cursor, statement, parameters, context, executemany):
            if "FROM alembic_version" in statement and not failed:
                failed.append(statement)
                statement = statement.replace("alembic_version", "alembic_version_not_yet")
            return statement, parameters

        assert read_revision(engine) == HEAD
        assert failed  # the first query did fail
    finally:
        engine.dispose()
