"""The weakness report: topics ranked by exam points at risk, with why, and the gaps
(misses no card or topic covers). Matching attempts to topics lives in `matching`, the
weights on topics and cards in `weights`; their names are re-exported here."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from flashcore.core import weakness as model
from flashcore.core.errors import DatabaseBusyError
from flashcore.services import kept_scores
from flashcore.services.context import today_for
from flashcore.services.difficulty import topic_shares
from flashcore.services.forgetting import topic_lapses
from flashcore.services.matching import (
    MISSED,
    SUM_IN_DATABASE_FROM,
    AddedAttempt,
    Gap,
    Match,
    Matched,
    TopicAttempts,
    TopicIndex,
    learned_matcher,
    load_index,
    match_all,
    match_attempt,
    matched_attempts,
    scheduling_scores,
    score_all,
    topic_scores,
)
from flashcore.services.memory import no_cycle_collection
from flashcore.services.weights import (
    card_reasons,
    card_weakness,
    ensure_fresh,
    question_reasons,
    refresh_in,
    refresh_weights,
)
from flashcore.storage import repos
from flashcore.storage.repos import topic_index as topics_repo
from flashcore.storage.uow import reading_core, run_write, write_now

if TYPE_CHECKING:
    from flashcore.services.context import Collection

__all__ = [
    "MISSED",
    "AddedAttempt",
    "Gap",
    "Match",
    "Matched",
    "TopicAttempts",
    "TopicIndex",
    "card_reasons",
    "card_weakness",
    "ensure_fresh",
    "learned_matcher",
    "load_index",
    "match_all",
    "match_attempt",
    "matched_attempts",
    "question_reasons",
    "refresh_in",
    "refresh_weights",
    "report",
    "report_rows",
    "scheduling_scores",
    "score_all",
    "today_for",
    "topic_scores",
]


def keep_sums(fc: Collection, today: date, half_life: float) -> None:
    """Bring the stored sums of a large history up to date when they lag (repos.qbank_sums:
    the attempts added since folded in, or summed afresh), so that reports read a few thousand
    sums. Skipped when the database is busy: the report then reads the attempts themselves."""
    with reading_core(fc.engine) as session:
        large = repos.tallied_attempts(session, fc.profile_id) >= SUM_IN_DATABASE_FROM
        needed = large and repos.sums_need_sync(session, fc.profile_id, today, half_life)
    if not needed:
        return
    with contextlib.suppress(DatabaseBusyError):
        run_write(fc.engine, lambda w: repos.sync_sums(w, fc.profile_id, today, half_life))


def look_at_index(fc: Collection) -> None:
    """Before a report reads the topic index: unless the stored one is current, have the
    next change count the generation up (`repos.topic_index.observe_index`), so that the
    index this report reads may be stored for the next (SQLite; never waits for a lock)."""
    if fc.engine.dialect.name != "sqlite":
        return  # nothing is kept there (storage.index_cache): not even a look
    with reading_core(fc.engine) as session:
        kept = topics_repo.kept_index(session, fc.profile_id, read=False)
    if kept.unseen:
        write_now(fc.engine, lambda w: topics_repo.observe_index(w, fc.profile_id))


def report_rows(fc: Collection) -> list[dict[str, Any]]:
    """The `topics` of `report`: leaf topics ranked by score, then the system and subject
    rollups (each row's `level` says which)."""
    return report(fc)["topics"]


def report(fc: Collection) -> dict[str, list[dict[str, Any]]]:
    """What `flashcore weakness --json` prints: `topics` (ranked leaves, then rollups) and
    `gaps` (misses that matched no card or topic, each with the alias to run)."""
    with no_cycle_collection():
        return _report(fc)


def _report(fc: Collection) -> dict[str, list[dict[str, Any]]]:
    today = today_for(fc)
    s = fc.settings
    half_life = s.weakness_half_life_days
    keep_sums(fc, today, half_life)
    look_at_index(fc)
    with reading_core(fc.engine) as session:
        if not repos.has_qbank_attempts(session, fc.profile_id):
            return {"topics": [], "gaps": []}  # nothing missed yet: no topic is weak
        kept = topics_repo.kept_index(session, fc.profile_id)
        stored = kept.stored or topics_repo.stored_index(session, fc.profile_id, every_note=False)
        index = load_index(session, fc.profile_id, stored=stored)
        found, keeping = kept_scores.report_scores(session, fc.profile_id, index, today, half_life)
        lapses = topic_lapses(session, fc, index, today)
        known = topic_shares(session, fc, index, today)
        direct = scheduling_scores(index, found.direct, s, lapses, (), None, known)
        scored = found.report
        # Cards of each reported topic, its sub-topics included: kept by the database per
        # linked topic, added up the tree for the reported ones only.
        shown = {t for t, sc in scored.items() if sc.score > 0}
        hits = {t: [n for n in (t, *index.ancestors(t)) if n in shown] for t in index.paths}
        linked = [t for t, nodes in hits.items() if nodes]
        cards_by_topic: dict[int, int] = defaultdict(int)
        for topic_id, total in repos.cards_per_topic(session, fc.profile_id, linked).items():
            for node in hits[topic_id]:
                cards_by_topic[node] += total
    # "due" is what `flashcore due --topic T` holds (learning + review: limits applied,
    # pull-forwards in), so the weakness screen and Home agree with the queue.
    from flashcore.services.counts import due_by_topic as queue_due

    if kept.stored is None and kept.gen is not None:  # read at a generation looked at
        gen = kept.gen
        write_now(fc.engine, lambda w: topics_repo.keep_index(w, fc.profile_id, gen, stored))
    if keeping is not None:  # made now: the next report on this day reads them
        made = keeping
        write_now(fc.engine, lambda w: kept_scores.keep(w, fc.profile_id, made))
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
        shared = own.others if level == "topic" else None
        shown_share = None if shared is None else round(100 * shared)
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
                # its flashcards' lapses against FSRS's prediction, relative to the student's
                # average (what schedules beside the misses; None: no reviews compared)
                "forgetting_vs_average": (
                    None if own.forgetting is None else round(own.forgetting, 2)
                ),
                # the others' share of right answers on its recent misses that gave one, in
                # percent (UWorld's "% correct others"; None: none gave it, a rollup, or the
                # shares weigh nothing: one topic alone has them, or all are alike)
                "others_correct": shown_share,
                "suggested_minutes": minutes,
                "reason": model.report_reason(score, half_life, minutes, level, shared),
            }
        )
    rank = {"topic": 0, "system": 1, "subject": 2}
    out.sort(key=lambda r: (rank[r["level"]], -r["score"], r["topic"]))
    closest = kept_scores.closest_topics(found, index)  # kept with the scores, or worked out
    return {"topics": out, "gaps": _gap_rows(fc, index, found.gaps, closest)}


def _gap_rows(
    fc: Collection, index: TopicIndex, gaps: list[Gap], topics: list[int | None]
) -> list[dict[str, Any]]:
    """Each gap with the closest topic (`topics`, in the gaps' order) and the exact command
    that maps its text there."""
    import shlex

    profile = "" if fc.profile == "default" else f" --profile {shlex.quote(fc.profile)}"
    out = []
    for gap, closest in zip(gaps, topics, strict=True):
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
