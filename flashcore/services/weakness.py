"""Weakness weighting: match qbank attempts to cards and topics, score topics, and copy each
topic's weight onto its cards so the queue ranks without joins or GROUP BY."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select, true, update

from flashcore.core import studyday
from flashcore.core import topics as topic_keys
from flashcore.core import weakness as model
from flashcore.core.matching import TopicMatcher, own_text
from flashcore.core.text import REASON_CHARS, clip
from flashcore.storage import repos
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

    from flashcore.core.settings import Settings
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

    def matcher(self) -> TopicMatcher:
        """A fresh text matcher over these topics and aliases (it has learned nothing yet)."""
        return TopicMatcher(self.paths, self.parent, self.by_key, self.aliases)

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


def match_attempt(
    index: TopicIndex,
    source: str,
    qid: str,
    texts: tuple[str, str, str],
    matcher: TopicMatcher | None = None,
) -> Match:
    """A card that lists the qid; else the topic its most specific text names (see
    core.matching; pass a `matcher` that has learned from the profile's attempts); else none."""
    notes = index.qid_notes.get((source, qid))
    if notes:
        topic_ids = sorted({t for n in notes for t in index.note_topics.get(n, [])})
        return Match("card", tuple(topic_ids), tuple(notes))
    found = (matcher or index.matcher()).resolve(texts)
    return Match("none", ()) if found is None else Match("topic", (found,))


def learned_matcher(
    session: Session, profile_id: int, index: TopicIndex, more: Iterable[tuple[Texts, int]] = ()
) -> TopicMatcher:
    """A matcher that has learned from every stored attempt's texts, and from `more`."""
    a = qbank_attempts.c
    stored = session.execute(
        select(a.topic, a.category, a.system, func.count())
        .where(a.profile_id == profile_id)
        .group_by(a.topic, a.category, a.system)
    ).all()
    matcher = index.matcher()
    matcher.learn([((t, c, s), int(n)) for t, c, s, n in stored] + list(more))
    return matcher


@dataclass(frozen=True, slots=True)
class TopicAttempts:
    """Attempts matched to one topic, grouped by day and outcome (counted in SQL)."""

    topic_id: int
    on_date: date
    missed: bool
    count: int


@dataclass(slots=True)
class Gap:
    """Misses whose most specific text names no topic (and whose question no card lists)."""

    text: str
    misses: int
    last_miss: date
    context: Counter[str]  # the broader texts of its rows (for the suggestion)


@dataclass(slots=True)
class Matched:
    """Every attempt matched: counts per topic, the answers to questions cards list, gaps."""

    topics: list[TopicAttempts]
    questions: dict[tuple[str, str], set[tuple[date, bool]]]
    gaps: list[Gap]

    def outcomes(self, today: date) -> dict[tuple[str, str], model.QuestionOutcomes]:
        out: dict[tuple[str, str], model.QuestionOutcomes] = {}
        for pair, answers in self.questions.items():
            o = model.QuestionOutcomes()
            for on_date, missed in answers:
                o = o.add(on_date, missed, today)
            out[pair] = o
        return out


# An attempt as an import holds it in memory: (source, qid, outcome, ISO day, topic, category,
# system), the texts cut to their stored lengths.
AddedAttempt = tuple[str, str, str, str, str, str, str]
Texts = tuple[str, str, str]  # (topic, category, system)


@dataclass(slots=True)
class _Tally:
    """Grouped attempts on their way to `Matched`: by question id (topics known) or by text."""

    by_qid: dict[tuple[int, date, bool], int] = field(default_factory=lambda: defaultdict(int))
    by_text: dict[tuple[str, str, str, date, bool], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    questions: dict[tuple[str, str], set[tuple[date, bool]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    texts: Counter[Texts] = field(default_factory=Counter)

    def question(
        self, index: TopicIndex, pair: tuple[str, str], texts: Texts, on_date: date,
        missed: bool, count: int,
    ) -> None:  # fmt: skip
        """Attempts at a question some card lists: they count for its cards' topics."""
        self.questions[pair].add((on_date, missed))
        self.texts[texts] += count
        for topic_id in index.qid_topics(index.qid_notes[pair]):
            self.by_qid[(topic_id, on_date, missed)] += count

    def text(self, texts: Texts, on_date: date, missed: bool, count: int) -> None:
        self.by_text[(*texts, on_date, missed)] += count
        self.texts[texts] += count

    def resolve(self, index: TopicIndex) -> Matched:
        matcher = index.matcher()
        matcher.learn(self.texts.items())
        totals: dict[tuple[int, date, bool], int] = defaultdict(int)
        for counted, count in self.by_qid.items():
            totals[counted] += count
        gaps: dict[str, Gap] = {}
        shown: dict[str, Counter[str]] = defaultdict(Counter)
        for (topic, category, system, on_date, missed), count in self.by_text.items():
            found = matcher.resolve((topic, category, system))
            if found is not None:
                totals[(found, on_date, missed)] += count
                continue
            own = own_text((topic, category, system))
            if not missed or not own:
                continue  # a correct answer is no gap; an id alone has no text to alias
            gap_key = topic_keys.text_key(own)
            shown[gap_key][own] += count
            gap = gaps.get(gap_key)
            if gap is None:
                gap = gaps[gap_key] = Gap(own, 0, on_date, Counter())
            gap.misses += count
            gap.last_miss = max(gap.last_miss, on_date)
            gap.context.update(t.strip() for t in (category, system) if t.strip() and t != own)
        for gap_key, gap in gaps.items():
            forms = shown[gap_key]
            gap.text = min(forms, key=lambda t: (-forms[t], t))
        topics = [TopicAttempts(t, day, m, n) for (t, day, m), n in sorted(totals.items()) if n]
        ordered = sorted(gaps.values(), key=lambda g: (-g.misses, -g.last_miss.toordinal(), g.text))
        return Matched(topics, dict(self.questions), ordered)


def matched_attempts(
    session: Session,
    profile_id: int,
    index: TopicIndex,
    *,
    skip_batch: int | None = None,
    added: Iterable[AddedAttempt] = (),
) -> list[TopicAttempts]:
    """Every attempt matched to its topics (see `match_all`)."""
    return match_all(session, profile_id, index, skip_batch=skip_batch, added=added).topics


def match_all(
    session: Session,
    profile_id: int,
    index: TopicIndex,
    *,
    skip_batch: int | None = None,
    added: Iterable[AddedAttempt] = (),
) -> Matched:
    """Every attempt matched, aggregated in SQL so 100,000 attempts cost a few grouped rows: by
    question id first (a card that lists it), else by its most specific text; with the answers
    to listed questions and the misses that matched nothing (gaps).

    An import that has just written batch `skip_batch` passes its rows as `added`: they are
    counted from memory instead of being read back and grouped (a first import of 100,000
    attempts: 0.15 -> ~0.05 s). The result is the same either way: counts summed per (topic,
    day, outcome) in a fixed order."""
    tally = _Tally()
    _tally_stored(session, profile_id, index, skip_batch, tally)
    _tally_added(index, added, tally)
    return tally.resolve(index)


def _tally_added(index: TopicIndex, added: Iterable[AddedAttempt], tally: _Tally) -> None:
    by_qid: dict[tuple[str, str, str, str, str, str, bool], int] = defaultdict(int)
    by_text: dict[tuple[str, str, str, str, bool], int] = defaultdict(int)
    qid_notes = index.qid_notes
    for source, qid, outcome, day, topic, category, system in added:
        missed = outcome in MISSED
        if (source, qid) in qid_notes:
            by_qid[(source, qid, topic, category, system, day, missed)] += 1
        else:
            by_text[(topic, category, system, day, missed)] += 1
    days: dict[str, date] = {}
    for (source, qid, topic, category, system, day, missed), count in by_qid.items():
        on_date = days.get(day) or days.setdefault(day, date.fromisoformat(day))
        tally.question(index, (source, qid), (topic, category, system), on_date, missed, count)
    for (topic, category, system, day, missed), count in by_text.items():
        on_date = days.get(day) or days.setdefault(day, date.fromisoformat(day))
        tally.text((topic, category, system), on_date, missed, count)


# Up to this many (source, qid) pairs listed by cards, attempts are split by an IN list of their
# ids (one pass over the attempts, no per-attempt lookup); beyond it (an AnKing-sized deck with
# thousands of question ids) by a correlated lookup in note_qids.
QID_LIST_MAX = 2000


def _tally_stored(
    session: Session, profile_id: int, index: TopicIndex, skip_batch: int | None, tally: _Tally
) -> None:
    from sqlalchemy import exists

    a = qbank_attempts.c
    missed = a.outcome.in_(MISSED)
    pairs = sorted(index.qid_notes)  # (source, qid) of questions some card lists
    listed: Any
    unlisted: Any
    if len(pairs) <= QID_LIST_MAX:
        # `profile_id + 0`: read the attempts in table order (a whole profile's), not through
        # an index on profile_id (then (profile_id, on_date), now the fingerprint index),
        # which SQLite would otherwise pick (0.21 -> 0.15 s per 100k).
        mine = (a.profile_id + 0) == profile_id
        qids = sorted({qid for _source, qid in pairs})  # one column: SQLite indexes the IN list
        listed = a.qid.in_(qids) if qids else None
        unlisted = a.qid.notin_(qids) if qids else true()
    else:
        mine = a.profile_id == profile_id
        listed = exists().where(
            note_qids.c.source == a.source,
            note_qids.c.qid == a.qid,
            notes.c.id == note_qids.c.note_id,
            notes.c.removed.is_(False),
            notes.c.profile_id == profile_id,
        )
        unlisted = ~listed
    if skip_batch is not None:
        mine = and_(mine, a.batch_id != skip_batch)
    texts_of = (a.topic, a.category, a.system, a.on_date, missed)
    if listed is not None:
        for source, qid, topic, category, system, on_date, was_missed, count in session.execute(
            select(a.source, a.qid, *texts_of, func.count())
            .where(mine, listed)
            .group_by(a.source, a.qid, *texts_of)
        ):
            texts = (topic, category, system)
            if (source, qid) in index.qid_notes:
                tally.question(index, (source, qid), texts, on_date, bool(was_missed), int(count))
            else:  # the same id from another bank: matched by its text
                tally.text(texts, on_date, bool(was_missed), int(count))
    for topic, category, system, on_date, was_missed, count in session.execute(
        select(*texts_of, func.count()).where(mine, unlisted).group_by(*texts_of)
    ):
        tally.text((topic, category, system), on_date, bool(was_missed), int(count))


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


def scheduling_scores(
    index: TopicIndex, direct: dict[int, model.TopicScore], settings: Settings
) -> dict[int, model.TopicScore]:
    """The direct scores as they schedule: against the student's own average misses per card
    (core.weakness.relative_scores). A topic's cards include its sub-topics'."""
    if not direct:
        return direct
    cards_of: Counter[int] = Counter()
    for linked in index.note_topics.values():
        cards_of.update({node for t in linked for node in (t, *index.ancestors(t))})
    return model.relative_scores(direct, cards_of, len(index.note_topics), settings)


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
    found = match_all(session, fc.profile_id, index, skip_batch=skip_batch, added=added)
    matched = found.topics
    direct, _ = topic_scores(index, matched, today, half_life)
    direct = scheduling_scores(index, direct, fc.settings)
    direct, reasons = _with_assessments(session, fc, index, direct, today)
    _write_topic_weights(session, fc.profile_id, index, direct, half_life, today, reasons)
    missed = _missed_questions(index, found.outcomes(today), today, half_life)
    _write_card_weights(session, fc.profile_id, index, direct, missed)
    session.execute(
        update(profiles).where(profiles.c.id == fc.profile_id).values(weights_day=today)
    )
    return index, matched


def _with_assessments(
    session: Session,
    fc: Flashcore,
    index: TopicIndex,
    scores: dict[int, model.TopicScore],
    today: date,
) -> tuple[dict[int, model.TopicScore], dict[int, str]]:
    """The topic scores with self-assessment reports' weak systems and disciplines added: every
    topic of a reported area takes the area's score where it is higher than its own (see
    core.assessment); and the reasons of the topics that took it."""
    from flashcore.core import assessment as reports
    from flashcore.core.outline import discipline_of, system_of
    from flashcore.storage.planning import list_assessments

    found = list_assessments(session, fc.profile_id)
    if not found:
        return scores, {}
    half_life = fc.settings.weakness_half_life_days
    areas = reports.area_scores(found, today, half_life)
    if not areas:
        return scores, {}
    why: dict[tuple[reports.AreaKind, str], str] = {}
    for a in sorted(found, key=lambda a: (a.taken_on, a.assessment_id)):
        for area in a.areas:
            band = area.band_for(a.pass_line)
            kind = "system" if area.kind is reports.AreaKind.SYSTEM else "discipline"
            why[(area.kind, area.area)] = (
                f"weak {kind}: {area.area} — {band.value} on {a.name} ({a.taken_on.isoformat()})"
            )
    out = dict(scores)
    reasons: dict[int, str] = {}
    for topic_id, path in index.paths.items():
        best = 0.0
        reason = ""
        for key in ((reports.AreaKind.SYSTEM, system_of(path)),
                    (reports.AreaKind.DISCIPLINE, discipline_of(path))):  # fmt: skip
            if key[1] is None:
                continue
            score = areas.get((key[0], key[1]), 0.0)
            if score > best:
                best, reason = score, why[(key[0], key[1])]
        own = out.get(topic_id, model.NEUTRAL)
        if best > own.score:
            from dataclasses import replace

            out[topic_id] = replace(own, score=best)
            reasons[topic_id] = clip(reason, REASON_CHARS)
    return out, reasons


def _write_topic_weights(
    session: Session,
    profile_id: int,
    index: TopicIndex,
    scores: dict[int, model.TopicScore],
    half_life: float,
    today: date,
    reasons: dict[int, str] | None = None,
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
        if reasons and topic_id in reasons:  # weighted by a self-assessment's report
            reason = reasons[topic_id]
        reason = clip(reason, REASON_CHARS)  # the column's length, on every backend
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


def _missed_questions(
    index: TopicIndex,
    outcomes: dict[tuple[str, str], model.QuestionOutcomes],
    today: date,
    half_life: float,
) -> dict[int, float]:
    """The weight each note earns from an open miss of a question it lists (none: absent)."""
    questions: dict[int, list[tuple[str, str, model.QuestionOutcomes]]] = defaultdict(list)
    for (source, qid), o in outcomes.items():
        if model.open_miss(o, today, half_life) is None:
            continue
        for note_id in index.qid_notes.get((source, qid), ()):
            questions[note_id].append((source, qid, o))
    out: dict[int, float] = {}
    for note_id, listed in questions.items():
        miss = model.strongest_miss(listed, today, half_life)
        if miss is not None:
            out[note_id] = model.question_weight(miss.on_date, today, half_life)
    return out


def _write_card_weights(
    session: Session,
    profile_id: int,
    index: TopicIndex,
    scores: dict[int, model.TopicScore],
    missed: dict[int, float] | None = None,
) -> None:
    """A card's weight is the highest score among its topics and their ancestors, or, above
    them all, the weight of an open miss of a question its note lists (`missed`, by note)."""
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
        if missed and note_id in missed:
            best = (missed[note_id], best[1])  # the topic stays for when the miss lapses
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


def question_reasons(fc: Flashcore, session: Executor, card_ids: list[int]) -> dict[int, str]:
    """`missed uworld:118154 on 2026-12-04` for the given cards whose note lists a question
    with an open miss (the one that sets the card's weight)."""
    today = today_for(fc)
    half_life = fc.settings.weakness_half_life_days
    answers = repos.question_answers(session, fc.profile_id, card_ids, MISSED)
    out: dict[int, str] = {}
    for card_id, listed in answers.items():
        questions = []
        for (source, qid), days in listed.items():
            o = model.QuestionOutcomes()
            for on_date, was_missed in days:
                o = o.add(on_date, was_missed, today)
            questions.append((source, qid, o))
        miss = model.strongest_miss(questions, today, half_life)
        if miss is not None:
            out[card_id] = miss.text()
    return out


def card_weakness(fc: Flashcore, session: Executor, weights: dict[int, float]) -> dict[int, str]:
    """Why each weighted card (id -> weight) is weighted: the missed question it lists
    (`missed uworld:118154 on 2026-12-04`), else its weak topic's reason."""
    weighted = [card_id for card_id, weight in weights.items() if weight > 0]
    if not weighted:
        return {}
    out = card_reasons(fc, session, weighted)
    missed = [card_id for card_id in weighted if weights[card_id] >= model.MISSED_QUESTION]
    if missed:
        out.update(question_reasons(fc, session, missed))
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
    from flashcore.services.exam import follow_plan  # (imports this module)

    follow_plan(fc)  # plan_mode auto: today's new cards a day, once a study day


def report_rows(fc: Flashcore) -> list[dict[str, Any]]:
    """The `topics` of `report`: leaf topics ranked by score, then the system and subject
    rollups (each row's `level` says which)."""
    return report(fc)["topics"]


def report(fc: Flashcore) -> dict[str, list[dict[str, Any]]]:
    """What `flashcore weakness --json` prints: `topics` (ranked leaves, then rollups) and
    `gaps` (misses that matched no card or topic, each with the alias to run)."""
    today = today_for(fc)
    s = fc.settings
    half_life = s.weakness_half_life_days
    rollover = fc.rollover()
    with reading(fc.engine) as session:
        any_attempt = session.execute(
            select(qbank_attempts.c.id).where(qbank_attempts.c.profile_id == fc.profile_id).limit(1)
        ).first()
        if any_attempt is None:
            return {"topics": [], "gaps": []}  # nothing missed yet: no topic is weak
        index = load_index(session, fc.profile_id)
        found = match_all(session, fc.profile_id, index)
        direct, scored = topic_scores(index, found.topics, today, half_life)
        direct = scheduling_scores(index, direct, s)
        # Cards (and due cards) of each reported topic, its sub-topics included: counted by the
        # database per linked topic, then added up the tree for the reported ones only.
        shown = {t for t, sc in scored.items() if sc.score > 0}
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

    due_now = queue_due(fc, [index.paths[t] for t, sc in scored.items() if sc.score > 0])
    has_child = {p for p in index.parent.values() if p is not None}
    out: list[dict[str, Any]] = []
    for topic_id, score in scored.items():
        if score.score <= 0:
            continue
        own = direct.get(topic_id, model.NEUTRAL)
        best_weight = max(
            [own.score] + [direct[a].score for a in index.ancestors(topic_id) if a in direct]
        )
        path = index.paths[topic_id]
        level = model.topic_level(len(index.ancestors(topic_id)) + 1, topic_id in has_child)
        # A rollup's study time is its topics' (shown on their rows), so it suggests only
        # what was matched to it directly: the minutes of all rows add up once.
        minutes = model.suggested_minutes(
            score.recent_misses if level == "topic" else own.recent_misses
        )
        out.append(
            {
                "topic": path,
                "level": level,
                "score": round(score.score, 4),
                "misses": score.misses,
                "attempts": score.attempts,
                "recent_misses": score.recent_misses,
                "recent_attempts": score.recent_attempts,
                "cards": cards_by_topic.get(topic_id, 0),
                "due": due_now.get(path, 0),
                "desired_retention": model.retention_for(s, best_weight),
                # recent misses per card against the student's average (what schedules; None
                # for a rollup without misses matched to it directly)
                "vs_average": None if own.ratio is None else round(own.ratio, 2),
                "suggested_minutes": minutes,
                "reason": model.report_reason(score, half_life, minutes, level),
            }
        )
    rank = {"topic": 0, "system": 1, "subject": 2}
    out.sort(key=lambda r: (rank[r["level"]], -r["score"], r["topic"]))
    return {"topics": out, "gaps": _gap_rows(fc, index, found.gaps)}


def _gap_rows(fc: Flashcore, index: TopicIndex, gaps: list[Gap]) -> list[dict[str, Any]]:
    """Each gap with the closest topic and the exact command that maps its text there."""
    import shlex

    matcher = index.matcher()
    profile = "" if fc.profile == "default" else f" --profile {shlex.quote(fc.profile)}"
    out = []
    for gap in gaps:
        closest = matcher.closest(gap.text, gap.context)
        suggestion = None
        if closest is not None:
            path = index.paths[closest]
            command = f"flashcore{profile} topics alias {shlex.quote(gap.text)} {shlex.quote(path)}"
            suggestion = {"topic": path, "command": command}
        out.append(
            {
                "text": gap.text,
                "misses": gap.misses,
                "last_miss": gap.last_miss.isoformat(),
                "suggestion": suggestion,
            }
        )
    return out
