"""The misses that gave the question's "% correct others", per topic: what weighs a topic's
misses by how many other students answer its questions right (core.difficulty)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from flashcore.core import difficulty
from flashcore.services.weakness_parts import shares_of, shares_since
from flashcore.storage.repos import attempts as attempts_repo

if TYPE_CHECKING:
    from flashcore.core.matching import TopicMatcher
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
    groups = attempts_repo.missed_shares(session, fc.profile_id, shares_since(today, half_life))
    if not groups:
        return {}
    from flashcore.services.matching import learned_matcher

    matcher: list[TopicMatcher] = []  # built for the first text no listed question covers

    def resolve(text: tuple[str, str, str]) -> int | None:
        if not matcher:
            matcher.append(learned_matcher(session, fc.profile_id, index))
        return matcher[0].resolve(text)

    return shares_of(groups, index, today, half_life, resolve)
