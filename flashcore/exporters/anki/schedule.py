"""Scheduling as Anki stores it: due days counted from the collection's creation, card type and
queue, FSRS memory in a card's data (the review log is `revlog`'s)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, tzinfo

from flashcore.core.fsrs_adapter import DEFAULT_FSRS_PARAMETERS
from flashcore.core.model import CardState, ExportCard
from flashcore.core.settings import Settings

COLLECTION_CRT = 1_577_851_200  # 2020-01-01 04:00 UTC


ROLLOVER_HOUR = 4


FSRS_DECAY = DEFAULT_FSRS_PARAMETERS[20]  # 0.1542, FSRS-6's default decay


_CRT_DAY = (COLLECTION_CRT - ROLLOVER_HOUR * 3600) // 86_400  # 2020-01-01 as a study day


_LEARN_STEPS = len(Settings().learning_steps)


_RELEARN_STEPS = len(Settings().relearning_steps)


# Anki's queue of a card buried by hand (QueueType::UserBuried; -2 is a sibling buried by its
# scheduler): Anki leaves both out of the day's queues and unburies them at its next day.
USER_BURIED = -3


_TYPE_QUEUE = {
    CardState.NEW: (0, 0),
    CardState.LEARNING: (1, 1),
    CardState.REVIEW: (2, 2),
    CardState.RELEARNING: (3, 1),
}


def study_date(instant: datetime, zone: tzinfo = UTC, start_hour: int = ROLLOVER_HOUR) -> date:
    """The study day containing `instant` in `zone`, a day starting at `start_hour` (by
    default UTC with the rollover at 04:00)."""
    return (instant.astimezone(zone) - timedelta(hours=start_hour)).date()


def review_day(instant: datetime, zone: tzinfo = UTC, start_hour: int = ROLLOVER_HOUR) -> int:
    """A review card's `due`: days from the package collection's creation day to the study day
    of `instant` in `zone` (Anki shows day D on 2020-01-01 + D in its own local days)."""
    return StudyDays(zone, start_hour).of(instant.timestamp()) - _CRT_DAY


class StudyDays:
    """Study-day numbers (days since 1970-01-01 as the zone's calendar, each day starting at
    `start_hour`) of epoch seconds, for a million answers. A zone whose offset never changed
    over 1990-2060 (UTC, India, ...) is one constant (`base`); another's offset is looked up
    once per quarter hour (offsets change on quarter hours)."""

    __slots__ = ("base", "daily", "offsets", "shift", "zone")

    def __init__(self, zone: tzinfo = UTC, start_hour: int = ROLLOVER_HOUR) -> None:
        self.zone = zone
        self.shift = start_hour * 3600
        self.offsets: dict[int, int] = {}
        self.daily: dict[int, int] = {}  # UTC day -> the offset all that day (`offset_at`)
        probes = {self.offset(_PROBE_FROM + month * 2_629_746 // 900) for month in range(840)}
        # `day = (seconds + base) // 86_400` when the offset is fixed
        self.base: int | None = probes.pop() - self.shift if len(probes) == 1 else None

    def offset(self, quarter: int) -> int:
        """The zone's offset in seconds during the quarter hour `quarter` (epoch s / 900)."""
        found = self.offsets.get(quarter)
        if found is None:
            delta = datetime.fromtimestamp(quarter * 900, UTC).astimezone(self.zone).utcoffset()
            found = self.offsets[quarter] = int(delta.total_seconds()) if delta else 0
        return found

    def offset_at(self, seconds: int) -> int:
        """The zone's offset at epoch `seconds`. A UTC day whose first and last quarter hours
        have one offset has it throughout (a change and its undoing within one day is unheard
        of): it goes in `daily`, one entry a day (a million answers over three years look up
        ~1,200 days, not ~130,000 quarter hours); a day with a change asks its quarter hour."""
        day = seconds // 86_400
        first = self.offset(day * 96)
        if first == self.offset(day * 96 + 95):
            self.daily[day] = first
            return first
        return self.offset(seconds // 900)

    def of(self, seconds: float) -> int:
        whole = int(seconds // 1)
        if self.base is not None:
            return (whole + self.base) // 86_400
        found = self.daily.get(whole // 86_400)
        if found is None:
            found = self.offset_at(whole)
        return (whole + found - self.shift) // 86_400


_PROBE_FROM = 631_152_000 // 900  # 1990-01-01 UTC, in quarter hours


def fsrs_interval(stability: float, retention: float) -> int:
    """Whole days until retrievability falls to `retention` (FSRS-6 curve, default decay)."""
    factor: float = 0.9 ** (-1 / FSRS_DECAY) - 1
    days: float = stability / factor * (retention ** (-1 / FSRS_DECAY) - 1)
    return max(1, round(days))


class _ScheduleWriter:
    """Turns genanki's new cards into flashcore's states, in batches (their answers are
    `revlog.RevlogWriter`'s)."""

    def __init__(
        self, cursor: sqlite3.Cursor, days: StudyDays | None = None, now: datetime | None = None
    ) -> None:
        self.cursor = cursor
        self.days = days or StudyDays()
        self.now = now  # a burial in force then goes as Anki's (None: none goes)
        self.card_rows: list[tuple[int | str, ...]] = []

    def add(self, src: ExportCard, row_id: int, position: int) -> None:
        ctype, queue = _TYPE_QUEUE[src.state]
        if src.suspended:
            queue = -1
        elif _buried(src, self.now):
            queue = USER_BURIED
        due, ivl, factor, left = position, 0, 0, 0
        if src.state is CardState.REVIEW:
            due = self.days.of(src.due.timestamp()) - _CRT_DAY
            ivl, factor = _review_interval(src, self.days), 2500
        elif src.state is CardState.LEARNING:
            due, left = int(src.due.timestamp()), max(1, _LEARN_STEPS - (src.step or 0))
        elif src.state is CardState.RELEARNING:
            due, factor = int(src.due.timestamp()), 2500
            left = max(1, _RELEARN_STEPS - (src.step or 0))
            if src.stability is not None:
                ivl = fsrs_interval(src.stability, src.desired_retention or 0.9)
        flags = 1 if src.flagged else 0
        data = _card_data(src, position)
        row = (ctype, queue, due, ivl, factor, src.reps, src.lapses, left, flags, data)
        self.card_rows.append((*row, row_id))

    def flush(self) -> None:
        self.cursor.executemany(
            "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, factor = ?, reps = ?,"
            " lapses = ?, left = ?, flags = ?, data = ? WHERE id = ?",
            self.card_rows,
        )
        self.card_rows.clear()


def _buried(card: ExportCard, now: datetime | None) -> bool:
    return now is not None and card.buried_until is not None and card.buried_until > now


def _review_interval(card: ExportCard, days: StudyDays) -> int:
    if card.last_review is not None:
        return max(1, days.of(card.due.timestamp()) - days.of(card.last_review.timestamp()))
    if card.stability is not None:
        return fsrs_interval(card.stability, card.desired_retention or 0.9)
    return 1


def _card_data(card: ExportCard, position: int) -> str:
    """Anki's card `data` JSON (compact, as Anki writes it)."""
    if card.state is CardState.NEW:
        return ""
    parts = [f'"pos":{position}']
    s, d, dr = card.stability, card.difficulty, card.desired_retention
    if s is not None and d is not None:
        parts.append(f'"s":{round(s, 4)!r},"d":{round(d, 4)!r}')
    if dr is not None:
        parts.append(f'"dr":{round(dr, 4)!r}')
    if s is not None and d is not None:
        parts.append(f'"decay":{FSRS_DECAY!r}')
    if card.last_review is not None:
        parts.append(f'"lrt":{int(card.last_review.timestamp())}')
    return "{" + ",".join(parts) + "}"
