"""How a review session learns that another connection changed the collection (another
window, a qbank import from a second terminal), so that it rebuilds its ranking at the right
moment: SQLite's `data_version` read inside the answer's own transaction; on PostgreSQL the
profile's import batches and decks looked at while the student reads, and a refresh every
`REFRESH_SECONDS`. `StudySession` is built on it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flashcore.storage import repos
from flashcore.storage.db import sqlite_data_version
from flashcore.storage.uow import transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from flashcore.services.context import Collection


class ChangesElsewhere:
    """The part of `StudySession` that asks whether anything changed elsewhere (its state is
    the session's: set by its builds and answers)."""

    REFRESH_SECONDS = 60.0
    # `prepare` (while the student reads: after each card is shown and every second in the
    # reviewer) refreshes this much earlier than a key would, so that the periodic rebuild
    # (~0.1 s at 20,000 cards, seconds on a busy machine) lands while a card is read rather
    # than between the key and the next card.
    PREPARE_AHEAD_S = 5.0
    # PostgreSQL: how often the quiet-moment work (`prepare`) looks whether another process
    # imported a qbank log or loaded a deck into the profile (`repos.profile_stamp`, two small
    # tables, a few ms in the reviewer's worker while the student reads), so the reviewer
    # picks an import up as SQLite's does: a student who pastes in the other terminal and
    # switches back presses the next key within a second or two (at 5 s that key showed the
    # card read before the paste).
    PG_LOOK_SECONDS = 1.0
    # While a qbank import runs, another commit every few ms: whether one is still running is
    # asked at most this often (the queue is rebuilt once it is done, this much later at most).
    IMPORT_RECHECK_S = 1.0

    fc: Collection
    _checked: bool  # the last answer found no commit by another connection
    _version: int | None  # SQLite's data_version at the last build (None: PostgreSQL)
    _built_at: float
    _import_seen_at: float | None
    _stamp: tuple[object, ...] | None
    _stamp_looked: float
    _news: bool = False  # another connection's change seen, not yet taken by a rebuild
    _profile_changed: bool = False  # a rebuild read new settings or a new exam
    _warm: Connection | None

    def _connection(self) -> Connection:
        raise NotImplementedError

    def _data_version(self) -> int | None:
        """SQLite's counter of commits by *other* connections (ours hold still)."""
        if self.fc.engine.dialect.name != "sqlite":
            return None
        return sqlite_data_version(self._connection())  # needs no transaction

    def _changed_elsewhere(self, ask: bool = False) -> bool:
        """Whether to rebuild for another connection's change; a True also marks it as news
        for `_take_news` (the rebuild reads the profile again)."""
        self._news = self._news or self._looked_elsewhere(ask)
        return self._news

    def _take_news(self) -> None:
        """Inside a rebuild after another connection's change: another terminal's `config
        set`, `exam set` or `backup restore` changes what the next answer is computed with
        (the settings, the exam, the scheduler's recorded id: a restore can remove its row),
        so the profile is read again and the next quiet moment warms the answer up anew. Also
        for a rebuild made for a reason of its own (invalidated, rolled over, the queue run
        out) while another connection has committed: it takes that commit as seen."""
        if not (self._news or self._moved_since_build()):
            return
        self._news = False
        conn = self._connection()
        with transaction(conn, write=False):
            if self.fc.reload_profile(conn):
                self._profile_changed = True
        self._warm = None

    def _moved_since_build(self) -> bool:
        """Whether another connection committed since the last build (SQLite's count; on
        PostgreSQL the profile's stamp)."""
        if self._version is not None:
            return self._data_version() != self._version
        return self._stamp is not None and self._profile_stamp() != self._stamp

    def profile_changed(self) -> bool:
        """Once after a rebuild that found the profile's settings or exam changed elsewhere:
        the card on screen's four outcomes were computed with the old ones (show it again)."""
        changed, self._profile_changed = self._profile_changed, False
        return changed

    def _looked_elsewhere(self, ask: bool) -> bool:
        if self._checked:
            self._checked = False
            return False
        refresh = self.REFRESH_SECONDS - (self.PREPARE_AHEAD_S if ask else 0.0)
        if self._version is None:
            if time.monotonic() - self._built_at > refresh:
                return True
            return ask and self._pg_changed()
        if self._data_version() == self._version:
            return False
        # A qbank import commits every few milliseconds while it copies its attempts (unseen
        # until it publishes them) and writes the weights that follow: the queue is rebuilt
        # once it is done, as when an import was one transaction (and at the latest after
        # REFRESH_SECONDS: another window's change waits for the import meanwhile).
        now = time.monotonic()
        if now - self._built_at >= refresh:
            return True
        seen = self._import_seen_at
        if not ask and seen is not None and now - seen < self.IMPORT_RECHECK_S:
            return False  # an import was running a moment ago: still taken as running
        importing = self._importing()
        self._import_seen_at = now if importing else None
        return not importing

    def _profile_stamp(self) -> tuple[object, ...]:
        conn = self._connection()
        with transaction(conn, write=False):
            return repos.profile_stamp(conn, self.fc.profile_id)

    def _pg_changed(self) -> bool:
        """PostgreSQL, off the key's path: whether another process has imported a log or loaded
        a deck since the build (looked at every PG_LOOK_SECONDS); an import still writing is
        waited for, as on SQLite."""
        now = time.monotonic()
        if now - self._stamp_looked < self.PG_LOOK_SECONDS:
            return False
        self._stamp_looked = now
        if self._profile_stamp() == self._stamp:
            return False
        return not self._importing()

    def _importing(self) -> bool:
        conn = self._connection()
        with transaction(conn, write=False):
            return repos.import_in_progress(conn, self.fc.profile_id)
