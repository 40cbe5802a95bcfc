"""The schema. Every table a student owns carries `profile_id`, so one database can hold a class."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flashcore.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    settings: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The study day the weakness weights were last computed for (they decay daily).
    weights_day: Mapped[date | None] = mapped_column(Date)


class Scheduler(Base):
    """A scheduler configuration (FSRS parameters, steps, maximum interval) that answered cards.
    Each review-log row names the one it used, so `check` replays history exactly even after
    the settings change."""

    __tablename__ = "schedulers"
    __table_args__ = (UniqueConstraint("profile_id", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Deck(Base):
    __tablename__ = "decks"
    __table_args__ = (UniqueConstraint("profile_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Topic(Base):
    """A node of the topic tree. `key` is the normalized path; `weight` is the weakness score
    copied here (and onto cards) so the queue needs no GROUP BY at query time."""

    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("profile_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(500))
    key: Mapped[str] = mapped_column(String(500))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str] = mapped_column(String(300), default="")


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (UniqueConstraint("profile_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    deck_id: Mapped[int] = mapped_column(ForeignKey("decks.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(600))
    kind: Mapped[str] = mapped_column(String(10))
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    source_line: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NoteTopic(Base):
    __tablename__ = "note_topics"

    note_id: Mapped[int] = mapped_column(
        ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class NoteQid(Base):
    """A question-bank question that tests this note (`uworld:118154` -> source, qid)."""

    __tablename__ = "note_qids"

    note_id: Mapped[int] = mapped_column(
        ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    qid: Mapped[str] = mapped_column(String(100), primary_key=True)

    __table_args__ = (Index("ix_note_qids_source_qid", "source", "qid"),)


class Card(Base):
    """One card per basic note, one per cloze deletion (`ord` = the cloze number).

    Scheduling columns are compact scalars so the queue is ranked in SQL without ORM objects.
    `version` grows on every change: an answer names the version it was shown, so a card
    answered elsewhere meanwhile is refused rather than answered twice.
    """

    __tablename__ = "cards"
    __table_args__ = (
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

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"))
    ord: Mapped[int] = mapped_column(SmallInteger, default=0)
    state: Mapped[int] = mapped_column(SmallInteger, default=0)
    step: Mapped[int | None] = mapped_column(SmallInteger)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    desired_retention: Mapped[float | None] = mapped_column(Float)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    buried_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    leech: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    weak_topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=0)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime)


# New cards in introduction order (weak topics first), read from the index without a sort.
Index(
    "ix_cards_new_queue",
    Card.profile_id, Card.suspended, Card.state, Card.weight.desc(), Card.note_id, Card.ord,
)  # fmt: skip


class ReviewLog(Base):
    """One row per answer, with the state before and after so `undo` restores it exactly."""

    __tablename__ = "review_logs"
    __table_args__ = (
        Index("ix_review_logs_card_id_reviewed_at", "card_id", "reviewed_at"),
        Index("ix_review_logs_profile_id_reviewed_at", "profile_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rating: Mapped[int] = mapped_column(SmallInteger)
    scheduler_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedulers.id", ondelete="SET NULL")
    )
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    desired_retention: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300), default="")
    state_before: Mapped[int] = mapped_column(SmallInteger)
    step_before: Mapped[int | None] = mapped_column(SmallInteger)
    stability_before: Mapped[float | None] = mapped_column(Float)
    difficulty_before: Mapped[float | None] = mapped_column(Float)
    due_before: Mapped[datetime] = mapped_column(UTCDateTime)
    last_review_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lapses_before: Mapped[int] = mapped_column(Integer)
    retention_before: Mapped[float | None] = mapped_column(Float)
    buried_until_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_after: Mapped[int] = mapped_column(SmallInteger)
    step_after: Mapped[int | None] = mapped_column(SmallInteger)
    stability_after: Mapped[float] = mapped_column(Float)
    difficulty_after: Mapped[float] = mapped_column(Float)
    due_after: Mapped[datetime] = mapped_column(UTCDateTime)
    leeched: Mapped[bool] = mapped_column(Boolean, default=False)
    buried_siblings: Mapped[list[int]] = mapped_column(JSON, default=list)


class QbankBatch(Base):
    __tablename__ = "qbank_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(50))
    format: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)


class QbankAttempt(Base):
    __tablename__ = "qbank_attempts"
    __table_args__ = (
        UniqueConstraint("profile_id", "fingerprint"),
        Index("ix_qbank_attempts_profile_id_on_date", "profile_id", "on_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("qbank_batches.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(50))
    qid: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(10))
    on_date: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(200), default="")
    system: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(500), default="")
    seconds: Mapped[int | None] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))


class TopicAlias(Base):
    """A student's own mapping from qbank topic text to one of their topic paths."""

    __tablename__ = "topic_aliases"
    __table_args__ = (UniqueConstraint("profile_id", "alias_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(500))
    alias_key: Mapped[str] = mapped_column(String(500))
    topic_path: Mapped[str] = mapped_column(String(500))


class PullForward(Base):
    """A queue-level boost: a not-yet-due card joins one study day's queue. Never touches FSRS."""

    __tablename__ = "pull_forwards"

    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(
        ForeignKey("cards.id", ondelete="CASCADE"), primary_key=True
    )
    study_day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(300))
