"""Importing a missed-question log: read and check it, stage it, find what is new, then in
one transaction copy the new attempts in, count them into the tallies, refresh the weights and
today's pull-forwards. All-or-nothing; re-importing adds nothing."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import IO, TYPE_CHECKING, Any

from flashcore.core.errors import FlashcoreError
from flashcore.core.matching import own_text
from flashcore.services import matching, pullforward, weights
from flashcore.services.context import today_for
from flashcore.storage import repos
from flashcore.storage.qbank_stage import HeldStage, Progress, Stage
from flashcore.storage.uow import run_write_on, session_on, transaction

if TYPE_CHECKING:
    from flashcore.services.context import Collection
    from flashcore.storage.repos import Executor

__all__ = ["MEMORY_BYTES", "PASTE_WARN_ROWS", "ImportReport", "Progress", "import_log"]


@dataclass(slots=True)
class ImportReport:
    rows_read: int = 0
    added: int = 0
    duplicates: int = 0
    skipped_invalid: list[str] = field(default_factory=list)
    misses: int = 0
    matched_card: int = 0
    matched_topic: int = 0
    matched_none: int = 0
    unmatched_topics: list[str] = field(default_factory=list)
    unmatched_qids: list[str] = field(default_factory=list)
    pulled_forward: int = 0
    unsuspended: int = 0  # suspended cards a missed question id brought back (unsuspend_on_miss)
    batch_id: int | None = None
    format: str = ""
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "format": self.format,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "added": self.added,
            "duplicates": self.duplicates,
            "skipped_invalid": self.skipped_invalid,
            "misses": self.misses,
            "matched": {
                "card": self.matched_card,
                "topic": self.matched_topic,
                "none": self.matched_none,
            },
            "unmatched_topics": self.unmatched_topics,
            "unmatched_qids": self.unmatched_qids,
            "pulled_forward": self.pulled_forward,
            "unsuspended": self.unsuspended,
            "warnings": self.warnings,
        }


# A UWorld block holds at most 40 questions: a longer paste with every row counted incorrect
# (no result column) most likely holds the correct answers too.
PASTE_WARN_ROWS = 40
MEMORY_BYTES = 16 << 20  # logs up to this size are held in memory; larger ones are staged


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
    held only to copy the new attempts in, refresh the weights and commit: one transaction, so
    an import is whole or absent. `progress(phase, done, total)` hears of the reading (bytes)
    and the saving (rows). Once `cancel` is set the import stops at its next step with
    KeyboardInterrupt, nothing written; after the commit it is too late and is ignored.
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
        stage = (HeldStage if held else Stage)(conn, fc.profile_id, sqlite)
        try:
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
                _summarize(conn, fc, stage, report)
                report.warnings = _paste_warnings(reader.format, reader.rows_read, stage)
            _check(cancel)
            if dry_run:
                return report
            # No copy before the import: it is one batch, undone whole by `qbank remove`
            # (issue 13: a full copy before every import took minutes and gigabytes at 200k).

            work = _saving(fc, today, batch, reader.rows_read, stage, report, progress, cancel)
            for _attempt in range(3):
                try:
                    return run_write_on(conn, work)
                except _Raced:
                    with transaction(conn, write=False):
                        _summarize(conn, fc, stage, report)
            raise FlashcoreError("other imports kept adding the same attempts; try again")
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


def _saving(
    fc: Collection, today: date, batch: _Batch, rows_read: int, stage: Stage,
    report: ImportReport, progress: Progress | None, cancel: threading.Event | None,
) -> Callable[[Any], ImportReport]:  # fmt: skip
    """The import's write transaction: the batch, its new attempts and their tallies, the
    unsuspended cards, the weights and today's pull-forwards."""

    def work(conn: Any) -> ImportReport:
        batch.refuse_identical(conn)
        batch_id = batch.insert(conn, rows_read, report.added)
        copied = stage.save(conn, batch_id, progress, lambda: _check(cancel))
        if copied != report.added:  # another import took some of them meanwhile
            raise _Raced
        repos.add_tallies(conn, fc.profile_id, stage.tallies())
        if fc.settings.unsuspend_on_miss:
            report.unsuspended = len(
                repos.unsuspend_missed(conn, fc.profile_id, batch_id, matching.MISSED, fc.now())
            )
        # Even with nothing new, today's pull-forwards are recomputed (the only place besides
        # aliases and removals that computes them).
        with session_on(conn) as session:
            loaded = weights.refresh_in(session, fc, today, **stage.refresh_hint(batch_id))
            report.pulled_forward = pullforward.recompute(session, fc, today, index=loaded[0])
        _check(cancel)
        report.batch_id = batch_id
        return report

    return work


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


class _Raced(Exception):
    """Another import stored some of this log's attempts after they were counted."""


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
            raise FlashcoreError(
                f"{self.origin}: identical to batch {earlier.batch_id} imported "
                f"{earlier.imported_at:%Y-%m-%d %H:%M} UTC; nothing added "
                "(use --again to import it anyway)"
            )

    def insert(self, conn: Executor, rows_read: int, added: int) -> int:
        return repos.insert_batch(
            conn, self.fc.profile_id, source=self.source, fmt=self.format, origin=self.origin,
            digest=self.digest, imported_at=self.fc.now(), rows_read=rows_read, added=added,
        )  # fmt: skip


def _summarize(conn: Any, fc: Collection, stage: Stage, report: ImportReport) -> None:
    """New rows and duplicates; the new misses matched to cards, topics or nothing."""
    report.added, report.duplicates = stage.dedupe()
    report.misses = report.matched_card = report.matched_topic = report.matched_none = 0
    with session_on(conn) as session:
        index = matching.load_index(session, fc.profile_id)
        counts = Counter[str]()
        matches: dict[tuple[str, str, str, str, str], str] = {}
        unmatched: list[tuple[tuple[str, str, str], str]] = []  # (texts, bank:qid), log order
        matcher = index.matcher()
        for bank, qid, topic, category, system in stage.new_misses():
            texts = (topic, category, system)
            key = (bank, qid, *texts) if (bank, qid) in index.qid_notes else ("", "", *texts)
            kind = matches.get(key)
            if kind is None:
                if len(matches) > 100_000:
                    matches.clear()
                kind = matches[key] = matching.match_attempt(index, bank, qid, texts, matcher).kind
            counts[kind] += 1
            if kind == "none":
                unmatched.append((texts, f"{bank}:{qid}"))
        missed_texts = Counter(texts for texts, _qid in unmatched)
        labels = {texts: own_text(texts) for texts in missed_texts}
        if any(labels.values()):
            # A topic text may stand for the leaf that fuller rows name: learn it from the
            # stored attempts and this log's misses, and look again at what matched nothing.
            # (This log's correct answers are left out: reading them all costs more than the
            # summary is worth; the weights, refreshed next, learn from every row.)
            matcher = matching.learned_matcher(session, fc.profile_id, index, missed_texts.items())
            found = {t for t in missed_texts if labels[t] and matcher.resolve(t) is not None}
            if found:
                moved = sum(missed_texts.pop(t) for t in found)
                counts["none"] -= moved
                counts["topic"] += moved
                unmatched = [(t, label) for t, label in unmatched if t not in found]
    unmatched_topics: Counter[str] = Counter()
    for texts, n in missed_texts.items():
        if labels[texts]:
            unmatched_topics[labels[texts]] += n
    report.misses = sum(counts.values())
    report.matched_card = counts["card"]
    report.matched_topic = counts["topic"]
    report.matched_none = counts["none"]
    report.unmatched_topics = [t for t, _n in unmatched_topics.most_common()]
    report.unmatched_qids = [label for _texts, label in unmatched]
