"""The new cards of topics whose first answers fail (core.first_answers, MODE "share"), read for
today's queue: they take a share of each day's new cards (core.introduction.with_probes)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flashcore.core import first_answers
from flashcore.storage.repos import queue as queue_repo

if TYPE_CHECKING:
    from flashcore.storage.repos import Executor


def shared_rows(
    conn: Executor, profile_id: int, scope: Any, now: datetime, fetch: int
) -> list[tuple[Any, ...]]:
    """The new cards the first answers' share offers, the most failed topic's first, each
    topic's in introduction order (CARD_COLUMNS); none unless that share is on."""
    if not first_answers.shares():
        return []
    ratios = queue_repo.first_answer_topics(conn, profile_id)
    if not ratios:
        return []
    rows = queue_repo.new_of_topics(conn, scope, now, ratios, fetch)
    seen: set[int] = set()
    ordered = []
    for r in sorted(rows, key=lambda r: -ratios[r[-1]]):  # stable: positions kept within
        if r[0] not in seen:
            seen.add(r[0])
            ordered.append(r[:-1])
    return ordered[:fetch]
