"""The SQL that turns a package's revlog into review-log rows in bulk, run by SQLite on the
package's own collection (attached read-only; see `services.anki_scheduling`). Plain text: the
statements take their day terms as parameters (`importers.anki_scheduling.day_terms`)."""

from __future__ import annotations

from flashcore.importers.anki_scheduling import _QUARTER_MS

# ---------------------------------------------------------------- the revlog in bulk
#
# A package's answers are turned into review-log rows by SQLite itself, on the package's own
# collection (opened read-only; the joins go to TEMP tables the import fills):
#   temp.fc_cards(cid, card_id, retention)  the Anki cards whose answers go straight in
#   temp.fc_known(id)                       revlog ids the review log holds already
#   temp.fc_day(q, day)                     flashcore's study day (an ordinal) of each quarter
#                                           hour an answer falls in (zones move by quarters)
#   temp.fc_due(day, due)                   flashcore's due (stored microseconds) of each Anki due day
# The values are those `review_of` gives one row at a time (the test suite checks both agree):
# elapsed study days from the card's previous answer, the state it was answered in, the next
# due from `ivl`, lapses so far, FSRS difficulty from `factor`.

_ANSWER = "r.ease BETWEEN 1 AND 4 AND r.type BETWEEN 0 AND 3"
_STAMP = "(({ms}) * 1000)"  # Anki's milliseconds as the review log stores times (UTCMicros)
TEMP_TABLES = {
    "fc_cards": "cid INTEGER PRIMARY KEY, card_id INTEGER, retention REAL",
    "fc_known": "id INTEGER PRIMARY KEY",
    "fc_day": "q INTEGER PRIMARY KEY, day INTEGER",
    "fc_due": "day INTEGER PRIMARY KEY, due INTEGER",
}


_DAY_OF = "(({id} / 1000 - ?1) / 86400 - ?2)"  # ?1, ?2: `day_terms`

QUARTERS_SQL = (
    f"SELECT DISTINCT r.id / {_QUARTER_MS} FROM revlog r JOIN temp.fc_cards c ON c.cid = r.cid"
    f" WHERE {_ANSWER}"
)
# Every row's quarter (a few more than the answers': none of them looked up, ~0.08 s CPU less a
# million rows), read from the card index alone.
EVERY_QUARTER_SQL = f"SELECT DISTINCT id / {_QUARTER_MS} FROM revlog"
DUE_DAYS_SQL = (
    f"SELECT DISTINCT {_DAY_OF.format(id='r.id')} + r.ivl FROM revlog r"
    f" JOIN temp.fc_cards c ON c.cid = r.cid WHERE {_ANSWER} AND r.ivl > 0"
)
# Every answer's due day, of every card (a few more days than the imported cards' answers':
# the rows read in the table's order, ~0.15 s CPU a million, where looking each imported card's
# rows up by the card index took ~0.5 s).
EVERY_DUE_DAY_SQL = (
    f"SELECT DISTINCT {_DAY_OF.format(id='r.id')} + r.ivl FROM revlog r"
    f" WHERE {_ANSWER} AND r.ivl > 0"
)
COUNTS_SQL = f"""
SELECT r.cid,
  SUM(CASE WHEN k.id IS NULL AND {_ANSWER} THEN 1 ELSE 0 END),
  SUM(CASE WHEN k.id IS NOT NULL AND {_ANSWER} THEN 1 ELSE 0 END),
  SUM(CASE WHEN k.id IS NULL AND NOT ({_ANSWER}) THEN 1 ELSE 0 END),
  MAX(CASE WHEN {_ANSWER} THEN r.id END)
FROM revlog r JOIN temp.fc_cards c ON c.cid = r.cid LEFT JOIN temp.fc_known k ON k.id = r.id
GROUP BY r.cid
"""
# A card's revlog ids' fingerprint (count, sum, least, greatest), nothing looked up: of every row
# (every card's: the package's `ix_revlog_cid` only, ~0.1 s CPU a million rows), or of the
# answers, with how many other rows (reads the rows: ~0.6 s). `COUNTS_SQL` looks every row up.
ROWS_PRINTS_SQL = """
SELECT r.cid, COUNT(*), SUM(r.id), MIN(r.id), MAX(r.id) FROM revlog r GROUP BY r.cid
"""
# Each card's rows and greatest revlog id alone (a first import's counts: ~0.15 s CPU a million
# rows, the fingerprint's sum and least ~0.1 s more).
ROWS_COUNTS_SQL = "SELECT r.cid, COUNT(*), MAX(r.id) FROM revlog r GROUP BY r.cid"
FINGERPRINTS_SQL = f"""
SELECT r.cid, SUM({_ANSWER}), SUM(NOT ({_ANSWER})),
  SUM(CASE WHEN {_ANSWER} THEN r.id ELSE 0 END),
  MIN(CASE WHEN {_ANSWER} THEN r.id END), MAX(CASE WHEN {_ANSWER} THEN r.id END)
FROM revlog r JOIN temp.fc_cards c ON c.cid = r.cid
GROUP BY r.cid
"""
# One window pass over the package's `ix_revlog_cid` (card, then id: no sort) gives each
# answer the one before it (its id and interval) and the lapses up to it; the window holds
# Anki's narrow row only (each column and window function it carries costs; the window itself
# ~1.3 s CPU a million rows). The study days and dues of the answer and of the one before are
# looked up after it, by id and interval (a lookup ~0.1 s a million; carrying them through the
# window as `LAG`s cost ~0.5 s more). A card's first answer is the one without a previous
# (`prev_id IS NULL`). A row is a lapse when Again was answered in review: a review row, or a
# filtered-deck row (type 3) that is not the card's first answer (a new card's Again in a
# filtered deck is no lapse; those rows are rare, so the earlier answer is looked for only for
# them). A row's state before: new for a card's first answer (learn or filtered), learning for
# a later learn row, review for a review row or a later filtered one, relearning for a
# relearn row.
_FIRST = "a.prev_id IS NULL"
_BEFORE = (
    f"CASE a.type WHEN 0 THEN (CASE WHEN {_FIRST} THEN 0 ELSE 1 END) WHEN 1 THEN 2 WHEN 2 THEN 3"
    f" ELSE (CASE WHEN {_FIRST} THEN 0 ELSE 2 END) END"
)
_WAS_REVIEWING = f"(a.type IN (1, 2) OR (a.type = 3 AND NOT {_FIRST}))"
_LAPSE = (
    "(CASE WHEN r.ease <> 1 THEN 0 WHEN r.type = 1 THEN 1 WHEN r.type = 3 THEN EXISTS ("
    "SELECT 1 FROM revlog p WHERE p.cid = r.cid AND p.id < r.id"
    " AND p.ease BETWEEN 1 AND 4 AND p.type BETWEEN 0 AND 3) ELSE 0 END)"
)


def _due_after(row: str, due: str) -> str:
    """A row's due after: its due day's (looked up in `due`) for an interval in days, its
    time plus the seconds of a learning step's (a negative interval)."""
    stamp = _STAMP.format(ms=f"({row}.{{id}} - {row}.{{ivl}} * 1000)")
    return f"CASE WHEN {row}.{{ivl}} > 0 THEN {due}.due ELSE {stamp} END"


_DUE_AFTER = _due_after("a", "u").format(id="id", ivl="ivl")
_DUE_BEFORE = _due_after("a", "pu").format(id="prev_id", ivl="prev_ivl")


def _columns() -> str:
    """`_rows`'s selected columns: a review-log row's (`IMPORTED_COLUMNS`)."""
    duration = "CASE WHEN a.time > 0 THEN a.time END"
    state_after = f"CASE WHEN a.ivl > 0 THEN 2 WHEN {_WAS_REVIEWING} THEN 3 ELSE 1 END"
    difficulty = (
        "CASE WHEN a.factor BETWEEN 100 AND 1100 THEN (a.factor / 1000.0 - 0.1) * 9 + 1"
        " ELSE 0.0 END"
    )
    elapsed = f"CASE WHEN {_FIRST} THEN 0 ELSE MAX(0, d.day - pd.day) END"
    before = (
        f"CASE WHEN {_FIRST} THEN {_STAMP.format(ms='a.id')} ELSE {_DUE_BEFORE} END,\n"
        f"  CASE WHEN NOT {_FIRST} THEN {_STAMP.format(ms='a.prev_id')} END"
    )
    return (
        f"?3, c.card_id, {_STAMP.format(ms='a.id')}, a.ease, NULL,\n"
        f"  {duration}, c.retention, ?4, {_BEFORE},\n"
        f"  {before},\n  a.lapses_to,\n  {state_after}, 0.0,\n  {difficulty},\n"
        f"  {_DUE_AFTER}, 0, NULL,\n  {elapsed},\n  a.id, 1"
    )


def _rows() -> str:
    """The review-log rows of the answers of the cards in `temp.fc_cards`, written whole (a
    first import on SQLite writes `imported_answers` instead: `FIRST_ANSWERS_SQL`)."""
    return f"""
WITH a AS (
  SELECT r.cid, r.id, r.ease, r.factor, r.time, r.type, r.ivl,
    LAG(r.id) OVER w AS prev_id, LAG(r.ivl) OVER w AS prev_ivl,
    SUM({_LAPSE}) OVER w - {_LAPSE} AS lapses_to
  FROM revlog r JOIN temp.fc_cards c ON c.cid = r.cid
  WHERE {_ANSWER}
  WINDOW w AS (PARTITION BY r.cid ORDER BY r.id ROWS UNBOUNDED PRECEDING)
)
SELECT {_columns()}
FROM a JOIN temp.fc_cards c ON c.cid = a.cid
  LEFT JOIN temp.fc_day d ON d.q = a.id / {_QUARTER_MS}
  LEFT JOIN temp.fc_day pd ON pd.q = a.prev_id / {_QUARTER_MS}
  LEFT JOIN temp.fc_due u ON a.ivl > 0 AND u.day = {_DAY_OF.format(id="a.id")} + a.ivl
  LEFT JOIN temp.fc_due pu
    ON a.prev_ivl > 0 AND pu.day = {_DAY_OF.format(id="a.prev_id")} + a.prev_ivl"""


# The rows of the answers the review log does not hold (by `temp.fc_known`); none chained (a
# card's previous row may be an answer given here).
ROWS_SQL = f"{_rows()} LEFT JOIN temp.fc_known k ON k.id = a.id WHERE k.id IS NULL\n"
# Every answer of a first import as an `imported_answers` row (schema 0027; in
# `IMPORTED_ANSWER_COLUMNS` order, the table's): what Anki's revlog gives, with its study day
# and due after looked up as `ROWS_SQL` looks them up and the card's retention. No window: a
# card's previous answer is found where the rows are read (`storage.answer_rows`).
IMPORTED_ANSWER_COLUMNS = (
    "card_id", "anki_revlog_id", "profile_id", "rating", "duration_ms", "kind", "interval",
    "factor", "day", "due_after", "desired_retention",
)  # fmt: skip
FIRST_ANSWERS_SQL = f"""
SELECT c.card_id, r.id, ?3, r.ease, CASE WHEN r.time > 0 THEN r.time END, r.type, r.ivl,
  r.factor, d.day, {_due_after("r", "u").format(id="id", ivl="ivl")}, c.retention
FROM revlog r JOIN temp.fc_cards c ON c.cid = r.cid
  LEFT JOIN temp.fc_day d ON d.q = r.id / {_QUARTER_MS}
  LEFT JOIN temp.fc_due u ON r.ivl > 0 AND u.day = {_DAY_OF.format(id="r.id")} + r.ivl
WHERE {_ANSWER}
"""
FIRST_ANSWERS_STEPS = 60  # SQLite's VM steps a row (the progress bar's estimate)

# A first import's answers staged ahead (`services.anki_stage`: in a thread of its own, on a
# connection of its own, while the notes are read): every card's answers as `FIRST_ANSWERS_SQL`
# gives them, keyed by Anki's card id, in the card index's order (card by card, each in time
# order); then copied with the flashcore card and its retention (`temp.fc_cards`).
# Keyed by Anki's card and revlog id (a table WITHOUT ROWID: `StageDb.stage`), for the copy to
# seek each card's rows; the other columns undeclared (each value kept as computed).
STAGED_COLUMNS = (
    "cid INTEGER, id INTEGER, ease, duration_ms, kind, interval, factor, day, due_after,"
    " PRIMARY KEY (cid, id)"
)
STAGE_ROWS_SQL = f"""
SELECT r.cid, r.id, r.ease, CASE WHEN r.time > 0 THEN r.time END, r.type, r.ivl, r.factor,
  d.day, {_due_after("r", "u").format(id="id", ivl="ivl")}
FROM revlog r
  LEFT JOIN temp.fc_day d ON d.q = r.id / {_QUARTER_MS}
  LEFT JOIN temp.fc_due u ON r.ivl > 0 AND u.day = {_DAY_OF.format(id="r.id")} + r.ivl
WHERE {_ANSWER}
ORDER BY r.cid, r.id
"""
# The copy walks the cards in flashcore's card order (`temp.fc_cards` indexed by `card_id`:
# `AttachedCollection.index_temp`) and seeks each one's staged rows by its key, so the rows come
# in `imported_answers`' key order (card, then revlog id) and go in at the end of its B-tree, as
# SQLite appends, rather than at a place found for each (flashcore's card ids do not follow
# Anki's): with the revlog-id index built after (`insert_staged`), a million rows ~0.2 s CPU
# less, measured on the benchmark's package.
COPY_STAGED_SQL = """
SELECT c.card_id, s.id, ?1, s.ease, s.duration_ms, s.kind, s.interval, s.factor, s.day,
  s.due_after, c.retention
FROM temp.fc_cards c INDEXED BY fc_cards_card_id CROSS JOIN anki_stage.answers s ON s.cid = c.cid
ORDER BY c.card_id
"""

# SQLite's VM steps a row of a first import's statement takes, the review log's index builds
# after counted in (measured on the benchmark's package; for the progress bar's estimate only).
COPY_STAGED_STEPS = 30

# The revlog rows of the cards in temp.fc_cards, as RevlogEntry's fields, in id order.
REVLOG_OF_CARDS_SQL = (
    "SELECT r.id, r.cid, r.usn, r.ease, r.ivl, r.lastIvl, r.factor, r.time, r.type"
    " FROM revlog r JOIN temp.fc_cards c ON c.cid = r.cid ORDER BY r.id"
)
# The answers (cid, id, ease) of the cards in temp.fc_cards, by card and time.
ANSWERS_OF_CARDS_SQL = (
    "SELECT r.cid, r.id, r.ease FROM revlog r JOIN temp.fc_cards c ON c.cid = r.cid"
    f" WHERE {_ANSWER} ORDER BY r.cid, r.id"
)
