"""Whether another connection changed the collection, asked often and cheaply, so a screen can
refresh by itself (Home, when an import lands from a second terminal).

SQLite: `PRAGMA data_version` on a connection held for the purpose, which only counts commits
made by *other* connections (this one never writes): ~10 us, no transaction. PostgreSQL has no
such counter: when `PG_EVERY` has passed, the newest answer, import, note and card change
(`repos.changed_since`, a few indexed or small MAX queries) and the profile's stamp (its
settings and exam among them) are compared with the last look. A change seen reads the
profile's settings and exam again (`Collection.reload_profile`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from flashcore.storage import repos
from flashcore.storage.db import sqlite_data_version

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from flashcore.services.context import Collection

PG_EVERY = 5.0  # seconds between looks on PostgreSQL


class ChangeWatch:
    """`mark()` before reading what a screen shows; `changed()` is then True once another
    connection has committed since the last mark or look. Blocking but brief: call both from
    workers (they take turns); `close()` when done."""

    def __init__(self, fc: Collection, *, pg_every: float = PG_EVERY) -> None:
        self.fc = fc
        self.pg_every = pg_every
        self._conn: Connection | None = None
        self._seen: tuple[object, ...] | None = None
        self._looked = 0.0
        self._lock = threading.Lock()

    def mark(self) -> None:
        """Take the state to compare with (before loading what will be shown); a change since
        the last mark or look reads the profile again, as `changed` does (a screen back on
        top marks before it loads: the change is then no news to its next look)."""
        with self._lock:
            self._look()

    def changed(self) -> bool:
        with self._lock:
            sqlite = self.fc.engine.dialect.name == "sqlite"
            if not sqlite and time.monotonic() - self._looked < self.pg_every:
                return False
            return self._look()

    def _look(self) -> bool:
        before = self._seen
        # data_version counts per connection: a new one's says nothing about the old's
        fresh = self._conn is None or self._conn.closed or self._conn.invalidated
        self._seen = now = self._read()
        news = not fresh and before is not None and now is not None and now != before
        if news:
            self._reload_profile()
        return news

    def _reload_profile(self) -> None:
        """Another terminal's `config set` or `exam set` (or a restore): what is shown next
        (new cards a day, the exam) is computed with the profile as it is now."""
        conn = self._conn
        if conn is None:
            return
        try:
            self.fc.reload_profile(conn)
            conn.rollback()
        except SQLAlchemyError:
            self.close()

    def _read(self) -> tuple[object, ...] | None:
        """The state now; None when it cannot be read (a lost connection, a locked or damaged
        file: no news; the next look opens another connection)."""
        self._looked = time.monotonic()
        try:
            if self._conn is None or self._conn.closed or self._conn.invalidated:
                self._conn = self.fc.engine.connect()
            if self.fc.engine.dialect.name == "sqlite":
                return (sqlite_data_version(self._conn),)
            newest = repos.changed_since(self._conn, None)
            stamp = repos.profile_stamp(self._conn, self.fc.profile_id)
            self._conn.rollback()
            return (newest, *stamp)
        except SQLAlchemyError:
            self.close()
            return None

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
            self._conn = None
