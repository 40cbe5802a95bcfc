"""Importing a missed-question log: read and check it, stage it, find what is new (no write
lock), then copy the new attempts in a few hundred at a time into a batch no reader sees, and
publish it with its tallies in one short transaction; then refresh the weights and today's
pull-forwards (worked out without the lock, the changes written in short transactions). All-
or-nothing as readers see it; re-importing adds nothing."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice
from typing import IO, TYPE_CHECKING, Any

from flashcore.core.errors import FlashcoreError, IdenticalLogError
from flashcore.services import matching, pullforward, weights
from flashcore.services.context import today_for
from flashcore.services.memory import no_cycle_collection
from flashcore.services.qbank_fold import Grouped, fold_into_sums
from flashcore.services.qbank_summary import ImportReport as ImportReport
from flashcore.services.qbank_summary import Known as _Known
from flashcore.services.qbank_summary import summarize as _summarize
from flashcore.services.write_steps import Steps, drop_batch
from flashcore.storage import repos
from flashcore.storage import today as today_repo
from flashcore.storage.checkpoint import Checkpoint, defer_checkpoint
from flashcore.storage.db import others_commits
from flashcore.storage.qbank_stage import HeldStage, Progress, Stage, stage_for
from flashcore.storage.repos import weights as weights_repo
from flashcore.storage.uow import run_write_on, session_on, transaction

if TYPE_CHECKING:
    from flashcore.services.context import Collection
    from flashcore.storage.repos import Executor

__all__ = ["MEMORY_BYTES", "PASTE_WARN_ROWS", "ImportReport", "Progress", "import_log"]


# A UWorld block holds at most 40 questions: a longer paste with every row counted incorrect
# (no result column) most likely holds the correct answers too.
PASTE_WARN_ROWS = 40
MEMORY_BYTES = 16 << 20  # logs up to this size are held in memory; larger ones are staged


@no_cycle_collection()  # its passes cost ~0.3 CPU-s at 200k cards, 1.1M attempts
def import_log(
    fc: Collection,
    data: bytes | str | os.PathLike[str] | IO[bytes],
    *,
    origin: str,
    fmt: str = "auto",
    source: str = "uworld",
    on_date: date | None = None,
    outcome: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    again: bool = False,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> ImportReport:
    """Import one log (bytes, a file's path, or a binary stream such as stdin). A file with bad
    rows changes nothing (QbankFormatError lists them all) unless `skip_invalid`; re-importing
    adds nothing; an identical paste needs `again`.

    The log is read, checked and staged in a temporary table without the write lock (a log
    up to MEMORY_BYTES is also held in memory to find duplicates quickly); the write lock is
    held only in short transactions (see `_Writer`): a reviewer answering meanwhile waits a
    few milliseconds at most, and readers see the import whole or not at all.
    `progress(phase, done, total)` hears of the reading (bytes) and the saving (rows). Once
    `cancel` is set the import stops at its next step with KeyboardInterrupt, nothing visible
    (its unpublished rows removed); after the publish it is too late and is ignored.
    """
    from flashcore.importers.qbank import LogSource, QbankReader

    _check(cancel)
    today = today_for(fc)
    with LogSource(data) as log, fc.engine.connect() as conn:
        reader = QbankReader(
            log,
            path=origin,
            fmt=fmt,
            source=source.strip().lower() or "uworld",
            default_date=on_date or today,
            outcome=outcome,
            skip_invalid=skip_invalid,
            latest=today + timedelta(days=1),
        )
        sqlite = conn.dialect.name == "sqlite"
        held = log.size <= MEMORY_BYTES
        stage = stage_for(conn, fc.profile_id, sqlite, held)
        try:
            if not dry_run:
                _finish_left(fc, conn, today)
            _read_into(conn, reader, stage, progress, cancel)
            report = ImportReport(
                rows_read=reader.rows_read,
                skipped_invalid=[str(p) for p in reader.skipped],
                format=reader.format,
                dry_run=dry_run,
            )
            batch = _Batch(fc, source, reader.format, origin, reader.content_hash, again)
            with transaction(conn, write=False):
                batch.refuse_identical(conn)
                seen = repos.last_published(conn, fc.profile_id)
                known = _summarize(conn, fc, stage, report)
                report.warnings = _paste_warnings(reader.format, reader.rows_read, stage)
            _check(cancel)
            if dry_run:
                return report
            # No copy before the import: it is one batch, undone whole by `qbank remove`
            # (issue 13: a full copy before every import took minutes and gigabytes at 200k).
            writer = _Writer(fc, conn, today, batch, reader.rows_read, stage, report, known)
            return writer.run(seen, progress, cancel)
        finally:
            stage.close()


def _read_into(
    conn: Any, reader: Any, stage: Stage, progress: Progress | None,
    cancel: threading.Event | None,
) -> None:  # fmt: skip
    """Read the whole log into the stage (no write lock: a read transaction)."""
    with transaction(conn, write=False):
        for chunk in reader.chunks():
            _check(cancel)
            if chunk is None:
                stage.reset()
            else:
                stage.add(chunk)
            if progress is not None:
                progress("reading", reader.position, reader.size)


# Imports into one profile take turns: one that finds another's batch still being written
# looks again every WAIT_POLL_S, up to WAIT_S (a batch left by an import that died is removed).
WAIT_POLL_S = 0.1
WAIT_S = 900.0

_LIVE: set[str] = set()  # this process's imports writing now (their owner strings)


class _Writer:
    """An import's writes, in short transactions: claim a batch no reader sees yet, copy the
    new attempts into it a few hundred at a time, publish it with its tallies and unsuspended
    cards in one short transaction (all or nothing, as readers see it), then work out the
    weights and pull-forwards without the lock and write what changed, again in steps. A kill
    or Ctrl-C before the publish leaves an unpublished batch that no reader sees: the next
    import into the profile removes it (this one does on Ctrl-C)."""

    def __init__(
        self, fc: Collection, conn: Any, today: date, batch: _Batch, rows_read: int,
        stage: Stage, report: ImportReport, known: _Known,
    ) -> None:  # fmt: skip
        self.fc, self.conn, self.today, self.batch = fc, conn, today, batch
        self.rows_read, self.stage, self.report, self.known = rows_read, stage, report, known
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.steps = Steps(conn)

    def run(self, seen: int, progress: Progress | None,
            cancel: threading.Event | None) -> ImportReport:  # fmt: skip
        _LIVE.add(self.owner)
        checkpoint: Checkpoint | None = None
        try:
            if self.report.added == 0:
                return self._nothing_new()
            claimed = self._claim(seen, cancel)
            if self.report.added == 0:  # another import published them meanwhile
                drop_batch(self.conn, claimed)
                return self._nothing_new()
            # The copy's log (~40 MB for 100,000 rows) is checkpointed after the publish, in
            # a thread beside the fold and the weights, not by whichever step's commit filled
            # it (storage.checkpoint; SQLite only).
            deferred = defer_checkpoint(self.conn)
            try:
                copied, ready = self._copy(claimed, progress, cancel)
                self._publish(claimed, copied, ready.tallies)
            except BaseException:
                drop_batch(self.conn, claimed)
                raise
            if deferred:
                checkpoint = Checkpoint(self.fc.engine)
            # Published: the import is done whatever happens next (Ctrl-C is ignored); the
            # weights follow it (a kill now leaves them to the next import or study day).
            hint = self.stage.refresh_hint(claimed.batch_id)
            if "added" in hint and _keeps_sums(self.fc, self.conn):
                hint["added"] = ready.added if ready.added is not None else list(hint["added"])
                fold_into_sums(self.fc, self.conn, claimed, hint["added"], self.owner, _alive,
                               grouped=ready.grouped)  # fmt: skip
            # The latest day of the batch from the rows listed for the fold (else read back: a
            # small history's rows stay a generator the refresh consumes).
            rows, held, latest = hint.get("added"), None, None
            if isinstance(rows, list):
                held = today_repo.HeldBatch(claimed.batch_id, claimed.pending_from, rows)
                latest = max((a[3] for a in rows), default=None)
            elif ready.added_groups is not None and ready.index is not None:
                hint["grouped_by"] = (ready.index, ready.added_groups)
            self.report.pulled_forward, self.report.pulled_forward_new = _reweigh(
                self.fc, self.conn, self.today, [claimed.batch_id], self.steps, hint,
                latest=[(claimed.batch_id, claimed.pending_from, latest)], held=held,
                known=self.known,
            )  # fmt: skip
            self.report.batch_id = claimed.batch_id
            return self.report
        finally:
            if checkpoint is not None:
                checkpoint.wait()
            _LIVE.discard(self.owner)

    def _nothing_new(self) -> ImportReport:
        """Every row already imported: no batch is made (there is nothing to undo, and `qbank
        batches` lists no empty one; `batch_id` stays None); the weights and today's
        pull-forwards are still worked out, as after any import."""
        self.report.pulled_forward, self.report.pulled_forward_new = _reweigh(
            self.fc, self.conn, self.today, [], self.steps, {}, known=self.known
        )
        return self.report

    def _claim(self, seen: int, cancel: threading.Event | None) -> repos.PendingBatch:
        """A batch of our own, once no other import of the profile is writing one (a batch
        left by an import that died is removed first). If another import published since the
        log was summarized, it is summarized again (its attempts are duplicates now)."""
        fc, conn = self.fc, self.conn
        waited = 0.0
        while True:
            _check(cancel)

            def attempt(
                c: Any,
            ) -> tuple[list[repos.PendingBatch], tuple[repos.PendingBatch, int] | None]:
                others = repos.pending_batches(c, fc.profile_id, lock=True)
                if others:
                    return others, None
                self.batch.refuse_identical(c)
                mine = self.batch.claim(c, self.rows_read, self.owner)
                return [], (mine, repos.last_published(c, fc.profile_id))

            others, got = run_write_on(conn, attempt)
            if got is not None:
                mine, newest = got
                if newest != seen or waited:
                    with transaction(conn, write=False):
                        self.known = _summarize(conn, fc, self.stage, self.report)
                return mine
            stale = [p for p in others if not _alive(p.owner)]
            for p in stale:
                drop_batch(conn, p)
            if stale:
                waited += 1e-9  # summarize again once claimed
                continue
            if waited >= WAIT_S:
                raise FlashcoreError(
                    f"another import into this profile is still writing (batch "
                    f"{others[0].batch_id}, {others[0].owner}); try again when it is done"
                )
            time.sleep(WAIT_POLL_S)
            waited += WAIT_POLL_S

    def _copy(self, claimed: repos.PendingBatch, progress: Progress | None,
              cancel: threading.Event | None) -> tuple[int, _Ready]:  # fmt: skip
        """The new attempts into the unpublished batch, in steps; how many were copied, and
        what the publish and the fold need from a held log (`_Ready`), worked out in the
        pauses between the steps (the write lock is free meanwhile, as when they slept)."""
        ready = _Ready()
        with transaction(self.conn, write=False):
            total = self.stage.order()
            if isinstance(self.stage, HeldStage) and repos.sums_kept(self.conn, self.fc.profile_id):
                ready.listed = repos.listed_qids(self.conn, self.fc.profile_id)
                ready.version = others_commits(self.conn)
            elif (
                isinstance(self.stage, HeldStage)
                and self.known.version is not None  # it may stand (SQLite: see _Known)
                and repos.tallied_attempts(self.conn, self.fc.profile_id) + total
                < matching.SUM_IN_DATABASE_FROM
            ):  # the weights will count the rows from memory (matching.match_all)
                ready.index = self.known.index
        copied = 0

        def write(c: Any, start: int, stop: int) -> None:
            nonlocal copied
            copied += self.stage.save_rows(c, claimed.batch_id, start, stop)

        def step(done: int) -> None:
            _check(cancel)
            if progress is not None:
                progress("saving", done, total)

        meanwhile = ready.work_out(self.stage, claimed.batch_id)
        self.steps.run(total, write, step, meanwhile=meanwhile)
        return copied, ready

    def _publish(
        self, claimed: repos.PendingBatch, copied: int, counted: list[repos.TextTally] | None
    ) -> None:
        """One short transaction: the batch and its attempts become visible with their
        tallies (`counted`: worked out already), and the suspended cards its misses bring
        back are unsuspended."""
        fc, conn = self.fc, self.conn
        unsuspend: list[int] = []
        with transaction(conn, write=False):
            tallies = self.stage.tallies() if counted is None else counted
            if fc.settings.unsuspend_on_miss:
                unsuspend = repos.missed_suspended(
                    conn, fc.profile_id, claimed.batch_id, matching.MISSED,
                    from_id=claimed.pending_from,
                )  # fmt: skip

        def work(c: Any) -> list[int]:
            repos.publish_batch(c, claimed.batch_id, copied)
            repos.add_tallies(c, fc.profile_id, tallies)
            return repos.unsuspend_by_batch(c, unsuspend, claimed.batch_id, fc.now())

        self.report.unsuspended = len(run_write_on(conn, work))
        if copied != self.report.added:  # never expected: imports into a profile take turns
            self.report.duplicates += self.report.added - copied
            self.report.added = copied


# Rows of a held log worked out per slice of `_Ready.work_out` (~0.5-1.2 us a row: a slice
# well under write_steps.PAUSE_S).
SLICE_ROWS = 1_000


@dataclass(slots=True)
class _Ready:
    """What the publish and the fold need from a log held in memory, worked out from it in
    slices (`work_out`) while the copy pauses: the tallies, the rows the weights count
    (`refresh_hint`'s, as a list) and, given the profile's `listed` question ids and their
    digest (when it keeps sums, read with `version`), the batch grouped for its fold."""

    listed: tuple[frozenset[str], str] | None = None
    version: tuple[Any, int] | None = None
    tallies: list[repos.TextTally] | None = None
    added: list[Any] | None = None
    grouped: Grouped | None = None
    # Without sums: the index the summary matched with, and the rows grouped by its question
    # ids as the weights count them (taken while it stands: see `_reweigh`).
    index: matching.TopicIndex | None = None
    added_groups: matching.AddedGroups | None = None

    def work_out(self, stage: Stage, batch_id: int) -> Iterator[None]:
        if not isinstance(stage, HeldStage):
            return
        if self.listed is None:
            self.tallies = yield from stage.tallies_in_slices(SLICE_ROWS)
            if self.index is not None:
                rows = stage.refresh_hint(batch_id)["added"]
                qid_notes = self.index.qid_notes
                groups = yield from matching.group_added(qid_notes, rows, SLICE_ROWS)
                self.added_groups = groups
            return
        rows = stage.refresh_hint(batch_id)["added"]
        added: list[Any] = []
        while part := list(islice(rows, SLICE_ROWS)):
            added += part
            yield
        self.added = added
        listed, digest = self.listed
        days = yield from repos.group_days_in_slices(added, listed, SLICE_ROWS)
        self.grouped = Grouped(listed, digest, self.version, days)
        self.tallies = yield from repos.tallies_of_days(days, SLICE_ROWS)


def _keeps_sums(fc: Collection, conn: Any) -> bool:
    """Whether the profile keeps qbank sums (a large history's reports started them)."""
    with transaction(conn, write=False):
        return repos.sums_kept(conn, fc.profile_id)


def _reweigh(
    fc: Collection, conn: Any, today: date, batch_ids: list[int], steps: Steps,
    hint: dict[str, Any], latest: Sequence[tuple[int, int, str | None]] = (),
    held: today_repo.HeldBatch | None = None, known: _Known | None = None,
) -> tuple[int, int]:  # fmt: skip
    """The weights and today's pull-forwards after published batches, worked out in a read
    transaction (even with nothing new: an import is one of the places that computes them),
    then written: the cards whose weight changed in steps; the topics, the pull-forwards, the
    day's stamp and the batches' end (with `latest`: a batch, its first attempt id and the
    latest day of its attempts held in memory, see repos.note_latest_day) in one short
    transaction. `held`: a batch whose attempts the import holds (see pullforward.choose);
    `known`: see `_Known`. How many cards today's queue has pulled forward, and how many of
    them it did not have before."""
    hint = dict(hint)
    grouped_by, groups = hint.pop("grouped_by", (None, None))
    with transaction(conn, write=False), session_on(conn) as session:
        index = known.index if known is not None and known.stands(conn) else None
        if index is not None and index is grouped_by:  # grouped by this very index
            hint["added_groups"] = groups
        found = weights.plan_refresh(session, fc, today, index=index, **hint)
        chosen = pullforward.choose(
            session, fc, today, index=found.index, held=held, learned=found.learned,
            shares=found.shares,
        )  # fmt: skip
        before = today_repo.pulled_forward(conn, fc.profile_id, today)
        days = [
            (batch_id, repos.batch_latest_day(conn, batch_id, first) if held is None
             else date.fromisoformat(held))
            for batch_id, first, held in latest
        ]  # fmt: skip
    changed = found.cards

    def write(c: Any, start: int, stop: int) -> None:
        weights_repo.update_card_weights(c, changed[start:stop])

    steps.run(len(changed), write)

    def finish(c: Any) -> None:
        weights.apply_refresh(c, fc, found, cards=False)
        today_repo.replace_pull_forwards(c, fc.profile_id, today, chosen)
        repos.finish_batch(c, batch_ids)
        for batch_id, day in days:
            repos.note_latest_day(c, batch_id, day)

    run_write_on(conn, finish)
    return len(chosen), len(chosen.keys() - before.keys())


def _finish_left(fc: Collection, conn: Any, today: date) -> None:
    """Write the weights an import that died after publishing its batch left unwritten."""
    with transaction(conn, write=False):
        left = repos.reweighing_batches(conn, fc.profile_id)
    dead = [batch_id for batch_id, owner in left if not _alive(owner)]
    if dead:
        _reweigh(fc, conn, today, dead, Steps(conn), {})


def _alive(owner: str) -> bool:
    """Whether the import that wrote `owner` may still be running: one of this process's, or
    another process of this host that is still alive (not a zombie); another host's cannot
    be told, and counts as alive."""
    host, _, rest = owner.partition(":")
    pid_text, _, _token = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return owner in _LIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _paste_warnings(fmt: str, rows_read: int, stage: Stage) -> list[str]:
    if fmt != "uworld" or rows_read <= PASTE_WARN_ROWS or not stage.all_incorrect():
        return []
    return [
        f"all {rows_read} pasted rows count as incorrect: paste only the questions you "
        "missed (a UWorld block holds at most 40); a paste that holds correct answers too "
        "can be undone with `flashcore qbank remove BATCH_ID`"
    ]


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise KeyboardInterrupt


@dataclass(slots=True)
class _Batch:
    fc: Collection
    source: str
    format: str
    origin: str
    digest: str
    again: bool

    def refuse_identical(self, conn: Executor) -> None:
        if self.again:
            return
        earlier = repos.identical_batch(conn, self.fc.profile_id, self.digest)
        if earlier is not None:
            when = self.fc.settings.local_minute(earlier.imported_at)
            raise IdenticalLogError(
                f"{self.origin}: identical to batch {earlier.batch_id} imported {when}; "
                "nothing added (use --again to import it anyway)",
                batch_id=earlier.batch_id,
                imported_at=when,
            )

    def claim(self, conn: Executor, rows_read: int, owner: str) -> repos.PendingBatch:
        return repos.claim_batch(
            conn, self.fc.profile_id, source=self.source, fmt=self.format, origin=self.origin,
            digest=self.digest, imported_at=self.fc.now(), rows_read=rows_read, owner=owner,
        )  # fmt: skip
