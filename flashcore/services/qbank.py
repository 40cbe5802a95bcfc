"""Missed-question logs: import (`qbank_import`, re-exported here), list, batches, remove;
topic aliases; and the pull-forward of weak topics' cards into today's queue."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from flashcore.core import topics as topic_keys
from flashcore.core import weakness as weakness_model
from flashcore.core.errors import FlashcoreError, NotFoundError, UsageError
from flashcore.core.text import ALIAS_CHARS, TOPIC_KEY_CHARS, name_problem, shown
from flashcore.services import matching, weights
from flashcore.services.context import today_for
from flashcore.services.qbank_import import (
    MEMORY_BYTES,
    PASTE_WARN_ROWS,
    ImportReport,
    Progress,
    import_log,
)
from flashcore.storage import repos
from flashcore.storage.uow import reading, run_write

if TYPE_CHECKING:
    from flashcore.services.context import Collection
    from flashcore.storage.repos import Executor

__all__ = [
    "FRESH_DAYS",
    "MEMORY_BYTES",
    "PASTE_WARN_ROWS",
    "ImportReport",
    "Progress",
    "add_alias",
    "has_attempts",
    "import_log",
    "list_attempts",
    "list_batches",
    "list_topics",
    "pull_forward",
    "remove_batch",
]

FRESH_DAYS = weakness_model.FRESH_DAYS


def pull_forward(
    session: Executor,
    fc: Collection,
    today: date,
    loaded: tuple[matching.TopicIndex, list[matching.TopicAttempts]] | None = None,
    *,
    shrink_only: bool = False,
) -> int:
    """Today's pull-forwards, recomputed (see `services.pullforward`; `shrink_only`: after a
    removal, see `pullforward.recompute`). A queue-level boost: FSRS state is untouched."""
    from flashcore.services import pullforward

    index = None if loaded is None else loaded[0]
    return pullforward.recompute(session, fc, today, index=index, shrink_only=shrink_only)


def list_attempts(fc: Collection) -> list[dict[str, Any]]:
    with reading(fc.engine) as session:
        index = matching.load_index(session, fc.profile_id)
        rows = repos.stored_attempts(session, fc.profile_id)
    matcher = index.matcher()
    matcher.learn(Counter((a.topic, a.category, a.system) for a in rows).items())
    out = []
    for a in rows:
        texts = (a.topic, a.category, a.system)
        m = matching.match_attempt(index, a.source, a.qid, texts, matcher)
        out.append(
            {
                "source": a.source,
                "qid": a.qid,
                "outcome": a.outcome,
                "date": a.on_date.isoformat(),
                "subject": a.subject,
                "system": a.system,
                "category": a.category,
                "topic": a.topic,
                "seconds": a.seconds,
                "batch_id": a.batch_id,
                "matched": m.kind,
            }
        )
    return out


def has_attempts(fc: Collection) -> bool:
    """Whether the profile has imported any question-bank attempt (Home's first-run hint
    shows until it has)."""
    with reading(fc.engine) as session:
        return repos.has_qbank_attempts(session, fc.profile_id)


def list_batches(fc: Collection) -> list[dict[str, Any]]:
    with reading(fc.engine) as session:
        found = repos.batch_summaries(session, fc.profile_id)
    return [
        {
            "batch_id": b.batch_id,
            "imported_at": b.imported_at.isoformat(),
            "source": b.source,
            "format": b.format,
            "origin": b.origin,
            "rows_read": b.rows_read,
            "added": b.added,
            "attempts": b.attempts,
        }
        for b in found
    ]


@dataclass(frozen=True, slots=True)
class BatchRemoval:
    """What `qbank remove` undid: the batch's attempts, and the cards its misses had
    unsuspended that are suspended again (no other batch's miss keeps them out)."""

    attempts: int
    resuspended: int


def remove_batch(fc: Collection, batch_id: int) -> int:
    """Undo a mistaken import: its attempts go (and their tallies), weights and today's
    pull-forwards follow. Returns the attempts removed (`remove_qbank_batch` says more)."""
    return remove_qbank_batch(fc, batch_id).attempts


def remove_qbank_batch(fc: Collection, batch_id: int) -> BatchRemoval:
    """Undo a mistaken import: its attempts go (and their tallies), the cards its misses
    unsuspended are suspended again (unless another batch's miss of their questions keeps
    them), weights and today's pull-forwards follow."""
    today = today_for(fc)

    def work(session: Any) -> BatchRemoval:
        # Before the attempts go: another batch's misses are looked up beside this one's.
        again = repos.resuspend_unsuspended_by(
            session, fc.profile_id, batch_id, matching.MISSED, fc.now()
        )
        removed = repos.remove_batch(session, fc.profile_id, batch_id)
        if removed is None:
            raise NotFoundError(f"no qbank batch {batch_id} (see `flashcore qbank batches`)")
        loaded = weights.refresh_in(session, fc, today)
        pull_forward(session, fc, today, loaded, shrink_only=True)
        return BatchRemoval(attempts=removed, resuspended=len(again))

    return run_write(fc.engine, work)


def add_alias(fc: Collection, alias: str, topic_path: str) -> str:
    """Map qbank topic text to one of the student's topics; weights follow at once."""
    alias = alias.strip()
    problem = name_problem(alias, ALIAS_CHARS)
    key = topic_keys.text_key(alias) if problem is None else ""
    if problem is None and len(key) > TOPIC_KEY_CHARS:
        problem = f"spells out to {len(key):,} characters; at most {TOPIC_KEY_CHARS:,}"
    if problem is not None:
        raise UsageError(f"alias {shown(alias)} {problem}")
    if not key:
        raise FlashcoreError("an alias needs some words")
    today = today_for(fc)

    def work(session: Any) -> str:
        target = repos.topic_path_with_key(session, fc.profile_id, topic_keys.path_key(topic_path))
        if target is None:
            raise NotFoundError(f"no topic {shown(topic_path)} (see `flashcore topics list`)")
        repos.set_alias(session, fc.profile_id, alias, key, target)
        pull_forward(session, fc, today, weights.refresh_in(session, fc, today))
        return target

    return run_write(fc.engine, work)


def list_topics(fc: Collection) -> list[dict[str, Any]]:
    with reading(fc.engine) as session:
        index = matching.load_index(session, fc.profile_id)
        aliases = repos.aliases_by_topic(session, fc.profile_id)
        weight_of = repos.topic_weights(session, fc.profile_id)
    notes_per_topic, _linked = index.notes_below()
    return [
        {
            "topic": path,
            "notes": notes_per_topic.get(topic_id, 0),
            "weight": weight_of.get(topic_id, 0.0),
            "aliases": sorted(aliases.get(path, [])),
        }
        for topic_id, path in sorted(index.paths.items(), key=lambda kv: kv[1].lower())
    ]
