"""The topics' scores kept between reports (schema 0026, `storage.scores_kept`): the stamp of
what they are made from as the database holds it now, and the kept row read, stored and
forgotten. The scores themselves are encoded by `services.kept_scores`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, text

from flashcore.storage.light_rules import qbank_text
from flashcore.storage.repos.qbank_sums_rows import _state
from flashcore.storage.scores_kept import topic_scores_kept
from flashcore.storage.tables_qbank import qbank_batches, qbank_tallies

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

__all__ = ["clear_kept_scores", "keep_scores", "kept_scores", "qbank_stamp"]


def qbank_stamp(conn: Executor, profile_id: int) -> str:
    """What the profile's qbank attempts are as a report reads them, as text (inside the
    caller's read transaction): the kept sums' state (as readers read it: the import folding
    now left out), every batch's id, content hash, attempts added and first unpublished id
    (a batch imported, published, removed or undone changes it; ids only grow), and the
    tallies' count (a repair that replaces them forgets the kept scores too)."""
    state = _state(conn, profile_id)
    read = None
    if state is not None:
        read = (
            state.half_life, state.settled_before.isoformat(), state.last_attempt_id,
            state.attempts, state.listed,
            None if state.window_day is None else state.window_day.isoformat(),
            state.sums_upto, state.windows_upto,
        )  # fmt: skip
    b = qbank_batches.c
    batches = [
        (int(i), str(h), int(n), None if p is None else int(p))
        for i, h, n, p in conn.execute(
            select(b.id, b.content_hash, b.added, b.pending_from)
            .where(b.profile_id == profile_id)
            .order_by(b.id)
        )
    ]
    t = qbank_tallies.c
    rows, attempts, misses = conn.execute(
        select(func.count(), func.coalesce(func.sum(t.attempts), 0),
               func.coalesce(func.sum(t.misses), 0)).where(t.profile_id == profile_id)
    ).one()  # fmt: skip
    return qbank_text(read, batches, (int(rows), int(attempts), int(misses)))


def kept_scores(conn: Executor, profile_id: int, stamp: str) -> str | None:
    """The kept scores' payload if they were made from what `stamp` says, else None."""
    c = topic_scores_kept.c
    return conn.execute(
        select(c.payload).where(c.profile_id == profile_id, c.stamp == stamp)
    ).scalar_one_or_none()


# One statement both dialects run alike: a report and an import keeping at once on PostgreSQL
# update one row in turn, where a delete and an insert could fail on the key.
_KEEP = text(
    "INSERT INTO topic_scores_kept (profile_id, stamp, payload) VALUES (:profile, :stamp, "
    ":payload) ON CONFLICT (profile_id) DO UPDATE SET stamp = excluded.stamp, "
    "payload = excluded.payload"
)


def keep_scores(conn: Executor, profile_id: int, stamp: str, payload: str) -> None:
    """(A write.) Keep these scores, made from what `stamp` says, in place of any kept."""
    conn.execute(_KEEP, {"profile": profile_id, "stamp": stamp, "payload": payload})


def clear_kept_scores(conn: Executor, profile_id: int) -> None:
    """(A write.) Forget the profile's kept scores."""
    conn.execute(delete(topic_scores_kept).where(topic_scores_kept.c.profile_id == profile_id))
