"""Weakness weighting: match qbank attempts to cards and topics, score topics, and copy each
topic's weight onto its cards so the queue ranks without joins or GROUP BY."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select, true, update

from flashcore.core import studyday
from flashcore.core import topics as topic_keys
from flashcore.core import weakness as model
from flashcore.storage.tables import (
    cards,
    note_qids,
    note_topics,
    notes,
    profiles,
    qbank_attempts,
    topic_aliases,
    topics,
)
from flashcore.storage.uow import reading, run_write

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from flashcore.services.collection import Flashcore
    from flashcore.storage.repos import Executor

MISSED = ("incorrect", "omitted")


@dataclass(slots=True)
class TopicIndex:
    """Everything needed to match attempts: topics, their match keys, aliases, qid owners."""

    paths: dict[int, str]
    parent: dict[int, int | None]
    by_key: dict[str, int]
    aliases: dict[str, int]
    qid_notes: dict[tuple[str, str], list[int]]
    note_topics: dict[int, list[int]]

    def qid_topics(self, notes_of_qid: list[int]) -> set[int]:
        """The topics of the notes that list a question id (an attempt counts once each)."""
        return {t for n in notes_of_qid for t in self.note_topics.get(n, ())}

    def text_matcher(self) -> Callable[[tuple[str, str, str]], tuple[int, ...]]:
        """(topic, category, system) texts -> the topics they match, remembered per texts."""
        cache: dict[tuple[str, str, str], tuple[int, ...]] = {}

        def topics_of(texts: tuple[str, str, str]) -> tuple[int, ...]:
            found = cache.get(texts)
            if found is None:
                found = cache[texts] = match_attempt(self, "", "", texts).topic_ids
            return found

        return topics_of

    def ancestors(self, topic_id: int) -> list[int]:
        out = []
        current = self.parent.get(topic_id)
        while current is not None:
            out.append(current)
            current = self.parent.get(current)
        return out


def load_index(session: Session, profile_id: int) -> TopicIndex:
    paths: dict[int, str] = {}
    parent: dict[int, int | None] = {}
    by_key: dict[str, int] = {}
    for row in session.execute(
        select(topics.c.id, topics.c.path, topics.c.parent_id).where(
            topics.c.profile_id == profile_id
        )
    ):
        paths[row.id] = row.path
        parent[row.id] = row.parent_id
    # Leaves win over inner nodes when two paths share a key.
    has_child = {p for p in parent.values() if p is not None}
    for topic_id in sorted(paths, key=lambda t: (t not in has_child, t)):
        if parent[topic_id] is None:
            continue  # a whole subject ("Immunology") is too broad to take a question's weight
        for key in topic_keys.match_keys(paths[topic_id]):
            by_key[key] = topic_id
    keys_by_path = {topic_keys.path_key(p): t for t, p in paths.items()}
    aliases: dict[str, int] = {}
    for alias_key, topic_path in session.execute(
        select(topic_aliases.c.alias_key, topic_aliases.c.topic_path).where(
            topic_aliases.c.profile_id == profile_id
        )
    ):
        target = keys_by_path.get(topic_keys.path_key(topic_path))
        if target is not None:
            aliases[alias_key] = target
    # The two big reads use Core columns and plain tuples (no ORM row loading): at 50,000
    # cards the daily refresh spent most of its time there.
    nq, nt, n, tp = note_qids, note_topics, notes, topics
    qid_notes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for source, qid, qid_note in session.execute(
        select(nq.c.source, nq.c.qid, nq.c.note_id)
        .join(n, n.c.id == nq.c.note_id)
        .where(n.c.profile_id == profile_id, n.c.removed.is_(False))
    ).all():
        qid_notes[(source, qid)].append(qid_note)
    topics_of_note: dict[int, list[int]] = defaultdict(list)
    for note_id, linked_topic in session.execute(
        select(nt.c.note_id, nt.c.topic_id)
        .join(tp, tp.c.id == nt.c.topic_id)
        .where(tp.c.profile_id == profile_id)
    ).all():
        topics_of_note[note_id].append(linked_topic)
    return TopicIndex(paths, parent, by_key, aliases, dict(qid_notes), dict(topics_of_note))


@dataclass(frozen=True, slots=True)
class Match:
    kind: str  # "card", "topic" or "none"
    topic_ids: tuple[int, ...]
    note_ids: tuple[int, ...] = ()


def match_attempt(index: TopicIndex, source: str, qid: str, texts: tuple[str, ...]) -> Match:
    """A card that lists the qid; else the attempt's topic/category/system text against topic
    keys (leaf, leaf + parent) and the student's aliases; else nothing."""
    notes = index.qid_notes.get((source, qid))
    if notes:
        topic_ids = sorted({t for n in notes for t in index.note_topics.get(n, [])})
        return Match("card", tuple(topic_ids), tuple(notes))
    for text in texts:
        if not text.strip():
            continue
        key = topic_keys.text_key(text)
        if not key:
            continue
        topic_id = index.aliases.get(key)
        if topic_id is None:
            topic_id = index.by_key.get(key)
        if topic_id is not None:
            return Match("topic", (topic_id,))
    return Match("none", ())


@dataclass(frozen=True, slots=True)
class TopicAttempts:
    """Attempts matched to one topic, grouped by day and outcome (counted in SQL)."""

    topic_id: int
    on_date: date
    missed: bool
    count: int


# An attempt as an import holds it in memory: (source, qid, outcome, ISO day, topic, category,
# system), the texts cut to their stored lengths.
AddedAttempt = tuple[str, str, str, str, str, str, str]


def matched_attempts(
    session: Session,
    profile_id: int,
    index: TopicIndex,
    *,
    skip_batch: int | None = None,
    added: Iterable[AddedAttempt] = (),
) -> list[TopicAttempts]:
    """Every attempt matched to its topics, aggregated in SQL so 100,000 attempts cost a few
    grouped rows: by question id first (a card that lists it), else by topic text.

    An import that has just written batch `skip_batch` passes its rows as `added`: they are
    counted from memory instead of being read back and grouped (a first import of 100,000
    attempts: 0.15 -> ~0.05 s). The result is the same either way: counts summed per (topic,
    day, outcome) in a fixed order."""
    totals: dict[tuple[int, date, bool], int] = defaultdict(int)
    for a in _matched_stored(session, profile_id, index, skip_batch):
        totals[(a.topic_id, a.on_date, a.missed)] += a.count
    for key, count in _matched_added(index, added).items():
        totals[key] += count
    return [TopicAttempts(t, day, m, n) for (t, day, m), n in sorted(totals.items()) if n]


def _matched_added(
    index: TopicIndex, added: Iterable[AddedAttempt]
) -> dict[tuple[int, date, bool], int]:
    by_qid: dict[tuple[str, str, str, bool], int] = defaultdict(int)
    by_text: dict[tuple[str, str, str, str, bool], int] = defaultdict(int)
    qid_notes = index.qid_notes
    for source, qid, outcome, day, topic, category, system in added:
        missed = outcome in MISSED
        if (source, qid) in qid_notes:
            by_qid[(source, qid, day, missed)] += 1
        else:
            by_text[(topic, category, system, day, missed)] += 1
    out: dict[tuple[int, date, bool], int] = defaultdict(int)
    days: dict[str, date] = {}
    for (source, qid, day, missed), count in by_qid.items():
        on_date = days.get(day) or days.setdefault(day, date.fromisoformat(day))
        for topic_id in index.qid_topics(qid_notes[(source, qid)]):
            out[(topic_id, on_date, missed)] += count
    topics_of = index.text_matcher()
    for (topic, category, system, day, missed), count in by_text.items():
        topic_ids = topics_of((topic, category, system))
        if not topic_ids:
            continue
        on_date = days.get(day) or days.setdefault(day, date.fromisoformat(day))
        for topic_id in topic_ids:
            out[(topic_id, on_date, missed)] += count
    return out


def _matched_stored(
    session: Session, profile_id: int, index: TopicIndex, skip_batch: int | None
) -> list[TopicAttempts]:
    from sqlalchemy import distinct, exists

    missed = qbank_attempts.c.outcome.in_(MISSED)
    pairs = sorted(index.qid_notes)  # (source, qid) of questions some card lists
    if len(pairs) <= QID_LIST_MAX:
        return _matched_by_list(session, profile_id, index, pairs, missed, skip_batch)
    stored = true() if skip_batch is None else qbank_attempts.c.batch_id != skip_batch
    by_qid = (
        select(qbank_attempts.c.id.label("aid"), note_topics.c.topic_id.label("tid"))
        .join(
            note_qids,
            and_(
                note_qids.c.source == qbank_attempts.c.source,
                note_qids.c.qid == qbank_attempts.c.qid,
            ),
        )
        .join(notes, and_(notes.c.id == note_qids.c.note_id, notes.c.removed.is_(False)))
        .join(note_topics, note_topics.c.note_id == note_qids.c.note_id)
        .where(qbank_attempts.c.profile_id == profile_id, stored)
        .distinct()
        .subquery()
    )
    out: list[TopicAttempts] = []
    for topic_id, on_date, was_missed, count in session.execute(
        select(
            by_qid.c.tid,
            qbank_attempts.c.on_date,
            missed,
            func.count(distinct(qbank_attempts.c.id)),
        )
        .join(by_qid, by_qid.c.aid == qbank_attempts.c.id)
        .group_by(by_qid.c.tid, qbank_attempts.c.on_date, missed)
    ):
        out.append(TopicAttempts(topic_id, on_date, bool(was_missed), int(count)))
    has_card = exists().where(
        note_qids.c.source == qbank_attempts.c.source,
        note_qids.c.qid == qbank_attempts.c.qid,
        notes.c.id == note_qids.c.note_id,
        notes.c.removed.is_(False),
        notes.c.profile_id == profile_id,
    )
    topics_of = index.text_matcher()
    for topic, category, system, on_date, was_missed, count in session.execute(
        select(
            qbank_attempts.c.topic,
            qbank_attempts.c.category,
            qbank_attempts.c.system,
            qbank_attempts.c.on_date,
            missed,
            func.count(),
        )
        .where(qbank_attempts.c.profile_id == profile_id, stored, ~has_card)
        .group_by(
            qbank_attempts.c.topic, qbank_attempts.c.category, qbank_attempts.c.system,
            qbank_attempts.c.on_date, missed,
        )
    ):  # fmt: skip
        for topic_id in topics_of((topic, category, system)):
            out.append(TopicAttempts(topic_id, on_date, bool(was_missed), int(count)))
    return out


# Up to this many (source, qid) pairs listed by cards, attempts are split by an IN list of their
# ids (one pass over the attempts, no per-attempt lookup); beyond it (an AnKing-sized deck with
# thousands of question ids) by a join.
QID_LIST_MAX = 2000


def _matched_by_list(
    session: Session,
    profile_id: int,
    index: TopicIndex,
    pairs: list[tuple[str, str]],
    missed: Any,
    skip_batch: int | None,
) -> list[TopicAttempts]:
    a = qbank_attempts.c
    # `profile_id + 0`: read the attempts in table order (a whole profile's), not through an
    # index on profile_id (then (profile_id, on_date), now the fingerprint index), which SQLite
    # would otherwise pick (0.21 -> 0.15 s per 100k).
    mine = (a.profile_id + 0) == profile_id
    if skip_batch is not None:
        mine = and_(mine, a.batch_id != skip_batch)
    qids = sorted({qid for _source, qid in pairs})  # one column: SQLite indexes the IN list
    texts_of = (a.topic, a.category, a.system, a.on_date, missed)
    by_qid: dict[tuple[int, Any, bool], int] = defaultdict(int)
    by_text: dict[tuple[str, str, str, Any, bool], int] = defaultdict(int)
    if qids:
        for source, qid, topic, category, system, on_date, was_missed, count in session.execute(
            select(a.source, a.qid, *texts_of, func.count())
            .where(mine, a.qid.in_(qids))
            .group_by(a.source, a.qid, *texts_of)
        ):
            notes_of_qid = index.qid_notes.get((source, qid))
            if notes_of_qid is None:  # the same id from another bank: matched by its text
                by_text[(topic, category, system, on_date, bool(was_missed))] += int(count)
                continue
            for topic_id in index.qid_topics(notes_of_qid):
                by_qid[(topic_id, on_date, bool(was_missed))] += int(count)
    for topic, category, system, on_date, was_missed, count in session.execute(
        select(*texts_of, func.count())
        .where(mine, a.qid.notin_(qids) if qids else true())
        .group_by(*texts_of)
    ):
        by_text[(topic, category, system, on_date, bool(was_missed))] += int(count)
    out = [TopicAttempts(t, day, m, n) for (t, day, m), n in sorted(by_qid.items())]
    topics_of = index.text_matcher()
    for (topic, category, system, on_date, was_missed), count in sorted(by_text.items()):
        for topic_id in topics_of((topic, category, system)):
            out.append(TopicAttempts(topic_id, on_date, was_missed, count))
    return out


def topic_scores(
    index: TopicIndex, matched: list[TopicAttempts], today: date, half_life: float
) -> tuple[dict[int, model.TopicScore], dict[int, model.TopicScore]]:
    """(direct scores, report scores): report scores add descendants' attempts at half weight
    per level."""
    direct: dict[int, list[model.Attempt]] = defaultdict(list)
    report: dict[int, list[model.Attempt]] = defaultdict(list)
    for a in matched:
        attempt = model.Attempt(a.on_date, a.missed, 1.0, a.count)
        direct[a.topic_id].append(attempt)
        report[a.topic_id].append(attempt)
        weight = 1.0
        for ancestor in index.ancestors(a.topic_id):
            weight *= model.PARENT_WEIGHT
            report[ancestor].append(model.Attempt(a.on_date, a.missed, weight, a.count))
    direct_scores = {t: model.score_topic(v, today, half_life) for t, v in direct.items()}
    report_scores = {t: model.score_topic(v, today, half_life) for t, v in report.items()}
    return direct_scores, report_scores


def today_for(fc: Flashcore) -> date:
    s = fc.settings
    return studyday.study_date(fc.now(), s.zone, s.day_start_hour)


def refresh_weights(fc: Flashcore, *, force: bool = True) -> bool:
    """Recompute topic weights and copy them onto cards. Without `force`, only once per study
    day (weights decay daily). Returns whether it ran."""
    today = today_for(fc)

    def work(session: Session) -> bool:
        if not force:
            stamp = session.execute(
                select(profiles.c.weights_day).where(profiles.c.id == fc.profile_id)
            ).scalar()
            if stamp == today:
                return False
        index, _matched = refresh_in(session, fc, today)
        # The day's first queue: misses logged since the last one pull cards forward (pull-
        # forwards follow the misses, not only the import that brought them).
        from flashcore.services import pullforward

        pullforward.recompute(session, fc, today, index=index)
        return True

    return run_write(fc.engine, work)


def refresh_in(
    session: Session,
    fc: Flashcore,
    today: date,
    *,
    skip_batch: int | None = None,
    added: Iterable[AddedAttempt] = (),
) -> tuple[TopicIndex, list[TopicAttempts]]:
    """The weight refresh inside a caller's transaction (an import, an alias, a removal).
    Returns the index and matched attempts it used, for the pull-forward that follows. An
    import passes the batch it just wrote and its rows (see `matched_attempts`)."""
    half_life = fc.settings.weakness_half_life_days
    index = load_index(session, fc.profile_id)
    matched = matched_attempts(session, fc.profile_id, index, skip_batch=skip_batch, added=added)
    direct, _ = topic_scores(index, matched, today, half_life)
    _write_topic_weights(session, fc.profile_id, index, direct, half_life, today)
    _write_card_weights(session, fc.profile_id, index, direct)
    session.execute(
        update(profiles).where(profiles.c.id == fc.profile_id).values(weights_day=today)
    )
    return index, matched


def _write_topic_weights(
    session: Session,
    profile_id: int,
    index: TopicIndex,
    scores: dict[int, model.TopicScore],
    half_life: float,
    today: date,
) -> None:
    current = {
        r.id: (r.weight, r.reason)
        for r in session.execute(
            select(topics.c.id, topics.c.weight, topics.c.reason).where(
                topics.c.profile_id == profile_id
            )
        )
    }
    changes = []
    for topic_id, (old_weight, old_reason) in current.items():
        s = scores.get(topic_id, model.NEUTRAL)
        reason = (
            model.reason_text(index.paths[topic_id], s, half_life, today) if s.score > 0 else ""
        )
        weight = round(s.score, 6)
        if weight != old_weight or reason != old_reason:
            changes.append({"tid": topic_id, "w": weight, "r": reason})
    if changes:
        from sqlalchemy import bindparam

        session.execute(
            update(topics)
            .where(topics.c.id == bindparam("tid"))
            .values(weight=bindparam("w"), reason=bindparam("r")),
            changes,
        )


def _write_card_weights(
    session: Session, profile_id: int, index: TopicIndex, scores: dict[int, model.TopicScore]
) -> None:
    """A card's weight is the highest score among its topics and their ancestors."""
    best_for_topic: dict[int, tuple[float, int | None]] = {}
    for topic_id in index.paths:
        best: tuple[float, int | None] = (0.0, None)
        for t in (topic_id, *index.ancestors(topic_id)):
            s = scores.get(t)
            if s is not None and s.score > best[0]:
                best = (round(s.score, 6), t)
        best_for_topic[topic_id] = best
    changes = []
    none: tuple[float, int | None] = (0.0, None)
    topics_of_note = index.note_topics
    for card_id, note_id, weight, weak_topic_id in session.execute(
        select(cards.c.id, cards.c.note_id, cards.c.weight, cards.c.weak_topic_id).where(
            cards.c.profile_id == profile_id
        )
    ).all():
        best = none
        for t in topics_of_note.get(note_id, ()):
            candidate = best_for_topic.get(t, none)
            if candidate[0] > best[0]:
                best = candidate
        if (weight, weak_topic_id) != best:
            changes.append({"cid": card_id, "w": best[0], "t": best[1]})
    if changes:
        from sqlalchemy import bindparam

        session.execute(
            update(cards)
            .where(cards.c.id == bindparam("cid"))
            .values(weight=bindparam("w"), weak_topic_id=bindparam("t")),
            changes,
        )


def card_reasons(fc: Flashcore, session: Executor, card_ids: list[int]) -> dict[int, str]:
    """Reason text for the given cards that carry a weakness weight."""
    out: dict[int, str] = {}
    for start in range(0, len(card_ids), 900):
        rows = session.execute(
            select(cards.c.id, topics.c.reason)
            .join(topics, topics.c.id == cards.c.weak_topic_id)
            .where(cards.c.id.in_(card_ids[start : start + 900]))
        )
        out.update({r.id: r.reason for r in rows if r.reason})
    return out


def ensure_fresh(fc: Flashcore) -> None:
    """Weights decay with time: recompute once per study day before building a queue (one cheap
    read decides; the refresh, which stamps the day, runs on the first queue of a study day)."""
    with fc.engine.connect() as conn:  # Core: this read sits on the queue's path
        stamp = conn.execute(
            select(profiles.c.weights_day).where(profiles.c.id == fc.profile_id)
        ).scalar()
        conn.rollback()
    if stamp != today_for(fc):
        refresh_weights(fc, force=False)


def report_rows(fc: Flashcore) -> list[dict[str, Any]]:
    """Topics ranked by score, with the numbers `flashcore weakness` shows."""
    today = today_for(fc)
    s = fc.settings
    half_life = s.weakness_half_life_days
    rollover = fc.rollover()
    with reading(fc.engine) as session:
        any_attempt = session.execute(
            select(qbank_attempts.c.id).where(qbank_attempts.c.profile_id == fc.profile_id).limit(1)
        ).first()
        if any_attempt is None:
            return []  # nothing missed yet: no topic is weak
        index = load_index(session, fc.profile_id)
        matched = matched_attempts(session, fc.profile_id, index)
        direct, report = topic_scores(index, matched, today, half_life)
        # Cards (and due cards) of each reported topic, its sub-topics included: counted by the
        # database per linked topic, then added up the tree for the reported ones only.
        shown = {t for t, sc in report.items() if sc.score > 0}
        hits = {t: [n for n in (t, *index.ancestors(t)) if n in shown] for t in index.paths}
        linked = [t for t, nodes in hits.items() if nodes]
        cards_by_topic: dict[int, int] = defaultdict(int)
        due_by_topic: dict[int, int] = defaultdict(int)
        c, nt = cards.c, note_topics.c
        is_due = and_(c.suspended.is_(False), c.state != 0, c.due < rollover)
        for start in range(0, len(linked), 900):
            for topic_id, total, due in session.execute(
                select(nt.topic_id, func.count(), func.sum(case((is_due, 1), else_=0)))
                .join(cards, c.note_id == nt.note_id)
                .where(c.profile_id == fc.profile_id, nt.topic_id.in_(linked[start : start + 900]))
                .group_by(nt.topic_id)
            ).all():
                for node in hits[topic_id]:
                    cards_by_topic[node] += total
                    due_by_topic[node] += due or 0
    # "due" is what `flashcore due --topic T` holds (learning + review: limits applied,
    # pull-forwards in), so the weakness screen and Home agree with the queue.
    from flashcore.services.study import due_by_topic as queue_due

    due_now = queue_due(fc, [index.paths[t] for t, sc in report.items() if sc.score > 0])
    out: list[dict[str, Any]] = []
    for topic_id, score in report.items():
        if score.score <= 0:
            continue
        own = direct.get(topic_id, model.NEUTRAL)
        best_weight = max(
            [own.score] + [direct[a].score for a in index.ancestors(topic_id) if a in direct]
        )
        path = index.paths[topic_id]
        minutes = model.suggested_minutes(score.recent_misses)
        out.append(
            {
                "topic": path,
                "score": round(score.score, 4),
                "misses": score.misses,
                "attempts": score.attempts,
                "recent_misses": score.recent_misses,
                "recent_attempts": score.recent_attempts,
                "cards": cards_by_topic.get(topic_id, 0),
                "due": due_now.get(path, 0),
                "desired_retention": model.retention_for(s, best_weight),
                "suggested_minutes": minutes,
                "reason": _report_reason(path, score, own, half_life, minutes),
            }
        )
    out.sort(key=lambda r: (-r["score"], r["topic"]))
    return out


def _report_reason(
    path: str,
    score: model.TopicScore,
    own: model.TopicScore,
    half_life: float,
    minutes: int,
) -> str:
    days = round(half_life)
    if score.score == 0:
        return "no misses counted"
    via = "" if own.attempts else " (through its sub-topics)"
    text = (
        f"{score.recent_misses} of {score.recent_attempts} recent questions missed "
        f"(last {days} days){via}"
    )
    if minutes:
        text += f"; about {minutes} min of study suggested"
    return text
