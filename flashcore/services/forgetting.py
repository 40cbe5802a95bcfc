"""The flashcard signal's evidence: each topic's recent lapses against those FSRS predicted.
Read by the weight refresh (services.weights) and by the pull-forwards (services.pullforward),
which sit on either side of each other; and each topic's first answers (core.first_answers)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

from flashcore.core import first_answers
from flashcore.core import weakness as model
from flashcore.services.weakness_parts import lapses_of, lapses_since
from flashcore.storage import repos
from flashcore.storage.repos import topic_index as topics_repo

if TYPE_CHECKING:
    from flashcore.services.context import Collection
    from flashcore.services.matching import TopicIndex
    from flashcore.storage.repos import Executor


def topic_lapses(
    session: Executor, fc: Collection, index: TopicIndex, today: date
) -> dict[int, model.Lapses]:
    """Each topic's recent flashcard lapses against those FSRS predicted, weighted by recency as
    misses are (answers older than MISSED_QUESTION_HALF_LIVES half-lives before study day
    `today` are left out: a function of the collection and the day, as pull-forwards need)."""
    from flashcore.core import fsrs_adapter

    outcomes = repos.review_outcomes(session, fc.profile_id, lapses_since(today, fc.settings))
    topics_of = index.note_topics
    if not index.every_note:  # a light index: the reviewed notes' topics, read now
        topics_of = topics_repo.topics_of_notes(session, [o.note_id for o in outcomes])
    return lapses_of(outcomes, topics_of, today, fc.settings, fsrs_adapter.curve(fc.policy))


def topic_first_answers(
    session: Executor, fc: Collection, index: TopicIndex, today: date
) -> dict[int, first_answers.FirstAnswers]:
    """Each topic's cards' first answers (own notes) within the window the lapses are read
    from (MISSED_QUESTION_HALF_LIVES half-lives before study day `today`): how many, and how
    many failed (core.first_answers)."""
    from datetime import timedelta

    from flashcore.core import studyday

    s = fc.settings
    window = model.MISSED_QUESTION_HALF_LIVES * s.weakness_half_life_days
    since = studyday.day_start_of(today, s.zone, s.day_start_hour) - timedelta(days=window)
    by_note = repos.first_answers_by_note(session, fc.profile_id, since)
    topics_of = index.note_topics
    if not index.every_note:  # a light index: the answered notes' topics, read now
        topics_of = topics_repo.topics_of_notes(session, list(by_note))
    answered: dict[int, int] = defaultdict(int)
    failed: dict[int, int] = defaultdict(int)
    for note_id, (n, bad) in by_note.items():
        for t in topics_of.get(note_id, ()):
            answered[t] += n
            failed[t] += bad
    return {t: first_answers.FirstAnswers(n, failed[t]) for t, n in answered.items()}
