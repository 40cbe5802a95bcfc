"""An import's batch folded into the kept sums of a large history once it is published
(repos.qbank_fold): its attempts counted per group and day from the import's memory, with a
window per group (repos.qbank_windows), written unseen in short steps and shown in one short
write; the weights that follow and the next reports then read none of its attempts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flashcore.services.write_steps import Steps
from flashcore.storage import repos
from flashcore.storage.db import others_commits
from flashcore.storage.uow import run_write_on, transaction

if TYPE_CHECKING:
    from flashcore.services.context import Collection

__all__ = ["Grouped", "fold_into_sums"]

# (group, day) counts or windows worked out per slice in the day rows' pauses (a few us each:
# a slice well under write_steps.PAUSE_S).
SLICE_ROWS = 500


@dataclass(frozen=True, slots=True)
class Grouped:
    """A batch counted per group and day ahead of its fold (`repos.group_days`), with the
    listed question ids it was grouped by, their digest, and `others_commits` when they were
    read: while no other connection has committed since, they are still the listed ids."""

    listed: frozenset[str]
    digest: str
    version: tuple[Any, int] | None
    days: list[repos.DayCount]

    def stands(self, conn: Any) -> bool:  # inside a read transaction
        return self.version is not None and self.version == others_commits(conn)


class _Stopped(Exception):
    """The fold is no longer the import's (a sync summed the attempts afresh meanwhile)."""


def fold_into_sums(
    fc: Collection, conn: Any, claimed: repos.PendingBatch, added: Sequence[Any], owner: str,
    alive: Callable[[str], bool],
    grouped: Grouped | None = None,
) -> bool:  # fmt: skip
    """Fold the batch just published (`added`: its attempts as the import holds them, see
    repos.group_days) into the kept sums; whether it did. Nothing when the profile keeps no
    sums or they do not stand just before the batch (readers then read its attempts by id
    beside the sums, as before), or another import still alive (`alive(owner)`) is folding.
    `grouped`: `added` grouped already (in the copy's pauses), taken only while the ids it
    was grouped by are still the listed ids, else grouped again."""
    with transaction(conn, write=False):
        if not repos.sums_kept(conn, fc.profile_id):
            return False
        if grouped is not None and grouped.stands(conn):
            listed, digest = grouped.listed, grouped.digest  # no other commit since
        else:
            listed, digest = repos.listed_qids(conn, fc.profile_id)
        count, through = repos.batch_extent(conn, claimed.batch_id, claimed.pending_from)
    if not count or count != len(added):
        return False  # not every row saved as held (never expected): read by id
    if grouped is not None and grouped.listed == listed:
        days = grouped.days
    else:
        days = repos.group_days(added, listed)
    begin = functools.partial(
        repos.begin_fold, profile_id=fc.profile_id, owner=owner, listed=digest,
        unfolded=count, through_id=through, alive=alive,
    )  # fmt: skip
    start = run_write_on(conn, begin)
    if start is None:
        return False
    day_rows = repos.stored_days(conn, fc.profile_id, days)
    window_rows: list[repos.WindowRow] = []

    def work_out_windows() -> Iterator[None]:
        """The batch's windows and their rows, in slices (run in the day rows' pauses)."""
        windows = yield from repos.fold_windows_in_slices(
            days, start.settled_before, start.window_day, start.half_life, SLICE_ROWS
        )
        items = list(windows.items())
        for at in range(0, len(items), SLICE_ROWS):
            window_rows.extend(
                repos.stored_windows(conn, fc.profile_id, items[at : at + SLICE_ROWS])
            )
            yield

    steps = Steps(conn)

    def write_days(c: Any, lo: int, hi: int) -> None:
        if not repos.fold_rows(c, fc.profile_id, owner, day_rows[lo:hi], ()):
            raise _Stopped

    def write_windows(c: Any, lo: int, hi: int) -> None:
        if not repos.fold_rows(c, fc.profile_id, owner, (), window_rows[lo:hi]):
            raise _Stopped

    try:
        steps.run(len(day_rows), write_days, meanwhile=work_out_windows())
        steps.run(len(window_rows), write_windows)
    except _Stopped:
        return False
    end = functools.partial(
        repos.end_fold, profile_id=fc.profile_id, owner=owner, start=start,
        through_id=through, count=count,
    )  # fmt: skip
    return bool(run_write_on(conn, end))
