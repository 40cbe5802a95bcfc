"""Driver-only reads of a SQLite collection (the `sqlite3` module: no SQLAlchemy, no engine),
for a one-shot report that can be answered from what the database keeps (the weakness report
from kept topic scores: `services.weakness_light`). Importing SQLAlchemy alone costs a
command ~0.8 G instructions (~0.15 s), more than such a report's reads.

Each read here is its repository's (named in its docstring): the statement SQLAlchemy compiles
for SQLite where the order of the rows matters, the same rows otherwise, with the values
decoded as the column types decode them. Anything this reader does
not handle the way the full path would raises `NotLight`: the caller then takes the full path,
which opens the collection as every command does (and migrates, creates, or reports the
problem). All reads run in one read transaction; nothing is written."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flashcore.core.reasons import PulledForward, PullKind
from flashcore.storage import light_imported, light_rules
from flashcore.storage.db import default_db_path
from flashcore.storage.index_codec import TOPIC_INDEX_TRIGGERS, StoredIndex, decoded
from flashcore.storage.light_rules import OutcomeRow
from flashcore.storage.schema_head import HEAD

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_LIMIT = 2**62  # repos.qbank_batches._NO_LIMIT
_STUDIED = (1, 2, 3)  # repos.queue.STUDIED: learning, review, relearning
_MISSED = ("incorrect", "omitted")  # repos.qbank.MISSED
_CHUNK = 900  # repos.common.chunks of ids, as the repositories read them
# How long the read waits for a lock another connection holds (exclusive locking mode, a
# rollback journal's commit, a WAL recovery): briefly, then it gives way to the full path,
# which waits storage.db.BUSY_TIMEOUT_MS and says what holds it (waiting both would double the wait).
_BUSY_MS = 250


class NotLight(Exception):
    """This reader cannot answer as the full path would: take the full path."""


def light_file(given: str | None) -> Path | None:
    """The SQLite file `--db`/FLASHCORE_DB (`given`) names, as `resolve_url` and `sqlite_path`
    find it, when that is certain without parsing a URL; None otherwise (another backend, a URL
    with a query or a driver, an in-memory database, a name SQLAlchemy would unquote: the full
    path)."""
    if not given:
        return default_db_path()
    if "://" not in given:
        text = str(Path(given).expanduser().resolve())
    elif given.startswith("sqlite:///"):
        text = given[len("sqlite:///") :]
    else:
        return None
    if not text or "?" in text or "%" in text or text == ":memory:" or text.startswith("file:"):
        return None
    return Path(text)


def _day(value: Any) -> date:
    if not isinstance(value, str):
        raise NotLight(f"not a stored day: {value!r}")
    return date.fromisoformat(value)


def _day_or_none(value: Any) -> date | None:
    return None if value is None else _day(value)


def _when(value: Any) -> datetime | None:
    """A `UTCDateTime` as SQLite holds it (`YYYY-MM-DD HH:MM:SS[.ffffff]`, naive UTC)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) in (19, 26) and value[10] == " ":
        return datetime.fromisoformat(value + "+00:00")
    raise NotLight(f"not a stored time: {value!r}")


def _text_of(moment: datetime) -> str:
    """A time as `UTCDateTime` binds it on SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _from_micros(value: Any) -> datetime | None:
    if value is None:
        return None
    if type(value) is not int:
        raise NotLight(f"not a stored instant: {value!r}")
    return _EPOCH + timedelta(0, 0, value)


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class LightReader:
    """One read transaction on the SQLite file `path`, which must exist, be in WAL mode (the
    full path would switch it) and be at the schema head (the full path would upgrade it)."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise NotLight(f"no file {path}")  # the full path creates it, or says so
        self.conn = sqlite3.connect(
            path, timeout=_BUSY_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            self.conn.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
            if self._one("PRAGMA journal_mode") != "wal":
                raise NotLight("not in WAL mode")
            self.conn.execute("BEGIN")
            if self._one("SELECT version_num FROM alembic_version") != HEAD:
                raise NotLight("not at the schema head")
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        """End the read and close, after a passive checkpoint as the full path's close makes."""
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            with contextlib.suppress(sqlite3.Error):  # closing must not fail on a checkpoint
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            self.conn.close()

    def _one(self, sql: str, *params: Any) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    # ------------------------------------------------------------ the profile

    def profile(self, name: str) -> tuple[int, dict[str, Any], date | None]:
        """(id, stored settings, weights day) of the profile `name` (repos.find_profile and
        repos.weights_day); NotLight when there is none (the full path creates or refuses it)."""
        import json

        row = self.conn.execute(
            "SELECT profiles.id, profiles.settings, profiles.weights_day FROM profiles "
            "WHERE profiles.name = ?",
            (name,),
        ).fetchone()
        if row is None:
            raise NotLight(f"no profile {name!r}")
        settings = json.loads(row[1]) if row[1] is not None else None
        if not isinstance(settings, dict):
            raise NotLight("unreadable settings")
        return int(row[0]), dict(settings), _day_or_none(row[2])

    # ------------------------------------------------------------ the kept sums and scores

    def tallied_attempts(self, profile_id: int) -> int:
        """repos.tallied_attempts."""
        return int(self._one(
            "SELECT coalesce(sum(qbank_tallies.attempts), ?) AS coalesce_1 FROM qbank_tallies "
            "WHERE qbank_tallies.profile_id = ?", 0, profile_id,
        ))  # fmt: skip

    def sums_state(self, profile_id: int) -> tuple[Any, ...] | None:
        """repos.qbank_sums_rows._state, as its stamp reads it: (half-life, settled before,
        last attempt id, attempts, listed, window day, sums up to, windows up to)."""
        row = self.conn.execute(
            "SELECT qbank_sums_state.half_life, qbank_sums_state.settled_before, "
            "qbank_sums_state.last_attempt_id, qbank_sums_state.attempts, "
            "qbank_sums_state.listed, qbank_sums_state.window_day, qbank_sums_state.sums_upto, "
            "qbank_sums_state.windows_upto, qbank_sums_state.folding FROM qbank_sums_state "
            "WHERE qbank_sums_state.profile_id = ?",
            (profile_id,),
        ).fetchone()
        if row is None:
            return None
        hl, settled, last, attempts, listed, window, sums_upto, windows_upto, _ = row
        return (
            float(hl), _day(settled), int(last), int(attempts), str(listed), _day_or_none(window),
            None if sums_upto is None else int(sums_upto),
            None if windows_upto is None else int(windows_upto),
        )  # fmt: skip

    def sums_need_sync(self, profile_id: int, today: date, half_life: float) -> bool:
        """repos.sums_need_sync."""
        state = self.sums_state(profile_id)
        if state is None:
            return True
        tallied = self.tallied_attempts(profile_id)
        return light_rules.sums_lag(state[0], state[1], state[3], tallied, today, half_life)

    def qbank_stamp(self, profile_id: int) -> str:
        """repos.qbank_stamp."""
        state = self.sums_state(profile_id)
        read = None
        if state is not None:
            hl, settled, last, attempts, listed, window, sums_upto, windows_upto = state
            read = (hl, settled.isoformat(), last, attempts, listed,
                    None if window is None else window.isoformat(), sums_upto, windows_upto)  # fmt: skip
        batches = [
            (int(i), str(h), int(n), None if p is None else int(p))
            for i, h, n, p in self.conn.execute(
                "SELECT qbank_batches.id, qbank_batches.content_hash, qbank_batches.added, "
                "qbank_batches.pending_from FROM qbank_batches "
                "WHERE qbank_batches.profile_id = ? ORDER BY qbank_batches.id",
                (profile_id,),
            )
        ]
        rows, attempts, misses = self.conn.execute(
            "SELECT count(*) AS count_1, coalesce(sum(qbank_tallies.attempts), ?) AS coalesce_1, "
            "coalesce(sum(qbank_tallies.misses), ?) AS coalesce_2 FROM qbank_tallies "
            "WHERE qbank_tallies.profile_id = ?",
            (0, 0, profile_id),
        ).fetchone()
        return light_rules.qbank_text(read, batches, (int(rows), int(attempts), int(misses)))

    def can_decay(self) -> bool:
        """repos.can_decay: whether this SQLite has its math functions."""
        try:
            self.conn.execute("SELECT pow(?, ?) AS pow_1", (0.5, 1.0)).fetchone()
        except sqlite3.OperationalError:
            return False
        return True

    def kept_scores(self, profile_id: int, stamp: str) -> str | None:
        """repos.kept_scores."""
        found = self._one(
            "SELECT topic_scores_kept.payload FROM topic_scores_kept "
            "WHERE topic_scores_kept.profile_id = ? AND topic_scores_kept.stamp = ?",
            profile_id, stamp,
        )  # fmt: skip
        return None if found is None else str(found)

    def has_qbank_attempts(self, profile_id: int) -> bool:
        """repos.has_qbank_attempts."""
        return (
            self.conn.execute(
                "SELECT qbank_attempts.id FROM qbank_attempts WHERE qbank_attempts.profile_id = ? "
                "AND qbank_attempts.id < coalesce((SELECT min(qbank_batches.pending_from) AS min_1 "
                "FROM qbank_batches WHERE qbank_batches.profile_id = ? AND "
                "qbank_batches.pending_from IS NOT NULL), ?) LIMIT ? OFFSET ?",
                (profile_id, profile_id, _NO_LIMIT, 1, 0),
            ).fetchone()
            is not None
        )

    # ------------------------------------------------------------ the topic index

    def kept_index(self, profile_id: int) -> StoredIndex:
        """repos.topic_index.kept_index when the kept index is current (its triggers all in
        place, built at the current generation); NotLight otherwise (the full path reads the
        index, and looks at or keeps it)."""
        triggers = self._one(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name GLOB ?",
            "tr_topic_index_*",
        )
        if triggers != TOPIC_INDEX_TRIGGERS:
            raise NotLight("the topic index is not kept")
        row = self.conn.execute(
            "SELECT topic_index_cache.gen, topic_index_cache.observed, topic_index_cache.built, "
            "topic_index_cache.payload FROM topic_index_cache "
            "WHERE topic_index_cache.profile_id = ?",
            (profile_id,),
        ).fetchone()
        if row is None or row[2] != row[0] or row[3] is None:
            raise NotLight("the kept topic index is not current")
        return decoded(row[3])

    def topics_of_notes(self, note_ids: Sequence[int]) -> dict[int, list[int]]:
        """repos.topic_index.topics_of_notes."""
        out: dict[int, list[int]] = {}
        ids = sorted(set(note_ids))
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            for note_id, topic_id in self.conn.execute(
                "SELECT note_topics.note_id, note_topics.topic_id FROM note_topics "
                f"WHERE note_topics.note_id IN ({_marks(len(chunk))})",
                chunk,
            ).fetchall():
                out.setdefault(note_id, []).append(topic_id)
        return out

    def cards_per_topic(self, profile_id: int, topic_ids: list[int]) -> dict[int, int]:
        """repos.cards_per_topic."""
        wanted = set(topic_ids)
        rows = self.conn.execute(
            "SELECT topic_cards.topic_id, topic_cards.cards FROM topic_cards "
            "JOIN topics ON topics.id = topic_cards.topic_id "
            "WHERE topics.profile_id = ? AND topic_cards.cards > ?",
            (profile_id, 0),
        ).fetchall()
        return {int(t): int(n) for t, n in rows if t in wanted}

    def leech_cards(self, topic_ids: list[int]) -> list[tuple[int, int, bool, int]]:
        """repos.leech_cards."""
        ids = sorted(topic_ids)
        rows = self.conn.execute(
            "SELECT cards.id, cards.lapses, cards.suspended, note_topics.topic_id "
            "FROM note_topics JOIN cards ON cards.note_id = note_topics.note_id "
            f"WHERE note_topics.topic_id IN ({_marks(len(ids))}) AND cards.leech IS 1 "
            "ORDER BY cards.id, note_topics.topic_id",
            ids,
        ).fetchall()
        return [(int(c), int(n), bool(held), int(t)) for c, n, held, t in rows]

    # ------------------------------------------------------------ answers and misses

    def review_outcomes(self, profile_id: int, since: datetime) -> list[light_rules.ReviewOutcome]:
        """repos.review_outcomes (the imported answers in the window: `light_imported`)."""
        rows: list[OutcomeRow] = []
        for row in self.conn.execute(
            "SELECT review_logs.id, review_logs.card_id, cards.note_id, review_logs.reviewed_at, "
            "review_logs.state_before, review_logs.packed_before, review_logs.last_review_before, "
            "review_logs.stability_after, review_logs.elapsed_days, review_logs.rating, "
            "review_logs.due_before FROM review_logs JOIN cards ON cards.id = review_logs.card_id "
            "WHERE review_logs.profile_id = ? AND review_logs.reviewed_at >= ? "
            "ORDER BY review_logs.card_id, review_logs.id, review_logs.reviewed_at",
            (profile_id, _micros(since)),
        ):
            rid, card, note, at, state, packed, last, after, elapsed, rating, due = row
            rows.append((int(rid), int(card), int(note), _instant(at), int(state),
                         _stability_before(packed), _from_micros(last), float(after),
                         None if elapsed is None else int(elapsed), int(rating),
                         _from_micros(due)))  # fmt: skip
        imported = light_imported.imported_before_rows(self.conn, profile_id, since)
        if imported:  # each before its card's review-log rows, as their row id 0 sorts them
            rows = sorted(rows + imported, key=lambda row: (row[1], row[0]))
        try:
            return light_rules.outcomes_of(rows, lambda: self.rows_before(profile_id, since))
        except light_rules.MissingAnswer:
            raise NotLight("a chained answer's previous one is missing") from None  # it says so

    def rows_before(
        self, profile_id: int, since: datetime
    ) -> dict[int, tuple[float | None, datetime]]:
        """repos.review_log._rows_before: for each card answered since `since`, the row before
        its first answer since then (its stability after and when)."""
        rows = self.conn.execute(
            "SELECT anon_1.card_id, prev.stability_after, prev.reviewed_at \nFROM (SELECT "
            "anon_2.card_id AS card_id, (SELECT max(earlier.id) AS max_1 \nFROM review_logs AS "
            "earlier \nWHERE earlier.card_id = anon_2.card_id AND earlier.id < anon_2.first_id) "
            "AS prev_id \nFROM (SELECT review_logs.card_id AS card_id, min(review_logs.id) AS "
            "first_id \nFROM review_logs \nWHERE review_logs.profile_id = ? AND "
            "review_logs.reviewed_at >= ? GROUP BY review_logs.card_id) AS anon_2) AS anon_1 "
            "JOIN review_logs AS prev ON prev.id = anon_1.prev_id",
            (profile_id, _micros(since)),
        ).fetchall()
        return {
            int(card): (None if stability is None else float(stability), _instant(when))
            for card, stability, when in rows
        }

    def missed_shares(self, profile_id: int, since: date) -> list[Any]:
        """repos.attempts.missed_shares."""
        found = self.conn.execute(
            "SELECT qbank_attempts.source, qbank_attempts.qid, qbank_attempts.topic, "
            "qbank_attempts.category, qbank_attempts.system, qbank_attempts.on_date, "
            "qbank_attempts.others, count(*) AS count_1 FROM qbank_attempts "
            "WHERE qbank_attempts.profile_id = ? AND qbank_attempts.on_date >= ? AND "
            "qbank_attempts.outcome IN (?, ?) AND qbank_attempts.others IS NOT NULL AND "
            "qbank_attempts.id < coalesce((SELECT min(qbank_batches.pending_from) AS min_1 "
            "FROM qbank_batches WHERE qbank_batches.profile_id = ? AND "
            "qbank_batches.pending_from IS NOT NULL), ?) GROUP BY qbank_attempts.source, "
            "qbank_attempts.qid, qbank_attempts.topic, qbank_attempts.category, "
            "qbank_attempts.system, qbank_attempts.on_date, qbank_attempts.others",
            (profile_id, since.isoformat(), *_MISSED, profile_id, _NO_LIMIT),
        ).fetchall()
        return [
            (source, qid, topic, category, system, _day(on), int(others), int(count))
            for source, qid, topic, category, system, on, others, count in found
        ]

    def text_tallies(self, profile_id: int) -> list[tuple[tuple[str, str, str], int]]:
        """repos.text_tallies as `matching.learned_matcher` learns from them: (texts, attempts)
        of each distinct texts with attempts, in texts order."""
        rows = self.conn.execute(
            "SELECT qbank_tallies.topic, qbank_tallies.category, qbank_tallies.system, "
            "sum(qbank_tallies.attempts) AS sum_1, sum(qbank_tallies.misses) AS sum_2 "
            "FROM qbank_tallies WHERE qbank_tallies.profile_id = ? GROUP BY qbank_tallies.topic, "
            "qbank_tallies.category, qbank_tallies.system",
            (profile_id,),
        ).fetchall()
        found = [((t, cat, sys_), int(n)) for t, cat, sys_, n, _ in rows if n]
        return sorted(found, key=lambda tally: tally[0])

    # ------------------------------------------------------------ today's queue

    def pulled_forward(self, profile_id: int, day: date) -> dict[int, PulledForward]:
        """storage.today.pulled_forward."""
        rows = self.conn.execute(
            "SELECT pull_forwards.card_id, pull_forwards.kind, pull_forwards.subject, "
            "pull_forwards.on_date, pull_forwards.misses FROM pull_forwards "
            "WHERE pull_forwards.profile_id = ? AND pull_forwards.study_day = ?",
            (profile_id, day.isoformat()),
        ).fetchall()
        return {
            card_id: PulledForward(PullKind(kind), subject, _day_or_none(on), misses)
            for card_id, kind, subject, on, misses in rows
        }

    _CARD_COLUMNS = (
        "SELECT cards.id, cards.note_id, cards.state, cards.due, cards.stability, "
        "cards.last_review, CASE WHEN (cards.weight > ?) THEN cards.weight ELSE "
        "coalesce((SELECT topics.card_weight \nFROM topics \nWHERE topics.id = "
        "cards.weak_topic_id), ?) END AS weight \nFROM cards \nWHERE cards.profile_id = ? AND "
        "cards.suspended IS 0 AND (cards.buried_until IS NULL OR cards.buried_until <= ?) AND "
    )

    def due_rows(self, profile_id: int, now: datetime, horizon: datetime) -> list[Any]:
        """repos.queue.due_rows of the whole profile."""
        sql = self._CARD_COLUMNS + f"cards.state IN ({_marks(3)}) AND cards.due < ?"
        params = (0, 0.0, profile_id, _text_of(now), *_STUDIED, _text_of(horizon))
        return [self._queue_row(r) for r in self.conn.execute(sql, params).fetchall()]

    def pulled_rows(
        self, profile_id: int, now: datetime, card_ids: list[int], day_start: datetime
    ) -> list[Any]:
        """repos.queue.pulled_rows of the whole profile."""
        sql = self._CARD_COLUMNS + (
            f"cards.id IN ({_marks(len(card_ids))}) AND "
            "(cards.last_review IS NULL OR cards.last_review < ?)"
        )
        params = (0, 0.0, profile_id, _text_of(now), *card_ids, _text_of(day_start))
        return [self._queue_row(r) for r in self.conn.execute(sql, params).fetchall()]

    @staticmethod
    def _queue_row(r: Any) -> tuple[Any, ...]:
        card_id, note_id, state, due, stability, last, weight = r
        return (card_id, note_id, state, _when(due),
                None if stability is None else float(stability), _when(last), weight)  # fmt: skip

    def review_counts_since(self, profile_id: int, since: datetime) -> dict[int, int]:
        """repos.review_counts_since (the imported answers since `since`: `light_imported`)."""
        rows = self.conn.execute(
            "SELECT review_logs.state_before, count(*) AS count_1 FROM review_logs "
            "WHERE review_logs.profile_id = ? AND review_logs.reviewed_at >= ? "
            "GROUP BY review_logs.state_before",
            (profile_id, _micros(since)),
        )
        found = {int(s): int(n) for s, n in rows}
        for state, n in light_imported.imported_counts(self.conn, profile_id, since).items():
            found[state] = found.get(state, 0) + n
        return found

    def topic_keys_of_notes(self, note_ids: list[int]) -> dict[int, list[str]]:
        """repos.topic_keys_of_notes."""
        out: dict[int, list[str]] = {}
        for start in range(0, len(note_ids), _CHUNK):
            chunk = note_ids[start : start + _CHUNK]
            for note_id, key in self.conn.execute(
                "SELECT note_topics.note_id, topics.key FROM note_topics "
                "JOIN topics ON topics.id = note_topics.topic_id "
                f"WHERE note_topics.note_id IN ({_marks(len(chunk))})",
                chunk,
            ):
                out.setdefault(note_id, []).append(key)
        return out


def _instant(value: Any) -> datetime:
    found = _from_micros(value)
    if found is None:
        raise NotLight("an answer without a time")
    return found


def _stability_before(packed: Any) -> float | None:
    """The stability of a review-log row's packed before-state, the whole of it decoded as
    `types.unpack_before` decodes it: where that fails (a damaged row), so does the full path,
    which then says so (NotLight)."""
    if packed is None:
        return None
    import json

    try:
        _step, stability, difficulty, retention, micros = json.loads(packed)
        for value in (stability, difficulty, retention):
            if value is not None:
                float(value)
        if micros is not None:
            _EPOCH + timedelta(0, 0, micros)  # types.from_micros
    except (ValueError, TypeError, OverflowError):
        raise NotLight("a review's before-state is not readable") from None
    return None if stability is None else float(stability)
