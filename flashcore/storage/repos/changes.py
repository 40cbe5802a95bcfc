"""Whether and when the collection changed (for the automatic backups)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    case,
    func,
    select,
    text,
)

from flashcore.storage.answer_rows import answer_rows
from flashcore.storage.tables import (
    anki_cards,
    cards,
    notes,
    review_logs,
)

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


def changed_since(session: Executor, since: datetime | None) -> datetime | None:
    """When the collection last changed, if after `since` (every change when None), as its
    timestamps tell: the newest answer, question-bank import, note or card change. The cheap
    questions first (the newest review row by id, the few import batches); the note and card
    scans (~25 ms each at 200,000 cards) only when those found nothing newer."""
    from flashcore.storage.tables import qbank_batches

    # The review log's newest row; an import that takes answers over writes their cards too
    # (`imported_answers` is not read: their modified_at is the import's time).
    newest_review = session.execute(
        select(review_logs.c.reviewed_at).order_by(review_logs.c.id.desc()).limit(1)
    ).scalar()
    newest_batch = session.execute(select(func.max(qbank_batches.c.imported_at))).scalar()
    quick: list[datetime] = [t for t in (newest_review, newest_batch) if t is not None]
    if since is not None and quick and max(quick) > since:
        return max(quick)
    times = [
        *quick,
        session.execute(select(func.max(notes.c.modified_at))).scalar(),
        session.execute(select(func.max(cards.c.modified_at))).scalar(),
    ]
    known: list[datetime] = [t for t in times if t is not None]
    if not known:
        return None
    newest = max(known)
    return newest if since is None or newest > since else None


def profile_stamp(session: Executor, profile_id: int) -> tuple[object, ...]:
    """What another process's qbank import, removal, deck load, `config set` or `exam set`
    changes in a profile and a review session's own answers never do, read from small tables
    (import batches, decks, the profile's settings and exam): equal stamps mean none of those
    happened in between (PostgreSQL has no commit counter like SQLite's `data_version`)."""
    from flashcore.storage.tables import decks, exams, profiles, qbank_batches

    b, d = qbank_batches.c, decks.c
    batches = session.execute(
        select(
            func.count(b.id), func.max(b.id), func.max(b.imported_at), func.count(b.owner)
        ).where(b.profile_id == profile_id)
    ).one()
    deck_rows = session.execute(
        select(func.count(d.id), func.max(d.updated_at)).where(d.profile_id == profile_id)
    ).one()
    settings = session.execute(
        select(profiles.c.settings).where(profiles.c.id == profile_id)
    ).scalar()
    e = exams.c
    exam = session.execute(
        select(e.exam_date, e.minutes_per_day, e.buffer_days, e.retention_plan).where(
            e.profile_id == profile_id
        )
    ).first()
    return (*batches, *deck_rows, settings, None if exam is None else tuple(exam))


def holds_anything(session: Executor) -> bool:
    """Whether the collection holds anything a student could lose (a note, an answer, an
    imported attempt): a few one-row lookups."""
    from flashcore.storage.tables import qbank_batches

    for table in (notes, review_logs, qbank_batches):
        if session.execute(select(table.c.id).limit(1)).first() is not None:
            return True
    return False


# Settings only the day's queue and the plan read, never an Anki package's import: a student
# changes them often (`plan_mode auto` sets `new_per_day` every study day), and the unchanged
# re-import of a phone's export stays a shortcut after such a change.
STUDY_ONLY = frozenset(
    ("new_per_day", "reviews_per_day", "new_ignores_review_limit", "learn_ahead_minutes",
     "bury_siblings", "plan_mode")
)  # fmt: skip


def import_stamp(session: Executor, profile_id: int) -> str:
    """A digest of what the result of an Anki package's import depends on in a profile: its
    notes (their content hashes too), which cards exist, their links and anchors to Anki
    (`anki_cards`, written by imports only), the answers that carry an Anki revlog id (every
    profile's: imported, or given here and matched; an undo removes one), decks, topics and
    settings (without the remembered scoped changes and the `STUDY_ONLY` ones), and the schema. Equal stamps after an
    import and before the next mean nothing an import reads changed in between
    (`services.anki_unchanged`).

    Study here is left out: answers (those given here carry no revlog id until a package
    brings them back), a card's schedule, suspension, flag or burial, the scoped changes'
    record, the schedulers answers are given under. An unchanged re-import leaves all of them
    as they are (the notes import touches no card of a note found unchanged; the scheduling
    import keeps flashcore's state of a card with nothing new from Anki), and what it reports
    of them is worked out from `answered_unanchored`. A few aggregate scans (~30 ms at 50,000
    cards and 1,000,000 answers)."""
    import hashlib

    from flashcore.storage.repos.scoped_changes import JOURNAL_KEY
    from flashcore.storage.tables import decks, profiles, topics

    n, c, a = notes.c, cards.c, anki_cards.c
    r = answer_rows("anki_revlog_id").c
    rows: list[tuple[object, ...]] = [
        tuple(session.execute(query).one())
        for query in (
            select(func.count(), func.max(n.id), func.max(n.modified_at), _count_true(n.removed))
            .where(n.profile_id == profile_id),
            select(func.count(), func.max(c.id)).where(c.profile_id == profile_id),
            # every profile's, over the index by card and revlog id
            select(func.count(r.anki_revlog_id), func.max(r.anki_revlog_id)),
            select(func.count(), func.max(a.anki_card_id), func.sum(a.anki_card_id),
                   func.count(a.anchor_at), func.max(a.anchor_at))
            .where(a.profile_id == profile_id),
            select(func.count(), func.max(decks.c.id), func.max(decks.c.updated_at))
            .where(decks.c.profile_id == profile_id),
            select(func.count(), func.max(topics.c.id)).where(topics.c.profile_id == profile_id),
        )
    ]  # fmt: skip
    settings = session.execute(
        select(profiles.c.settings).where(profiles.c.id == profile_id)
    ).scalar()
    if isinstance(settings, dict):
        settings = sorted(
            (k, repr(v)) for k, v in settings.items() if k != JOURNAL_KEY and k not in STUDY_ONLY
        )
    revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    digest = hashlib.blake2b(repr((rows, settings, revision)).encode(), digest_size=16)
    # The notes' content hashes, which decide what a re-import converts and writes (~10 ms
    # at 35,000 notes).
    held = session.execute(
        select(n.content_hash).where(n.profile_id == profile_id).order_by(n.key)
    ).scalars()
    digest.update("\n".join(held).encode())
    return digest.hexdigest()


def unanchored_cards(session: Executor, profile_id: int) -> set[int]:
    """The profile's cards linked to Anki without an anchor (new in Anki when imported)."""
    a = anki_cards
    query = select(a.c.card_id).where(a.c.profile_id == profile_id, a.c.anchor_at.is_(None))
    return set(session.execute(query).scalars())


def answered_unanchored(session: Executor, profile_id: int) -> set[int]:
    """The profile's cards linked to Anki without an anchor that hold an answer given here and
    not matched to an Anki revlog row yet: a re-import counts them unchanged, not new. One
    pass over those cards, a lookup each in the review log's index by card."""
    a = anki_cards
    r = review_logs.c
    answered = (
        select(r.id)
        .where(r.card_id == a.c.card_id, r.anki_revlog_id.is_(None), r.imported.is_(False))
        .exists()
    )
    query = select(a.c.card_id).where(
        a.c.profile_id == profile_id, a.c.anchor_at.is_(None), answered
    )
    return set(session.execute(query).scalars())


def _count_true(column: Any) -> Any:
    return func.sum(case((column, 1), else_=0))
