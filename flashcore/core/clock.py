"""Clocks. Code below the CLI never reads the wall clock: it is handed a Clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    """The wall clock. Only the CLI and the TUI's entry point create one."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(slots=True)
class FixedClock:
    """A clock that stands still until moved; for tests, simulations and FLASHCORE_NOW."""

    instant: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, tzinfo=UTC))

    def __post_init__(self) -> None:
        self.instant = to_utc(self.instant)

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant = self.instant + delta

    def set(self, instant: datetime) -> None:
        self.instant = to_utc(instant)


def to_utc(value: datetime) -> datetime:
    """An aware datetime in `datetime.UTC` (the only tzinfo fsrs accepts)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: flashcore needs timezone-aware times")
    return value.astimezone(UTC)


# The instants flashcore schedules in: a clock outside them is a mistake (and near year 1 or
# 9999 the study day's rollover and a card's due date would leave what datetime can hold).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive


def parse_instant(text: str) -> datetime:
    """Parse ISO 8601 with an offset (`2026-11-25T09:00:00+00:00` or `...Z`), 1970 to 2099."""
    shown = repr(text if len(text) <= 60 else text[:60] + "…")
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{shown} is not an ISO 8601 instant (e.g. 2026-11-25T09:00:00+00:00)"
        ) from None
    if value.tzinfo is None:
        raise ValueError(f"{shown} has no UTC offset (e.g. 2026-11-25T09:00:00+00:00)")
    try:
        instant = to_utc(value)
    except OverflowError:
        instant = LATEST if value.year > 2000 else EARLIEST - timedelta(seconds=1)
    if not EARLIEST <= instant < LATEST:
        raise ValueError(f"{shown} is outside the years 1970 to 2099")
    return instant
