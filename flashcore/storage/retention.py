"""Which backups to keep: 12 daily, 10 weekly, 9 monthly beyond today's and yesterday's. Pure:
backup times in, keep or not out (storage.backup.prune deletes the others)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True, slots=True)
class Retention:
    """How many backups to keep beyond today's and yesterday's (all of which are kept)."""

    daily: int = 12
    weekly: int = 10
    monthly: int = 9


DEFAULT = Retention()


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime: backups are named in UTC from an aware time")
    return when.astimezone(UTC)


def retained(
    taken: Sequence[datetime], now: datetime, limits: Retention = Retention()
) -> list[bool]:
    """Which backups to keep, in the order given. Every backup from today and yesterday (UTC
    days) is kept; going back in time from there, the newest backup of each of the next
    `daily` days that have one, then of `weekly` earlier weeks (Monday to Sunday), then of
    `monthly` earlier months. A backup that does not open a new day, week or month in its stage
    goes; so does everything past the last stage. Pure: same input, same answer."""
    yesterday = _utc(now).date().toordinal() - 1
    order = sorted(range(len(taken)), key=lambda i: _utc(taken[i]), reverse=True)
    budget = {"daily": limits.daily, "weekly": limits.weekly, "monthly": limits.monthly}
    last: tuple[int, int, int] | None = None  # (day, week, month) of the last kept backup
    keep = [False] * len(taken)
    for i in order:
        day = _utc(taken[i]).date()
        key = (day.toordinal(), _week(day), day.year * 12 + day.month - 1)
        if key[0] < yesterday:
            stage = next((s for s in _STAGES if budget[s] > 0), None)
            if stage is None:
                continue  # every stage is full
            level = _STAGES.index(stage)
            if last is not None and key[level] >= last[level]:
                continue  # this day / week / month already has a newer backup
            budget[stage] -= 1
        keep[i] = True
        last = key
    return keep


_STAGES = ("daily", "weekly", "monthly")


def _week(day: date) -> int:
    return (day.toordinal() - 1) // 7  # 0001-01-01 was a Monday
