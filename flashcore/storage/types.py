"""Column types: UTC datetimes that always come back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime
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
