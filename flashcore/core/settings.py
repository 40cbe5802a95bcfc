"""Profile settings: typed, with defaults as Anki's, parsed and validated from text."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flashcore.core.errors import ConfigError
from flashcore.core.text import shown

_STEP = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_steps(text: str) -> tuple[str, ...]:
    """`1m 10m` -> ("1m", "10m"); each step a number with s, m, h or d."""
    steps = tuple(part for part in re.split(r"[\s,]+", text.strip()) if part)
    for step in steps:
        if not _STEP.match(step):
            raise ConfigError(f"bad step {shown(step)}: a step is a number with s, m, h or d")
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
    # What becomes of a leech (LeechAction): Anki's names. "suspend": out of the queue until
    # unsuspended (rewritten); "tag": marked a leech, it stays in the queue. Anki's default is
    # suspend; flashcore's is tag, from the simulator's evidence (issue 21d, README).
    leech_action: str = "tag"
    bury_siblings: bool = True
    fsrs_parameters: tuple[float, ...] = field(default=())
    weakness_half_life_days: float = 14.0
    weakness_max_retention: float = 0.97
    pull_forward_per_topic: int = 10
    plan_mode: str = "manual"  # "auto": new_per_day follows the exam plan every study day
    # Anki packages: the AnKing tag families that become topics (core.anking.TopicFamily).
    anki_topic_tags: tuple[str, ...] = ("systems", "bnb", "pathoma", "firstaid", "sketchy")
    # A missed question id unsuspends the suspended cards that carry it (AnKing's workflow).
    unsuspend_on_miss: bool = True
    # The order new cards come in (core.introduction.NewOrder): decks and topics take turns,
    # or deck by deck as they were added.
    new_order: str = "interleaved"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["learning_steps"] = list(self.learning_steps)
        data["relearning_steps"] = list(self.relearning_steps)
        data["fsrs_parameters"] = list(self.fsrs_parameters)
        return data

    def to_stored(self, chosen: Iterable[str] = ()) -> dict[str, Any]:
        """What a profile stores: `to_json` without the settings that follow their default
        (`FOLLOW_DEFAULT`) where they hold it, so that a later default reaches every profile
        that never chose otherwise. `chosen`: settings the profile set (stored already, or
        being set now): kept even at today's default, so a later default leaves them."""
        data = self.to_json()
        keep = set(chosen)
        for key in FOLLOW_DEFAULT:
            if key not in keep and data[key] == _DEFAULTS[key]:
                del data[key]
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

    def local_minute(self, at: datetime) -> str:
        """`at` as the student reads a time: `2027-01-05 08:00 IST` in their zone (`… UTC`
        for a profile in UTC)."""
        return f"{at.astimezone(self.zone):%Y-%m-%d %H:%M %Z}"

    def learning_deltas(self) -> tuple[timedelta, ...]:
        return tuple(step_delta(s) for s in self.learning_steps)

    def relearning_deltas(self) -> tuple[timedelta, ...]:
        return tuple(step_delta(s) for s in self.relearning_steps)


# Settings a profile follows the default of until it sets another value (not stored while
# they hold it): `leech_action`, whose default the simulator's evidence chose (issue 21d).
FOLLOW_DEFAULT = ("leech_action",)
_DEFAULTS = Settings().to_json()

MAX_STEP = timedelta(days=365)
MAX_STEPS = 20


def _steps(text: str) -> tuple[str, ...]:
    steps = parse_steps(text)
    if len(steps) > MAX_STEPS:
        raise ConfigError(f"{len(steps)} steps are too many")
    for step in steps:
        try:
            delta = step_delta(step)
        except OverflowError:
            delta = MAX_STEP * 2
        if not timedelta(seconds=1) <= delta <= MAX_STEP:
            raise ConfigError(f"step {shown(step)} is out of range")
    return steps


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ConfigError(f"{shown(text.strip())} is not a number")
    return value


def _retention(text: str) -> float:
    value = _finite(text)
    if not 0.7 <= value <= 0.99:
        raise ConfigError(f"{value:g} is out of range")
    return value


def _count(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if len(text.strip()) > 20:
            raise ConfigError(f"{shown(text.strip(), 20)} is out of range")
        value = int(text)
        if not lo <= value <= hi:
            raise ConfigError(f"{value} is out of range")
        return value

    return parse


def _days(lo: float, hi: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _finite(text)
        if not lo <= value <= hi:
            raise ConfigError(f"{value:g} is out of range")
        return value

    return parse


def _bool(text: str) -> bool:
    key = text.strip().lower()
    if key in {"1", "true", "yes", "on"}:
        return True
    if key in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{shown(text)} is not a yes/no value")


def _timezone(text: str) -> str:
    name = text.strip()
    try:
        if not name.isascii() or not name.isprintable() or len(name) > 64:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"unknown timezone {shown(text)}") from None
    return name


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        key = text.strip().lower()
        if key not in choices:
            raise ConfigError(f"{shown(text)} is not one of {', '.join(choices)}")
        return key

    return parse


def _families(text: str) -> tuple[str, ...]:
    from flashcore.core.anking import TopicFamily, parse_families

    try:
        chosen = parse_families(text)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return tuple(f.value for f in TopicFamily if f in chosen)


def _params(text: str) -> tuple[float, ...]:
    if not text.strip():
        return ()
    try:
        values = tuple(_finite(p) for p in re.split(r"[\s,]+", text.strip()) if p)
    except ValueError:
        raise ConfigError("not a list of numbers separated by commas") from None
    from flashcore.core.fsrs_adapter import check_parameters

    check_parameters(values)
    return values


@dataclass(frozen=True, slots=True)
class Rule:
    """How one setting is read from text, and the values it accepts, in words (for
    `config --help` and the README)."""

    parse: Callable[[str], Any]
    accepts: str


RULES: dict[str, Rule] = {
    "desired_retention": Rule(_retention, "0.70 to 0.99"),
    "new_per_day": Rule(_count(0, 9999), "0 to 9999"),
    "reviews_per_day": Rule(_count(0, 99999), "0 to 99999"),
    "new_ignores_review_limit": Rule(_bool, "true or false"),
    "day_start_hour": Rule(_count(0, 23), "0 to 23"),
    "timezone": Rule(_timezone, "an IANA name such as America/New_York"),
    "learning_steps": Rule(_steps, f"up to {MAX_STEPS} steps, each 1s to 365d"),
    "relearning_steps": Rule(_steps, f"up to {MAX_STEPS} steps, each 1s to 365d"),
    "maximum_interval": Rule(_count(1, 36500), "1 to 36500"),
    "learn_ahead_minutes": Rule(_count(0, 1440), "0 to 1440"),
    "leech_threshold": Rule(_count(1, 999), "1 to 999"),
    "leech_action": Rule(_choice("suspend", "tag"), "suspend or tag"),
    "bury_siblings": Rule(_bool, "true or false"),
    "fsrs_parameters": Rule(_params, "21 numbers within FSRS's bounds, or empty"),
    "weakness_half_life_days": Rule(_days(1, 365), "1 to 365"),
    "weakness_max_retention": Rule(_retention, "0.70 to 0.99"),
    "pull_forward_per_topic": Rule(_count(0, 1000), "0 to 1000"),
    "plan_mode": Rule(_choice("manual", "auto"), "manual or auto"),
    "anki_topic_tags": Rule(
        _families, "all, none, or some of systems bnb pathoma firstaid sketchy"
    ),
    "unsuspend_on_miss": Rule(_bool, "true or false"),
    "new_order": Rule(_choice("interleaved", "deck"), "interleaved or deck"),
}
PARSERS: dict[str, Callable[[str], Any]] = {key: rule.parse for key, rule in RULES.items()}


def set_value(settings: Settings, key: str, text: str) -> Settings:
    """A copy of `settings` with `key` parsed from `text`; ConfigError names what is wrong."""
    rule = RULES.get(key)
    if rule is None:
        raise ConfigError(f"unknown setting {shown(key)}; known: {', '.join(sorted(RULES))}")
    return replace(settings, **{key: parse_value(key, text)})


def parse_value(key: str, text: str) -> Any:
    """`text` read as setting `key`; ConfigError names the setting, the value and the range."""
    rule = RULES[key]
    try:
        return rule.parse(text)
    except ConfigError as exc:
        message = str(exc).removeprefix(f"{key} rejected: ").removeprefix(f"{key}: ")
        raise ConfigError(f"{key}: {message} (use {rule.accepts})") from None
    except (ValueError, OverflowError):
        raise ConfigError(f"{key}: {shown(text)} is not accepted (use {rule.accepts})") from None


def format_value(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_stored(data: dict[str, Any]) -> tuple[Settings, list[str]]:
    """A profile's settings from their stored JSON, each checked against its rule. A value out
    of range (stored by an older flashcore, or by hand) is replaced by its default and named in
    the returned warnings, so one bad value cannot crash every command later."""
    defaults = Settings()
    clean: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in data.items():
        if key not in RULES:
            continue  # a setting from a newer flashcore: ignore, never crash
        stored = format_value(tuple(value) if isinstance(value, list) else value)
        try:
            clean[key] = RULES[key].parse(stored)
        except (ConfigError, ValueError, OverflowError, TypeError):
            default = format_value(getattr(defaults, key)) or "empty"
            warnings.append(
                f"setting {key} = {shown(stored)} is out of range ({RULES[key].accepts}); "
                f"using {default} until `flashcore config set {key} VALUE` fixes it"
            )
    return replace(defaults, **clean), warnings
