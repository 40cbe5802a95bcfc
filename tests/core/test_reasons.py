"""Queue reasons as values (core.reasons): each kind of reason and how they combine read as
the reviewer and `due` have always shown them."""

from __future__ import annotations

from datetime import date

import pytest

from flashcore.core.reasons import (
    NEW_CARD,
    NEW_PROBE,
    Basis,
    Postponed,
    Postponement,
    PulledForward,
    PullKind,
    Reason,
    WeakTopic,
    learning,
)
from flashcore.core.weakness import MissedQuestion

MISSED = MissedQuestion("uworld", "118154", date(2026, 12, 4))
WEAK = WeakTopic("Cardio::Heart failure", "weak topic: Cardio::Heart failure — 6 misses in 14 days")
BY_QUESTION = PulledForward(PullKind.QUESTION, "uworld:118154", on=date(2026, 12, 4))
BY_TOPIC = PulledForward(PullKind.TOPIC, "Cardio::Heart failure", misses=1)


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (learning(False), "learning step"),
        (learning(True), "relearning after a lapse"),
        (NEW_CARD, "new"),
        (Reason(Basis.DUE), "due today"),
        (Reason(Basis.DUE, overdue_days=1), "due yesterday"),
        (Reason(Basis.DUE, overdue_days=4), "due 4 days ago"),
        (Reason(Basis.PULLED_FORWARD, pulled=BY_TOPIC),
         "pulled forward after 1 miss on Cardio::Heart failure, whose cards you forget more than predicted"),
        (Reason(Basis.PULLED_FORWARD, pulled=BY_QUESTION),
         "pulled forward after missing uworld:118154 on 2026-12-04"),
    ],
)  # fmt: skip
def test_each_basis_reads_as_the_queue_has_always_said_it(reason, text):
    assert reason.text() == text


def test_a_weak_topic_leads_a_review_follows_a_new_card_and_leaves_a_pull_forward_alone():
    assert Reason(Basis.DUE).with_weak(WEAK).text() == f"{WEAK.explanation}; due today"
    assert NEW_CARD.with_weak(WEAK).text() == f"new; {WEAK.explanation}"
    pulled = Reason(Basis.PULLED_FORWARD, pulled=BY_TOPIC).with_weak(WEAK)
    assert (
        pulled.text()
        == "pulled forward after 1 miss on Cardio::Heart failure, whose cards you forget more than predicted"
    )


def test_a_missed_question_is_named_once_even_when_it_pulled_the_card():
    by_question = Reason(Basis.PULLED_FORWARD, pulled=BY_QUESTION).with_missed(MISSED)
    assert by_question.text() == "pulled forward after missing uworld:118154 on 2026-12-04"
    by_topic = Reason(Basis.PULLED_FORWARD, pulled=BY_TOPIC).with_missed(MISSED)
    assert by_topic.text() == (
        "missed uworld:118154 on 2026-12-04; pulled forward after 1 miss on Cardio::Heart failure"
        ", whose cards you forget more than predicted"
    )


def test_the_exam_stretch_and_a_budget_wrap_the_rest_in_that_order():
    why = Reason(Basis.DUE, overdue_days=2, exam_day=date(2027, 1, 15)).with_weak(WEAK)
    postponed = Postponed(Postponement.AT_RISK, 30, 0.8512)
    from dataclasses import replace

    assert replace(why, postponed=postponed).text() == (
        "postponed: over today's 30-minute budget (least exam points at risk: recall 0.85); "
        f"due before the exam on 2027-01-15; {WEAK.explanation}; due 2 days ago"
    )


def test_a_probe_card_says_it_is_one_of_its_topics_first_and_a_weak_topic_still_leads():
    assert NEW_PROBE.text() == (
        "new; one of its topic's first cards (a share of each day's new cards goes to topics' "
        "first cards, so every topic is seen early)"
    )
    assert NEW_PROBE.with_weak(WEAK).text() == f"new; {WEAK.explanation}"
