"""The answers a first Anki import takes over, kept narrow (schema 0027; re-exported by
`storage.tables`): what Anki's revlog gives of each answer, and the three values of it that
depend on flashcore's clock and settings at the import (the answer's study day, its due after,
the card's desired retention). Answered under no flashcore scheduler (`scheduler_id` NULL). Readers never read this table alone: `storage.answer_rows` shows its rows
beside the review log's as one history, each with the columns a review-log row written for it
would hold (the rest is derived from the card's previous answer here).

Why a table of its own: a million answers written as review-log rows cost a window pass over
the package (each answer's previous one) and three B-trees (the rows and two indexes) of
~130 MB; here one B-tree keyed by card and revlog id, of ~40 MB, written in the package's own
order without a window (issue 16)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
)

from flashcore.storage.columns import metadata
from flashcore.storage.columns import optional as _optional
from flashcore.storage.columns import profile_column as _profile
from flashcore.storage.columns import required as _required
from flashcore.storage.types import Retention, UTCMicros

# One row per answer of a first import (the cards' only answers when they were written: a
# card's first row here is its first answer). Rows are never updated: a card whose history is
# rewritten (a merge with answers given here) has its rows moved into the review log first
# (`answer_rows.move_to_review_log`), whole.
imported_answers = Table(
    "imported_answers",
    metadata,
    _required("card_id", ForeignKey("cards.id", ondelete="CASCADE")),
    # Anki's revlog id: the answer's epoch milliseconds (its time is this, in microseconds)
    _required("anki_revlog_id", BigInteger),
    _profile(),
    _required("rating", SmallInteger),  # Anki's ease, 1 to 4
    _optional("duration_ms", Integer),  # NULL: none recorded
    _required("kind", SmallInteger),  # Anki's revlog type: 0 learn, 1 review, 2 relearn, 3 filtered
    _required("interval", Integer),  # Anki's ivl: days when > 0, else -seconds of a step
    _required("factor", Integer),  # Anki's factor (permille ease); difficulty from it
    # flashcore's study day (an ordinal) the answer fell on, as the import's zone and hour said
    _required("day", Integer),
    _required("due_after", UTCMicros),
    _required("desired_retention", Retention),  # the card's, at the import
    PrimaryKeyConstraint("card_id", "anki_revlog_id"),
    # their times (schema 0028): the readers of recent answers (today's counts, the month's
    # stats) seek here (`answer_rows(..., since=)`) rather than scan a million imported answers.
    # Not (profile_id, revlog id), as the review log's: a reader of a profile's whole history
    # would then read every answer through it, a seek each, rather than the table in order.
    Index("ix_imported_answers_anki_revlog_id", "anki_revlog_id"),
    sqlite_with_rowid=False,
)
