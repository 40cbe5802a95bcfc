"""What flashcore keeps of Anki: cards' Anki ids and anchors, review-log rows' revlog ids, and
the imported rows themselves (`decks add FILE --with-scheduling`)."""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, text, update

from flashcore.core.model import CardState, Memory, Rating, Schedule
from flashcore.storage import repos
from flashcore.storage.anki_attached import IMPORTED_COLUMNS as _IMPORTED_COLUMNS
from flashcore.storage.anki_attached import AttachedCollection as AttachedCollection
from flashcore.storage.anki_attached import RowsProgress as RowsProgress
from flashcore.storage.anki_attached import attach_collection as attach_collection
from flashcore.storage.anki_attached import big_cache, driver_connection
from flashcore.storage.anki_attached import rows_progress as rows_progress
from flashcore.storage.anki_card_writes import Anchor as Anchor
from flashcore.storage.anki_card_writes import CardWrites as CardWrites
from flashcore.storage.answer_rows import IMPORTED_REASON as IMPORTED_REASON
from flashcore.storage.answer_rows import answer_rows
from flashcore.storage.answer_rows import move_to_review_log as move_to_review_log
from flashcore.storage.repos import schedule_from
from flashcore.storage.tables import anki_cards, cards, review_logs
from flashcore.storage.types import from_micros, to_micros, to_retention

if TYPE_CHECKING:
    from flashcore.storage.repos import Executor

_CHUNK = 900


@dataclass(frozen=True, slots=True)
class LocalCard:
    """A flashcore card as an import needs it."""

    card_id: int
    schedule: Schedule
    version: int
    retention: float | None
    anki_card_id: int | None
    anchor: Anchor | None


@dataclass(frozen=True, slots=True)
class LoggedAnswer:
    """One review-log row, as a merge replays it."""

    log_id: int
    reviewed_at: datetime
    rating: Rating
    retention: float
    scheduler_id: int | None
    imported: bool


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _anchor_of(row: Any) -> Anchor | None:
    if row.anchor_at is None or row.a_state is None or row.a_due is None:
        return None
    memory = None
    if row.a_stability is not None and row.a_difficulty is not None:
        memory = Memory(stability=row.a_stability, difficulty=row.a_difficulty)
    schedule = Schedule(
        state=CardState(row.a_state),
        due=row.a_due,
        step=row.a_step,
        memory=memory,
        last_review=row.a_last_review,
        reps=row.a_reps or 0,
        lapses=row.a_lapses or 0,
    )
    return Anchor(at=row.anchor_at, schedule=schedule)


def _anchor_columns() -> tuple[Any, ...]:
    a = anki_cards
    return (
        a.c.anki_card_id, a.c.anchor_at, a.c.state.label("a_state"), a.c.step.label("a_step"),
        a.c.due.label("a_due"), a.c.stability.label("a_stability"),
        a.c.difficulty.label("a_difficulty"), a.c.last_review.label("a_last_review"),
        a.c.reps.label("a_reps"), a.c.lapses.label("a_lapses"),
    )  # fmt: skip


def local_cards(
    session: Executor, profile_id: int, card_ids: Sequence[int]
) -> dict[int, LocalCard]:
    """The cards (of this profile) with their Anki link and anchor, if any."""
    t = cards
    out: dict[int, LocalCard] = {}
    for chunk in _chunks(sorted(set(card_ids))):
        query = (
            select(
                t.c.id, t.c.state, t.c.step, t.c.due, t.c.stability, t.c.difficulty,
                t.c.last_review, t.c.reps, t.c.lapses, t.c.version, t.c.desired_retention,
                *_anchor_columns(),
            )
            .select_from(t.outerjoin(anki_cards, anki_cards.c.card_id == t.c.id))
            .where(t.c.profile_id == profile_id, t.c.id.in_(chunk))
        )  # fmt: skip
        for row in session.execute(query):
            out[row.id] = LocalCard(
                card_id=row.id,
                schedule=schedule_from(row),
                version=row.version,
                retention=row.desired_retention,
                anki_card_id=row.anki_card_id,
                anchor=_anchor_of(row),
            )
    return out


def card_links(session: Executor, profile_id: int) -> dict[int, tuple[int, bool]]:
    """The profile's cards linked to Anki: card id -> (Anki card id, has an anchor)."""
    a = anki_cards
    query = select(a.c.card_id, a.c.anki_card_id, a.c.anchor_at.is_not(None)).where(
        a.c.profile_id == profile_id
    )
    return {
        card_id: (anki_id, bool(anchored)) for card_id, anki_id, anchored in session.execute(query)
    }


def anchors(session: Executor, profile_id: int) -> dict[int, Anchor]:
    """Every anchored card of the profile (for `check`)."""
    out: dict[int, Anchor] = {}
    query = select(anki_cards.c.card_id, *_anchor_columns()).where(
        anki_cards.c.profile_id == profile_id, anki_cards.c.anchor_at.is_not(None)
    )
    for row in session.execute(query):
        anchor = _anchor_of(row)
        if anchor is not None:
            out[row.card_id] = anchor
    return out


def known_revlog_ids(session: Executor, profile_id: int) -> array[int]:
    """Every revlog id the profile's review log holds, sorted (8 bytes each: a million ids
    take 8 MB, where a set of ints would take ~60 MB)."""
    ids = array("q")
    r = answer_rows("profile_id", "anki_revlog_id").c
    query = (
        select(r.anki_revlog_id)
        .where(r.profile_id == profile_id, r.anki_revlog_id.is_not(None))
        .order_by(r.anki_revlog_id)
    )
    cursor = session.execute(query)
    while rows := cursor.fetchmany(50_000):
        ids.extend(rid for (rid,) in rows)
    return ids


def revlog_fingerprints(
    session: Executor, card_ids: Iterable[int]
) -> dict[int, tuple[int, int, int, int]]:
    """For each of these cards holding revlog ids: (how many, their sum, the least, the
    greatest). One pass over the card index of the revlog ids (all profiles': a card is one
    profile's), kept for the cards asked."""
    wanted = set(card_ids)
    r = answer_rows("card_id", "anki_revlog_id").c
    query = (
        select(r.card_id, func.count(), func.sum(r.anki_revlog_id), func.min(r.anki_revlog_id),
               func.max(r.anki_revlog_id))
        .where(r.anki_revlog_id.is_not(None))
        .group_by(r.card_id)
    )  # fmt: skip
    return {
        card_id: (int(n), int(total), int(least), int(most))
        for card_id, n, total, least, most in session.execute(query)
        if card_id in wanted
    }


def holds_revlog_ids(session: Executor, profile_id: int) -> bool:
    """Whether any row of the profile's review log holds an Anki revlog id."""
    r = answer_rows("id", "profile_id", "anki_revlog_id").c
    query = select(r.id).where(r.profile_id == profile_id, r.anki_revlog_id.is_not(None)).limit(1)
    return session.execute(query).first() is not None


def review_log_size(session: Executor) -> int:
    """About how many rows the review log holds, every profile's (its greatest id: rows are
    rarely deleted)."""
    return int(session.execute(select(func.max(review_logs.c.id))).scalar() or 0)


def keys_broken(session: Executor) -> bool:
    """SQLite: whether a row of the database already lacks its parent (a foreign key), as a
    file an older flashcore or a crash left (`flashcore doctor` repairs it)."""
    return session.execute(text("PRAGMA main.foreign_key_check")).first() is not None


def unlinked_answers(
    session: Executor, profile_id: int, card_ids: Sequence[int]
) -> dict[int, list[tuple[int, int, int, int]]]:
    """Answers given in flashcore that no Anki package has brought back yet, by card:
    (log id, epoch milliseconds, rating, milliseconds taken or 0). One pass over the profile's
    log (a lookup per card read ~30 rows of each of 45,000 cards at random: ten times
    slower)."""
    r = review_logs
    # Two counts over indexes (~0.02 s) before a pass over every row (~0.2 s a million): when
    # every row of the review log holds a revlog id, no answer is unlinked.
    total = session.execute(select(func.count()).select_from(r)).scalar_one()
    linked = session.execute(
        select(func.count()).select_from(r).where(r.c.anki_revlog_id.is_not(None))
    ).scalar_one()
    if total == linked:
        return {}
    wanted = set(card_ids)
    out: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    query = select(r.c.id, r.c.card_id, r.c.reviewed_at, r.c.rating, r.c.duration_ms).where(
        r.c.profile_id == profile_id, r.c.anki_revlog_id.is_(None), r.c.imported.is_(False)
    )
    for row in session.execute(query):
        if row.card_id in wanted:
            millis = int(row.reviewed_at.timestamp() * 1000)
            out[row.card_id].append((row.id, millis, row.rating, row.duration_ms or 0))
    return dict(out)


def last_answers(session: Executor, card_ids: Sequence[int]) -> dict[int, datetime]:
    """Each card's latest review-log time (cards with none are absent)."""
    r = answer_rows("card_id", "reviewed_at")
    out: dict[int, datetime] = {}
    for chunk in _chunks(sorted(set(card_ids))):
        query = (
            select(r.c.card_id, func.max(r.c.reviewed_at))
            .where(r.c.card_id.in_(chunk))
            .group_by(r.c.card_id)
        )
        for card_id, when in session.execute(query):
            out[card_id] = when if when.tzinfo else when.replace(tzinfo=UTC)
    return out


def link_answers(session: Executor, pairs: Sequence[tuple[int, int]]) -> None:
    """Record the revlog id Anki gave to answers given here: (log id, revlog id)."""
    if not pairs:
        return
    statement = (
        update(review_logs)
        .where(review_logs.c.id == bindparam("b_id"))
        .values(anki_revlog_id=bindparam("b_revlog"))
    )
    session.execute(statement, [{"b_id": log_id, "b_revlog": rid} for log_id, rid in pairs])


_TIMES = tuple(i for i, name in enumerate(_IMPORTED_COLUMNS) if name in {
    "reviewed_at", "due_before", "last_review_before", "due_after"})  # fmt: skip


def insert_imported(session: Executor, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert imported review-log rows (built by `imported_row`), many at once. On SQLite the
    rows go to the driver's executemany as they are stored (UTC microseconds, `[]`, 0/1):
    SQLAlchemy's per-value processing cost ~6 us a row, most of an import of a million answers."""
    if not rows:
        return
    if repos.dialect_of(session).name == "sqlite":
        # In card order: the card indexes then grow in place instead of page by page at random.
        _executemany_sqlite(session, sorted((_sqlite_values(row) for row in rows), key=_by_card))
        return
    session.execute(
        insert(review_logs), [dict(zip(_IMPORTED_COLUMNS, row, strict=True)) for row in rows]
    )


def insert_stored(session: Executor, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert imported review-log rows given as SQLite stores them, in `_IMPORTED_COLUMNS`
    order (times as UTC microseconds since the epoch, flags 0/1, `[]`): as they are on SQLite,
    converted elsewhere."""
    if not rows:
        return
    if repos.dialect_of(session).name == "sqlite":
        _executemany_sqlite(session, rows)
        return
    values = []
    for row in rows:
        item = dict(zip(_IMPORTED_COLUMNS, row, strict=True))
        for i in _TIMES:
            name = _IMPORTED_COLUMNS[i]
            if item[name] is not None:
                item[name] = from_micros(item[name])
        item.update(leeched=False, imported=True, buried_siblings=[])
        values.append(item)
    session.execute(insert(review_logs), values)


def _executemany_sqlite(session: Executor, rows: Sequence[Sequence[Any]]) -> None:
    names = ", ".join(_IMPORTED_COLUMNS)
    marks = ", ".join("?" for _ in _IMPORTED_COLUMNS)
    driver = driver_connection(session)
    cursor = driver.cursor()
    try:
        with big_cache(driver):
            cursor.executemany(f"INSERT INTO review_logs ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()


_BURIED = _IMPORTED_COLUMNS.index("buried_siblings")
_RETENTION = _IMPORTED_COLUMNS.index("desired_retention")
_CARD = _IMPORTED_COLUMNS.index("card_id")


def _by_card(values: Sequence[Any]) -> Any:
    return values[_CARD]


_FLAGS = (_IMPORTED_COLUMNS.index("leeched"), _IMPORTED_COLUMNS.index("imported"))


def _sqlite_values(row: tuple[Any, ...]) -> list[Any]:
    values = list(row)
    for i in _TIMES:
        when = values[i]
        if when is not None:
            values[i] = to_micros(when)
    values[_BURIED] = None  # no sibling buried (types.IdList)
    values[_RETENTION] = to_retention(values[_RETENTION])  # types.Retention
    values[_FLAGS[0]], values[_FLAGS[1]] = int(values[_FLAGS[0]]), int(values[_FLAGS[1]])
    return values


def imported_row(
    profile_id: int,
    card_id: int,
    *,
    anki_revlog_id: int,
    reviewed_at: datetime,
    rating: int,
    duration_ms: int | None,
    retention: float,
    state_before: CardState,
    due_before: datetime,
    last_review_before: datetime | None,
    lapses_before: int,
    state_after: CardState,
    due_after: datetime,
    difficulty_after: float,
    elapsed_days: int,
    scheduler_id: int | None = None,
) -> tuple[Any, ...]:
    """The row of one answer taken over from an Anki revlog (in `_IMPORTED_COLUMNS` order;
    the other columns are NULL: no step, no memory before, no retention before)."""
    return (
        profile_id, card_id, reviewed_at, rating, scheduler_id, duration_ms, retention,
        IMPORTED_REASON, int(state_before), due_before, last_review_before, lapses_before,
        int(state_after), 0.0, difficulty_after, due_after, False, [], elapsed_days,
        anki_revlog_id, True,
    )  # fmt: skip


def answers_after(session: Executor, card_id: int, since: datetime | None) -> list[LoggedAnswer]:
    """A card's answers after `since` (all of them for None), in time order."""
    r = review_logs
    query = select(
        r.c.id, r.c.reviewed_at, r.c.rating, r.c.desired_retention, r.c.scheduler_id, r.c.imported
    ).where(r.c.card_id == card_id)
    if since is not None:
        query = query.where(r.c.reviewed_at > since)
    out = []
    for row in session.execute(query.order_by(r.c.reviewed_at, r.c.id)):
        out.append(
            LoggedAnswer(
                row.id, row.reviewed_at, Rating(row.rating), row.desired_retention,
                row.scheduler_id, row.imported,
            )
        )  # fmt: skip
    return out


def rewrite_answer(
    session: Executor,
    log_id: int,
    before: Schedule,
    after: Schedule,
    *,
    elapsed_days: int,
    scheduler_id: int | None,
) -> None:
    """A merged answer's row as the replay in the merged order gave it."""
    mb, ma = before.memory, after.memory
    card_id = session.execute(select(review_logs.c.card_id).where(review_logs.c.id == log_id))
    repos.unchain_successor(session, card_id.scalar_one(), log_id)
    repos.write_out(session, log_id)  # its retention and burial before stay as they were
    repos.set_before(
        session, log_id,
        {"state_before": int(before.state), "step_before": before.step,
         "stability_before": mb.stability if mb else None,
         "difficulty_before": mb.difficulty if mb else None,
         "due_before": before.due, "last_review_before": before.last_review,
         "lapses_before": before.lapses},
    )  # fmt: skip
    session.execute(
        update(review_logs)
        .where(review_logs.c.id == log_id)
        .values(
            state_after=int(after.state), step_after=after.step,
            stability_after=ma.stability if ma else 0.0,
            difficulty_after=ma.difficulty if ma else 0.0,
            due_after=after.due, elapsed_days=elapsed_days, scheduler_id=scheduler_id,
        )
    )  # fmt: skip


def has_answers(session: Executor, profile_id: int) -> bool:
    """Whether the profile's review log holds any row."""
    r = answer_rows("id", "profile_id").c
    query = select(r.id).where(r.profile_id == profile_id).limit(1)
    return session.execute(query).first() is not None


def has_imported_answers(session: Executor, profile_id: int) -> bool:
    """Whether an import has taken over any Anki answer into the profile."""
    r = answer_rows("id", "profile_id", "imported").c
    query = select(r.id).where(r.profile_id == profile_id, r.imported.is_(True)).limit(1)
    return session.execute(query).first() is not None


def anchor_time(session: Executor, card_id: int) -> datetime | None:
    """When the card's history was last taken over from Anki (None: never)."""
    query = select(anki_cards.c.anchor_at).where(anki_cards.c.card_id == card_id)
    return session.execute(query).scalar()


def cards_of_notes(session: Executor, note_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """The cards of these notes: (note id, ord) -> card id. Many notes (a package's 35,000)
    are read as one range of the (note, ord) index, where lookups by note took 39 queries."""
    out: dict[tuple[int, int], int] = {}
    wanted = set(note_ids)
    if len(wanted) > 10 * _CHUNK:
        c = cards.c
        query = select(c.note_id, c.ord, c.id).where(
            c.note_id >= min(wanted), c.note_id <= max(wanted)
        )
        for note_id, ord_, card_id in session.execute(query).all():
            if note_id in wanted:
                out[(note_id, ord_)] = card_id
        return out
    for chunk in _chunks(sorted(wanted)):
        query = select(cards.c.note_id, cards.c.ord, cards.c.id).where(cards.c.note_id.in_(chunk))
        for note_id, ord_, card_id in session.execute(query):
            out[(note_id, ord_)] = card_id
    return out
