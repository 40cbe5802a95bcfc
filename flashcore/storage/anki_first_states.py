"""A first import's card states and anchors, made by SQLite from the attached package's `cards`
(`decks add FILE --with-scheduling` on SQLite): the values `importers.anki_scheduling.
card_schedule` and `services.anki_history._settle` give one card at a time in Python (~25 us a
card: 48,000 cards ~1.2 s CPU), in three statements. Only for cards never linked to Anki and
not answered here, new in Anki or holding a usable FSRS state in `data` (stability, difficulty
and last review time, read by Python's `json`: SQLite 3.40 parses the text again for each JSON
function, ~0.6 s CPU for 48,000 cards); every other card (no FSRS memory, a negative `left`)
is left to the Python path, which the test suite checks this against."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_PACKAGE = "anki_package"


def _whole(column: str) -> str:
    """A package card column as the reader takes it (`AnkiPackage.cards`): a whole number,
    NULL as 0."""
    return f"IFNULL(CAST(c.{column} AS INTEGER), 0)"


def _seconds_text(seconds: str) -> str:
    """Epoch seconds as `UTCDateTime` stores a time on SQLite."""
    return f"(strftime('%Y-%m-%d %H:%M:%S', {seconds}, 'unixepoch') || '.000000')"


def _millis_end_text(millis: str) -> str:
    """The last microsecond of epoch milliseconds `millis` (an answer given here, exported as
    that millisecond, carries microseconds: an anchor there must come after it)."""
    return (
        f"(strftime('%Y-%m-%d %H:%M:%S', {millis} / 1000, 'unixepoch')"
        f" || printf('.%03d999', {millis} % 1000))"
    )


_DUE_VALUE = (
    f"CASE WHEN {_whole('odid')} <> 0 AND {_whole('odue')} <> 0"
    f" THEN {_whole('odue')} ELSE {_whole('due')} END"
)
_EPOCH_SECONDS = 1_000_000_000  # a due above this is an instant (seconds), not a day number

# Each fresh card's values: `state` NULL for a card new in Anki (or of a type flashcore does
# not know); `usable` whether this path takes it.
_STATES = f"""
CREATE TEMP TABLE fc_states AS
WITH j AS (
  SELECT f.cid, f.card_id, f.last_ms,
    CASE WHEN {_whole("type")} IN (1, 2, 3) THEN {_whole("type")} END AS kind,
    {_DUE_VALUE} AS due_value, {_whole("queue")} IN (-2, -3) AS buried,
    {_whole("left")} AS left_, {_whole("reps")} AS reps, {_whole("lapses")} AS lapses,
    ({_whole("flags")} & 7) <> 0 AS flagged, f.s, f.d, f.dr, f.lrt
  FROM temp.fc_first f JOIN {_PACKAGE}.cards c ON c.id = f.cid
), w AS (
  SELECT v.*, CAST(v.lrt AS INTEGER) AS lrt_s,
    CASE WHEN v.due_value > {_EPOCH_SECONDS} THEN {_seconds_text("v.due_value")}
      ELSE u.due END AS due_text
  FROM j v LEFT JOIN temp.fc_cdue u ON u.day = v.due_value
)
SELECT cid, card_id, kind, buried, flagged,
  kind IS NULL OR (
    s > 0 AND d >= 1 AND d <= 10 AND lrt > {_EPOCH_SECONDS} AND lrt < 1e11 AND left_ >= 0
    AND due_value < 1e11 AND due_text IS NOT NULL
  ) AS usable,
  due_text, s, d, MAX(0, reps) AS reps, MAX(0, lapses) AS lapses,
  CASE WHEN dr IS NOT NULL AND dr <> 0 THEN dr ELSE :retention END AS retention,
  CASE WHEN kind = 2 THEN NULL
    ELSE MIN(MAX(0, (CASE kind WHEN 1 THEN :learn ELSE :relearn END) - left_ % 1000),
             MAX(0, (CASE kind WHEN 1 THEN :learn ELSE :relearn END) - 1)) END AS step,
  {_seconds_text("lrt_s")} AS last_review,
  CASE WHEN last_ms >= lrt_s * 1000 THEN {_millis_end_text("last_ms")}
    ELSE {_seconds_text("lrt_s")} END AS anchor_at
FROM w
"""
_STUDIED_DAYS = f"""
SELECT DISTINCT {_DUE_VALUE} FROM temp.fc_first f JOIN {_PACKAGE}.cards c ON c.id = f.cid
WHERE {_whole("type")} IN (1, 2, 3) AND {_DUE_VALUE} <= {_EPOCH_SECONDS}
  AND {_DUE_VALUE} > -1000000
"""
_ANCHORS = """
INSERT INTO main.anki_cards (card_id, profile_id, anki_card_id, anchor_at, state, step, due,
  stability, difficulty, last_review, reps, lapses)
SELECT card_id, :profile, cid,
  CASE WHEN kind IS NOT NULL THEN anchor_at END, kind,
  CASE WHEN kind IS NOT NULL THEN step END, CASE WHEN kind IS NOT NULL THEN due_text END,
  CASE WHEN kind IS NOT NULL THEN s END, CASE WHEN kind IS NOT NULL THEN d END,
  CASE WHEN kind IS NOT NULL THEN last_review END, CASE WHEN kind IS NOT NULL THEN reps END,
  CASE WHEN kind IS NOT NULL THEN lapses END
FROM temp.fc_states WHERE usable
"""
_SCHEDULES = """
UPDATE main.cards SET state = s.kind, step = s.step, due = s.due_text, stability = s.s,
  difficulty = s.d, last_review = s.last_review, reps = s.reps, lapses = s.lapses,
  desired_retention = s.retention, modified_at = :now, flagged = s.flagged,
  version = version + 1, buried_until = NULL
FROM temp.fc_states s WHERE s.card_id = cards.id AND s.usable AND s.kind IS NOT NULL
"""
_BURIALS = """
UPDATE main.cards SET buried_until = :until, version = version + 1
FROM temp.fc_states s WHERE s.card_id = cards.id AND s.usable AND s.buried
"""


@dataclass(frozen=True, slots=True)
class FirstStates:
    """What `take_first_states` wrote: the Anki card ids of the fresh cards it left (none
    usually: read instead of the 48,000 it took), how many it took that were studied (their
    state taken) and how many new."""

    left: frozenset[int]
    studied: int
    new: int


def _stored(when: datetime) -> str:
    """A time as `UTCDateTime` stores it on SQLite."""
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def take_first_states(
    db: Any,
    fresh: Iterable[tuple[int, int, int, float | None, float | None, float | None, float | None]],
    *,
    profile_id: int,
    due_of: Callable[[int], datetime],
    now: datetime,
    bury_until: datetime,
    retention: float,
    learn_steps: int,
    relearn_steps: int,
) -> FirstStates:
    """On `db` (a sqlite3 connection with the package attached as `anki_package`): for the
    `fresh` cards ((Anki card id, flashcore card id, the latest answer's revlog id or 0, and
    the numbers of its `data`: `importers.anki_scheduling.data_numbers`)),
    the anchors inserted and the cards' states, flags and burials written as `_settle` writes
    them (`due_of`: flashcore's due of an Anki due day)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS fc_first (cid INTEGER PRIMARY KEY,"
               " card_id INTEGER, last_ms INTEGER, s REAL, d REAL, dr REAL, lrt REAL)")  # fmt: skip
    db.execute("CREATE TEMP TABLE IF NOT EXISTS fc_cdue (day INTEGER PRIMARY KEY, due TEXT)")
    db.execute("DROP TABLE IF EXISTS temp.fc_states")
    try:
        db.execute("DELETE FROM temp.fc_first")
        db.execute("DELETE FROM temp.fc_cdue")
        db.executemany("INSERT INTO temp.fc_first VALUES (?, ?, ?, ?, ?, ?, ?)", fresh)
        days = [day for (day,) in db.execute(_STUDIED_DAYS)]
        db.executemany(
            "INSERT INTO temp.fc_cdue VALUES (?, ?)", [(d, _stored(due_of(d))) for d in days]
        )
        db.execute(
            _STATES, {"retention": retention, "learn": learn_steps, "relearn": relearn_steps}
        )
        db.execute(_ANCHORS, {"profile": profile_id})
        db.execute(_SCHEDULES, {"now": _stored(now)})
        db.execute(_BURIALS, {"until": _stored(bury_until)})
        studied, new = db.execute(
            "SELECT COUNT(kind), COUNT(*) - COUNT(kind) FROM temp.fc_states WHERE usable"
        ).fetchone()
        left = frozenset(
            int(cid)
            for (cid,) in db.execute(
                "SELECT f.cid FROM temp.fc_first f LEFT JOIN temp.fc_states s ON s.cid = f.cid"
                " WHERE s.usable IS NOT 1"
            )
        )
        return FirstStates(left, int(studied), int(new))
    finally:
        for table in ("fc_states", "fc_first", "fc_cdue"):
            db.execute(f"DROP TABLE IF EXISTS temp.{table}")
