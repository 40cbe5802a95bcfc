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
    # Sums per topic as `Known.add` makes them, in the same order (the same floats); a text's
    # topic, a day's decay and a share's surprise worked out once each (a log of 100,000
    # misses with a share holds a few hundred texts, 56 days and 101 shares).
    sums: dict[int, list[float]] = {}
    by_text: dict[tuple[str, str, str], set[int]] = {}
    decays: dict[int, float] = {}
    surprises: dict[int, float] = {}
    for source, qid, topic, category, system, on_date, others, count in groups:
        age = (today - on_date).days
        if age < 0:
            continue  # dated in the future: does not count yet (core.weakness.score_topic)
        if (source, qid) in index.qid_notes:
            topics = index.question_topics((source, qid))
        else:
            text = (topic, category, system)
            topics = by_text.get(text)  # type: ignore[assignment]
            if topics is None:
                if matcher is None:
                    matcher = learned_matcher(session, fc.profile_id, index)
                found = matcher.resolve(text)
                topics = by_text[text] = {found} if found is not None else set()
        if not topics:
            continue
        day = decays.get(age)
        if day is None:
            day = decays[age] = decay(age, half_life)
        weight = day * count
        share = others / 100
        surprise = surprises.get(others)
        if surprise is None:
            surprise = surprises[others] = difficulty.surprise(share)
        for topic_id in topics:
            held = sums.get(topic_id)
            if held is None:
                held = sums[topic_id] = [0.0, 0.0, 0.0]
            held[0] += weight
            held[1] += weight * surprise
            held[2] += weight * share
    return {t: difficulty.Known(*held) for t, held in sums.items()}
