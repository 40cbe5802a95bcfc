"""The weakness report's score pass kept between reports (schema 0026, `storage.scores_kept`):
each topic's attempts summed on one study day (directly, and with its sub-topics' at half
weight per level) and the gaps, as `matching.score_all` makes them from a large history's kept
sums. The weight refresh after a qbank import makes them anyway and keeps them; a report reads
them when their stamp is the one it works out now (the day, the half-life, the qbank
attempts as stored, the topic index), else makes them and keeps them for the next.

The payload is the scores themselves, in their order (floats as Python writes them, which read
back exact): a report from kept scores is the report made afresh, byte for byte."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date
from typing import TYPE_CHECKING, Any

from flashcore.core import weakness as model
from flashcore.services.scored import Gap, Scored

# `services.matching` and the repositories are imported where scores are made or stored: the
# driver-only report (`services.weakness_light`) reads kept scores with `made_from` and
# `decoded` alone, without SQLAlchemy.
if TYPE_CHECKING:
    from flashcore.services.topic_index import TopicIndex
    from flashcore.storage.repos.common import Executor

# The score pass's version: counted up whenever what it makes from the same sums changes
# (matching._summed, core.weakness.score_totals, PARENT_WEIGHT, the gaps' closest topics) or
# how it is written, so that no score kept by the code before is read by the code after.
# 2: each gap's closest topic kept with it.
VERSION = 2

Keep = tuple[str, str]  # (stamp, payload) to store


def stamp(
    session: Executor, profile_id: int, index: TopicIndex, today: date, half_life: float
) -> str | None:
    """What scores made now (in the caller's read transaction) are made from, as a digest;
    None when they are not kept (not a light index, or a history the database does not sum:
    see `matching.SUM_IN_DATABASE_FROM`)."""
    from flashcore.services import matching
    from flashcore.storage import repos

    if repos.tallied_attempts(session, profile_id) < matching.SUM_IN_DATABASE_FROM:
        return None  # scored from every attempt: cheap, and not what is kept
    digest = index.digest()
    if digest is None or not repos.can_decay(session):
        return None
    return stamp_of(today, half_life, digest, repos.qbank_stamp(session, profile_id))


def stamp_of(today: date, half_life: float, index_digest: str, qbank: str) -> str:
    """The stamp of scores made on study day `today` with `half_life` from the light index of
    digest `index_digest` and the qbank attempts as `repos.qbank_stamp` writes them (`qbank`)."""
    made = (VERSION, today.isoformat(), repr(half_life), index_digest, qbank)
    return hashlib.sha256(repr(made).encode()).hexdigest()


def report_scores(
    session: Executor, profile_id: int, index: TopicIndex, today: date, half_life: float
) -> tuple[Scored, Keep | None]:
    """The report's scores (`score_all` without the questions' outcomes): the kept ones when
    made from what the database holds now, else made now, with what to keep of them."""
    from flashcore.services import matching
    from flashcore.storage import repos

    made_from = stamp(session, profile_id, index, today, half_life)
    if made_from is not None:
        payload = repos.kept_scores(session, profile_id, made_from)
        if payload is not None:
            return decoded(payload), None
    found = matching.score_all(session, profile_id, index, today, half_life, questions=False)
    return found, kept(made_from, found, index)


def kept(made_from: str | None, found: Scored, index: TopicIndex) -> Keep | None:
    """What to store of scores made under stamp `made_from` (None: nothing), with each gap's
    closest topic worked out now (`found.closest`, for the report at hand too)."""
    if made_from is None:
        return None
    closest_topics(found, index)
    payload = encoded(found)
    return None if payload is None else (made_from, payload)


def closest_topics(found: Scored, index: TopicIndex) -> list[int | None]:
    """Each gap's closest topic (the alias the report suggests), worked out once."""
    if found.closest is None:
        matcher = index.matcher()
        found.closest = [matcher.closest(g.text, g.context) for g in found.gaps]
    return found.closest


def _score(s: model.TopicScore) -> list[Any] | None:
    if (s.ratio, s.forgetting, s.first, s.others) != (None, None, None, None):
        return None  # not a score pass's (scheduling compared it): never kept
    last = None if s.last_miss is None else s.last_miss.isoformat()
    return [s.score, s.raw, s.misses, s.attempts, s.recent_misses, s.recent_attempts,
            s.decayed_misses, s.decayed_attempts, last]  # fmt: skip


def encoded(found: Scored) -> str | None:
    """The scores as JSON, every mapping in its order (None: not a score pass's)."""
    parts: list[list[Any]] = []
    for scores in (found.direct, found.report):
        rows = []
        for topic_id, s in scores.items():
            row = _score(s)
            if row is None:
                return None
            rows.append([topic_id, *row])
        parts.append(rows)
    closest = found.closest
    if closest is None or len(closest) != len(found.gaps):
        return None  # the suggestions go with the gaps
    gaps = [[g.text, g.misses, g.last_miss.isoformat(), list(g.context.items()), topic]
            for g, topic in zip(found.gaps, closest, strict=True)]  # fmt: skip
    return json.dumps([*parts, gaps], separators=(",", ":"))


def decoded(payload: str) -> Scored:
    """`encoded`'s scores (no questions' outcomes, no learned matcher: a report's)."""
    direct, report, gaps = json.loads(payload)
    days: dict[str, date] = {}

    def day(text: str | None) -> date | None:
        if text is None:
            return None
        found = days.get(text)
        if found is None:
            found = days[text] = date.fromisoformat(text)
        return found

    def scores(rows: list[list[Any]]) -> dict[int, model.TopicScore]:
        return {
            t: model.TopicScore(score, raw, m, n, rm, rn, dm, dn, day(last))
            for t, score, raw, m, n, rm, rn, dm, dn, last in rows
        }

    return Scored(
        scores(direct),
        scores(report),
        {},
        [Gap(text, n, date.fromisoformat(last), Counter(dict(c))) for text, n, last, c, _ in gaps],
        closest=[topic for *_, topic in gaps],
    )


def keep(session: Executor, profile_id: int, keeping: Keep) -> None:
    """(A write.) Store scores made under their stamp."""
    from flashcore.storage import repos

    repos.keep_scores(session, profile_id, *keeping)
