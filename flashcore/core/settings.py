"""Profile settings: typed, with defaults as Anki's, parsed and validated from text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flashcore.core.errors import ConfigError

_STEP = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_steps(text: str) -> tuple[str, ...]:
    """`1m 10m` -> ("1m", "10m"); each step a number with s, m, h or d."""
    steps = tuple(part for part in re.split(r"[\s,]+", text.strip()) if part)
    for step in steps:
        if not _STEP.match(step):
            raise ConfigError(f"bad step {step!r}: use a number with s, m, h or d (e.g. 1m 10m)")
    return steps


def step_delta(step: str) -> timedelta:
    m = _STEP.match(step)
    if m is None:
        raise ConfigError(f"bad step {step!r}")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


@dataclass(frozen=True, slots=True)
class Settings:
    """One profile's settings. `timezone` is an IANA name; the day starts at `day_start_hour`."""

    desired_retention: float = 0.90
    new_per_day: int = 20
    reviews_per_day: int = 200
    new_ignores_review_limit: bool = False
    day_start_hour: int = 4
    timezone: str = "UTC"
    learning_steps: tuple[str, ...] = ("1m", "10m")
    relearning_steps: tuple[str, ...] = ("10m",)
    maximum_interval: int = 36500
    learn_ahead_minutes: int = 20
    leech_threshold: int = 8
    bury_siblings: bool = True
    fsrs_parameters: tuple[float, ...] = field(default=())
    weakness_half_life_days: float = 14.0
    weakness_max_retention: float = 0.97
    pull_forward_per_topic: int = 10

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["learning_steps"] = list(self.learning_steps)
        data["relearning_steps"] = list(self.relearning_steps)
        data["fsrs_parameters"] = list(self.fsrs_parameters)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        clean: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue  # a setting from a newer flashcore: ignore, never crash
            if isinstance(value, list):
                value = tuple(value)
            clean[key] = value
        return cls(**clean)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def learning_deltas(self) -> tuple[timedelta, ...]:
        return tuple(step_delta(s) for s in self.learning_steps)

    def relearning_deltas(self) -> tuple[timedelta, ...]:
        return tuple(step_delta(s) for s in self.relearning_steps)


def _retention(text: str) -> float:
    value = float(text)
    if not 0.7 <= value <= 0.99:
        raise ConfigError(f"retention {value} out of range: use 0.70 to 0.99")
    return value


def _count(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not lo <= value <= hi:
            raise ConfigError(f"{value} out of range: use {lo} to {hi}")
        return value

    return parse


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ConfigError(f"{value} must be positive")
    return value


def _bool(text: str) -> bool:
    key = text.strip().lower()
    if key in {"1", "true", "yes", "on"}:
        return True
    if key in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{text!r} is not a yes/no value (true or false)")


def _timezone(text: str) -> str:
    try:
        ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown timezone {text!r}: use an IANA name like America/New_York"
        ) from None
    return text.strip()


def _params(text: str) -> tuple[float, ...]:
    if not text.strip():
        return ()
    try:
        values = tuple(float(p) for p in re.split(r"[\s,]+", text.strip()) if p)
    except ValueError:
        raise ConfigError("fsrs_parameters: a list of numbers separated by commas") from None
    from flashcore.core.fsrs_adapter import check_parameters

    check_parameters(values)
    return values


PARSERS: dict[str, Callable[[str], Any]] = {
    "desired_retention": _retention,
    "new_per_day": _count(0, 9999),
    "reviews_per_day": _count(0, 99999),
    "new_ignores_review_limit": _bool,
    "day_start_hour": _count(0, 23),
    "timezone": _timezone,
    "learning_steps": parse_steps,
    "relearning_steps": parse_steps,
    "maximum_interval": _count(1, 36500),
    "learn_ahead_minutes": _count(0, 1440),
    "leech_threshold": _count(1, 999),
    "bury_siblings": _bool,
    "fsrs_parameters": _params,
    "weakness_half_life_days": _positive_float,
    "weakness_max_retention": _retention,
    "pull_forward_per_topic": _count(0, 1000),
}


def set_value(settings: Settings, key: str, text: str) -> Settings:
    """A copy of `settings` with `key` parsed from `text`; ConfigError names what is wrong."""
    parser = PARSERS.get(key)
    if parser is None:
        raise ConfigError(f"unknown setting {key!r}; known: {', '.join(sorted(PARSERS))}")
    try:
        value = parser(text)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None
    return replace(settings, **{key: value})


def format_value(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
