"""`stats` counts per study day in the database; checked against a plain Python reference that
converts every row, across a DST change, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update

from flashcore.core import studyday
from flashcore.core.clock import FixedClock
from flashcore.core.model import CardState
from flashcore.services import Flashcore
from flashcore.services.stats import stats
from flashcore.storage.tables import cards, review_logs
from tests.conftest import write_deck

# 2026-11-01 is the end of daylight saving time in New York: that study day is 25 hours long.
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def _deck(n: int) -> str:
    return "\n".join(
        f'[[cards]]\nid = "n{i}"\nfront = "question {i}"\nback = "answer {i}"\n' for i in range(n)
    )


def test_stats_match_a_row_by_row_reference_across_a_dst_change(db_url, tmp_path):
    fc = Flashcore.open(db_url, clock=FixedClock(NOW), create=True, timezone="UTC")
    try:
        fc.config_set("timezone", "America/New_York")
        fc.add_decks([write_deck(tmp_path / "d.toml", _deck(60), key="st")])
        rng = random.Random(7)
        zone, hour = fc.settings.zone, fc.settings.day_start_hour
        with fc.engine.begin() as conn:
            card_ids = [r[0] for r in conn.execute(cards.select().with_only_columns(cards.c.id))]
            logs = []
            for _ in range(400):  # answers over the last 35 days, some right at 4:00 local
                at = NOW - timedelta(minutes=rng.randrange(0, 35 * 24 * 60))
                if rng.random() < 0.1:
                    day = studyday.study_date(at, zone, hour)
                    at = studyday.day_start_of(day, zone, hour) + timedelta(
                        seconds=rng.choice([-1, 0])
                    )
                # The previous answer: hours or days before; logged with the elapsed study
                # days (schema 0006) or, as older rows, without.
                last = at - timedelta(minutes=rng.choice([5, 300, 1200, 3000, 20000]))
                elapsed = studyday.days_between(last, at, zone, hour)
                logs.append({
                    "profile_id": fc.profile_id, "card_id": rng.choice(card_ids),
                    "reviewed_at": at, "rating": rng.randint(1, 4),
                    "state_before": rng.choice([0, 1, 2, 3]), "duration_ms": rng.choice([None, 4000]),
                    "desired_retention": 0.9, "due_before": at, "lapses_before": 0,
                    "state_after": 2, "stability_after": 1.0, "difficulty_after": 5.0,
                    "due_after": at, "last_review_before": last,
                    "elapsed_days": rng.choice([None, elapsed]), "same_day": elapsed == 0,
                })  # fmt: skip
            for g in logs:
                g["same"] = g.pop("same_day")
            conn.execute(insert(review_logs), [
                {k: v for k, v in g.items() if k != "same"} for g in logs
            ])  # fmt: skip
            dues = {}
            for card_id in card_ids:  # overdue, due within 30 days, or later
                due = NOW + timedelta(hours=rng.randrange(-10 * 24, 40 * 24))
                dues[card_id] = due
                state = rng.choice([CardState.NEW, CardState.REVIEW, CardState.LEARNING])
                conn.execute(
                    update(cards)
                    .where(cards.c.id == card_id)
                    .values(due=due, state=int(state), suspended=rng.random() < 0.1)
                )
        got = stats(fc, queues=False)

        today = studyday.study_date(NOW, zone, hour)
        start_today = studyday.day_start_of(today, zone, hour)
        start_month = studyday.day_start_of(today - timedelta(days=29), zone, hour)
        month = [g for g in logs if g["reviewed_at"] >= start_month]
        per_day = Counter(studyday.study_date(g["reviewed_at"], zone, hour) for g in month)
        assert [d["reviews"] for d in got["last_30_days"]["per_day"]] == [
            per_day[today - timedelta(days=i)] for i in range(29, -1, -1)
        ]
        assert got["last_30_days"]["reviews"] == len(month)
        # True retention: reviews on a later study day than the card's previous answer.
        reviewed = [
            g for g in month if g["state_before"] == int(CardState.REVIEW) and not g["same"]
        ]
        assert len(reviewed) < sum(g["state_before"] == int(CardState.REVIEW) for g in month)
        passed = sum(g["rating"] != 1 for g in reviewed)
        assert got["last_30_days"]["true_retention"] == (
            passed / len(reviewed) if reviewed else None
        )
        todays = [g for g in logs if g["reviewed_at"] >= start_today]
        assert got["today"] == {
            "reviews": len(todays),
            "again": sum(g["rating"] == 1 for g in todays),
            "new": sum(g["state_before"] == 0 for g in todays),
            "minutes": sum(g["duration_ms"] or 0 for g in todays) / 60000,
        }
        with fc.engine.connect() as conn:
            rows = conn.execute(cards.select().where(cards.c.profile_id == fc.profile_id)).all()
        horizon = studyday.day_start_of(today + timedelta(days=30), zone, hour)
        forecast = Counter(
            max(today, studyday.study_date(r.due, zone, hour))
            for r in rows
            if not r.suspended and r.state != int(CardState.NEW) and r.due < horizon
        )
        assert [d["due"] for d in got["forecast"]] == [
            forecast[today + timedelta(days=i)] for i in range(30)
        ]
        assert sum(d["due"] for d in got["forecast"]) > 0 and sum(per_day.values()) > 0
    finally:
        fc.close()
