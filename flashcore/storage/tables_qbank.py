"""The question-bank tables of the schema: import batches, attempts, the tallies by text and
the kept sums (re-exported by `storage.tables`, where every query finds them)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from flashcore.storage.columns import metadata, profile_key
from flashcore.storage.columns import optional as _optional
from flashcore.storage.columns import profile_column as _profile
from flashcore.storage.columns import record_id as _id
from flashcore.storage.columns import required as _required
from flashcore.storage.types import UTCDateTime

qbank_batches = Table(
    "qbank_batches",
    metadata,
    _id(),
    _profile(),
    _required("source", String(50)),
    _required("format", String(20)),
    _required("origin", Text, default=""),
    _required("content_hash", String(64), index=True),
    _required("imported_at", UTCDateTime),
    _required("rows_read", Integer, default=0),
    _required("added", Integer, default=0),
    # An import still being written (schema 0015): the lowest attempt id it may hold (readers
    # see only the profile's attempts below it), and who writes it; both NULL once published.
    _optional("pending_from", Integer),
    _optional("owner", String(200)),
    # The latest day of its attempts (schema 0021; NULL: not known): the pull-forwards read no
    # attempt of a batch whose latest day is before the fresh misses' first.
    _optional("latest_on", Date),
    # A batch's id is what `qbank remove N` takes back: never given twice (schema 0029)
    sqlite_autoincrement=True,
)

# The attempts that kept a share (see ix_qbank_attempts_shares).
WITH_SHARE = text("others IS NOT NULL")

qbank_attempts = Table(
    "qbank_attempts",
    metadata,
    _id(),
    _profile(),
    _required("batch_id", ForeignKey("qbank_batches.id", ondelete="CASCADE")),
    _required("source", String(50)),
    _required("qid", String(100)),
    _required("outcome", String(10)),
    _required("on_date", Date),
    _required("subject", String(200), default=""),
    _required("system", String(200), default=""),
    _required("category", String(300), default=""),
    _required("topic", String(500), default=""),
    _optional("seconds", Integer),
    _required("fingerprint", String(64)),
    # UWorld's "% correct others" of the question, a whole percent (schema 0025; NULL: the log
    # had none): how much a miss says about the student (core.difficulty).
    _optional("others", SmallInteger),
    # The only index (schema 0023): an import finds the duplicates of its log among the stored
    # attempts of the log's days, and a student's new attempts are of the latest days, so each
    # lands at the index's right edge. It replaced a unique (profile_id, fingerprint) index,
    # where every one of 100,000 new fingerprints landed somewhere among 1,000,000 (at 200k
    # cards ~0.2 CPU-s and ~30 MB written more per import). Duplicates are kept out by the
    # import (`qbank_stage`), which writes while its batch is the profile's only one being
    # written: imports into a profile take turns (`repos.pending_batches(lock=True)`), and
    # one that finds a batch published meanwhile looks for duplicates again.
    Index("ix_qbank_attempts_profile_id_on_date", "profile_id", "on_date"),
    # The attempts that kept a "% correct others" (schema 0025), by day: the weight refresh
    # reads the recent misses among them (repos.attempts.missed_shares) without a look at the
    # others; partial, so a log without the column (a CSV, AMBOSS) writes nothing to it.
    # Queries must name `others IS NOT NULL` literally (WITH_SHARE) for the planner to use it.
    Index(
        "ix_qbank_attempts_shares",
        "profile_id",
        "on_date",
        sqlite_where=WITH_SHARE,  # PostgreSQL's: tables.use_postgresql
    ),
)

# The attempts counted by their texts, kept up to date by every import and removal in the
# same transaction (schema 0009): what the matcher learns from (which leaf a topic text stands
# for) without reading every attempt. Rows with the same texts may repeat (two imports that
# raced on PostgreSQL); readers add them up. `flashcore check` compares them with the attempts.
qbank_tallies = Table(
    "qbank_tallies",
    metadata,
    _id(),
    _profile(),
    _required("topic", String(500), default=""),
    _required("category", String(300), default=""),
    _required("system", String(200), default=""),
    _required("attempts", Integer),
    _required("misses", Integer),
    Index("ix_qbank_tallies_profile_id", "profile_id"),
)


def _group_columns() -> list[Column[object]]:
    """A kept sum's group, as the weakness report groups attempts: the question (source,
    qid) and its texts (topic, category, system); '' where the attempt had none."""
    return [
        _required("source", String(50), default=""),
        _required("qid", String(100), default=""),
        _required("topic", String(500), default=""),
        _required("category", String(300), default=""),
        _required("system", String(200), default=""),
    ]


# The profile's attempts summed per group as `repos.decayed_groups` groups them (a listed
# question's source and id with its texts, else the texts alone), so that the weakness report
# reads a few thousand sums instead of every attempt (schema 0016). A cache of qbank_attempts:
# brought up to date from the attempts added since (by id), rebuilt when it cannot be.
# A row with `on_date` NULL is settled: every attempt of the group dated before the state's
# `settled_before` (too old to be recent again), its decayed sums as 2 ** ((day - settled_before)
# / half_life); a row with a date holds that day's attempts (the recent window and later).
qbank_sums = Table(
    "qbank_sums",
    metadata,
    _id(),
    _profile(),
    *_group_columns(),
    _optional("on_date", Date),
    _required("attempts", Integer),
    _required("misses", Integer),
    _required("decayed_attempts", Float),
    _required("decayed_misses", Float),
    _optional("last_miss", Date),
    _optional("last_correct", Date),
    Index("ix_qbank_sums_profile_id", "profile_id"),
)

# Each group's attempts folded as the report reads them on the state's `window_day` T (schema
# 0020), so that a report on T reads one row per group instead of its settled and per-day rows:
# counts of the attempts dated T or before, their decayed sums as the settled rows keep them
# (`2 ** ((day - settled_before) / half_life)`), the recent ones (dated T - floor(half_life) to
# T), the last miss and correct answer up to T, and every miss (future-dated ones too) with the
# last of them. Rows with the same group may repeat (an import's fold adds one per group it
# reached); readers add them up. A report on a later day adds the per-day rows that entered or
# left its window since T.
qbank_windows = Table(
    "qbank_windows",
    metadata,
    _id(),
    _profile(),
    *_group_columns(),
    _required("attempts", Integer),
    _required("misses", Integer),
    _required("decayed_attempts", Float),
    _required("decayed_misses", Float),
    _required("recent_attempts", Integer),
    _required("recent_misses", Integer),
    _optional("last_miss", Date),
    _optional("last_correct", Date),
    _required("all_misses", Integer),
    _optional("last_miss_any", Date),
    Index("ix_qbank_windows_profile_id", "profile_id"),
)

# What the profile's qbank_sums stand for: the half-life and settling day they were summed with,
# the last attempt id they include and how many attempts, and a digest of the listed question
# ids that decided the groups. Schema 0020: the day the windows are folded for (NULL: none);
# the highest qbank_sums and qbank_windows ids readers read (an import's fold writes its rows
# above them in short steps, unseen, and raises them in one short write); the import folding
# now (its owner string, NULL: none).
qbank_sums_state = Table(
    "qbank_sums_state",
    metadata,
    profile_key(),
    _required("half_life", Float),
    _required("settled_before", Date),
    _required("last_attempt_id", Integer),
    _required("attempts", Integer),
    _required("listed", String(64)),
    _optional("window_day", Date),
    _optional("sums_upto", Integer),
    _optional("windows_upto", Integer),
    _optional("folding", String(200)),
)
