"""PostgreSQL connections kept open between the engines of one test process, reset between uses.

A test calls `flashcore.cli.main` and opens collections in this process dozens of times, and each
command makes an engine of its own, as a user's `flashcore` process does: every one connected
anew (a server process started, its catalog caches filled, SQLAlchemy's first-connect queries),
and closed at the end. Measured on the shared 2-core machine: ~4 ms of the test's CPU and ~7 ms
of the server's a connection, two or three connections a command.

Here a connection an engine closes is kept (a few per process, the oldest closed beyond that)
and handed to the next engine of the same URL and connect arguments, after it has been reset to
the state of a new session:
- its transaction rolled back, then `DISCARD ALL` (settings back to the connection's start
  values, advisory locks released, prepared statements, cursors, temporary tables, LISTENs and
  cached plans and sequence values gone) and psycopg's own state as `psycopg.connect` leaves it
  (autocommit, isolation level, read-only, deferrable, its cache of prepared statements);
- a connection that is broken, busy, or fails any of that is closed instead, and so is a kept
  one whose server process ended meanwhile, when the next engine asks for it;
- a forked process neither takes nor closes the connections its parent kept (their sockets are
  the parent's), and closes one its parent made as before.

SQLAlchemy still runs its first-connect and connect steps on it for each new engine, so an engine
sees what it would on a new connection. tests/storage/test_pg_connections.py checks that a kept
connection starts as a new one does (settings, locks, prepared statements, temporary tables).
The kept connections are closed when the process ends. `FLASHCORE_TEST_PG_KEEP=0` turns the
keeping off (every engine connects anew, as before), to measure it.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from typing import Any

import psycopg
from psycopg import pq

KEEP = 4  # connections kept per process (two xdist workers: 8 of the server's 100)

_lock = threading.Lock()
_kept: OrderedDict[int, tuple[tuple[Any, ...], psycopg.Connection[Any]]] = OrderedDict()
stats = {"made": 0, "reused": 0}


def _key(dialect: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]) -> tuple[Any, ...]:
    params = tuple(sorted((k, repr(v)) for k, v in cparams.items() if k != "context"))
    adapters = (id(dialect._json_serializer), id(dialect._json_deserializer))
    return (type(dialect), cargs, params, adapters)


def _connect(dialect: Any, *cargs: Any, **cparams: Any) -> Any:
    key = (os.getpid(), _key(dialect, cargs, cparams))
    while True:
        with _lock:
            kept = next((i for i, (k, _c) in _kept.items() if k == key), None)
            conn = None if kept is None else _kept.pop(kept)[1]
        if conn is None:
            break
        if _alive(conn):
            stats["reused"] += 1
            return conn
        conn.close()
    conn = _original_connect(dialect, *cargs, **cparams)
    conn._flashcore_test_key = key  # type: ignore[attr-defined]
    stats["made"] += 1
    return conn


def _alive(conn: psycopg.Connection[Any]) -> bool:
    """Whether a kept connection's server process still serves it: one ended while it was kept
    (`pg_terminate_backend`, `DROP DATABASE ... WITH (FORCE)`) answers an empty query with its
    farewell. (The empty query is libpq's alone: it starts no transaction.)"""
    try:
        result = conn.pgconn.exec_(b"")
    except psycopg.Error:
        return False
    return (
        result.status == pq.ExecStatus.EMPTY_QUERY
        and conn.pgconn.status == pq.ConnStatus.OK
        and conn.pgconn.transaction_status == pq.TransactionStatus.IDLE
    )


def _reset(conn: psycopg.Connection[Any]) -> bool:
    """`conn` as a new session (True), or False when it cannot be."""
    if conn.closed or conn.broken:
        return False
    status = conn.info.transaction_status
    if status == pq.TransactionStatus.ACTIVE or status == pq.TransactionStatus.UNKNOWN:
        return False
    try:
        if status != pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.autocommit = True
        conn.execute("DISCARD ALL")
        conn.autocommit = False
        conn.isolation_level = None
        conn.read_only = None
        conn.deferrable = None
        conn._prepared.clear()  # psycopg's side of the prepared statements
        conn._prepared._to_flush.clear()  # (DISCARD ALL deallocated them on the server)
    except psycopg.Error:
        return False
    return conn.info.transaction_status == pq.TransactionStatus.IDLE


def _close(dialect: Any, dbapi_connection: Any) -> None:
    conn = dbapi_connection
    key = getattr(conn, "_flashcore_test_key", None)
    if key is None or key[0] != os.getpid() or not _reset(conn):  # (made by another process)
        _original_close(dialect, dbapi_connection)
        return
    evicted = []
    with _lock:
        _kept[id(conn)] = (key, conn)
        while len(_kept) > KEEP:
            evicted.append(_kept.popitem(last=False)[1][1])
    for old in evicted:
        old.close()


def _forget_in_child() -> None:
    """A forked process (tests/reliability: real processes, without re-importing) shares the
    kept connections' sockets with its parent: it never uses nor closes them (psycopg does not
    end a connection another process made when it is collected)."""
    with _lock:
        _inherited.extend(conn for _key, conn in _kept.values())
        _kept.clear()


_inherited: list[psycopg.Connection[Any]] = []


def close_all() -> None:
    with _lock:
        kept = [conn for _key, conn in _kept.values()]
        _kept.clear()
    for conn in kept:
        conn.close()


_original_connect: Any = None
_original_close: Any = None


def installed() -> bool:
    return _original_connect is not None


def install() -> None:
    """Keep the psycopg dialect's connections (once per process)."""
    global _original_connect, _original_close
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    if _original_connect is not None or os.environ.get("FLASHCORE_TEST_PG_KEEP") == "0":
        return
    _original_connect = PGDialect_psycopg.connect
    _original_close = PGDialect_psycopg.do_close
    PGDialect_psycopg.connect = _connect  # type: ignore[method-assign]
    PGDialect_psycopg.do_close = _close  # type: ignore[method-assign]
    atexit.register(close_all)
    os.register_at_fork(after_in_child=_forget_in_child)
