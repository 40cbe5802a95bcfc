"""The study day: it starts at a configurable hour in the profile's timezone (default 4:00).

A review is due for the whole study day that contains its due time: compare with the next
rollover, not with now.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def study_date(now: datetime, zone: ZoneInfo, start_hour: int) -> date:
    """The calendar date that names the study day containing `now`."""
    local = now.astimezone(zone)
    return local.date() if local.hour >= start_hour else local.date() - timedelta(days=1)


def day_start_of(day: date, zone: ZoneInfo, start_hour: int) -> datetime:
    """The instant (UTC) a given study day begins."""
    return datetime.combine(day, time(start_hour), tzinfo=zone).astimezone(UTC)


def day_start(now: datetime, zone: ZoneInfo, start_hour: int) -> datetime:
    return day_start_of(study_date(now, zone, start_hour), zone, start_hour)


def next_rollover(now: datetime, zone: ZoneInfo, start_hour: int) -> datetime:
    """The instant (UTC) the next study day begins."""
    return day_start_of(study_date(now, zone, start_hour) + timedelta(days=1), zone, start_hour)


def days_between(earlier: datetime, later: datetime, zone: ZoneInfo, start_hour: int) -> int:
    """Whole study days from the day of `earlier` to the day of `later`."""
    return (study_date(later, zone, start_hour) - study_date(earlier, zone, start_hour)).days
