"""Missed-question logs: import (all-or-nothing, deduplicated), list, batches, remove; topic
aliases; and the pull-forward of weak topics' cards into today's queue."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from flashcore.core import topics as topic_keys
from flashcore.core import weakness as weakness_model
from flashcore.core.errors import FlashcoreError, NotFoundError, UsageError
from flashcore.core.matching import own_text
from flashcore.core.text import ALIAS_CHARS, TOPIC_KEY_CHARS, name_problem, shown
from flashcore.services import matching, weights
from flashcore.services.context import today_for
from flashcore.storage import repos
from flashcore.storage.models import (
    QbankAttempt,
    QbankBatch,
    Topic,
    TopicAlias,
)
from flashcore.storage.repos import has_qbank_attempts
from flashcore.storage.uow import reading, run_write, run_write_on, transaction

if TYPE_CHECKING:
    from flashcore.importers.qbank import Row
    from flashcore.services.context import Collection

FRESH_DAYS = weakness_model.FRESH_DAYS


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


Progress = Callable[[str, int, int], None]  # (phase "reading" | "saving", done, total)

# A UWorld block holds at most 40 questions: a longer paste with every row counted incorrect
# (no result column) most likely holds the correct answers too.
PASTE_WARN_ROWS = 40
MEMORY_BYTES = 16 << 20  # logs up to this size are held in memory; larger ones are staged
SAVE_ROWS = 200_000  # staged rows copied per statement (progress and Ctrl-C between them)
_LOAD_KNOWN = 300_000  # existing fingerprints in the log's dates loaded at most at once
_LOOK_UP = 4_000  # a log with up to this many attempts looks each one up instead
_COLUMNS = "fingerprint, source, qid, outcome, on_date, subject, system, category, topic, seconds"


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
        stage = (_HeldStage if held else _Stage)(conn, fc.profile_id, sqlite)
        try:
            with transaction(conn, write=False):
                for chunk in reader.chunks():
                    _check(cancel)
                    if chunk is None:
                        stage.reset()
                    else:
                        stage.add(chunk)
                    if progress is not None:
                        progress("reading", reader.position, reader.size)
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

            def work(conn: Connection) -> ImportReport:
                batch.refuse_identical(conn)
                batch_id = batch.insert(conn, reader.rows_read, report.added)
                copied = stage.save(conn, batch_id, progress, cancel)
                if copied != report.added:  # another import took some of them meanwhile
                    raise _Raced
                if fc.settings.unsuspend_on_miss:
                    report.unsuspended = len(
                        repos.unsuspend_missed(
                            conn, fc.profile_id, batch_id, matching.MISSED, fc.now()
                        )
                    )
                # Even with nothing new, today's pull-forwards are recomputed (the only
                # place besides aliases and removals that computes them).
                with Session(bind=conn) as session:
                    loaded = weights.refresh_in(session, fc, today, **stage.refresh_hint(batch_id))
                    report.pulled_forward = pull_forward(session, fc, today, loaded)
                _check(cancel)
                report.batch_id = batch_id
                return report

            for _attempt in range(3):
                try:
                    return run_write_on(conn, work)
                except _Raced:
                    with transaction(conn, write=False):
                        _summarize(conn, fc, stage, report)
            raise FlashcoreError("other imports kept adding the same attempts; try again")
        finally:
            stage.close()


def _paste_warnings(fmt: str, rows_read: int, stage: _Stage) -> list[str]:
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

    def refuse_identical(self, conn: Connection) -> None:
        if self.again:
            return
        earlier = conn.execute(
            select(QbankBatch.id, QbankBatch.imported_at).where(
                QbankBatch.profile_id == self.fc.profile_id, QbankBatch.content_hash == self.digest
            )
        ).first()
        if earlier is not None:
            raise FlashcoreError(
                f"{self.origin}: identical to batch {earlier.id} imported "
                f"{earlier.imported_at:%Y-%m-%d %H:%M} UTC; nothing added "
                "(use --again to import it anyway)"
            )

    def insert(self, conn: Connection, rows_read: int, added: int) -> int:
        batch_id = conn.execute(
            insert(QbankBatch)
            .values(
                profile_id=self.fc.profile_id,
                source=self.source,
                format=self.format,
                origin=self.origin,
                content_hash=self.digest,
                imported_at=self.fc.now(),
                rows_read=rows_read,
                added=added,
            )
            .returning(QbankBatch.id)
        ).scalar_one()
        return int(batch_id)


class _Stage:
    """Where a log's rows wait between reading and saving: a temporary table on the import's
    connection (it holds no lock on the collection), rows numbered in the log's order. Which
    rows are new is found in SQL: a row is a duplicate of an earlier one with the same
    fingerprint, or of an attempt the profile already has."""

    def __init__(self, conn: Connection, profile_id: int, sqlite: bool) -> None:
        self.conn = conn
        self.profile_id = int(profile_id)
        self.sqlite = sqlite
        self.mark = "?" if sqlite else "%s"
        self.table = "temp.qbank_stage" if sqlite else "pg_temp.qbank_stage"
        self.created = False
        self.marked = False  # the dup column is up to date

    def _create(self) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table}")
        seq = "INTEGER PRIMARY KEY" if self.sqlite else "BIGSERIAL PRIMARY KEY"
        day = "TEXT" if self.sqlite else "DATE"
        self.conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE qbank_stage (seq {seq}, fingerprint TEXT NOT NULL, "
            f"source TEXT, qid TEXT, outcome TEXT, on_date {day}, subject TEXT, system TEXT, "
            "category TEXT, topic TEXT, seconds INTEGER, line INTEGER, "
            "dup INTEGER NOT NULL DEFAULT 0)"
        )
        self.created = True

    def reset(self) -> None:
        if self.created:
            self.conn.exec_driver_sql(f"DELETE FROM {self.table}")

    def add(self, rows: list[Row]) -> None:
        if not self.created:
            self._create()
        marks = ", ".join([self.mark] * 11)
        cursor = self.conn.connection.cursor()
        try:
            cursor.executemany(
                f"INSERT INTO {self.table} ({_COLUMNS}, line) VALUES ({marks})", rows
            )
        finally:
            cursor.close()

    def dedupe(self) -> tuple[int, int]:
        """(new rows, duplicates)."""
        if not self.created:
            return 0, 0
        t = self.table
        run = self.conn.exec_driver_sql
        run(f"UPDATE {t} SET dup = 0 WHERE dup = 1")
        index = "temp.qbank_stage_fp" if self.sqlite else "qbank_stage_fp"
        run(f"CREATE INDEX IF NOT EXISTS {index} ON qbank_stage (fingerprint, seq)")
        run(
            f"UPDATE {t} SET dup = 1 WHERE EXISTS (SELECT 1 FROM {t} AS e WHERE "
            "e.fingerprint = qbank_stage.fingerprint AND e.seq < qbank_stage.seq)"
        )
        run(
            f"UPDATE {t} SET dup = 1 WHERE dup = 0 AND EXISTS (SELECT 1 FROM qbank_attempts "
            f"AS q WHERE q.profile_id = {self.profile_id} "
            "AND q.fingerprint = qbank_stage.fingerprint)"
        )
        self.marked = True
        new, total = run(f"SELECT count(*) - coalesce(sum(dup), 0), count(*) FROM {t}").one()
        return int(new), int(total) - int(new)

    def new_misses(self) -> Iterator[tuple[str, str, str, str, str]]:
        """(source, qid, topic, category, system) of each new incorrect or omitted row, in the
        log's order."""
        if not self.created:
            return
        missed = ", ".join(f"'{o}'" for o in matching.MISSED)
        result = self.conn.exec_driver_sql(
            f"SELECT source, qid, topic, category, system FROM {self.table} "
            f"WHERE dup = 0 AND outcome IN ({missed}) ORDER BY seq",
            execution_options={"stream_results": True, "max_row_buffer": 5000},
        )
        for row in result:
            yield row[0], row[1], row[2], row[3], row[4]

    def all_incorrect(self) -> bool:
        """Whether every row read counts as incorrect."""
        if not self.created:
            return False
        other = self.conn.exec_driver_sql(
            f"SELECT 1 FROM {self.table} WHERE outcome <> 'incorrect' LIMIT 1"
        ).first()
        return other is None

    def save(
        self,
        conn: Connection,
        batch_id: int,
        progress: Progress | None,
        cancel: threading.Event | None,
    ) -> int:
        """Copy the new rows into qbank_attempts, in fingerprint order (the unique index is
        appended to in order), skipping any fingerprint the profile already has; returns the
        number copied."""
        if not self.created:
            return 0
        low, high = conn.exec_driver_sql(
            f"SELECT coalesce(min(seq), 1) - 1, coalesce(max(seq), 0) FROM {self.table}"
        ).one()
        new = "dup = 0 AND " if self.marked else ""
        sql = (
            f"INSERT INTO qbank_attempts (profile_id, batch_id, {_COLUMNS}) "
            f"SELECT {self.profile_id}, {int(batch_id)}, fingerprint, source, qid, outcome, "
            "on_date, substr(subject, 1, 200), substr(system, 1, 200), "
            "substr(category, 1, 300), substr(topic, 1, 500), seconds "
            f"FROM {self.table} WHERE {new}seq > {self.mark} AND seq <= {self.mark} "
            "ORDER BY fingerprint ON CONFLICT (profile_id, fingerprint) DO NOTHING"
        )
        copied = 0
        for start in range(int(low), int(high), SAVE_ROWS):
            _check(cancel)
            copied += conn.exec_driver_sql(sql, (start, start + SAVE_ROWS)).rowcount
            if progress is not None:
                progress("saving", min(start + SAVE_ROWS, int(high)) - int(low), high - low)
        return copied  # rows inserted: those skipped by ON CONFLICT are not counted

    def refresh_hint(self, batch_id: int) -> dict[str, Any]:
        """How the weight refresh after `save` may count this log's rows: read back (here)."""
        return {}

    def close(self) -> None:
        """Drop the stage by closing its connection (the import's own, from the pool: the
        database discards a connection's temporary tables with it, at once, where DROP TABLE
        frees a 100,000-row stage page by page, ~30 ms)."""
        if self.created:
            self.conn.invalidate()
            self.created = False

    def _drop(self) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table}")
        self.created = False


class _HeldStage(_Stage):
    """A log small enough to also hold in memory: duplicates are looked for with a dict and
    the stored attempts of the log's dates, the summary is read from memory, and SQL marks
    duplicates only when there are some."""

    def __init__(self, conn: Connection, profile_id: int, sqlite: bool) -> None:
        super().__init__(conn, profile_id, sqlite)
        self.rows: list[Row] = []
        self.new: list[Row] = []

    def reset(self) -> None:
        super().reset()
        self.rows = []

    def add(self, rows: list[Row]) -> None:
        super().add(rows)
        self.rows += rows

    def dedupe(self) -> tuple[int, int]:
        rows = self.rows
        first = {r[0]: r for r in reversed(rows)}  # each fingerprint's first row
        known = self._known(first)
        if len(first) == len(rows) and not known:
            self.new = rows
            return len(rows), 0
        self.new = [r for r in rows if first[r[0]] is r and r[0] not in known]
        if not self.new:  # all seen before: nothing to mark, nothing to save
            if self.created:
                self._drop()
            return 0, len(rows)
        return super().dedupe()

    def _known(self, fingerprints: dict[str, Row]) -> set[str]:
        """The fingerprints among these that the profile already has: a few thousand are
        looked up in the unique index; for more, the stored attempts of the log's dates are
        read in one pass when there are not too many of them, else looked up all the same."""
        if not fingerprints:
            return set()
        if len(fingerprints) > _LOOK_UP:
            days = [r[4] for r in fingerprints.values()]
            rows = self.conn.exec_driver_sql(
                f"SELECT fingerprint FROM qbank_attempts WHERE profile_id = {self.profile_id} "
                f"AND on_date BETWEEN {self.mark} AND {self.mark} LIMIT {_LOAD_KNOWN + 1}",
                (min(days), max(days)),
            ).all()
            if len(rows) <= _LOAD_KNOWN:
                return {fp for (fp,) in rows if fp in fingerprints}
        found: set[str] = set()
        wanted = sorted(fingerprints)
        for start in range(0, len(wanted), 900):
            part = wanted[start : start + 900]
            marks = ", ".join([self.mark] * len(part))
            found.update(
                fp
                for (fp,) in self.conn.exec_driver_sql(
                    f"SELECT fingerprint FROM qbank_attempts WHERE profile_id = "
                    f"{self.profile_id} AND fingerprint IN ({marks})",
                    tuple(part),
                )
            )
        return found

    def refresh_hint(self, batch_id: int) -> dict[str, Any]:
        """The saved rows are in memory: the refresh counts them from here and reads only the
        attempts stored before (texts cut as `save` stores them)."""
        added = ((r[1], r[2], r[3], r[4], r[8][:500], r[7][:300], r[6][:200]) for r in self.new)
        return {"skip_batch": batch_id, "added": added}

    def all_incorrect(self) -> bool:
        return bool(self.rows) and all(r[3] == "incorrect" for r in self.rows)

    def new_misses(self) -> Iterator[tuple[str, str, str, str, str]]:
        for r in self.new:
            if r[3] in matching.MISSED:
                yield r[1], r[2], r[8], r[7], r[6]


def _summarize(conn: Connection, fc: Collection, stage: _Stage, report: ImportReport) -> None:
    """New rows and duplicates; the new misses matched to cards, topics or nothing."""
    report.added, report.duplicates = stage.dedupe()
    report.misses = report.matched_card = report.matched_topic = report.matched_none = 0
    with Session(bind=conn) as session:
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


def pull_forward(
    session: Session,
    fc: Collection,
    today: date,
    loaded: tuple[matching.TopicIndex, list[matching.TopicAttempts]] | None = None,
) -> int:
    """Today's pull-forwards, recomputed (see `services.pullforward`). A queue-level boost:
    FSRS state is untouched."""
    from flashcore.services import pullforward

    return pullforward.recompute(session, fc, today, index=None if loaded is None else loaded[0])


def list_attempts(fc: Collection) -> list[dict[str, Any]]:
    with reading(fc.engine) as session:
        index = matching.load_index(session, fc.profile_id)
        rows = (
            session.execute(
                select(QbankAttempt)
                .where(QbankAttempt.profile_id == fc.profile_id)
                .order_by(QbankAttempt.on_date.desc(), QbankAttempt.id.desc())
            )
            .scalars()
            .all()
        )
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
        return has_qbank_attempts(session, fc.profile_id)


def list_batches(fc: Collection) -> list[dict[str, Any]]:
    with reading(fc.engine) as session:
        counts = dict(
            session.execute(
                select(QbankAttempt.batch_id, func.count())
                .where(QbankAttempt.profile_id == fc.profile_id)
                .group_by(QbankAttempt.batch_id)
            ).all()
        )
        rows = session.execute(
            select(QbankBatch)
            .where(QbankBatch.profile_id == fc.profile_id)
            .order_by(QbankBatch.id.desc())
        ).scalars()
        return [
            {
                "batch_id": b.id,
                "imported_at": b.imported_at.isoformat(),
                "source": b.source,
                "format": b.format,
                "origin": b.origin,
                "rows_read": b.rows_read,
                "added": b.added,
                "attempts": counts.get(b.id, 0),
            }
            for b in rows
        ]


@dataclass(frozen=True, slots=True)
class BatchRemoval:
    """What `qbank remove` undid: the batch's attempts, and the cards its misses had
    unsuspended that are suspended again (no other batch's miss keeps them out)."""

    attempts: int
    resuspended: int


def remove_batch(fc: Collection, batch_id: int) -> int:
    """Undo a mistaken import: its attempts go, weights and today's pull-forwards follow.
    Returns the attempts removed (`remove_qbank_batch` says more)."""
    return remove_qbank_batch(fc, batch_id).attempts


def remove_qbank_batch(fc: Collection, batch_id: int) -> BatchRemoval:
    """Undo a mistaken import: its attempts go, the cards its misses unsuspended are suspended
    again (unless another batch's miss of their questions keeps them), weights and today's
    pull-forwards follow."""
    today = today_for(fc)

    def work(session: Session) -> BatchRemoval:
        found = session.execute(
            select(QbankBatch.id).where(
                QbankBatch.id == batch_id, QbankBatch.profile_id == fc.profile_id
            )
        ).first()
        if found is None:
            raise NotFoundError(f"no qbank batch {batch_id} (see `flashcore qbank batches`)")
        n = session.execute(
            select(func.count()).where(QbankAttempt.batch_id == batch_id)
        ).scalar_one()
        again = repos.resuspend_unsuspended_by(
            session, fc.profile_id, batch_id, matching.MISSED, fc.now()
        )
        session.execute(delete(QbankAttempt).where(QbankAttempt.batch_id == batch_id))
        session.execute(delete(QbankBatch).where(QbankBatch.id == batch_id))
        pull_forward(session, fc, today, weights.refresh_in(session, fc, today))
        return BatchRemoval(attempts=int(n), resuspended=len(again))

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

    def work(session: Session) -> str:
        target_key = topic_keys.path_key(topic_path)
        target = session.execute(
            select(Topic.path).where(Topic.profile_id == fc.profile_id, Topic.key == target_key)
        ).scalar()
        if target is None:
            raise NotFoundError(f"no topic {shown(topic_path)} (see `flashcore topics list`)")
        session.execute(
            delete(TopicAlias).where(
                TopicAlias.profile_id == fc.profile_id, TopicAlias.alias_key == key
            )
        )
        session.execute(
            insert(TopicAlias).values(
                profile_id=fc.profile_id, alias=alias.strip(), alias_key=key, topic_path=target
            )
        )
        pull_forward(session, fc, today, weights.refresh_in(session, fc, today))
        return str(target)

    return run_write(fc.engine, work)


def list_topics(fc: Collection) -> list[dict[str, Any]]:
    with reading(fc.engine) as session:
        index = matching.load_index(session, fc.profile_id)
        aliases: dict[str, list[str]] = {}
        for alias, path in session.execute(
            select(TopicAlias.alias, TopicAlias.topic_path).where(
                TopicAlias.profile_id == fc.profile_id
            )
        ):
            aliases.setdefault(path, []).append(alias)
        weights = dict(
            session.execute(
                select(Topic.id, Topic.weight).where(Topic.profile_id == fc.profile_id)
            ).all()
        )
        notes_per_topic: Counter[int] = Counter()
        for topic_ids in index.note_topics.values():
            seen: set[int] = set()
            for t in topic_ids:
                seen.update((t, *index.ancestors(t)))
            notes_per_topic.update(seen)
    return [
        {
            "topic": path,
            "notes": notes_per_topic.get(topic_id, 0),
            "weight": weights.get(topic_id, 0.0),
            "aliases": sorted(aliases.get(path, [])),
        }
        for topic_id, path in sorted(index.paths.items(), key=lambda kv: kv[1].lower())
    ]
