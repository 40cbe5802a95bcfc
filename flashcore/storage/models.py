"""ORM classes mapped onto the Core tables of `tables.py` (the one schema definition), for
code that prefers `select(Card.id)` and typed attributes. The hot paths (`due`, `answer`, the
reviewer) use the tables directly and never import this module or SQLAlchemy's ORM."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import DeclarativeBase, Mapped

from flashcore.storage import tables
from flashcore.storage.tables import NAMING
from flashcore.storage.types import Packed

__all__ = ["NAMING", "Base"]

tables.use_postgresql()  # Alembic's metadata: the partial indexes' condition on PostgreSQL


class Base(DeclarativeBase):
    metadata = tables.metadata


class Profile(Base):
    __table__ = tables.profiles

    id: Mapped[int]
    name: Mapped[str]
    settings: Mapped[dict[str, object]]
    created_at: Mapped[datetime]
    weights_day: Mapped[date | None]


class Scheduler(Base):
    __table__ = tables.schedulers

    id: Mapped[int]
    profile_id: Mapped[int]
    digest: Mapped[str]
    config: Mapped[dict[str, object]]
    created_at: Mapped[datetime]


class Deck(Base):
    __table__ = tables.decks

    id: Mapped[int]
    profile_id: Mapped[int]
    key: Mapped[str]
    name: Mapped[str]
    description: Mapped[str]
    html: Mapped[bool]
    source: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Topic(Base):
    __table__ = tables.topics

    id: Mapped[int]
    profile_id: Mapped[int]
    path: Mapped[str]
    key: Mapped[str]
    parent_id: Mapped[int | None]
    weight: Mapped[float]
    reason: Mapped[str]
    explanation: Mapped[dict[str, object] | None]
    card_weight: Mapped[float]
    card_topic_id: Mapped[int | None]


class Note(Base):
    __table__ = tables.notes

    id: Mapped[int]
    profile_id: Mapped[int]
    deck_id: Mapped[int]
    key: Mapped[str]
    kind: Mapped[str]
    fields: Mapped[dict[str, str]]
    tags: Mapped[list[str]]
    content_hash: Mapped[str]
    removed: Mapped[bool]
    source_line: Mapped[int | None]
    anki_mod: Mapped[int | None]
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class NoteTopic(Base):
    __table__ = tables.note_topics

    note_id: Mapped[int]
    topic_id: Mapped[int]


class NoteQid(Base):
    __table__ = tables.note_qids

    note_id: Mapped[int]
    source: Mapped[str]
    qid: Mapped[str]


class Card(Base):
    __table__ = tables.cards

    id: Mapped[int]
    profile_id: Mapped[int]
    note_id: Mapped[int]
    ord: Mapped[int]
    state: Mapped[int]
    step: Mapped[int | None]
    stability: Mapped[float | None]
    difficulty: Mapped[float | None]
    due: Mapped[datetime]
    last_review: Mapped[datetime | None]
    reps: Mapped[int]
    lapses: Mapped[int]
    desired_retention: Mapped[float | None]
    suspended: Mapped[bool]
    buried_until: Mapped[datetime | None]
    flagged: Mapped[bool]
    leech: Mapped[bool]
    weight: Mapped[float]
    weak_topic_id: Mapped[int | None]
    version: Mapped[int]
    modified_at: Mapped[datetime]
    unsuspended_by: Mapped[int | None]
    new_position: Mapped[int]
    suspended_gone: Mapped[int]


class ReviewLog(Base):
    __table__ = tables.review_logs

    id: Mapped[int]
    profile_id: Mapped[int]
    card_id: Mapped[int]
    reviewed_at: Mapped[datetime]
    rating: Mapped[int]
    scheduler_id: Mapped[int | None]
    duration_ms: Mapped[int | None]
    desired_retention: Mapped[float]
    reason: Mapped[str]
    state_before: Mapped[int]
    due_before: Mapped[datetime | None]
    last_review_before: Mapped[datetime | None]
    lapses_before: Mapped[int]
    packed_before: Mapped[Packed]
    state_after: Mapped[int]
    step_after: Mapped[int | None]
    stability_after: Mapped[float]
    difficulty_after: Mapped[float]
    due_after: Mapped[datetime]
    leeched: Mapped[bool]
    buried_siblings: Mapped[list[int]]
    elapsed_days: Mapped[int | None]
    anki_revlog_id: Mapped[int | None]
    imported: Mapped[bool]


class QbankBatch(Base):
    __table__ = tables.qbank_batches

    id: Mapped[int]
    profile_id: Mapped[int]
    source: Mapped[str]
    format: Mapped[str]
    origin: Mapped[str]
    content_hash: Mapped[str]
    imported_at: Mapped[datetime]
    rows_read: Mapped[int]
    added: Mapped[int]
    pending_from: Mapped[int | None]
    owner: Mapped[str | None]


class QbankTally(Base):
    __table__ = tables.qbank_tallies

    id: Mapped[int]
    profile_id: Mapped[int]
    topic: Mapped[str]
    category: Mapped[str]
    system: Mapped[str]
    attempts: Mapped[int]
    misses: Mapped[int]


class QbankAttempt(Base):
    __table__ = tables.qbank_attempts

    id: Mapped[int]
    profile_id: Mapped[int]
    batch_id: Mapped[int]
    source: Mapped[str]
    qid: Mapped[str]
    outcome: Mapped[str]
    on_date: Mapped[date]
    subject: Mapped[str]
    system: Mapped[str]
    category: Mapped[str]
    topic: Mapped[str]
    seconds: Mapped[int | None]
    fingerprint: Mapped[str]


class TopicAlias(Base):
    __table__ = tables.topic_aliases

    id: Mapped[int]
    profile_id: Mapped[int]
    alias: Mapped[str]
    alias_key: Mapped[str]
    topic_path: Mapped[str]


class PullForward(Base):
    __table__ = tables.pull_forwards

    profile_id: Mapped[int]
    card_id: Mapped[int]
    study_day: Mapped[date]
    reason: Mapped[str]
    kind: Mapped[str]
    subject: Mapped[str]
    on_date: Mapped[date | None]
    misses: Mapped[int]


class Exam(Base):
    __table__ = tables.exams

    id: Mapped[int]
    profile_id: Mapped[int]
    exam_date: Mapped[date]
    minutes_per_day: Mapped[int]
    buffer_days: Mapped[int]
    retention_plan: Mapped[list[list[float]]]
    solved_on: Mapped[date | None]
    plan_day: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Assessment(Base):
    __table__ = tables.assessments

    id: Mapped[int]
    profile_id: Mapped[int]
    name: Mapped[str]
    taken_on: Mapped[date]
    score: Mapped[float]
    pass_line: Mapped[float]
    report: Mapped[str]
    created_at: Mapped[datetime]


class AssessmentArea(Base):
    __table__ = tables.assessment_areas

    id: Mapped[int]
    assessment_id: Mapped[int]
    kind: Mapped[str]
    area: Mapped[str]
    band: Mapped[str | None]
    percent: Mapped[float | None]
    given: Mapped[str]


class NewLimitRaise(Base):
    __table__ = tables.new_limit_raises

    profile_id: Mapped[int]
    study_day: Mapped[date]
    scope: Mapped[str]
    extra: Mapped[int]


class AnkiCard(Base):
    __table__ = tables.anki_cards

    card_id: Mapped[int]
    profile_id: Mapped[int]
    anki_card_id: Mapped[int]
    anchor_at: Mapped[datetime | None]
    state: Mapped[int | None]
    step: Mapped[int | None]
    due: Mapped[datetime | None]
    stability: Mapped[float | None]
    difficulty: Mapped[float | None]
    last_review: Mapped[datetime | None]
    reps: Mapped[int | None]
    lapses: Mapped[int | None]
