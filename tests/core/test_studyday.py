from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flashcore.core import studyday

NY = ZoneInfo("America/New_York")


def test_day_starts_at_four_in_the_profiles_timezone():
    before = datetime(2026, 3, 5, 8, 59, tzinfo=UTC)  # 03:59 in New York
    after = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # 04:00 in New York
    assert studyday.study_date(before, NY, 4) == date(2026, 3, 4)
    assert studyday.study_date(after, NY, 4) == date(2026, 3, 5)
    assert studyday.next_rollover(before, NY, 4) == after


def test_rollover_is_right_across_the_spring_dst_change():
    # DST starts 2026-03-08 at 02:00 local in New York: 4:00 EDT is 08:00 UTC.
    now = datetime(2026, 3, 7, 12, tzinfo=UTC)
    assert studyday.next_rollover(now, NY, 4) == datetime(2026, 3, 8, 8, tzinfo=UTC)
    assert studyday.day_start(now, NY, 4) == datetime(2026, 3, 7, 9, tzinfo=UTC)


def test_rollover_is_right_across_the_autumn_dst_change():
    now = datetime(2026, 10, 31, 12, tzinfo=UTC)  # DST ends 2026-11-01
    assert studyday.next_rollover(now, NY, 4) == datetime(2026, 11, 1, 9, tzinfo=UTC)


def test_a_day_start_hour_of_zero_is_midnight():
    tokyo = ZoneInfo("Asia/Tokyo")
    now = datetime(2026, 5, 1, 14, 59, tzinfo=UTC)  # 23:59 in Tokyo
    assert studyday.study_date(now, tokyo, 0) == date(2026, 5, 1)
    assert studyday.next_rollover(now, tokyo, 0) == datetime(2026, 5, 1, 15, tzinfo=UTC)
