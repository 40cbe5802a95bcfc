"""The weakness report: topics ranked by exam points at risk, with why, and the gaps
(misses no card or topic covers). Matching attempts to topics lives in `matching`, the
weights on topics and cards in `weights`; their names are re-exported here."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import TYPE_CHECKING, Any

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
from flashcore.services.weakness_parts import (
    cards_below,
    gap_rows,
    leech_rows,
    leech_topics,
    shown_paths,
    topic_rows,
)
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
from flashcore.storage.repos import weights as weights_repo
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


def refresh_first(fc: Collection, today: date) -> None:
    """The day's first report: the weights' daily refresh, which the report's `due` column
    runs anyway (`counts.due_by_topic`, `weights.ensure_fresh`), runs before the report reads,
    so that the report reads the scores it made and kept (`kept_scores`) instead of scoring
    the history a second time (200k cards / 1.1M attempts: ~0.2 CPU-s). Only where the report
    has attempts to show; the refresh itself is the one the queue would make."""
    with reading_core(fc.engine) as session:
        stale = weights_repo.weights_day(session, fc.profile_id) != today
        needed = stale and repos.has_qbank_attempts(session, fc.profile_id)
    if needed:
        refresh_weights(fc, force=False)


def report_rows(fc: Collection) -> list[dict[str, Any]]:
    """The `topics` of `report`: leaf topics ranked by score, then the system and subject
    rollups (each row's `level` says which)."""
    return report(fc)["topics"]


def report(fc: Collection) -> dict[str, list[dict[str, Any]]]:
    """What `flashcore weakness --json` prints: `topics` (ranked leaves, then rollups), `gaps`
    (misses that matched no card or topic, each with the alias to run) and `leeches` (cards
    marked leech, suspended or tagged, of the first ten leaf topics: the ones to rewrite)."""
    with no_cycle_collection():
        return _report(fc)


def _report(fc: Collection) -> dict[str, list[dict[str, Any]]]:
    today = today_for(fc)
    s = fc.settings
    half_life = s.weakness_half_life_days
    keep_sums(fc, today, half_life)
    look_at_index(fc)
    refresh_first(fc, today)
    with reading_core(fc.engine) as session:
        if not repos.has_qbank_attempts(session, fc.profile_id):
            return {"topics": [], "gaps": [], "leeches": []}  # nothing missed: none is weak
        kept = topics_repo.kept_index(session, fc.profile_id)
        stored = kept.stored or topics_repo.stored_index(session, fc.profile_id, every_note=False)
        index = load_index(session, fc.profile_id, stored=stored)
        found, keeping = kept_scores.report_scores(session, fc.profile_id, index, today, half_life)
        lapses = topic_lapses(session, fc, index, today)
        known = topic_shares(session, fc, index, today)
        direct = scheduling_scores(index, found.direct, s, lapses, (), None, known)
        scored = found.report
        cards_by_topic = cards_below(
            index, scored, lambda linked: repos.cards_per_topic(session, fc.profile_id, linked)
        )
    # "due" is what `flashcore due --topic T` holds (learning + review: limits applied,
    # pull-forwards in), so the weakness screen and Home agree with the queue.
    from flashcore.services.counts import due_by_topic as queue_due

    if kept.stored is None and kept.gen is not None:  # read at a generation looked at
        gen = kept.gen
        write_now(fc.engine, lambda w: topics_repo.keep_index(w, fc.profile_id, gen, stored))
    if keeping is not None:  # made now: the next report on this day reads them
        made = keeping
        write_now(fc.engine, lambda w: kept_scores.keep(w, fc.profile_id, made))
    due_now = queue_due(fc, shown_paths(index, scored))
    out = topic_rows(index, scored, direct, cards_by_topic, due_now, s)
    closest = kept_scores.closest_topics(found, index)  # kept with the scores, or worked out
    weakest = leech_topics(index, out)
    with reading_core(fc.engine) as session:
        leeches = repos.leech_cards(session, weakest)
    return {
        "topics": out,
        "gaps": gap_rows(fc.profile, index, found.gaps, closest),
        "leeches": leech_rows(fc.profile, index, weakest, leeches),
    }
