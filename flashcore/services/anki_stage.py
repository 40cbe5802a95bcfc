"""A first import's answers computed ahead, in a thread of its own, while the import's own
thread reads and converts the notes (`services.anki_import.read_package` starts it).

A million answers' `imported_answers` rows (schema 0027) are SQLite's work (the study days and
dues looked up, the package's revlog read in its card index's order: ~1 s CPU), and none of it
needs the notes or the cards: only the package, the profile's zone and day-start hour and
Anki's clock. So a thread stages them, keyed by Anki's card id, in a scratch SQLite file of
the import's work folder (`storage.anki_stage`); sqlite3 lets the import's thread run while a
statement steps, so with a spare core the staging costs the import no time of its own. The
import then copies the staged rows with each card's flashcore id and retention
(`COPY_STAGED_SQL`): the same rows as `FIRST_ANSWERS_SQL` would have given.

Staged only when a core is idle (`spare_core`): on a busy machine the thread only adds its
cost (writing and reading the staged rows back: ~0.5-1 s CPU a million rows). The stage is
used only when what it was computed from still holds when the rows are written:
a first import (no revlog id in the profile's review log, checked before starting), the same
zone and day-start hour (the preset may set the hour: guessed as `_adopt_preset` will set it,
checked after), no due day a date cannot hold (the import then computes the rows itself and
refuses the package as before). Otherwise the import does the work itself, as it did before.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore.importers.anki_revlog_sql import ROWS_COUNTS_SQL, STAGE_ROWS_SQL, STAGED_COLUMNS
from flashcore.importers.anki_scheduling import AnkiClock
from flashcore.services.anki_days import fill_days
from flashcore.storage import anki_sync
from flashcore.storage.anki_stage import StageDb

if TYPE_CHECKING:
    from flashcore.importers.anki_package import AnkiPackage
    from flashcore.services.context import Collection

_FILE = "answers.sqlite3"


@dataclass(frozen=True, slots=True)
class Staged:
    """The staged rows: where, how many, and each Anki card's revlog rows (all of them, not
    only answers) and greatest revlog id (`ROWS_COUNTS_SQL`)."""

    path: Path
    rows: int
    counts: list[tuple[int, int, int]]


class AnswerStaging:
    """The thread staging a package's answers (started at once); `result` waits for it."""

    def __init__(
        self, collection: Path, folder: Path, clock: AnkiClock, zone: Any, hour: int
    ) -> None:
        self.key = (zone, hour)
        self._path = folder / _FILE
        self._db: StageDb | None = None
        self._stopped = False
        self._staged: Staged | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, args=(collection, clock), name="flashcore-anki-stage", daemon=True
        )
        self._thread.start()

    def result(self, zone: Any, hour: int) -> Staged | None:
        """The staged rows once the thread is done, if they were made for this zone and
        day-start hour; else None (the import makes the rows itself)."""
        self._thread.join()
        return self._staged if (zone, hour) == self.key else None

    def close(self) -> None:
        """Stop the thread (a statement running is interrupted) and wait for it."""
        with self._lock:
            self._stopped = True
            if self._db is not None:
                self._db.interrupt()
        self._thread.join()

    def _run(self, collection: Path, clock: AnkiClock) -> None:
        db = None
        try:
            with self._lock:
                if self._stopped:
                    return
                db = self._db = StageDb(self._path, collection)
            zone, hour = self.key
            terms, bad = fill_days(db, clock, zone, hour, every=True)
            if bad or self._stopped:  # a damaged history: the import finds it and says so
                return
            rows = db.stage(STAGED_COLUMNS, STAGE_ROWS_SQL, terms)
            self._staged = Staged(self._path, rows, [
                (int(cid), int(n), int(most)) for cid, n, most in db.sql(ROWS_COUNTS_SQL)
            ])  # fmt: skip
        except (sqlite3.Error, ArithmeticError, ValueError):
            # Interrupted, or a package SQLite or a date cannot read: nothing staged; the
            # import's own statements meet the same problem and report it as they always did.
            self._staged = None
        finally:
            with self._lock:
                if db is not None:
                    db.close()
                self._db = None


def start_staging(fc: Collection, pkg: AnkiPackage, folder: Path) -> AnswerStaging | None:
    """The answers of `pkg` staged in `folder` while the caller goes on, for a first
    `--with-scheduling` import into a SQLite profile; None when it would not be used."""
    from flashcore.storage.db import sqlite_path
    from flashcore.storage.uow import reading

    collection = pkg.database_file
    if collection is None or sqlite_path(fc.url) is None or not spare_core():
        return None
    with reading(fc.engine) as session:
        if anki_sync.holds_revlog_ids(session, fc.profile_id):
            return None  # a re-import: its new rows are looked up card by card
        answered = anki_sync.has_answers(session, fc.profile_id)
    clock = AnkiClock.of(pkg.info)
    settings = fc.settings
    hour = settings.day_start_hour
    if not answered and pkg.deck_configs():  # `_adopt_preset` takes Anki's rollover hour
        hour = clock.rollover_hour
    return AnswerStaging(collection, folder, clock, settings.zone, hour)


def spare_core() -> bool:
    """Whether a core is idle for the staging thread: fewer runnable tasks (the load average,
    the import's own among them) than this process's cores less half a one. Measured on 2
    cores at load 7 to 8 (every core busy), staging in a thread cost the import ~1 s more CPU
    and no less wall time; the import then does the work itself, as before."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # unknown (Windows has none): the import does it all
        return False
    return load < cores - 0.5
