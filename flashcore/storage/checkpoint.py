"""A big import's WAL checkpoint taken off its critical path, on SQLite.

A first import of an AnKing-sized package commits ~130 MB of write-ahead log; the commit's
automatic checkpoint then copied all of it into the database file on the importing thread
(~0.2 s CPU and 0.3-0.6 s wall, on a machine shared by other work). The commit needs none
of it: with `synchronous=FULL` the log is on disk when COMMIT returns, the checkpoint only
moves pages the log already holds. So the import's transaction turns its connection's
automatic checkpoint off (`defer_checkpoint`, restored when the connection goes back to the
pool: `db._sqlite_checkin`), and after the commit `Checkpoint` runs the same PASSIVE
checkpoint on a pooled connection of its own, in a thread, while the import goes on (its
weight refresh); the import waits for it before it returns. A checkpoint never blocks a
writer nor a reader; one that meets another checkpointer simply does less (the next one
finishes it, as SQLite's own does).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from flashcore.storage.db import AUTOCHECKPOINT_PAGES, NO_AUTOCHECKPOINT
from flashcore.storage.repos.common import dialect_of

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from flashcore.storage.repos.common import Executor


def defer_checkpoint(session: Executor) -> bool:
    """Turn off the automatic checkpoint of the connection under `session` (a write
    transaction's) for its commit; back on when the connection returns to the pool. False
    (nothing done) on another database."""
    if dialect_of(session).name != "sqlite":
        return False
    held: Any = session
    connection = held.connection() if callable(held.connection) else held
    fairy = connection.connection
    fairy.driver_connection.execute("PRAGMA wal_autocheckpoint=0")
    fairy.info[NO_AUTOCHECKPOINT] = AUTOCHECKPOINT_PAGES
    return True


class Checkpoint:
    """A PASSIVE checkpoint in a thread of its own (started at once); `wait` for it. `result`:
    SQLite's (busy, the log's frames, those checkpointed) once done, None if it failed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.result: tuple[int, int, int] | None = None
        self._thread = threading.Thread(target=self._run, name="flashcore-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._engine.connect() as conn:
                row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if row is not None:
                self.result = (int(row[0]), int(row[1]), int(row[2]))
        except SQLAlchemyError:
            pass  # an optimisation only: the data is committed; the next checkpoint does it

    def wait(self) -> None:
        self._thread.join()
