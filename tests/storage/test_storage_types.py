"""UTC datetimes: stored as UTC, returned timezone-aware on both backends, naive refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from flashcore.storage.models import Card, Profile
from flashcore.storage.types import UTCDateTime


def test_a_stored_time_comes_back_aware_in_utc(fc):
    at = datetime(2026, 7, 1, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    with Session(fc.engine) as session:
        session.add(Profile(name="tz-test", settings={}, created_at=at))
        session.commit()
    with Session(fc.engine) as session:
        back = session.execute(select(Profile.created_at).where(Profile.name == "tz-test")).scalar()
    assert back == at
    assert back.tzinfo is UTC  # fsrs accepts only datetime.timezone.utc
    assert back == datetime(2026, 7, 1, 5, 0, 15, 123456, tzinfo=UTC)


def test_a_zoneinfo_time_is_stored_as_the_same_instant(fc):
    at = datetime(2026, 3, 8, 1, 59, tzinfo=ZoneInfo("America/New_York"))
    with Session(fc.engine) as session:
        session.add(Profile(name="ny", settings={}, created_at=at))
        session.commit()
    with Session(fc.engine) as session:
        back = session.execute(select(Profile.created_at).where(Profile.name == "ny")).scalar()
    assert back == at
    assert back.tzinfo is UTC


def test_a_naive_time_is_refused(fc):
    with Session(fc.engine) as session:
        session.add(Profile(name="naive", settings={}, created_at=datetime(2026, 1, 1, 12)))
        with pytest.raises(StatementError, match="naive"):
            session.commit()


def test_a_naive_time_is_refused_in_a_where_clause(fc):
    with Session(fc.engine) as session, pytest.raises(StatementError, match="naive"):
        session.execute(select(Card.id).where(Card.due < datetime(2026, 1, 1))).all()


def test_times_are_compared_as_instants_in_queries(loaded_fc):
    # every card was created with due = the clock's now (09:00Z); 10:00+01:00 is the same instant
    same = datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    with Session(loaded_fc.engine) as session:
        at = session.execute(select(Card.id).where(Card.due == same)).scalars().all()
        before = session.execute(select(Card.id).where(Card.due < same)).scalars().all()
    assert len(at) == 4
    assert before == []


def test_sqlite_stores_the_utc_wall_time(fc_sqlite):
    at = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=-4)))
    with Session(fc_sqlite.engine) as session:
        session.add(Profile(name="raw", settings={}, created_at=at))
        session.commit()
    with fc_sqlite.engine.connect() as conn:
        raw = conn.execute(text("SELECT created_at FROM profiles WHERE name = 'raw'")).scalar()
    assert str(raw).startswith("2026-07-01 16:00:00")


def test_postgres_columns_are_timestamp_with_time_zone(pg_url, clock):
    from flashcore.services import Flashcore

    with Flashcore.open(pg_url, clock=clock, create=True) as fc, fc.engine.connect() as conn:
        types = set(
            conn.execute(
                text(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_schema = current_schema() "
                    "AND column_name IN ('due', 'created_at', 'reviewed_at', 'last_review')"
                )
            ).scalars()
        )
    assert types == {"timestamp with time zone"}


def test_the_type_itself_refuses_naive_and_converts_aware_values():
    column = UTCDateTime()

    class Dialect:
        name = "postgresql"

    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 1, 1), Dialect())
    bound = column.process_bind_param(
        datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=2))), Dialect()
    )
    assert bound == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert column.process_result_value(None, Dialect()) is None
    assert column.process_result_value(datetime(2026, 1, 1), Dialect()).tzinfo is UTC


def test_sqlite_fast_reading_agrees_with_the_general_path():
    # The SQLite result processor parses our own text format in one call; anything else goes
    # through SQLAlchemy's parser. Both give the same aware UTC instant.
    import random

    from sqlalchemy.dialects import sqlite
    from sqlalchemy.types import TypeDecorator

    dialect = sqlite.dialect()
    kind = UTCDateTime().dialect_impl(dialect)
    fast = kind.result_processor(dialect, None)
    general = TypeDecorator.result_processor(kind, dialect, None)
    rng = random.Random(3)
    texts = ["2026-11-25 03:21:31", "2026-11-25", "2026-11-25 03:21:31.5", None]
    for _ in range(500):
        instant = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(0, 40 * 365 * 86400), microseconds=rng.randrange(0, 10**6)
        )
        texts.append(kind.bind_processor(dialect)(instant))  # what flashcore writes
    for value in texts:
        got, want = fast(value), general(value)
        assert got == want and (got is None or got.tzinfo is UTC), value


def test_sqlite_binds_utc_times_as_the_general_path_writes_them():
    # The fast path (one isoformat) must write exactly the text SQLAlchemy's SQLite DATETIME
    # writes, or stored times would stop sorting and comparing as one format.
    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    general = DateTime().dialect_impl(dialect).bind_processor(dialect)
    for at in (
        datetime(2026, 11, 25, 3, 21, 31, tzinfo=UTC),
        datetime(2026, 11, 25, 3, 21, 31, 7, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 8, 1, 59, tzinfo=ZoneInfo("America/New_York")),
        datetime(2026, 7, 1, 10, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ):
        assert fast(at) == general(at.astimezone(UTC).replace(tzinfo=None))
    assert fast(None) is None
    with pytest.raises(ValueError, match="naive"):
        fast(datetime(2026, 1, 1))
