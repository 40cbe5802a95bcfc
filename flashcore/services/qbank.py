"""Missed-question logs: import (all-or-nothing, deduplicated), list, batches, remove; topic
aliases; and the pull-forward of weak topics' cards into today's queue."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, delete, func, insert, select

from flashcore.core import fsrs_adapter, studyday
from flashcore.core import topics as topic_keys
from flashcore.core import weakness as weakness_model
from flashcore.core.errors import FlashcoreError, NotFoundError
from flashcore.core.model import CardState
from flashcore.services import weakness
from flashcore.services.backup import backup_before_write
from flashcore.storage.models import (
    Card,
    NoteTopic,
    PullForward,
    QbankAttempt,
    QbankBatch,
    Topic,
    TopicAlias,
)
from flashcore.storage.uow import reading, run_write

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from flashcore.services.collection import Flashcore

FRESH_DAYS = weakness_model.FRESH_DAYS
INSERT_CHUNK = 20_000


@dataclass(slots=True)
class ImportReport:
    rows_read: int = 0
    added: int = 0
    duplicates: int = 0
    skipped_invalid: list[str] = field(default_factory=list)
    misses: int = 0
    matched_card: int = 0
    matched_topic: int = 0
    matched_none: int = 0
    unmatched_topics: list[str] = field(default_factory=list)
    unmatched_qids: list[str] = field(default_factory=list)
    pulled_forward: int = 0
    batch_id: int | None = None
    format: str = ""
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "format": self.format,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "added": self.added,
            "duplicates": self.duplicates,
            "skipped_invalid": self.skipped_invalid,
            "misses": self.misses,
            "matched": {
                "card": self.matched_card,
                "topic": self.matched_topic,
                "none": self.matched_none,
            },
            "unmatched_topics": self.unmatched_topics,
            "unmatched_qids": self.unmatched_qids,
            "pulled_forward": self.pulled_forward,
        }


def import_log(
    fc: Flashcore,
    data: bytes,
    *,
    origin: str,
    fmt: str = "auto",
    source: str = "uworld",
    on_date: date | None = None,
    outcome: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    again: bool = False,
) -> ImportReport:
    """Import one log. A file with bad rows changes nothing (QbankFormatError lists them all)
    unless `skip_invalid`; re-importing adds nothing; an identical paste needs `again`."""
    from flashcore.importers.qbank import fingerprint, parse_qbank

    today = weakness.today_for(fc)
    parsed = parse_qbank(
        data,
        path=origin,
        fmt=fmt,
        source=source.strip().lower() or "uworld",
        default_date=on_date or today,
        outcome=outcome,
        skip_invalid=skip_invalid,
    )
    digest = hashlib.sha256(data).hexdigest()
    report = ImportReport(
        rows_read=parsed.rows_read,
        skipped_invalid=[str(p) for p in parsed.skipped],
        format=parsed.format,
        dry_run=dry_run,
    )

    def work(session: Session) -> ImportReport:
        if not again:
            earlier = session.execute(
                select(QbankBatch.id, QbankBatch.imported_at).where(
                    QbankBatch.profile_id == fc.profile_id, QbankBatch.content_hash == digest
                )
            ).first()
            if earlier is not None:
                raise FlashcoreError(
                    f"{origin}: identical to batch {earlier.id} imported "
                    f"{earlier.imported_at:%Y-%m-%d %H:%M} UTC; nothing added "
                    "(use --again to import it anyway)"
                )
        known = set(
            session.execute(
                select(QbankAttempt.fingerprint).where(QbankAttempt.profile_id == fc.profile_id)
            ).scalars()
        )
        fresh = []
        for attempt in parsed.attempts:
            fp = fingerprint(attempt)
            if fp in known:
                report.duplicates += 1
                continue
            known.add(fp)
            fresh.append((fp, attempt))
        report.added = len(fresh)
        index = weakness.load_index(session, fc.profile_id)
        unmatched_topics: Counter[str] = Counter()
        unmatched_qids: list[str] = []
        matches: dict[tuple[str, str, str, str, str], weakness.Match] = {}
        for _fp, a in fresh:
            if a.outcome not in weakness.MISSED:
                continue
            report.misses += 1
            texts = (a.topic, a.category, a.system)
            key = (
                (a.source, a.qid, *texts)
                if (a.source, a.qid) in index.qid_notes
                else ("", "", *texts)
            )
            m = matches.get(key)
            if m is None:
                m = matches[key] = weakness.match_attempt(index, a.source, a.qid, texts)
            if m.kind == "card":
                report.matched_card += 1
            elif m.kind == "topic":
                report.matched_topic += 1
            else:
                report.matched_none += 1
                label = a.topic or a.category or a.system
                if label:
                    unmatched_topics[label] += 1
                unmatched_qids.append(f"{a.source}:{a.qid}")
        report.unmatched_topics = [t for t, _n in unmatched_topics.most_common()]
        report.unmatched_qids = unmatched_qids
        if dry_run:
            return report
        batch_id = session.execute(
            insert(QbankBatch)
            .values(
                profile_id=fc.profile_id,
                source=source,
                format=parsed.format,
                origin=origin,
                content_hash=digest,
                imported_at=fc.now(),
                rows_read=parsed.rows_read,
                added=len(fresh),
            )
            .returning(QbankBatch.id)
        ).scalar_one()
        report.batch_id = int(batch_id)
        rows = [
            {
                "profile_id": fc.profile_id,
                "batch_id": batch_id,
                "source": a.source,
                "qid": a.qid,
                "outcome": a.outcome,
                "on_date": a.on_date,
                "subject": a.subject[:200],
                "system": a.system[:200],
                "category": a.category[:300],
                "topic": a.topic[:500],
                "seconds": a.seconds,
                "fingerprint": fp,
            }
            for fp, a in fresh
        ]
        table: Table = QbankAttempt.__table__  # type: ignore[assignment]
        for start in range(0, len(rows), INSERT_CHUNK):
            session.execute(table.insert(), rows[start : start + INSERT_CHUNK])
        loaded = weakness.refresh_in(session, fc, today)
        report.pulled_forward = pull_forward(session, fc, today, loaded)
        return report

    if not dry_run:
        backup_before_write(fc)  # SQLite: a verified backup before the import writes
    return run_write(fc.engine, work)


def pull_forward(
    session: Session,
    fc: Flashcore,
    today: date,
    loaded: tuple[weakness.TopicIndex, list[weakness.TopicAttempts]] | None = None,
) -> int:
    """Today's pull-forwards, recomputed: for each topic with misses in the last FRESH_DAYS
    days, its not-yet-due review cards with the lowest retrievability join today's queue (at
    most `pull_forward_per_topic` per topic). A queue-level boost: FSRS state is untouched."""
    s = fc.settings
    session.execute(
        delete(PullForward).where(
            PullForward.profile_id == fc.profile_id, PullForward.study_day == today
        )
    )
    per_topic = s.pull_forward_per_topic
    if per_topic <= 0:
        return 0
    if loaded is None:
        index = weakness.load_index(session, fc.profile_id)
        matched = weakness.matched_attempts(session, fc.profile_id, index)
    else:
        index, matched = loaded
    since = today - timedelta(days=FRESH_DAYS)
    fresh_misses: Counter[int] = Counter()
    for a in matched:
        if a.missed and since <= a.on_date <= today:
            fresh_misses[a.topic_id] += a.count
    if not fresh_misses:
        return 0
    now = fc.now()
    rollover = studyday.next_rollover(now, s.zone, s.day_start_hour)
    curve = fsrs_adapter.curve(fc.policy)
    chosen: dict[int, str] = {}
    for topic_id, count in fresh_misses.most_common():
        topic_ids = [topic_id, *_descendants(index, topic_id)]
        rows = session.execute(
            select(Card.id, Card.stability, Card.last_review)
            .join(NoteTopic, NoteTopic.note_id == Card.note_id)
            .where(
                Card.profile_id == fc.profile_id,
                NoteTopic.topic_id.in_(topic_ids),
                Card.state == int(CardState.REVIEW),
                Card.suspended.is_(False),
                Card.due >= rollover,
            )
        ).all()
        ranked = sorted(
            {r.id: r for r in rows}.values(),
            key=lambda r: (curve.retrievability(r.stability or 1.0, r.last_review, now), r.id),
        )
        plural = "miss" if count == 1 else "misses"
        reason = f"pulled forward after {count} {plural} on {index.paths[topic_id]}"
        taken = 0
        for r in ranked:
            if taken >= per_topic:
                break
            if r.id in chosen:
                continue
            chosen[r.id] = reason[:300]
            taken += 1
    if chosen:
        session.execute(
            insert(PullForward),
            [
                {"profile_id": fc.profile_id, "card_id": cid, "study_day": today, "reason": why}
                for cid, why in chosen.items()
            ],
        )
    return len(chosen)


def _descendants(index: weakness.TopicIndex, topic_id: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in index.parent.items():
        if parent is not None:
            children[parent].append(child)
    out, stack = [], list(children.get(topic_id, []))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(children.get(node, []))
    return out


def list_attempts(fc: Flashcore) -> list[dict[str, Any]]:
    with reading(fc.engine) as session:
        index = weakness.load_index(session, fc.profile_id)
        rows = session.execute(
            select(QbankAttempt)
            .where(QbankAttempt.profile_id == fc.profile_id)
            .order_by(QbankAttempt.on_date.desc(), QbankAttempt.id.desc())
        ).scalars()
        out = []
        for a in rows:
            m = weakness.match_attempt(index, a.source, a.qid, (a.topic, a.category, a.system))
            out.append(
                {
                    "source": a.source,
                    "qid": a.qid,
                    "outcome": a.outcome,
                    "date": a.on_date.isoformat(),
                    "subject": a.subject,
                    "system": a.system,
                    "category": a.category,
                    "topic": a.topic,
                    "seconds": a.seconds,
                    "batch_id": a.batch_id,
                    "matched": m.kind,
                }
            )
    return out


def list_batches(fc: Flashcore) -> list[dict[str, Any]]:
    with reading(fc.engine) as session:
        counts = dict(
            session.execute(
                select(QbankAttempt.batch_id, func.count())
                .where(QbankAttempt.profile_id == fc.profile_id)
                .group_by(QbankAttempt.batch_id)
            ).all()
        )
        rows = session.execute(
            select(QbankBatch)
            .where(QbankBatch.profile_id == fc.profile_id)
            .order_by(QbankBatch.id.desc())
        ).scalars()
        return [
            {
                "batch_id": b.id,
                "imported_at": b.imported_at.isoformat(),
                "source": b.source,
                "format": b.format,
                "origin": b.origin,
                "rows_read": b.rows_read,
                "added": b.added,
                "attempts": counts.get(b.id, 0),
            }
            for b in rows
        ]


def remove_batch(fc: Flashcore, batch_id: int) -> int:
    """Undo a mistaken import: its attempts go, weights and today's pull-forwards follow."""
    today = weakness.today_for(fc)

    def work(session: Session) -> int:
        found = session.execute(
            select(QbankBatch.id).where(
                QbankBatch.id == batch_id, QbankBatch.profile_id == fc.profile_id
            )
        ).first()
        if found is None:
            raise NotFoundError(f"no qbank batch {batch_id} (see `flashcore qbank batches`)")
        n = session.execute(
            select(func.count()).where(QbankAttempt.batch_id == batch_id)
        ).scalar_one()
        session.execute(delete(QbankAttempt).where(QbankAttempt.batch_id == batch_id))
        session.execute(delete(QbankBatch).where(QbankBatch.id == batch_id))
        pull_forward(session, fc, today, weakness.refresh_in(session, fc, today))
        return int(n)

    return run_write(fc.engine, work)


def add_alias(fc: Flashcore, alias: str, topic_path: str) -> str:
    """Map qbank topic text to one of the student's topics; weights follow at once."""
    key = topic_keys.text_key(alias)
    if not key:
        raise FlashcoreError("an alias needs some words")
    today = weakness.today_for(fc)

    def work(session: Session) -> str:
        target_key = topic_keys.path_key(topic_path)
        target = session.execute(
            select(Topic.path).where(Topic.profile_id == fc.profile_id, Topic.key == target_key)
        ).scalar()
        if target is None:
            raise NotFoundError(f"no topic {topic_path!r} (see `flashcore topics list`)")
        session.execute(
            delete(TopicAlias).where(
                TopicAlias.profile_id == fc.profile_id, TopicAlias.alias_key == key
            )
        )
        session.execute(
            insert(TopicAlias).values(
                profile_id=fc.profile_id, alias=alias.strip(), alias_key=key, topic_path=target
            )
        )
        pull_forward(session, fc, today, weakness.refresh_in(session, fc, today))
        return str(target)

    return run_write(fc.engine, work)


def list_topics(fc: Flashcore) -> list[dict[str, Any]]:
    with reading(fc.engine) as session:
        index = weakness.load_index(session, fc.profile_id)
        aliases: dict[str, list[str]] = {}
        for alias, path in session.execute(
            select(TopicAlias.alias, TopicAlias.topic_path).where(
                TopicAlias.profile_id == fc.profile_id
            )
        ):
            aliases.setdefault(path, []).append(alias)
        weights = dict(
            session.execute(
                select(Topic.id, Topic.weight).where(Topic.profile_id == fc.profile_id)
            ).all()
        )
        notes_per_topic: Counter[int] = Counter()
        for topic_ids in index.note_topics.values():
            seen: set[int] = set()
            for t in topic_ids:
                seen.update((t, *index.ancestors(t)))
            notes_per_topic.update(seen)
    return [
        {
            "topic": path,
            "notes": notes_per_topic.get(topic_id, 0),
            "weight": weights.get(topic_id, 0.0),
            "aliases": sorted(aliases.get(path, [])),
        }
        for topic_id, path in sorted(index.paths.items(), key=lambda kv: kv[1].lower())
    ]
