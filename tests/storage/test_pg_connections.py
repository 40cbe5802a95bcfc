"""The PostgreSQL connections the tests' engines share (tests/pg_connections.py): a connection an
engine closed reaches the next engine of its URL in the state of a new session, whatever the last
one left in it, and a broken one is not handed on."""

from __future__ import annotations

import multiprocessing
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from tests import pg_connections
from tests.conftest import PG_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not pg_connections.installed(), reason="FLASHCORE_TEST_PG_KEEP=0: no connection kept"
    ),
]

# A session's state: every setting, what it holds or made for itself alone.
STATE = [
    "SELECT name, setting, source FROM pg_settings ORDER BY name",
    "SELECT locktype, mode FROM pg_locks WHERE pid = pg_backend_pid()"
    " AND locktype NOT IN ('virtualxid', 'relation') ORDER BY 1, 2",
    "SELECT name FROM pg_prepared_statements ORDER BY 1",
    "SELECT name FROM pg_cursors ORDER BY 1",
    "SELECT c.relname FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema() ORDER BY 1",
    "SELECT pg_listening_channels()",
    "SELECT current_setting('transaction_isolation'), current_schema()",
]


def state(conn: psycopg.Connection[Any]) -> list[object]:
    seen: list[object] = [
        conn.autocommit,
        conn.isolation_level,
        conn.read_only,
        conn.deferrable,
        conn.info.transaction_status,
    ]
    for query in STATE:
        seen.append(conn.execute(query).fetchall())
    conn.rollback()
    return seen


def driver(conn: sa.Connection) -> psycopg.Connection[Any]:
    found = conn.connection.driver_connection
    assert isinstance(found, psycopg.Connection)
    return found


def leave_everything(conn: psycopg.Connection[Any]) -> None:
    """What a session can be left holding: settings, locks, a prepared statement (psycopg's
    own too), a cursor, a temporary table, a LISTEN, a sequence's cached value, a transaction."""
    conn.autocommit = True
    for statement in (
        "SET statement_timeout = 1234",
        "SET search_path = pg_catalog",
        "SELECT set_config('application_name', 'left', false)",
        "SELECT pg_advisory_lock(1, 2)",
        "PREPARE left_here AS SELECT 1",
        "CREATE TEMPORARY TABLE left_here (x int)",
        "CREATE TEMPORARY SEQUENCE left_seq",
        "SELECT nextval('left_seq')",
        "LISTEN left_here",
    ):
        conn.execute(statement)
    for _ in range(6):  # psycopg prepares a query it ran five times
        conn.execute("SELECT 41 + %s", (1,))
    conn.autocommit = False
    conn.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    conn.read_only = True
    conn.execute("DECLARE left_cursor CURSOR WITH HOLD FOR SELECT 1")
    conn.commit()
    conn.execute("SELECT 1")  # and a transaction open


def test_a_kept_connection_starts_as_a_new_session_whatever_the_last_engine_left(pg_head_url):
    pg_connections.close_all()  # none kept: the next engine gets the one this one closes
    first = make_engine(pg_head_url)
    with first.connect() as conn:
        raw = driver(conn)
        new = state(raw)  # as this engine got it
        pid = raw.info.backend_pid
        leave_everything(raw)
        assert state(raw) != new
        raw.execute("SELECT 1")
    first.dispose()

    second = make_engine(pg_head_url)
    try:
        with second.connect() as conn:
            again = driver(conn)
            assert again.info.backend_pid == pid  # the same server process, kept
            assert state(again) == new
            assert conn.exec_driver_sql("SELECT 41 + %s", (1,)).scalar() == 42
    finally:
        second.dispose()


def test_a_kept_connection_is_what_a_new_one_to_the_url_is(pg_head_url):
    engine = make_engine(pg_head_url)
    try:
        with engine.connect() as conn:
            leave_everything(driver(conn))
    finally:
        engine.dispose()
    engine = make_engine(pg_head_url)
    try:
        with engine.connect() as conn:
            kept = state(driver(conn))
            args, params = engine.dialect.create_connect_args(engine.url)
            params.pop("context", None)
            with psycopg.connect(*args, **params) as new:
                assert state(new) == kept
    finally:
        engine.dispose()


def _one_kept(url: str) -> int:
    """The server pid of the one connection kept after an engine closes it."""
    pg_connections.close_all()
    engine = make_engine(url)
    with engine.connect() as conn:
        pid = driver(conn).info.backend_pid
    engine.dispose()  # kept
    return pid


def _next_is_a_new_working_connection(url: str, pid: int) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert driver(conn).info.backend_pid != pid
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_a_broken_connection_is_closed_not_kept(pg_head_url):
    engine = make_engine(pg_head_url)
    with engine.connect() as conn:
        raw = driver(conn)
        pid = raw.info.backend_pid
        with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://")) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(sa.exc.DBAPIError):
            conn.exec_driver_sql("SELECT 1")
    engine.dispose()
    assert raw.closed
    _next_is_a_new_working_connection(pg_head_url, pid)


def test_a_kept_connection_whose_server_process_ended_is_not_handed_on(pg_head_url):
    pid = _one_kept(pg_head_url)
    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://")) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
    _next_is_a_new_working_connection(pg_head_url, pid)


def _child_pid(url: str, reply: Any) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        reply.put(driver(conn).info.backend_pid)
    engine.dispose()


def test_a_forked_process_takes_none_of_its_parents_kept_connections(pg_head_url):
    pid = _one_kept(pg_head_url)
    context = multiprocessing.get_context("fork")
    reply = context.Queue()
    child = context.Process(target=_child_pid, args=(pg_head_url, reply))
    child.start()
    theirs = reply.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0 and theirs != pid
    engine = make_engine(pg_head_url)
    try:
        with engine.connect() as conn:
            assert driver(conn).info.backend_pid == pid  # still the parent's, untouched
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_no_more_than_a_few_are_kept(pg_head_url):
    engines = [make_engine(pg_head_url) for _ in range(pg_connections.KEEP + 3)]
    held = [engine.connect() for engine in engines]
    raws = [driver(conn) for conn in held]
    for conn, engine in zip(held, engines, strict=True):
        conn.close()
        engine.dispose()
    assert sum(not raw.closed for raw in raws) <= pg_connections.KEEP
