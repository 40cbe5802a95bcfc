"""Column types: UTC datetimes that always come back timezone-aware; the review log's compact
retention, burial list and packed before-state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; refuses naive values; returns `datetime.UTC`-aware values on every backend.

    SQLite keeps no offset, so values are written as naive UTC there and tagged on the way back.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: flashcore stores only timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, UTC values go straight to the stored text (`2026-11-25 03:21:31.000000`,
        as SQLAlchemy's SQLite DATETIME writes it) with one `isoformat`: an answer binds ten
        datetimes, and the general path (convert, strip, then format field by field) costs
        ~3 us each."""
        general = super().bind_processor(dialect)
        if dialect.name != "sqlite":
            return general

        def process(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, datetime) and value.tzinfo is UTC:
                return value.replace(tzinfo=None).isoformat(" ", "microseconds")
            return general(value) if general is not None else value

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """On SQLite the stored text is naive UTC (`2026-11-25 03:21:31.000000`): one
        `fromisoformat` of it with `+00:00` gives the aware value directly, ~7x faster than
        parsing then `replace(tzinfo=UTC)` (the queue reads two per card)."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return general
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if isinstance(value, str) and len(value) in (19, 26) and value[10] == " ":
                try:  # `YYYY-MM-DD HH:MM:SS[.ffffff]`, as written here
                    return parse(value + "+00:00")
                except ValueError:
                    pass  # not our own format: the general path says what it is
            return general(value) if general is not None else value

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def to_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (integer arithmetic, no float)."""
    return (value - _EPOCH) // _MICRO


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(0, 0, value)  # positional: ~2x faster than microseconds=


class UTCMicros(TypeDecorator[datetime]):
    """A UTC datetime stored compactly: on SQLite an INTEGER of microseconds since the Unix
    epoch (8 bytes, beside the 26 of `UTCDateTime`'s text), exact to the microsecond; on other
    databases a `timestamp with time zone` (already 8 bytes). Used by the review log, whose
    million rows each hold four times and index one. Aware values in, aware values out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: flashcore stores only timezone-aware times")
        if dialect.name == "sqlite":
            return to_micros(value)
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, a UTC value becomes its integer in one subtraction and one division (the
        general TypeDecorator path costs several times more: an answer binds four times)."""
        general = super().bind_processor(dialect)
        if dialect.name != "sqlite":
            return general

        def process(value: Any) -> Any:
            if isinstance(value, datetime) and value.tzinfo is UTC:
                return (value - _EPOCH) // _MICRO
            return general(value) if general is not None else value

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """On SQLite, the stored integer becomes an aware datetime with one addition (about twice
        the cost of `UTCDateTime`'s `fromisoformat`, a quarter of the general TypeDecorator
        path: `check` and the export read a million)."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return general
        epoch, delta = _EPOCH, timedelta

        def process(value: Any) -> datetime | None:
            if type(value) is int:
                return epoch + delta(0, 0, value)
            return general(value) if general is not None else value

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return from_micros(value)
        if isinstance(value, str):  # text written by a flashcore before schema 0012
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
        moment: datetime = value  # a driver's datetime (PostgreSQL)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


RETENTION_SCALE = 10_000
RETENTION_BASE = 9_000  # 0.9, the default: stored as 0


def to_retention(value: float) -> float:
    """A desired retention as the review log stores it on SQLite: when the value is a whole
    number n of 1/10,000ths, n - 9000 as a float (0.9 -> 0.0, which SQLite writes in a REAL
    column as the integer 0, in no byte at all; flashcore rounds retentions to 4 decimals), else
    the value itself (8 bytes). A stored whole number is such a difference, except 1.0 (a
    retention of 1 written as it is: 0.9001 is never stored as the difference 1), so a retention
    written as a plain float by SQL that predates this reads back as itself."""
    if not 0.0 < value <= 1.0:
        raise ValueError(f"desired retention {value!r} out of range")
    scaled = round(value * RETENTION_SCALE)
    if scaled / RETENTION_SCALE != value or scaled == RETENTION_BASE + 1:
        return float(value)
    return float(scaled - RETENTION_BASE)


def from_retention(value: float) -> float:
    """The retention `to_retention` stored."""
    if value.is_integer() and value != 1.0:
        return (value + RETENTION_BASE) / RETENTION_SCALE
    return value


# `from_retention` in SQL (SQLite): the same IEEE arithmetic, so the same float.
RETENTION_SQL = (
    "CASE WHEN desired_retention = CAST(desired_retention AS INTEGER) AND desired_retention != 1.0"
    f" THEN (desired_retention + {RETENTION_BASE}.0) / {RETENTION_SCALE}.0"
    " ELSE desired_retention END"
)


class Retention(TypeDecorator[float]):
    """A desired retention stored exactly and compactly: on SQLite `to_retention`'s value in a
    REAL column (no byte for 0.9 where the float takes 8); elsewhere the float. Used by the
    review log (one per answer)."""

    impl = Float
    cache_ok = True

    def process_bind_param(self, value: float | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return to_retention(value)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """On SQLite one test and at most one division (`check` reads a million)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        base, scale = RETENTION_BASE, RETENTION_SCALE

        def process(value: float | None) -> float | None:
            if value is not None and value.is_integer() and value != 1.0:
                return (value + base) / scale
            return value

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> float | None:
        if value is None:
            return None
        return from_retention(value) if dialect.name == "sqlite" else float(value)


class IdList(TypeDecorator[list[int]]):
    """A JSON list of ids where the empty list is stored as NULL (an answer's buried siblings:
    nearly always none; NULL takes no byte, `[]` two)."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def process_bind_param(self, value: list[int] | None, dialect: Dialect) -> Any:
        return list(value) if value else None

    def process_result_value(self, value: Any, dialect: Dialect) -> list[int]:
        return list(value) if value else []


# The review log's packed before-state: step, stability, difficulty, desired retention and
# buried-until of the card before an answer (all None: nothing stored).
Packed = tuple[int | None, float | None, float | None, float | None, datetime | None]


def pack_before(value: Packed) -> str | None:
    """Compact JSON `[step,stability,difficulty,retention,buried_until_micros]` (floats as
    their exact shortest repr), or None when every part is None."""
    step, stability, difficulty, retention, buried = value
    if (step, stability, difficulty, retention, buried) == (None, None, None, None, None):
        return None
    micros = None if buried is None else to_micros(buried)
    return json.dumps([step, stability, difficulty, retention, micros], separators=(",", ":"))


def unpack_before(text: str | None) -> Packed:
    if text is None:
        return (None, None, None, None, None)
    step, stability, difficulty, retention, micros = json.loads(text)
    return (
        step,
        None if stability is None else float(stability),
        None if difficulty is None else float(difficulty),
        None if retention is None else float(retention),
        None if micros is None else from_micros(micros),
    )


class PackedBefore(TypeDecorator[Packed]):
    """The rarely stored part of a review-log row's before-state in one column (`Packed`
    <-> `pack_before`'s text; NULL when all of it is None). Five mostly-NULL columns cost a
    header byte each on every row; one costs one."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Packed | None, dialect: Dialect) -> Any:
        return None if value is None else pack_before(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Packed:
        return unpack_before(value)
