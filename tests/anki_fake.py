"""A stand-in Anki package made of plain values (the reader's types), for tests that need a
package's scheduling without the `anki` package: `apply_scheduling` reads anything shaped like
an opened package (services.anki_scheduling.PackageSource)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flashcore.importers.anki_package.types import (
    Card,
    Deck,
    DeckConfig,
    Note,
    NoteType,
    PackageCounts,
    PackageFormat,
    PackageInfo,
    RevlogEntry,
)

CRT = int(datetime(2026, 1, 1, 4, tzinfo=UTC).timestamp())


@dataclass
class FakePackage:
    """Cards and revlog rows given by hand; one deck with one preset."""

    cards_: list[Card] = field(default_factory=list)
    revlog_: list[RevlogEntry] = field(default_factory=list)
    rollover: int = 4
    retention: float = 0.9
    params: tuple[float, ...] = ()
    _conn: sqlite3.Connection | None = field(default=None, repr=False)

    @property
    def info(self) -> PackageInfo:
        config = {"rollover": self.rollover, "creationOffset": 0, "localOffset": 0}
        return PackageInfo("fake.colpkg", PackageFormat.LATEST, 18, True, CRT, config)

    @property
    def database_file(self) -> None:
        return None  # the revlog is in memory: its rows go through Python

    def counts(self) -> PackageCounts:
        return PackageCounts(0, len(self.cards_), len(self.revlog_), 0, 0, 1)

    def decks(self) -> dict[int, Deck]:
        return {1: Deck(1, "Default", 1)}

    def deck_configs(self) -> dict[int, DeckConfig]:
        config = DeckConfig(1, "Default", self.params, self.retention, (1.0, 10.0), (10.0,))
        return {1: config}

    def note_types(self) -> dict[int, NoteType]:
        return {}

    def notes(self) -> Iterator[Note]:
        return iter(())

    def note_guids(self) -> Iterator[tuple[int, str, int]]:
        return iter(())

    def cards(self) -> Iterator[Card]:
        return iter(self.cards_)

    def revlog(self) -> Iterator[RevlogEntry]:
        return iter(sorted(self.revlog_, key=lambda e: e.id))

    def _db(self) -> sqlite3.Connection:
        """The revlog in an in-memory SQLite table, as a package's collection holds it."""
        if self._conn is None:
            self._conn = sqlite3.connect(":memory:")
            self._conn.execute(
                "CREATE TABLE revlog (id INTEGER PRIMARY KEY, cid INTEGER, usn INTEGER,"
                " ease INTEGER, ivl INTEGER, lastIvl INTEGER, factor INTEGER, time INTEGER,"
                " type INTEGER)"
            )
            self._conn.executemany(
                "INSERT INTO revlog VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(e.id, e.card_id, e.usn, e.ease, e.interval, e.last_interval, e.factor,
                  e.taken_millis, e.kind) for e in self.revlog_],
            )  # fmt: skip
        return self._conn

    def sql(self, statement: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
        return iter(self._db().execute(statement, tuple(params)).fetchall())

    def fill_temp(self, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
        db = self._db()
        db.execute(f"DROP TABLE IF EXISTS temp.{table}")  # as AttachedCollection: made anew
        db.execute(f"CREATE TEMP TABLE {table} ({columns})")
        marks = ", ".join("?" for _ in range(columns.count(",") + 1))
        db.executemany(f"INSERT INTO temp.{table} VALUES ({marks})", rows)


def day_number(instant: datetime, rollover: int = 4) -> int:
    """Anki's day number of an instant in a UTC collection created at CRT."""
    start = datetime.fromtimestamp(CRT, UTC) - timedelta(hours=4)
    return ((instant - timedelta(hours=rollover)).date() - start.date()).days


def review_card(card_id: int, *, due: datetime, ivl: int, s: float, d: float,
                last: datetime, reps: int = 2, lapses: int = 0, flags: int = 0) -> Card:  # fmt: skip
    data = json.dumps({"s": s, "d": d, "dr": 0.9, "lrt": int(last.timestamp())})
    return Card(card_id, 1, 1, 0, 0, 2, 2, day_number(due), ivl, 2500, reps, lapses, 0, 0, 0,
                flags, data)  # fmt: skip


def answers(card_id: int, times: list[datetime], ivls: list[int]) -> list[RevlogEntry]:
    """Good answers at `times` (the first a learning step), with the intervals Anki gave."""
    return [
        RevlogEntry(int(t.timestamp() * 1000), card_id, -1, 3, ivl, 0, 0, 5000, 0 if i == 0 else 1)
        for i, (t, ivl) in enumerate(zip(times, ivls, strict=True))
    ]
