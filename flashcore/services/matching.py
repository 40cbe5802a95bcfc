"""Matching question-bank attempts to cards and topics, and scoring topics from them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flashcore.core import topics as topic_keys
from flashcore.core import weakness as model
from flashcore.core.matching import TopicMatcher, own_text
from flashcore.services.scored import SUM_IN_DATABASE_FROM as SUM_IN_DATABASE_FROM
from flashcore.services.scored import Gap as Gap
from flashcore.services.scored import Scored as Scored
from flashcore.services.scored import scheduling_scores as scheduling_scores
from flashcore.services.topic_index import TopicIndex as TopicIndex
from flashcore.services.topic_index import load_index as load_index
from flashcore.storage.repos import attempts as attempts_repo

T = TypeVar("T")

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


MISSED = attempts_repo.MISSED


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
    session: Executor, profile_id: int, index: TopicIndex, more: Iterable[tuple[Texts, int]] = ()
) -> TopicMatcher:
    """A matcher that has learned from every stored attempt's texts (their tallies, kept by
    the imports: no attempt is read), and from `more`."""
    from flashcore.storage.repos import text_tallies

    stored = [(t.texts, t.attempts) for t in text_tallies(session, profile_id)]
    matcher = index.matcher()
    matcher.learn(stored + list(more))
    return matcher


@dataclass(frozen=True, slots=True)
class TopicAttempts:
    """Attempts matched to one topic, grouped by day and outcome (counted in SQL)."""

    topic_id: int
    on_date: date
    missed: bool
    count: int


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
    session: Executor,
    profile_id: int,
    index: TopicIndex,
    *,
    skip_batch: int | None = None,
    added: Iterable[AddedAttempt] = (),
) -> list[TopicAttempts]:
    """Every attempt matched to its topics (see `match_all`)."""
    return match_all(session, profile_id, index, skip_batch=skip_batch, added=added).topics


def match_all(
    session: Executor,
    profile_id: int,
    index: TopicIndex,
    *,
    skip_batch: int | None = None,
    added: Iterable[AddedAttempt] = (),
    added_groups: AddedGroups | None = None,
) -> Matched:
    """Every attempt matched, aggregated in SQL so 100,000 attempts cost a few grouped rows: by
    question id first (a card that lists it), else by its most specific text; with the answers
    to listed questions and the misses that matched nothing (gaps).

    An import that has just written batch `skip_batch` passes its rows as `added`: they are
    counted from memory instead of being read back and grouped (a first import of 100,000
    attempts: 0.15 -> ~0.05 s). The result is the same either way: counts summed per (topic,
    day, outcome) in a fixed order. `added_groups`: the rows grouped already by
    `group_added` with this index's question ids (in the pauses of the import's copy)."""
    tally = _Tally()
    _tally_stored(session, profile_id, index, skip_batch, tally)
    if added_groups is None:
        added_groups = finished(group_added(index.qid_notes, added, None))
    _tally_added(index, added_groups, tally)
    return tally.resolve(index)


# An import's rows counted per listed question, texts, day and miss, and per texts, day and
# miss for the others (`group_added`), each in the order it first came.
AddedGroups = tuple[
    dict[tuple[str, str, str, str, str, str, bool], int], dict[tuple[str, str, str, str, bool], int]
]


def group_added(
    qid_notes: Mapping[tuple[str, str], Any], added: Iterable[AddedAttempt], rows: int | None
) -> Generator[None, None, AddedGroups]:
    """`added` grouped as `match_all` counts it (by question when `qid_notes` has its
    source and id), yielding after each `rows` rows (None: all at once, no yield)."""
    by_qid: dict[tuple[str, str, str, str, str, str, bool], int] = defaultdict(int)
    by_text: dict[tuple[str, str, str, str, bool], int] = defaultdict(int)
    rows_left = iter(added)
    while part := list(islice(rows_left, rows)):
        for source, qid, outcome, day, topic, category, system in part:
            missed = outcome in MISSED
            if (source, qid) in qid_notes:
                by_qid[(source, qid, topic, category, system, day, missed)] += 1
            else:
                by_text[(topic, category, system, day, missed)] += 1
        if rows is not None:
            yield
    return by_qid, by_text


def finished(slices: Generator[None, None, T]) -> T:
    """What a generator of slices returns, every slice run."""
    while True:
        try:
            next(slices)
        except StopIteration as done:
            return cast("T", done.value)


def _tally_added(index: TopicIndex, groups: AddedGroups, tally: _Tally) -> None:
    by_qid, by_text = groups
    days: dict[str, date] = {}
    for (source, qid, topic, category, system, day, missed), count in by_qid.items():
        on_date = days.get(day) or days.setdefault(day, date.fromisoformat(day))
        tally.question(index, (source, qid), (topic, category, system), on_date, missed, count)
    for (topic, category, system, day, missed), count in by_text.items():
        on_date = days.get(day) or days.setdefault(day, date.fromisoformat(day))
        tally.text((topic, category, system), on_date, missed, count)


# How many listed (source, qid) pairs an IN list takes (see storage.repos.attempts).
QID_LIST_MAX = attempts_repo.QID_LIST_MAX


def _tally_stored(
    session: Executor, profile_id: int, index: TopicIndex, skip_batch: int | None, tally: _Tally
) -> None:
    by_qid, by_text = attempts_repo.grouped_attempts(
        session, profile_id, sorted(index.qid_notes), skip_batch, list_max=QID_LIST_MAX
    )
    for source, qid, topic, category, system, on_date, was_missed, count in by_qid:
        texts = (topic, category, system)
        if (source, qid) in index.qid_notes:
            tally.question(index, (source, qid), texts, on_date, was_missed, count)
        else:  # the same id from another bank: matched by its text
            tally.text(texts, on_date, was_missed, count)
    for topic, category, system, on_date, was_missed, count in by_text:
        tally.text((topic, category, system), on_date, was_missed, count)


def topic_scores(
    index: TopicIndex, matched: list[TopicAttempts], today: date, half_life: float
) -> tuple[dict[int, model.TopicScore], dict[int, model.TopicScore]]:
    """(direct scores, report scores): report scores add descendants' attempts at half weight
    per level. Attempts on the same day with the same outcome and weight are counted together
    (a system's thousands of sub-topic rows become one per day)."""
    direct: dict[int, list[model.Attempt]] = defaultdict(list)
    counted: dict[tuple[int, date, bool, int], int] = defaultdict(int)  # level 0: the topic's own
    lines: dict[int, list[int]] = {}
    for a in matched:
        direct[a.topic_id].append(model.Attempt(a.on_date, a.missed, 1.0, a.count))
        line = lines.get(a.topic_id)
        if line is None:
            line = lines[a.topic_id] = [a.topic_id, *index.ancestors(a.topic_id)]
        for level, node in enumerate(line):
            counted[(node, a.on_date, a.missed, level)] += a.count
    report: dict[int, list[model.Attempt]] = defaultdict(list)
    for (node, on_date, missed, level), count in counted.items():
        report[node].append(model.Attempt(on_date, missed, model.PARENT_WEIGHT**level, count))
    direct_scores = {t: model.score_topic(v, today, half_life) for t, v in direct.items()}
    report_scores = {t: model.score_topic(v, today, half_life) for t, v in report.items()}
    return direct_scores, report_scores


# SUM_IN_DATABASE_FROM: see services.scored (read here at call time: tests lower it here).


def score_all(
    session: Executor,
    profile_id: int,
    index: TopicIndex,
    today: date,
    half_life: float,
    *,
    skip_batch: int | None = None,
    added: Iterable[AddedAttempt] = (),
    added_groups: AddedGroups | None = None,
    questions: bool = True,
) -> Scored:
    """`match_all` and `topic_scores` in one, on `today`; a large history summed by the
    database (see SUM_IN_DATABASE_FROM), where `skip_batch` and `added` are not needed: the
    attempts an import just wrote are read with the others. Without `questions` (a report:
    no card's weight), `outcomes` is left empty."""
    from flashcore.storage import repos

    large = repos.tallied_attempts(session, profile_id) >= SUM_IN_DATABASE_FROM
    if large and repos.can_decay(session):
        return _summed(session, profile_id, index, today, half_life, questions)
    found = match_all(
        session, profile_id, index, skip_batch=skip_batch, added=added, added_groups=added_groups
    )
    direct, report = topic_scores(index, found.topics, today, half_life)
    return Scored(direct, report, found.outcomes(today) if questions else {}, found.gaps)


def _summed(
    session: Executor, profile_id: int, index: TopicIndex, today: date, half_life: float,
    questions: bool,
) -> Scored:  # fmt: skip
    from flashcore.storage import repos

    matcher = learned_matcher(session, profile_id, index)
    per_topic: dict[int, model.Totals] = defaultdict(model.Totals)
    latest: dict[tuple[str, str], list[date | None]] = {}  # last miss, last correct
    text_groups = []
    qid_notes, question_topics = index.qid_notes, index.question_topics
    listed = {qid for _source, qid in qid_notes}  # the live notes' (what groups them)
    for g in repos.decayed_groups(session, profile_id, today, half_life, listed):
        pair = (g.source, g.qid)
        if not g.qid or not qid_notes.get(pair):
            text_groups.append(g)  # no card lists it (or the same id from another bank)
            continue
        for topic_id in question_topics(pair):
            per_topic[topic_id].add(g)  # a group holds a Totals' sums (~9,000 groups)
        if questions:
            _latest(latest, pair, g.last_miss, g.last_correct, today)
    gaps: dict[str, Gap] = {}
    shown: dict[str, Counter[str]] = defaultdict(Counter)
    for g in text_groups:
        found = matcher.resolve(g.texts)
        if found is not None:
            per_topic[found].add(g)
            continue
        own = own_text(g.texts)
        if not g.all_misses or not own or g.last_miss_any is None:
            continue  # a correct answer is no gap; an id alone has no text to alias
        gap_key = topic_keys.text_key(own)
        shown[gap_key][own] += g.all_misses
        gap = gaps.get(gap_key)
        if gap is None:
            gap = gaps[gap_key] = Gap(own, 0, g.last_miss_any, Counter())
        gap.misses += g.all_misses
        gap.last_miss = max(gap.last_miss, g.last_miss_any)
        gap.context.update(t.strip() for t in (g.category, g.system) if t.strip() and t != own)
    for gap_key, gap in gaps.items():
        forms = shown[gap_key]
        gap.text = min(forms, key=lambda t: (-forms[t], t))
    report: dict[int, model.Totals] = defaultdict(model.Totals)
    for topic_id, totals in per_topic.items():
        weight = 1.0
        report[topic_id].add(totals)
        for ancestor in index.ancestors(topic_id):
            weight *= model.PARENT_WEIGHT
            report[ancestor].add(totals, weight)
    ordered = sorted(gaps.values(), key=lambda g: (-g.misses, -g.last_miss.toordinal(), g.text))
    return Scored(
        {t: model.score_totals(v) for t, v in per_topic.items()},
        {t: model.score_totals(v) for t, v in report.items()},
        {pair: model.QuestionOutcomes(miss, correct) for pair, (miss, correct) in latest.items()},
        ordered,
        matcher,
    )


def _latest(
    latest: dict[tuple[str, str], list[date | None]], pair: tuple[str, str],
    miss: date | None, correct: date | None, today: date,
) -> None:  # fmt: skip
    """A group's last miss and last correct answer into its question's (`QuestionOutcomes.add`
    for each: the latest of each dated today or before), without an object per group."""
    seen = latest.get(pair)
    if seen is None:
        seen = latest[pair] = [None, None]
    if miss is not None and miss <= today and (seen[0] is None or miss > seen[0]):
        seen[0] = miss
    if correct is not None and correct <= today and (seen[1] is None or correct > seen[1]):
        seen[1] = correct
