"""Pull-forwards: after fresh misses, a weak topic's not-yet-due review cards join one study
day's queue. A queue-level boost, recorded per study day; FSRS state is never touched.

Which cards, for study day D (computed by the first queue of D, and again by every import or
alias during D, so misses logged in the evening reach the next morning's queue; a removal
during D keeps only the cards already pulled that its remaining misses still pull):
- the misses dated within `FRESH_DAYS` days before D (or on D) count (logged on their date or
  later: an import's batch older than that holds none);
- a card that lists a missed question id is pulled ("pulled forward after missing
  uworld:118154 on 2026-12-04"); then, for each topic those misses reach (most misses first)
  whose flashcards (its own and its sub-topics') are forgotten more often than FSRS predicts,
  against the student's own average (core.weakness.pulls_forward), the review cards of that
  topic and its sub-topics with the lowest retrievability, at most `pull_forward_per_topic` of
  them ("pulled forward after 6 misses on …, whose cards you forget more than predicted"),
  fewer where its recent misses were on questions others miss more often than on your average
  miss (their "% correct others": core.difficulty.PULL);
- only a card not answered since the miss that pulls it was logged: a miss pulls each card once,
  on the first study day its queue is built after the miss; a new miss can pull it again;
- never a card already answered on D, nor one due on D anyway; with `bury_siblings`, one card
  of a note (the others come on a later day, as the queue would bury them).
The queue also drops a pulled card once it is answered on D, so pulled cards are answered at
most once a day. The choice is a function of the collection and the day alone (retrievability
is ranked in whole study days at D's start), so "due tomorrow" can compute tomorrow's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from flashcore.core import difficulty, fsrs_adapter, studyday, weakness
from flashcore.core.reasons import PulledForward, PullKind
from flashcore.core.weakness import FRESH_DAYS
from flashcore.services import forgetting, matching
from flashcore.services.difficulty import topic_shares
from flashcore.storage import today as today_repo
from flashcore.storage.repos import topic_index as topics_repo
from flashcore.storage.repos import weights as weights_repo

if TYPE_CHECKING:
    from flashcore.core.matching import TopicMatcher
    from flashcore.services.context import Collection
    from flashcore.storage.repos import Executor


@dataclass(slots=True)
class _Topic:
    misses: int = 0
    logged: datetime | None = None


@dataclass(slots=True)
class _Question:
    label: str
    on: date
    logged: datetime
    notes: tuple[int, ...] = field(default_factory=tuple)


def choose(
    conn: Executor,
    fc: Collection,
    day: date,
    *,
    index: matching.TopicIndex | None = None,
    held: today_repo.HeldBatch | None = None,
    learned: TopicMatcher | None = None,
    shares: Mapping[int, difficulty.Known] | None = None,
) -> dict[int, PulledForward]:
    """The pull-forwards of study day `day`: card id -> what pulled it (nothing is written).
    `held`: the batch an import just published, its attempts counted from its memory;
    `learned`: a matcher that has learned every stored attempt's texts in this transaction
    (the weights' refresh made one: see matching.Scored), used instead of learning again;
    `shares`: the topics' misses with the others' share on `day` (the refresh read them:
    services.difficulty.topic_shares), read here when needed otherwise."""
    s = fc.settings
    per_topic = s.pull_forward_per_topic
    if per_topic <= 0:
        return {}
    since = day - timedelta(days=FRESH_DAYS)
    # A miss dated `since` was logged that study day or later (a day's slack for time zones).
    logged_after = studyday.day_start_of(since - timedelta(days=1), s.zone, s.day_start_hour)
    if not today_repo.any_batch_since(conn, fc.profile_id, logged_after):
        return {}
    if index is None:
        index = matching.load_index(conn, fc.profile_id)
    listed = [qid for _source, qid in index.qid_notes]
    misses = today_repo.fresh_misses(
        conn, fc.profile_id, since, day, logged_after, listed, held=held
    )
    if not misses:
        return {}
    topics: dict[int, _Topic] = defaultdict(_Topic)
    questions: dict[tuple[str, str], _Question] = {}
    # Texts resolve as the weights resolve them: a matcher that has learned every attempt's.
    matcher = learned
    if matcher is None and any(not index.qid_notes.get((m.source, m.qid)) for m in misses):
        matcher = matching.learned_matcher(conn, fc.profile_id, index)
    for m in misses:
        if index.qid_notes.get((m.source, m.qid)):
            found = matching.match_attempt(index, m.source, m.qid, (m.topic, m.category, m.system))
            topic_ids = found.topic_ids
            q = questions.get((m.source, m.qid))
            if q is None:
                q = questions[(m.source, m.qid)] = _Question(
                    f"{m.source}:{m.qid}", m.last_date, m.logged, tuple(found.note_ids)
                )
            q.on, q.logged = max(q.on, m.last_date), max(q.logged, m.logged)
        else:
            assert matcher is not None
            resolved = matcher.resolve((m.topic, m.category, m.system))
            topic_ids = () if resolved is None else (resolved,)
        for topic_id in topic_ids:
            t = topics[topic_id]
            t.misses += m.count
            t.logged = m.logged if t.logged is None else max(t.logged, m.logged)
    start = studyday.day_start_of(day, s.zone, s.day_start_hour)
    rollover = studyday.day_start_of(day + timedelta(days=1), s.zone, s.day_start_hour)
    curve = fsrs_adapter.curve(fc.policy)
    one_day = timedelta(days=1)
    chosen: dict[int, PulledForward] = {}
    taken_notes: set[int] = set()  # with bury_siblings, one card of a note a day (the queue's)

    def take(card: today_repo.ReviewCard, reason: PulledForward) -> bool:
        if card.card_id in chosen or (s.bury_siblings and card.note_id in taken_notes):
            return False
        chosen[card.card_id] = reason
        taken_notes.add(card.note_id)
        return True

    many = len(topics) + len(questions) > FEW_LOOKUPS
    not_due = _ReviewCards(conn, fc.profile_id, rollover, index, many=many)
    for key in sorted(questions):
        q = questions[key]
        reason = PulledForward(PullKind.QUESTION, q.label, on=q.on)
        unseen_since = min(start, q.logged)
        for card in not_due.of_notes(q.notes):
            if card.last_review < unseen_since:
                take(card, reason)
    below = _Subtrees(index)
    weight = {w.topic_id: w.weight for w in weights_repo.topic_weights(conn, fc.profile_id)}
    lapses: dict[int, weakness.Lapses] = {}
    average: float | None = None
    if weakness.PULL_FORWARD_WHERE == "forgetting":
        lapses = forgetting.topic_lapses(conn, fc, index, day)
        average = weakness.forgetting_average(lapses)
    relative: dict[int, float] | None = None  # read once a topic passes the flashcards' gate
    for topic_id in sorted(topics, key=lambda t: (-topics[t].misses, index.paths[t])):
        wanted = [topic_id, *below.descendants(topic_id)]
        forgets = None
        if average is not None:
            own = weakness.summed(lapses[t] for t in wanted if t in lapses)
            forgets = weakness.forgetting_ratio(own, average) if own.predicted > 0 else None
        lineage = (topic_id, *index.ancestors(topic_id))
        if not weakness.pulls_forward(max(weight.get(t, 0.0) for t in lineage), forgets):
            continue  # its misses say nothing about its cards (see PULL_FORWARD_WHERE)
        if relative is None:
            relative = _relative_surprise(conn, fc, index, day, shares)
        allowed = round(per_topic * difficulty.pulled_share(relative.get(topic_id)))
        if allowed <= 0:
            continue  # missed on questions others miss more than your average miss's
        t = topics[topic_id]
        assert t.logged is not None
        unseen_since = min(start, t.logged)
        ranked = sorted(
            (card for card in not_due.of_topics(wanted) if card.last_review < unseen_since),
            key=lambda c: (
                curve.retrievability_days(c.stability, -((c.last_review - start) // one_day)),
                c.card_id,
            ),
        )
        reason = PulledForward(PullKind.TOPIC, index.paths[topic_id], misses=t.misses)
        target = weakness.retention_for(s, max(weight.get(t, 0.0) for t in lineage))
        taken = 0
        for card in ranked:
            if taken >= allowed:
                break
            if (
                weakness.PULL_ONLY_DUE
                and curve.retrievability_days(
                    card.stability, -((card.last_review - start) // one_day)
                )
                >= target
            ):
                break
            taken += take(card, reason)
    return chosen


def _relative_surprise(
    conn: Executor, fc: Collection, index: matching.TopicIndex, day: date,
    shares: Mapping[int, difficulty.Known] | None,
) -> dict[int, float]:  # fmt: skip
    """Each topic's misses with a share against your average miss's (core.difficulty); empty
    with the share switched off for pull-forwards (read nothing)."""
    if difficulty.PULL == "off":
        return {}
    if shares is None:
        shares = topic_shares(conn, fc, index, day)
    return difficulty.relative_surprise(shares)


def recompute(
    conn: Executor,
    fc: Collection,
    day: date,
    *,
    index: matching.TopicIndex | None = None,
    shares: Mapping[int, difficulty.Known] | None = None,
    shrink_only: bool = False,
) -> int:
    """Choose and store the pull-forwards of study day `day` (inside the caller's
    transaction); how many cards were pulled. `shares`: see `choose`. `shrink_only` (a
    removal: misses go, none come): keep only cards the day had pulled already; answers given
    since the day's first queue may have made another missed topic "forgotten more than
    predicted", but taking misses away is no reason to pull its cards into the day."""
    chosen = choose(conn, fc, day, index=index, shares=shares)
    if shrink_only:
        before = today_repo.pulled_forward(conn, fc.profile_id, day)
        chosen = {cid: why for cid, why in chosen.items() if cid in before}
    today_repo.replace_pull_forwards(conn, fc.profile_id, day, chosen)
    return len(chosen)


FEW_LOOKUPS = 20  # up to this many missed topics and questions, each is looked up


class _ReviewCards:
    """The review cards not due of a few topics or notes, looked up one by one; of many, read
    once for the whole profile and sorted out in memory (1,000 missed topics and 2,000 missed
    questions at 200,000 cards: one query instead of 3,000)."""

    def __init__(
        self, conn: Executor, profile_id: int, rollover: datetime, index: matching.TopicIndex,
        *, many: bool,
    ) -> None:  # fmt: skip
        self.conn, self.profile_id, self.rollover = conn, profile_id, rollover
        self.by_topic: dict[int, list[today_repo.ReviewCard]] | None = None
        self.by_note: dict[int, list[today_repo.ReviewCard]] = defaultdict(list)
        if many:
            self.by_topic = defaultdict(list)
            found = today_repo.review_cards_not_due(conn, profile_id, rollover, every=True)
            topics_of = index.note_topics
            if not index.every_note:  # a light index: these notes' topics, read now
                topics_of = topics_repo.topics_of_notes(conn, [c.note_id for c in found])
            for card in found:
                self.by_note[card.note_id].append(card)
                for topic_id in set(topics_of.get(card.note_id, ())):
                    self.by_topic[topic_id].append(card)

    def of_topics(self, topic_ids: list[int]) -> list[today_repo.ReviewCard]:
        """Those linked to any of these topics, by id."""
        if self.by_topic is None:
            return today_repo.review_cards_not_due(
                self.conn, self.profile_id, self.rollover, topic_ids=topic_ids
            )
        found = {c.card_id: c for t in topic_ids for c in self.by_topic.get(t, ())}
        return [found[card_id] for card_id in sorted(found)]

    def of_notes(self, note_ids: tuple[int, ...]) -> list[today_repo.ReviewCard]:
        """Those of these notes, by id."""
        if self.by_topic is None:
            return today_repo.review_cards_not_due(
                self.conn, self.profile_id, self.rollover, note_ids=note_ids
            )
        found = [c for n in set(note_ids) for c in self.by_note.get(n, ())]
        return sorted(found, key=lambda c: c.card_id)


class _Subtrees:
    def __init__(self, index: matching.TopicIndex) -> None:
        self.children: dict[int, list[int]] = defaultdict(list)
        for child, parent in index.parent.items():
            if parent is not None:
                self.children[parent].append(child)

    def descendants(self, topic_id: int) -> list[int]:
        out, stack = [], list(self.children.get(topic_id, []))
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(self.children.get(node, []))
        return sorted(out)
