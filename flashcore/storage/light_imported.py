"""The answers a first Anki import kept narrow (`imported_answers`, schema 0027) as the driver-only
reader (`storage.light_read`) needs them, without `storage.answer_rows`' union: what the full
path's readers make of them in the weakness report, worked out from the table's own columns.

- The lapses' answers (`repos.review_outcomes`): an imported answer is never an answer to a card
  in review with a known stability (it has no before-state, and its stability after is 0.0);
  it sorts before the review log's rows of its card (its row id is 0), so the one thing it
  changes is the previous row of its card's first review-log row in the window: a chained row
  there takes the stability 0.0 (none known) and is not counted, and the row before the window
  is not looked up for that card. `imported_before_rows` gives that previous row.
- Today's answers (`repos.review_counts_since`): each imported answer since the day's start,
  by the state `answer_rows` derives from Anki's revlog type and whether it is the card's
  first imported answer (`imported_counts`)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from flashcore.storage.light_rules import OutcomeRow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEW, _LEARNING, _REVIEW, _RELEARNING = 0, 1, 2, 3  # storage.answer_rows' states


def revlog_id_from(since: datetime) -> int:
    """The least revlog id at or after `since` (`answer_rows._revlog_id_from`)."""
    micros = (since - _EPOCH) // timedelta(microseconds=1)
    return -(-micros // 1000)


def imported_before_rows(
    conn: sqlite3.Connection, profile_id: int, since: datetime
) -> list[OutcomeRow]:
    """For each of the profile's cards with an imported answer at or after `since` (its card
    still there, as the full path's join with the cards keeps it), one row that stands for its
    last such answer where `light_rules.outcomes_of` reads it: row id 0 (before the card's
    review-log rows), no state in review, no stability before, stability after 0.0 and a due
    before (not chained)."""
    rows = conn.execute(
        "SELECT ia.card_id, cards.note_id, max(ia.anki_revlog_id) FROM imported_answers AS ia "
        "JOIN cards ON cards.id = ia.card_id "
        "WHERE ia.profile_id = ? AND ia.anki_revlog_id >= ? GROUP BY ia.card_id",
        (profile_id, revlog_id_from(since)),
    ).fetchall()
    out: list[OutcomeRow] = []
    for card_id, note_id, revlog_id in rows:
        when = _EPOCH + timedelta(milliseconds=int(revlog_id))
        out.append((0, int(card_id), int(note_id), when, -1, None, None, 0.0, None, 0, when))
    return out


def imported_counts(conn: sqlite3.Connection, profile_id: int, since: datetime) -> dict[int, int]:
    """The profile's imported answers at or after `since`, counted by the state they were
    answered in as `answer_rows` derives it (learning: new for a card's first answer; review;
    relearning; a filtered deck's: new for a first answer, else review)."""
    rows = conn.execute(
        "SELECT ia.kind, (SELECT q.anki_revlog_id FROM imported_answers AS q "
        "WHERE q.card_id = ia.card_id AND q.anki_revlog_id < ia.anki_revlog_id "
        "ORDER BY q.anki_revlog_id DESC LIMIT 1) IS NULL AS first, count(*) "
        "FROM imported_answers AS ia WHERE ia.profile_id = ? AND ia.anki_revlog_id >= ? "
        "GROUP BY ia.kind, first",
        (profile_id, revlog_id_from(since)),
    ).fetchall()
    out: dict[int, int] = {}
    for kind, first, count in rows:
        if kind == 0:
            state = _NEW if first else _LEARNING
        elif kind == 1:
            state = _REVIEW
        elif kind == 2:
            state = _RELEARNING
        else:
            state = _NEW if first else _REVIEW
        out[state] = out.get(state, 0) + int(count)
    return out
