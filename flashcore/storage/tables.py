"""The schema as SQLAlchemy Core tables: the one definition of every table, index and
constraint. Every table a student owns carries `profile_id`, so one database can hold a class.

Queries are written against these tables (`cards.c.due`), so the commands a student runs most
(`due`, `answer`, the reviewer) never import SQLAlchemy's ORM: with the ORM and a declarative
mapping, importing the schema cost ~90 ms of a ~480 ms `flashcore due --json`. `models.py`
maps ORM classes onto these same tables for the code that prefers them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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
    UniqueConstraint,
    case,
    event,
    false,
    func,
    select,
    text,
)

from flashcore.core.weakness import MISSED_QUESTION
from flashcore.storage.columns import NAMING as NAMING
from flashcore.storage.columns import metadata as metadata
from flashcore.storage.columns import optional as _optional
from flashcore.storage.columns import profile_column as _profile
from flashcore.storage.columns import record_id as _id
from flashcore.storage.columns import required as _required
from flashcore.storage.index_cache import create_topic_index_triggers
from flashcore.storage.index_cache import topic_index_cache as topic_index_cache
from flashcore.storage.scores_kept import topic_scores_kept as topic_scores_kept
from flashcore.storage.tables_imported import imported_answers as imported_answers
from flashcore.storage.tables_qbank import WITH_SHARE
from flashcore.storage.tables_qbank import qbank_attempts as qbank_attempts
from flashcore.storage.tables_qbank import qbank_batches as qbank_batches
from flashcore.storage.tables_qbank import qbank_sums as qbank_sums
from flashcore.storage.tables_qbank import qbank_sums_state as qbank_sums_state
from flashcore.storage.tables_qbank import qbank_tallies as qbank_tallies
from flashcore.storage.tables_qbank import qbank_windows as qbank_windows
from flashcore.storage.topic_card_triggers import TOPIC_CARDS_DDL as TOPIC_CARDS_DDL
from flashcore.storage.topic_card_triggers import create_topic_cards_triggers
from flashcore.storage.types import IdList, PackedBefore, Retention, UTCDateTime, UTCMicros
from flashcore.storage.weak_candidates import create_weak_candidates_triggers
from flashcore.storage.weak_candidates import weak_candidates as weak_candidates

profiles = Table(
    "profiles",
    metadata,
    _id(),
    _required("name", String(100), unique=True),
    _required("settings", JSON, default=dict),
    _required("created_at", UTCDateTime),
    # The study day the weakness weights were last computed for (they decay daily).
    _optional("weights_day", Date),
)

# A scheduler configuration (FSRS parameters, steps, maximum interval) that answered cards.
# Each review-log row names the one it used, so `check` replays history exactly even after the
# settings change.
schedulers = Table(
    "schedulers",
    metadata,
    _id(),
    _profile(),
    _required("digest", String(64)),
    _required("config", JSON),
    _required("created_at", UTCDateTime),
    UniqueConstraint("profile_id", "digest"),
)

decks = Table(
    "decks",
    metadata,
    _id(),
    _profile(),
    _required("key", String(200)),
    _required("name", String(500)),
    _required("description", Text, default=""),
    _required("html", Boolean, default=False),
    _required("source", Text, default=""),
    _required("created_at", UTCDateTime),
    _required("updated_at", UTCDateTime),
    UniqueConstraint("profile_id", "key"),
)

# A node of the topic tree. `key` is the normalized path; `weight` is its weakness score;
# `card_weight` the weight its cards take (the highest score among it and its ancestors) and
# `card_topic_id` the topic of that score (NULL when 0), kept here once for all its cards (a
# card reads them through one of its note's topics: `card_weight` below; schema 0019);
# `explanation` is why its
# weight refresh found it weak, as data (core.reasons.TopicEvidence or AssessedArea, as JSON by
# `kind`, see storage.explanations; NULL: weight 0). `reason` is the same explanation as text,
# written beside it for older versions' readers: flashcore reads `explanation` (schema 0014).
topics = Table(
    "topics",
    metadata,
    _id(),
    _profile(),
    _required("path", String(500)),
    _required("key", String(500)),
    _optional("parent_id", ForeignKey("topics.id", ondelete="SET NULL")),
    _required("weight", Float, default=0.0),
    _required("reason", String(300), default=""),
    _optional("explanation", JSON(none_as_null=True)),
    _required("card_weight", Float, default=0.0, server_default=text("0")),
    _optional("card_topic_id", Integer),  # no foreign key: refreshed with the weights
    UniqueConstraint("profile_id", "key"),
    # The topics whose cards are weighted, heaviest first: the queue reads the new cards of
    # weak topics topic by topic in this order (`repos.queue.new_in_order`).
    Index("ix_topics_profile_id_card_weight", "profile_id", "card_weight"),
)

notes = Table(
    "notes",
    metadata,
    _id(),
    _profile(),
    _required("deck_id", ForeignKey("decks.id", ondelete="CASCADE"), index=True),
    _required("key", String(600)),
    _required("kind", String(10)),
    _required("fields", JSON),
    _required("tags", JSON, default=list),
    _required("content_hash", String(64)),
    _required("removed", Boolean, default=False),
    _optional("source_line", Integer),
    # Schema 0030: the modification time (Anki's `notes.mod`, seconds) of the package copy of
    # the note last taken; a package with an older copy keeps this one (Anki's "if newer").
    # NULL: not from a package, or taken before 0030.
    _optional("anki_mod", BigInteger),
    _required("created_at", UTCDateTime),
    _required("modified_at", UTCDateTime),
    UniqueConstraint("profile_id", "key"),
)

note_topics = Table(
    "note_topics",
    metadata,
    Column("note_id", ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# A question-bank question that tests this note (`uworld:118154` -> source, qid).
note_qids = Table(
    "note_qids",
    metadata,
    Column("note_id", ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(50), primary_key=True),
    Column("qid", String(100), primary_key=True),
    Index("ix_note_qids_source_qid", "source", "qid"),
)

# One card per basic note, one per cloze deletion (`ord` = the cloze number). Scheduling columns
# are compact scalars so the queue is ranked in SQL without ORM objects. `version` grows on every
# change: an answer names the version it was shown, so a card answered elsewhere meanwhile is
# refused rather than answered twice.
cards = Table(
    "cards",
    metadata,
    _id(),
    _profile(),
    _required("note_id", ForeignKey("notes.id", ondelete="CASCADE")),
    _required("ord", SmallInteger, default=0),
    _required("state", SmallInteger, default=0),
    _optional("step", SmallInteger),
    _optional("stability", Float),
    _optional("difficulty", Float),
    _required("due", UTCDateTime),
    _optional("last_review", UTCDateTime),
    _required("reps", Integer, default=0),
    _required("lapses", Integer, default=0),
    _optional("desired_retention", Float),
    _required("suspended", Boolean, default=False),
    _optional("buried_until", UTCDateTime),
    _required("flagged", Boolean, default=False),
    _required("leech", Boolean, default=False),
    # A card's weakness weight is `card_weight` below: the weight of an open miss of a question
    # its note lists, kept here (>= 1; 0 when none), else the `card_weight` of the topic in
    # `weak_topic_id`, which is one of its note's topics: the first (by id) of the highest
    # `card_weight`, the note's first topic when none has any (NULL: a note without topics).
    # The weak topic that explains the weight is that topic's `card_topic_id`. Schema 0019: a
    # refresh that moves every topic's weight rewrites only the cards whose heaviest topic
    # changes (notes of several topics), where it rewrote every weighted card.
    _required("weight", Float, default=0.0),
    _optional("weak_topic_id", ForeignKey("topics.id", ondelete="SET NULL")),
    _required("version", Integer, default=0),
    _required("modified_at", UTCDateTime),
    # The qbank batch whose missed question unsuspended this card (`unsuspend_on_miss`): its
    # reason says so, and removing that batch suspends it again. NULL: not unsuspended by a
    # miss (or suspended or unsuspended by hand since). No foreign key (schema 0011 says why):
    # `qbank remove` moves or clears the mark before the batch goes.
    _optional("unsuspended_by", Integer),
    # A new card's place in the introduction order (core.introduction), set for the profile's
    # new cards whenever a deck is loaded or `new_order` changes; kept once the card is studied.
    _required("new_position", Integer, default=0, server_default=text("0")),
    # Schema 0030: why a suspended card waits for its note to come back to its file or package
    # (`repos.decks.SUSPENDED_GONE`...): 0 not (suspended before it left: by hand, as a leech, as
    # the package ships it), 1 suspended by its note leaving, 2 suspended so before 0030.
    _required("suspended_gone", SmallInteger, default=0, server_default=text("0")),
    UniqueConstraint("note_id", "ord"),
    # Covering: today's due cards are ranked from the index alone (id is the rowid).
    Index(
        "ix_cards_due_queue",
        "profile_id",
        "suspended",
        "state",
        "due",
        "buried_until",
        "note_id",
        "stability",
        "last_review",
        "weight",
    ),
)

# New cards in introduction order (weak topics first, then NEW_CARD_ORDER), read from the index
# without a sort. Partial (new cards only): answering a card that is not new leaves it
# untouched. Queries must name `state = 0` literally (NEW_ONLY) for the planner to use it.
NEW_ONLY = text("state = 0")
Index(
    "ix_cards_new_queue",
    cards.c.profile_id, cards.c.suspended, cards.c.weight.desc(), cards.c.new_position,
    cards.c.note_id, cards.c.ord,
    sqlite_where=NEW_ONLY,  # PostgreSQL's: use_postgresql
)  # fmt: skip
# New cards of a weak topic in introduction order, read topic by topic (heaviest first, see
# `ix_topics_profile_id_card_weight`) without a sort. `weight` (0: no missed question) makes it
# the planner's choice over ix_cards_new_queue when the statistics are missing.
Index(
    "ix_cards_new_by_topic",
    cards.c.weak_topic_id, cards.c.suspended, cards.c.weight, cards.c.new_position,
    cards.c.note_id, cards.c.ord,
    sqlite_where=NEW_ONLY,  # PostgreSQL's: use_postgresql
)  # fmt: skip


def card_weight(c: Any = cards) -> Any:
    """A card's weakness weight as an expression over `c` (the cards table or an alias of
    it): its missed question's (`cards.weight` > 0), else its topic's `card_weight`, else 0."""
    t = topics.c
    topic = select(t.card_weight).where(t.id == c.c.weak_topic_id).scalar_subquery()
    return case((c.c.weight > 0, c.c.weight), else_=func.coalesce(topic, 0.0))


# The one order of new cards, for every reader (the queue, the counts, the forecast): weight
# first (missed questions and weak topics), then the stored introduction order. Read in three
# parts (`repos.queue.new_in_order`) where the order is wanted without a sort.
NEW_CARD_ORDER = (card_weight().desc(), cards.c.new_position, cards.c.note_id, cards.c.ord)
# New cards in introduction order, a missed question's card (weight >= 1) still first: the
# queue's order once the deck will be finished before the exam (core.exam.deck_done_by).
# (`cards.weight` holds a missed question's weight alone: schema 0019.)
INTRODUCTION_ORDER = (
    case((cards.c.weight >= MISSED_QUESTION, 0), else_=1), cards.c.new_position, cards.c.note_id, cards.c.ord,
)  # fmt: skip

# One row per answer, with the state before and after so `undo` restores it exactly.
#
# Compact (schemas 0012 and 0017): the times are `UTCMicros` (an 8-byte integer on SQLite), and
# an answer given to a card exactly as its previous answer left it is *chained*: its
# `due_before` is NULL, and so is the rest of its before-state but `state_before` and
# `lapses_before`: step, stability, difficulty, due, last review and retention are read from
# that previous row (the card's row with the greatest id below this one): step, stability,
# difficulty and due after it, its `reviewed_at` as the last review, its `desired_retention`
# (see `repos.log_rows.before_state`). The rarely stored part of the before-state (step,
# stability, difficulty, retention, buried until) is one column, `packed_before` (NULL when
# chained or all None; five mostly-NULL columns cost a byte each on every row). A row that is
# deleted or rewritten while a chained row follows it first writes that row's before-state out
# (`unchain_successor`). Rows written whole (imports, tests) are simply not chained (a first
# Anki import on SQLite wrote its answers chained from schema 0017 to 0026, their stability
# after 0.0: none known; such rows stay). A first Anki import on SQLite now writes its answers
# into `imported_answers` (schema 0027), which readers see beside this table as one history
# (`storage.answer_rows`): never read this table alone for answers.
review_logs = Table(
    "review_logs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    _profile(),
    _required("card_id", ForeignKey("cards.id", ondelete="CASCADE")),
    _required("reviewed_at", UTCMicros),
    _required("rating", SmallInteger),
    _optional("duration_ms", Integer),
    _required("desired_retention", Retention),  # 0.0 for 0.9 on SQLite (types.Retention)
    _required("reason", String(300), default=""),
    _required("state_before", SmallInteger),
    _optional("due_before", UTCMicros),  # NULL: chained
    _optional("last_review_before", UTCMicros),
    _required("lapses_before", Integer),
    # step, stability, difficulty, retention and buried-until before (types.PackedBefore)
    _optional("packed_before", PackedBefore),
    _required("state_after", SmallInteger),
    _optional("step_after", SmallInteger),
    _required("stability_after", Float),
    _required("difficulty_after", Float),
    _required("due_after", UTCMicros),
    _required("leeched", Boolean, default=False),
    _optional("buried_siblings", IdList, default=list),  # NULL: none
    _optional("scheduler_id", ForeignKey("schedulers.id", ondelete="SET NULL")),
    # Study days since the card's previous answer, as the scheduler was given them (0 for a new
    # card). NULL: written before flashcore counted elapsed time in study days (schema 0006);
    # such answers replay with fsrs's 24-hour days, as they were written.
    _optional("elapsed_days", Integer),
    # The Anki revlog id of this answer: set for a row imported from an Anki package, and for an
    # answer given here that came back in one (matched when the package is imported). NULL: an
    # answer Anki has not seen. A card holds each revlog id at most once (re-imports add nothing).
    _optional("anki_revlog_id", BigInteger),
    # True for a row taken over from an Anki revlog (not answered in flashcore).
    _required("imported", Boolean, default=False, server_default=false()),
    # By card, and by its revlog ids (schema 0022: one index does both; a card holds each revlog
    # id at most once, the rows without one being distinct NULLs); by time for the day's counts.
    Index("ix_review_logs_card_id_anki_revlog_id", "card_id", "anki_revlog_id", unique=True),
    Index("ix_review_logs_profile_id_reviewed_at", "profile_id", "reviewed_at"),
)

# A student's own mapping from qbank topic text to one of their topic paths.
topic_aliases = Table(
    "topic_aliases",
    metadata,
    _id(),
    _profile(),
    _required("alias", String(500)),
    _required("alias_key", String(500)),
    _required("topic_path", String(500)),
    UniqueConstraint("profile_id", "alias_key"),
)

# A queue-level boost: a not-yet-due card joins one study day's queue. Never touches FSRS.
pull_forwards = Table(
    "pull_forwards",
    metadata,
    _profile(),
    Column("card_id", ForeignKey("cards.id", ondelete="CASCADE"), primary_key=True),
    Column("study_day", Date, primary_key=True),
    _required("reason", String(300)),  # the text shown (kept for older versions' readers)
    # What pulled the card (core.reasons.PulledForward): "question" (`subject` its
    # `source:qid`, `on_date` the miss's day) or "topic" (`subject` its path, `misses` its
    # fresh misses).
    _required("kind", String(16), server_default="topic"),
    _required("subject", String(300), server_default=""),
    _optional("on_date", Date),
    _required("misses", Integer, server_default=text("0")),
)

# A profile's exam (one per profile): its date, the daily time budget, the buffer before it
# (every card seen by then), the retention steps the solver chose toward it, and the study day
# `plan_mode auto` last set new_per_day for.
exams = Table(
    "exams",
    metadata,
    _id(),
    _profile(),
    _required("exam_date", Date),
    _required("minutes_per_day", Integer),
    _required("buffer_days", Integer),
    _required("retention_plan", JSON, default=list),
    _optional("solved_on", Date),
    _optional("plan_day", Date),
    _required("created_at", UTCDateTime),
    _required("updated_at", UTCDateTime),
    UniqueConstraint("profile_id"),
)

# A self-assessment (an NBME-style practice exam): its score against the pass line.
assessments = Table(
    "assessments",
    metadata,
    _id(),
    _profile(),
    _required("name", String(200)),
    _required("taken_on", Date),
    _required("score", Float),
    _required("pass_line", Float),
    _required("report", String(500), default=""),
    _required("created_at", UTCDateTime),
)

# One line of a self-assessment's score report: an outline system or discipline, as a band
# (lower / borderline / higher) or a percent correct.
assessment_areas = Table(
    "assessment_areas",
    metadata,
    _id(),
    _required("assessment_id", ForeignKey("assessments.id", ondelete="CASCADE"), index=True),
    _required("kind", String(20)),
    _required("area", String(200)),
    _optional("band", String(20)),
    _optional("percent", Float),
    _required("given", String(200), default=""),
)

# Today's raised new-card limit for one scope (`flashcore due --topic T --extra-new N`): the
# limit of that study day's sessions on that scope is `new_per_day` + `extra` (+ the raise of
# the whole collection, scope ""). A row for another day counts for nothing.
new_limit_raises = Table(
    "new_limit_raises",
    metadata,
    Column("profile_id", ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True),
    Column("study_day", Date, primary_key=True),
    Column("scope", String(1000), primary_key=True),
    _required("extra", Integer),
)

# A card that came from an Anki package (or went to Anki and came back): its Anki card id, and
# its "anchor": the schedule it had in Anki when flashcore last took its history over
# (`flashcore decks add FILE --with-scheduling`). Anki's history before `anchor_at` was scheduled
# by Anki (other parameters, other fuzz, maybe SM-2), so `check` starts its replay from the
# anchor and replays only the answers after it. `anchor_at` NULL: no anchor (replay from new).
anki_cards = Table(
    "anki_cards",
    metadata,
    Column("card_id", ForeignKey("cards.id", ondelete="CASCADE"), primary_key=True),
    _profile(),
    _required("anki_card_id", BigInteger, index=True),
    _optional("anchor_at", UTCDateTime),
    _optional("state", SmallInteger),
    _optional("step", SmallInteger),
    _optional("due", UTCDateTime),
    _optional("stability", Float),
    _optional("difficulty", Float),
    _optional("last_review", UTCDateTime),
    _optional("reps", Integer),
    _optional("lapses", Integer),
)

# Each topic's cards (the cards of the notes linked to it; a card counts once per topic its note
# links), kept by the database's own triggers on topics, cards and note_topics (schema 0018), so
# the weakness report reads a topic's count instead of joining every card to its topics (200,000
# cards: ~0.15 s a report). Every writer keeps it without knowing: deck and Anki imports, note
# removals, cascades. A trigger sees the other table as it stands, so the counts hold in any
# order of the writes; deletions count down BEFORE the row goes (PostgreSQL fires the AFTER
# triggers of a cascade's deletes only once the whole cascade is done).
topic_cards = Table(
    "topic_cards",
    metadata,
    Column(
        "topic_id",
        ForeignKey("topics.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    _required("cards", Integer),
)

event.listen(metadata, "after_create", create_topic_cards_triggers)
event.listen(metadata, "after_create", create_topic_index_triggers)  # storage.index_cache
event.listen(metadata, "after_create", create_weak_candidates_triggers)  # schema 0031

# The partial indexes' condition on PostgreSQL. Naming a dialect's option (`postgresql_where`)
# makes SQLAlchemy import that dialect, PostgreSQL's with its asyncpg driver (~0.13 G
# instructions, ~6 % of a `flashcore weakness` on SQLite), so it is set on the indexes when
# PostgreSQL is first used: by `storage.db.make_engine`, and by `models` (Alembic's metadata).
PARTIAL_WHERE = {
    "ix_cards_new_queue": NEW_ONLY,
    "ix_cards_new_by_topic": NEW_ONLY,
    "ix_qbank_attempts_shares": WITH_SHARE,
}


def use_postgresql() -> None:
    """Give the partial indexes their PostgreSQL condition (idempotent)."""
    for table in metadata.tables.values():
        for index in table.indexes:
            if index.name in PARTIAL_WHERE:
                index.dialect_options["postgresql"]["where"] = PARTIAL_WHERE[str(index.name)]
