"""Queue building (core.queue.build), pure: learning first, then reviews by priority, then new
cards in introduction order; limits hold cards back and say how many; siblings wait for
tomorrow; the learn-ahead window only when nothing else is left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flashcore.core import queue
from flashcore.core.model import CardState
from flashcore.core.queue import Candidate, Limits
from flashcore.core.reasons import PulledForward, PullKind

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)
DAY_START = NOW.replace(hour=4)
ROLLOVER = DAY_START + timedelta(days=1)
LEARNING, REVIEW, NEW = int(CardState.LEARNING), int(CardState.REVIEW), int(CardState.NEW)


def recall(stability: float, _last_review: datetime) -> float:
    """A stand-in retrievability: the card's stability, read as a percentage."""
    return stability / 100


def review(card_id: int, recall_pct: float, *, note: int | None = None, **kw) -> Candidate:
    due = kw.pop("due", NOW - timedelta(hours=1))
    last = NOW - timedelta(days=3)
    return Candidate(card_id, note or card_id, REVIEW, due, recall_pct, last, **kw)


def learning(card_id: int, due: datetime, *, note: int | None = None) -> Candidate:
    return Candidate(card_id, note or card_id, LEARNING, due, 1.0, NOW - timedelta(minutes=5))


def new(card_id: int, *, note: int | None = None) -> Candidate:
    return Candidate(card_id, note or card_id, NEW, NOW, None, None)


def build(candidates=(), new_cards=(), limits=None, **kw) -> queue.Queue:
    return queue.build(
        candidates, new_cards, now=NOW, day_start=DAY_START, rollover=ROLLOVER,
        limits=limits or Limits(new_left=10, reviews_left=100), retrievability=recall, **kw,
    )  # fmt: skip


def ids(q: queue.Queue) -> list[int]:
    return [e.card_id for e in q.entries]


def test_learning_due_now_then_reviews_most_forgotten_first_then_new_in_order():
    q = build(
        [review(1, 95), review(2, 70), learning(3, NOW - timedelta(minutes=1)), review(4, 85)],
        [new(6), new(5)],
    )
    assert ids(q) == [3, 2, 4, 1, 6, 5]
    assert [e.kind for e in q.entries] == ["learning", "review", "review", "review", "new", "new"]
    assert (q.counts.learning, q.counts.review, q.counts.new) == (1, 3, 2)


def test_a_weak_topic_ranks_its_card_ahead_of_a_more_forgotten_one():
    q = build([review(1, 60), review(2, 80, weight=2.0)])
    assert ids(q) == [2, 1]  # (1 - 0.8) * 3 = 0.6 > (1 - 0.6) * 1 = 0.4


def test_limits_hold_cards_back_and_count_them():
    q = build(
        [review(i, 50 + i) for i in range(1, 6)],
        [new(10), new(11), new(12)],
        limits=Limits(new_left=1, reviews_left=3, new_ignores_review_limit=True),
    )
    assert ids(q) == [1, 2, 3, 10]
    assert (q.held_review, q.held_new) == (2, 2)


def test_new_cards_share_the_review_limit_unless_told_otherwise():
    cards, news = [review(1, 50), review(2, 60)], [new(10), new(11)]
    shared = build(cards, news, limits=Limits(new_left=5, reviews_left=3))
    assert ids(shared) == [1, 2, 10]
    apart = build(cards, news, limits=Limits(new_left=5, reviews_left=3,
                                             new_ignores_review_limit=True))  # fmt: skip
    assert ids(apart) == [1, 2, 10, 11]


def test_siblings_of_a_card_in_the_queue_wait_for_tomorrow():
    q = build([review(1, 50, note=7), review(2, 40, note=7)], [new(3, note=7), new(4)])
    assert ids(q) == [2, 4]
    unburied = build([review(1, 50, note=7), review(2, 40, note=7)], [new(3, note=7)],
                     limits=Limits(new_left=10, reviews_left=100, bury_siblings=False))  # fmt: skip
    assert ids(unburied) == [2, 1, 3]


def test_learning_cards_due_soon_come_only_when_nothing_else_is_left():
    soon = learning(5, NOW + timedelta(minutes=10))
    later = learning(6, NOW + timedelta(hours=2))
    assert ids(build([soon, later, review(1, 50)])) == [1]
    alone = build([soon, later])
    assert ids(alone) == [5]
    assert alone.entries[0].kind == "ahead"
    assert alone.counts.learning == 1


def test_a_review_due_after_the_rollover_comes_only_when_pulled_forward():
    tomorrow = ROLLOVER + timedelta(hours=2)
    pulled = PulledForward(PullKind.TOPIC, "Immunology::Hypersensitivity::Type I", misses=6)
    q = build([review(1, 90, due=tomorrow), review(2, 90, due=tomorrow, pulled=pulled)])
    assert ids(q) == [2]
    assert q.entries[0].reason == (
        "pulled forward after 6 misses on Immunology::Hypersensitivity::Type I"
        ", whose cards you forget more than predicted"
    )


def test_reasons_say_how_overdue_a_review_is():
    q = build([review(1, 50, due=NOW - timedelta(hours=1)),
               review(2, 40, due=DAY_START - timedelta(hours=2)),
               review(3, 30, due=DAY_START - timedelta(days=3))])  # fmt: skip
    assert [e.reason for e in q.entries] == ["due 3 days ago", "due yesterday", "due today"]


def test_the_limit_argument_cuts_the_entries_not_the_counts():
    q = build([review(i, 50 + i) for i in range(1, 6)], limit=2)
    assert ids(q) == [1, 2]
    assert q.counts.review == 5


def test_weak_topics_given_at_once_equal_each_given_alone():
    from flashcore.core.reasons import TopicEvidence, WeakTopic

    one = WeakTopic("A::B", TopicEvidence(6, 6, 14.0))
    other = WeakTopic("C", "an older version's text")
    entries = list(
        build([review(i, 50 + i, due=NOW - timedelta(days=i % 3)) for i in range(1, 9)]).entries
    )
    weak = {1: one, 2: one, 3: other, 5: one, 6: other}
    at_once = queue.with_weak_topics(entries, weak)
    alone = [queue.with_weak_topic(e, weak[e.card_id]) if e.card_id in weak else e for e in entries]
    assert at_once == alone and at_once != entries
    assert [e.reason for e in at_once] == [e.reason for e in alone]
