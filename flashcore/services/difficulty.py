"""The misses that gave the question's "% correct others", per topic: what weighs a topic's
misses by how many other students answer its questions right (core.difficulty)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from flashcore.core import difficulty
from flashcore.core.weakness import MISSED_QUESTION_HALF_LIVES, decay
from flashcore.storage.repos import attempts as attempts_repo

if TYPE_CHECKING:
    from flashcore.services.context import Collection
    from flashcore.services.topic_index import TopicIndex
    from flashcore.storage.repos import Executor


def topic_shares(
    session: Executor, fc: Collection, index: TopicIndex, today: date
) -> dict[int, difficulty.Known]:
    """Each topic's recency-weighted misses that gave the others' share of right answers, of
    the last MISSED_QUESTION_HALF_LIVES half-lives (older ones weigh at most 1/16 and count
    as misses without it), matched as every attempt is: to the topics of the cards that list
    the question, else to the topic its most specific text names. Nothing without such a
    miss (a log without the column): no matcher is built, one indexed read."""
    half_life = fc.settings.weakness_half_life_days
    since = today - timedelta(days=int(MISSED_QUESTION_HALF_LIVES * half_life))
    groups = attempts_repo.missed_shares(session, fc.profile_id, since)
    if not groups:
        return {}
    from flashcore.services.matching import learned_matcher

    matcher = None
    known: dict[int, difficulty.Known] = {}
    for source, qid, topic, category, system, on_date, others, count in groups:
        age = (today - on_date).days
        if age < 0:
            continue  # dated in the future: does not count yet (core.weakness.score_topic)
        if (source, qid) in index.qid_notes:
            topics = index.question_topics((source, qid))
        else:
            if matcher is None:
                matcher = learned_matcher(session, fc.profile_id, index)
            found = matcher.resolve((topic, category, system))
            topics = {found} if found is not None else set()
        weight = decay(age, half_life) * count
        for topic_id in topics:
            known[topic_id] = known.get(topic_id, difficulty.Known()).add(weight, others / 100)
    return known
