"""The weakness report read with the SQLite driver alone (`storage.light_read`), for a one-shot
`flashcore weakness`: when a large history's topic scores are kept for today (schema 0026:
the weight refresh after an import keeps them, and so does a report) the report is a few
reads, and SQLAlchemy's import was most of the command (~0.8 of ~1.9 G instructions).

It is the report `services.weakness.report` makes, from the same rows through the same code
(`services.weakness_parts`, `services.scored`, `services.kept_scores`), taken only where that
report would write nothing and its caller nothing either: a SQLite file at the schema head in
WAL mode, an existing profile whose stored settings load without a warning and do not follow
an exam plan, the kept sums in sync, the topic index kept and current, today's kept scores,
the weights refreshed today. Answers in the lapses' window are read as the full path reads
them: a chained answer whose previous one is before the window reads that one, and the answers
a first Anki import kept narrow count as `storage.answer_rows` shows them
(`storage.light_imported`). Anything else is `None`: the caller takes the full path."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flashcore.core import studyday
from flashcore.core.matching import TopicMatcher
from flashcore.core.settings import Settings, load_stored
from flashcore.services import kept_scores, scored
from flashcore.services.scored import Scored, scheduling_scores
from flashcore.services.topic_index import TopicIndex, index_of
from flashcore.services.weakness_parts import (
    cards_below,
    due_counts,
    gap_rows,
    lapses_of,
    lapses_since,
    leech_rows,
    leech_topics,
    shares_of,
    shares_since,
    shown_paths,
    topic_rows,
)
from flashcore.storage import background
from flashcore.storage.light_read import LightReader, NotLight, light_file

__all__ = ["NotLight", "database_file", "report", "schedule_backup"]

Report = dict[str, list[dict[str, Any]]]


def database_file(given: str | None) -> Path | None:
    """The SQLite file `--db`/FLASHCORE_DB names, when certain without SQLAlchemy (else None)."""
    return light_file(given)


def report(path: Path, profile: str, now: datetime) -> Report | None:
    """`weakness.report` of `profile` in the SQLite file `path` at `now`, read driver-only; None
    where it cannot be made so (take the full path)."""
    try:
        reader = LightReader(path)
    except (NotLight, sqlite3.Error, ValueError):
        return None
    try:
        return _report(reader, profile, now)
    except (NotLight, sqlite3.Error, ValueError):
        return None
    finally:
        reader.close()


def schedule_backup(path: Path, now: datetime) -> None:
    """`services.backup.schedule_backup` of the file: the automatic backup started in the
    background if one may be due (file times only; the background process decides)."""
    background.start_snapshot(path, now, "automatic", if_due=True)


def _report(reader: LightReader, name: str, now: datetime) -> Report:
    profile_id, raw, weights_day = reader.profile(name)
    settings, warnings = load_stored(raw)
    if warnings:
        raise NotLight("stored settings out of range")  # the full path names them
    if settings.plan_mode == "auto":
        raise NotLight("the plan may set today's new cards")  # exam.follow_plan writes
    today = studyday.study_date(now, settings.zone, settings.day_start_hour)
    half_life = settings.weakness_half_life_days
    if reader.tallied_attempts(profile_id) < scored.SUM_IN_DATABASE_FROM:
        raise NotLight("a small history: its scores are not kept")
    if reader.sums_need_sync(profile_id, today, half_life):
        raise NotLight("the kept sums want a sync")  # weakness.keep_sums writes
    index = index_of(reader.kept_index(profile_id))
    if not reader.has_qbank_attempts(profile_id):
        raise NotLight("no attempt shown")
    found = _kept_scores(reader, profile_id, index, today, half_life)
    since = lapses_since(today, settings)
    lapses = _lapses(reader, profile_id, index, today, settings, since)
    groups = reader.missed_shares(profile_id, shares_since(today, half_life))
    known = _shares(reader, profile_id, index, groups, today, half_life) if groups else {}
    direct = scheduling_scores(index, found.direct, settings, lapses, (), None, known)
    scores = found.report
    cards = cards_below(index, scores, lambda linked: reader.cards_per_topic(profile_id, linked))
    wanted = list(dict.fromkeys(shown_paths(index, scores)))
    due_now: dict[str, int] = {}
    if wanted:  # counts.due_by_topic, after its `ensure_fresh`
        if weights_day != today:
            raise NotLight("the day's first refresh of the weights is due")
        due_now = _due(reader, profile_id, wanted, settings, now, today)
    out = topic_rows(index, scores, direct, cards, due_now, settings)
    closest = kept_scores.closest_topics(found, index)
    weakest = leech_topics(index, out)
    leeches = reader.leech_cards(weakest) if weakest else []
    return {
        "topics": out,
        "gaps": gap_rows(name, index, found.gaps, closest),
        "leeches": leech_rows(name, index, weakest, leeches),
    }


def _kept_scores(
    reader: LightReader, profile_id: int, index: TopicIndex, today: date, half_life: float
) -> Scored:
    """`kept_scores.report_scores` when the kept ones are today's (else NotLight)."""
    digest = index.digest()
    if digest is None or not reader.can_decay():
        raise NotLight("no scores are kept")
    stamp = kept_scores.stamp_of(today, half_life, digest, reader.qbank_stamp(profile_id))
    payload = reader.kept_scores(profile_id, stamp)
    if payload is None:
        raise NotLight("the kept scores are not today's")  # the full path makes and keeps them
    return kept_scores.decoded(payload)


def _lapses(
    reader: LightReader,
    profile_id: int,
    index: TopicIndex,
    today: date,
    settings: Settings,
    since: datetime,
) -> dict[int, Any]:
    """`forgetting.topic_lapses`: fsrs's curve (the scheduler's parameters alone: an exam's
    window does not enter it) is loaded only when some answer was given in the window."""
    outcomes = reader.review_outcomes(profile_id, since)
    if not outcomes:
        return {}
    from flashcore.core import fsrs_adapter

    topics_of = index.note_topics
    if not index.every_note:
        topics_of = reader.topics_of_notes([o.note_id for o in outcomes])
    curve = fsrs_adapter.curve(fsrs_adapter.Policy.from_settings(settings))
    return lapses_of(outcomes, topics_of, today, settings, curve)


def _shares(
    reader: LightReader,
    profile_id: int,
    index: TopicIndex,
    groups: list[Any],
    today: date,
    half_life: float,
) -> dict[int, Any]:
    """`difficulty.topic_shares`: a text no listed question covers is resolved by a matcher
    that has learned every stored attempt's texts (`matching.learned_matcher`), built once."""
    matcher: list[TopicMatcher] = []

    def resolve(text: tuple[str, str, str]) -> int | None:
        if not matcher:
            learned = index.matcher()
            learned.learn(reader.text_tallies(profile_id))
            matcher.append(learned)
        return matcher[0].resolve(text)

    return shares_of(groups, index, today, half_life, resolve)


def _due(
    reader: LightReader,
    profile_id: int,
    wanted: list[str],
    s: Settings,
    now: datetime,
    day: date,
) -> dict[str, int]:
    """`counts.due_by_topic`'s reads and counts."""
    zone, hour = s.zone, s.day_start_hour
    day_start = studyday.day_start_of(day, zone, hour)
    rollover = studyday.day_start_of(day + timedelta(days=1), zone, hour)
    ahead = timedelta(minutes=s.learn_ahead_minutes)
    pulled = reader.pulled_forward(profile_id, day)
    rows = reader.due_rows(profile_id, now, max(rollover, now + ahead))
    have = {r[0] for r in rows}
    extra = [cid for cid in pulled if cid not in have]
    if extra:
        rows += reader.pulled_rows(profile_id, now, extra, day_start)
    done = reader.review_counts_since(profile_id, day_start)
    topics_of_note = reader.topic_keys_of_notes(sorted({r[1] for r in rows}))
    return due_counts(wanted, rows, pulled, done, topics_of_note, s, now, day_start, rollover)
