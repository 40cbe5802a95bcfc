"""The study days and due dates an Anki package's answers need, in the import's temporary
tables (`temp.fc_day`, `temp.fc_due`), for the review-log rows SQLite computes from them
(services.anki_scheduling)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from flashcore.core.errors import DamagedHistoryError
from flashcore.importers.anki_revlog_sql import (
    DUE_DAYS_SQL,
    EVERY_DUE_DAY_SQL,
    EVERY_QUARTER_SQL,
    QUARTERS_SQL,
    TEMP_TABLES,
)
from flashcore.importers.anki_scheduling import (
    AnkiClock,
    day_terms,
    due_micros,
    study_day_number,
)
from flashcore.storage import anki_sync

if TYPE_CHECKING:
    from flashcore.services.anki_history import PackageSource
    from flashcore.services.context import Collection


def _day_tables(
    pkg: PackageSource | anki_sync.AttachedCollection,
    fc: Collection,
    clock: AnkiClock,
    *,
    every: bool = False,
) -> tuple[Any, ...]:
    """`temp.fc_day` and `temp.fc_due` for the answers of the cards in `temp.fc_cards` (the
    study days of `every` row's quarter hour and the dues of every answer, when most rows are
    wanted: read in the package's order); the parameters of `ROWS_SQL`."""
    terms, bad = fill_days(pkg, clock, fc.settings.zone, fc.settings.day_start_hour, every=every)
    if bad:  # an interval of ages: left out for a card not imported, refused for one that is
        wanted = bad if not every else {d for (d,) in pkg.sql(DUE_DAYS_SQL, terms)}
        if bad & wanted:
            raise DamagedHistoryError(DAMAGED_INTERVAL)
    return (*terms, fc.profile_id, anki_sync.IMPORTED_REASON)


def fill_days(
    pkg: DaySource, clock: AnkiClock, zone: Any, hour: int, *, every: bool
) -> tuple[tuple[int, int], set[int]]:
    """`temp.fc_day` and `temp.fc_due` filled (see `_day_tables`); Anki's day terms and the
    due days no date can hold (left out of `temp.fc_due`)."""
    tables = TEMP_TABLES
    quarters = [q for (q,) in pkg.sql(EVERY_QUARTER_SQL if every else QUARTERS_SQL)]
    pkg.fill_temp("fc_day", tables["fc_day"],
                  ((q, study_day_number(q, zone, hour)) for q in quarters))  # fmt: skip
    terms = day_terms(clock)
    days = [d for (d,) in pkg.sql(EVERY_DUE_DAY_SQL if every else DUE_DAYS_SQL, terms)]
    bad = {d for d in days if not _representable(clock, d, zone, hour)}
    days = [d for d in days if d not in bad] if bad else days
    pkg.fill_temp("fc_due", tables["fc_due"], ((d, due_micros(clock, d, zone, hour)) for d in days))
    return terms, bad


class DaySource(Protocol):
    """What `fill_days` reads and fills: an Anki collection with temporary tables."""

    def sql(self, statement: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]: ...
    def fill_temp(self, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None: ...


DAMAGED_INTERVAL = (
    "the package's review history is damaged: an answer's interval (revlog ivl) puts its due "
    "date past the year 9999; nothing was imported (repair it in Anki: Tools > Check Database)"
)


def _representable(clock: AnkiClock, day: int, zone: Any, hour: int) -> bool:
    try:
        due_micros(clock, day, zone, hour)
    except (OverflowError, ValueError):
        return False
    return True
