"""`flashcore stats`: today, the last 30 days, true retention, cards by state, a 30-day forecast."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from flashcore.core import studyday
from flashcore.core.model import CardState
from flashcore.storage.models import Card, ReviewLog
from flashcore.storage.uow import reading

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore


def stats(fc: Flashcore) -> dict[str, Any]:
    s = fc.settings
    now = fc.now()
    zone, hour = s.zone, s.day_start_hour
    today = studyday.study_date(now, zone, hour)
    start_today = studyday.day_start_of(today, zone, hour)
    start_month = studyday.day_start_of(today - timedelta(days=29), zone, hour)
    with reading(fc.engine) as session:
        logs = session.execute(
            select(ReviewLog.reviewed_at, ReviewLog.rating, ReviewLog.state_before,
                   ReviewLog.duration_ms)
            .where(ReviewLog.profile_id == fc.profile_id, ReviewLog.reviewed_at >= start_month)
        ).all()  # fmt: skip
        by_state = dict(
            session.execute(
                select(Card.state, func.count())
                .where(Card.profile_id == fc.profile_id)
                .group_by(Card.state)
            ).all()
        )
        suspended = session.execute(
            select(func.count()).where(Card.profile_id == fc.profile_id, Card.suspended.is_(True))
        ).scalar_one()
        horizon = studyday.day_start_of(today + timedelta(days=30), zone, hour)
        upcoming = session.execute(
            select(Card.due).where(
                Card.profile_id == fc.profile_id,
                Card.suspended.is_(False),
                Card.state != int(CardState.NEW),
                Card.due < horizon,
            )
        ).all()
    per_day: Counter[str] = Counter()
    t = {"reviews": 0, "again": 0, "new": 0, "minutes": 0.0}
    passed = failed = 0
    for log in logs:
        day = studyday.study_date(log.reviewed_at, zone, hour)
        per_day[day.isoformat()] += 1
        if log.reviewed_at >= start_today:
            t["reviews"] += 1
            t["again"] += log.rating == 1
            t["new"] += log.state_before == int(CardState.NEW)
            t["minutes"] += (log.duration_ms or 0) / 60000
        if log.state_before == int(CardState.REVIEW):
            if log.rating == 1:
                failed += 1
            else:
                passed += 1
    forecast: Counter[str] = Counter()
    for (due,) in upcoming:
        day = max(today, studyday.study_date(due, zone, hour))
        forecast[day.isoformat()] += 1
    days = [(today - timedelta(days=i)).isoformat() for i in range(29, -1, -1)]
    ahead = [(today + timedelta(days=i)).isoformat() for i in range(30)]
    return {
        "today": t,
        "last_30_days": {
            "reviews": len(logs),
            "true_retention": (passed / (passed + failed)) if passed + failed else None,
            "per_day": [{"date": d, "reviews": per_day.get(d, 0)} for d in days],
        },
        "cards": {
            "new": by_state.get(int(CardState.NEW), 0),
            "learning": by_state.get(int(CardState.LEARNING), 0),
            "review": by_state.get(int(CardState.REVIEW), 0),
            "relearning": by_state.get(int(CardState.RELEARNING), 0),
            "suspended": suspended,
        },
        "forecast": [{"date": d, "due": forecast.get(d, 0)} for d in ahead],
    }
