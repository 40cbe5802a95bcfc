"""Repositories for the exam plan: the exam, self-assessments, and what the forecast reads (the
cards' scheduling state with their systems, the student's answer times, today's answers).
Functions take a Session or a Connection and return core values; they never commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, literal_column, select, update

from flashcore.core.exam import Exam
from flashcore.core.model import CardState
from flashcore.core.outline import first_placed
from flashcore.storage.answer_rows import answer_rows
from flashcore.storage.repos import schedule_from
from flashcore.storage.repos.queue import new_in_order
from flashcore.storage.tables import (
    assessment_areas,
    assessments,
    card_weight,
    cards,
    exams,
    note_topics,
    notes,
    topics,
)

if TYPE_CHECKING:
    from flashcore.core.assessment import AreaResult, Assessment
    from flashcore.core.budget import AnswerSeconds
    from flashcore.core.forecast import SimCard
    from flashcore.storage.repos import Executor

# The assessments', forecast's and answer times' core modules are imported by the functions
# that make their values: the weakness report reads the exam (every command's policy) and at
# most the assessments, and made their ~13 dataclasses at import for nothing.

STUDIED = [int(CardState.LEARNING), int(CardState.REVIEW), int(CardState.RELEARNING)]

# ---------------------------------------------------------------- the exam


def load_exam(conn: Executor, profile_id: int) -> tuple[Exam, date | None] | None:
    """The profile's exam and the study day `plan_mode auto` last applied it, or None."""
    e = exams.c
    row = conn.execute(
        select(e.exam_date, e.minutes_per_day, e.buffer_days, e.retention_plan, e.solved_on,
               e.plan_day).where(e.profile_id == profile_id)
    ).first()  # fmt: skip
    if row is None:
        return None
    plan = tuple((int(d), float(r)) for d, r in (row.retention_plan or []))
    exam = Exam(row.exam_date, row.minutes_per_day, row.buffer_days, plan, row.solved_on)
    return exam, row.plan_day


def save_exam(session: Executor, profile_id: int, exam: Exam, now: datetime) -> None:
    """Insert or replace the profile's exam (its solved retention steps go with it)."""
    e = exams.c
    values = {
        "exam_date": exam.exam_date,
        "minutes_per_day": exam.minutes_per_day,
        "buffer_days": exam.buffer_days,
        "retention_plan": [[d, r] for d, r in exam.retention_plan],
        "solved_on": exam.solved_on,
        "updated_at": now,
        "plan_day": None,  # `plan_mode auto` applies the exam anew (services.exam.follow_plan)
    }
    changed = session.execute(update(exams).where(e.profile_id == profile_id).values(**values))
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.execute(insert(exams).values(profile_id=profile_id, created_at=now, **values))


def delete_exam(session: Executor, profile_id: int) -> bool:
    done = session.execute(delete(exams).where(exams.c.profile_id == profile_id))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def stamp_plan_day(session: Executor, profile_id: int, day: date | None) -> None:
    """The study day `plan_mode auto` last set new_per_day for (None: not yet, apply it)."""
    session.execute(update(exams).where(exams.c.profile_id == profile_id).values(plan_day=day))


def new_cards_left(conn: Executor, profile_id: int) -> int:
    """New cards in scope: not suspended (the partial new-card index answers it)."""
    c = cards.c
    return int(
        conn.execute(
            select(func.count())
            .select_from(cards)
            .where(c.profile_id == profile_id, c.suspended.is_(False),
                   c.state == literal_column("0"))
        ).scalar_one()
    )  # fmt: skip


# ---------------------------------------------------------------- self-assessments


def add_assessment(
    session: Executor,
    profile_id: int,
    name: str,
    taken_on: date,
    score: float,
    pass_line: float,
    report: str,
    areas: Sequence[AreaResult],
    now: datetime,
) -> int:
    new_id = int(
        session.execute(
            insert(assessments)
            .values(profile_id=profile_id, name=name, taken_on=taken_on, score=score,
                    pass_line=pass_line, report=report, created_at=now)
            .returning(assessments.c.id)
        ).scalar_one()
    )  # fmt: skip
    if areas:
        session.execute(
            insert(assessment_areas),
            [
                {"assessment_id": new_id, "kind": a.kind.value, "area": a.area,
                 "band": a.band.value if a.band else None, "percent": a.percent,
                 "given": a.given[:200]}
                for a in areas
            ],
        )  # fmt: skip
    return new_id


def list_assessments(conn: Executor, profile_id: int) -> list[Assessment]:
    """The profile's assessments, oldest first, each with its report's areas."""
    a, r = assessments.c, assessment_areas.c
    rows = conn.execute(
        select(a.id, a.name, a.taken_on, a.score, a.pass_line)
        .where(a.profile_id == profile_id)
        .order_by(a.taken_on, a.id)
    ).all()
    if not rows:  # the weight refresh of every study day asks: core.assessment not loaded
        return []
    from flashcore.core.assessment import AreaKind, AreaResult, Assessment, Band

    areas: dict[int, list[AreaResult]] = defaultdict(list)
    for aid, kind, area, band, percent, given in conn.execute(
        select(r.assessment_id, r.kind, r.area, r.band, r.percent, r.given)
        .join(assessments, assessments.c.id == r.assessment_id)
        .where(a.profile_id == profile_id)
        .order_by(r.assessment_id, r.id)
    ).all():
        areas[aid].append(
            AreaResult(AreaKind(kind), area, Band(band) if band else None, percent, given)
        )
    return [
        Assessment(row.id, row.name, row.taken_on, row.score, row.pass_line,
                   tuple(areas.get(row.id, ())))
        for row in rows
    ]  # fmt: skip


def delete_assessment(session: Executor, profile_id: int, assessment_id: int) -> bool:
    a = assessments.c
    done = session.execute(
        delete(assessments).where(a.profile_id == profile_id, a.id == assessment_id)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- what the forecast reads


def note_places(
    conn: Executor, profile_id: int, note_ids: Sequence[int]
) -> dict[int, tuple[str | None, str | None]]:
    """The (system, discipline) of the given notes, from their topics (see
    core.outline.first_placed)."""
    nt, tp = note_topics.c, topics.c
    path_of = {
        int(i): p
        for i, p in conn.execute(select(tp.id, tp.path).where(tp.profile_id == profile_id))
    }
    paths: dict[int, list[str]] = defaultdict(list)
    wanted = sorted(set(note_ids))
    for start in range(0, len(wanted), 900):
        for note_id, topic_id in conn.execute(
            select(nt.note_id, nt.topic_id).where(nt.note_id.in_(wanted[start : start + 900]))
        ).all():
            path = path_of.get(topic_id)
            if path is not None:
                paths[note_id].append(path)
    return {note_id: first_placed(found) for note_id, found in paths.items()}


def scope_ids(conn: Executor, profile_id: int) -> tuple[list[int], list[int]]:
    """(ids of the studied cards, by id; ids of the new cards, in introduction order) in
    scope: every card not suspended (buried cards count: burying lasts a day). Two reads, each
    answered from an index (the queue's and the partial new-card one)."""
    c = cards.c
    mine = and_(c.profile_id == profile_id, c.suspended.is_(False))
    fresh = [r[0] for r in new_in_order(conn, profile_id, mine, None)]
    studied = sorted(r[0] for r in conn.execute(select(c.id).where(mine, c.state.in_(STUDIED))))
    return studied, fresh


def sim_cards(conn: Executor, profile_id: int, card_ids: Sequence[int]) -> list[SimCard]:
    """The given cards as the forecast needs them (in the order given), each with its note's
    system and discipline."""
    from flashcore.core.forecast import SimCard

    c = cards.c
    found: dict[int, Any] = {}
    ids = list(card_ids)
    for start in range(0, len(ids), 900):
        for r in conn.execute(
            select(c.id, c.note_id, c.state, c.step, c.due, c.stability, c.difficulty,
                   c.last_review, c.reps, c.lapses, card_weight())
            .where(c.id.in_(ids[start : start + 900]), c.profile_id == profile_id)
        ).all():  # fmt: skip
            found[r[0]] = r
    places = note_places(conn, profile_id, [r[1] for r in found.values()])
    none: tuple[str | None, str | None] = (None, None)
    out = []
    for card_id in ids:
        row = found.get(card_id)
        if row is None:
            continue
        system, discipline = places.get(row[1], none)
        out.append(SimCard(row[0], row[1], schedule_from(row), row[10], system, discipline))
    return out


def answer_seconds(conn: Executor, profile_id: int, since: datetime) -> AnswerSeconds:
    """Median answer time by the state the card was in, over the latest 2,000 answers of each
    state since `since` (the defaults where fewer than 20 answers say)."""
    import statistics

    from flashcore.core.budget import AnswerSeconds

    r = answer_rows("profile_id", "reviewed_at", "state_before", "duration_ms", since=since).c
    default = AnswerSeconds()
    out: dict[str, float] = {}
    measured = False
    for state, name in (
        (CardState.NEW, "new"),
        (CardState.LEARNING, "learning"),
        (CardState.REVIEW, "review"),
        (CardState.RELEARNING, "relearning"),
    ):
        values = list(
            conn.execute(
                select(r.duration_ms)
                .where(r.profile_id == profile_id, r.reviewed_at >= since,
                       r.state_before == int(state), r.duration_ms > 0,
                       r.duration_ms <= 600_000)
                .order_by(r.reviewed_at.desc())
                .limit(2000)
            ).scalars().all()
        )  # fmt: skip
        if len(values) >= 20:
            out[name] = statistics.median(values) / 1000.0
            measured = True
        else:
            out[name] = getattr(default, name)
    counts = rating_counts(conn, profile_id, since)
    by_state: dict[int, int] = defaultdict(int)
    for (answered_in, _rating), n in counts.items():
        by_state[answered_in] += n
    new = by_state[int(CardState.NEW)]
    lapses = counts.get((int(CardState.REVIEW), 1), 0)
    steps_per_new = by_state[int(CardState.LEARNING)] / new if new >= 20 else None
    steps_per_lapse = by_state[int(CardState.RELEARNING)] / lapses if lapses >= 10 else None
    return AnswerSeconds(
        measured=measured, steps_per_new=steps_per_new, steps_per_lapse=steps_per_lapse, **out
    )


def done_since(conn: Executor, profile_id: int, since: datetime) -> tuple[int, int, float]:
    """(new cards introduced, reviews, seconds spent) since `since` (today's start)."""
    r = answer_rows("profile_id", "reviewed_at", "state_before", "duration_ms", since=since).c
    rows: dict[int, tuple[int, Any]] = {
        int(state): (int(n), ms)
        for state, n, ms in conn.execute(
            select(r.state_before, func.count(), func.sum(r.duration_ms))
            .where(r.profile_id == profile_id, r.reviewed_at >= since)
            .group_by(r.state_before)
        ).all()
    }
    new = rows.get(int(CardState.NEW), (0, 0))[0]
    reviews = rows.get(int(CardState.REVIEW), (0, 0))[0]
    seconds = sum(float(ms or 0) for _n, ms in rows.values()) / 1000.0
    return new, reviews, seconds


def review_log_items(conn: Executor, profile_id: int) -> dict[int, list[tuple[datetime, int]]]:
    """Every card's answers (time, rating) in order, for fitting FSRS parameters."""
    r = answer_rows("id", "profile_id", "card_id", "reviewed_at", "rating").c
    out: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for card_id, at, rating in conn.execute(
        select(r.card_id, r.reviewed_at, r.rating)
        .where(r.profile_id == profile_id)
        .order_by(r.card_id, r.reviewed_at, r.id)
    ):
        out[card_id].append((at, int(rating)))
    return out


def rating_counts(conn: Executor, profile_id: int, since: datetime) -> dict[tuple[int, int], int]:
    """Answers since `since` by (state before, rating)."""
    r = answer_rows("profile_id", "reviewed_at", "state_before", "rating", since=since).c
    return {
        (int(state), int(rating)): int(n)
        for state, rating, n in conn.execute(
            select(r.state_before, r.rating, func.count())
            .where(r.profile_id == profile_id, r.reviewed_at >= since)
            .group_by(r.state_before, r.rating)
        ).all()
    }


def topic_paths(conn: Executor, profile_id: int) -> dict[int, str]:
    tp = topics.c
    return {
        int(i): p
        for i, p in conn.execute(select(tp.id, tp.path).where(tp.profile_id == profile_id))
    }


def note_count(conn: Executor, profile_id: int) -> int:
    return int(
        conn.execute(select(func.count()).where(notes.c.profile_id == profile_id)).scalar_one()
    )


def recent_attempts(
    conn: Executor, profile_id: int, since: date, missed_outcomes: Sequence[str]
) -> list[tuple[str, str, str, str, str, str, date, bool, int, int]]:
    """qbank attempts from `since` on, grouped: (source, qid, subject, system, category,
    topic, day, missed, count, batch id)."""
    from flashcore.storage.repos.qbank import shown
    from flashcore.storage.tables import qbank_attempts

    a = qbank_attempts.c
    missed = a.outcome.in_(missed_outcomes)
    rows = conn.execute(
        select(a.source, a.qid, a.subject, a.system, a.category, a.topic, a.on_date, missed,
               func.count(), a.batch_id)
        .where(a.profile_id == profile_id, a.on_date >= since, shown(profile_id))
        .group_by(a.source, a.qid, a.subject, a.system, a.category, a.topic, a.on_date, missed,
                  a.batch_id)
    ).all()  # fmt: skip
    return [
        (r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), int(r[8]), int(r[9])) for r in rows
    ]


def review_count(conn: Executor, profile_id: int, *, up_to: int) -> int:
    """Answers logged a study day or more after the card's previous answer (what `optimize`
    trains on: learning steps within a day are not), counted up to `up_to` (enough to say "at
    least")."""
    r = answer_rows("id", "profile_id", "elapsed_days").c
    spaced = select(r.id).where(r.profile_id == profile_id, r.elapsed_days > 0)
    some = spaced.limit(up_to).subquery()
    return int(conn.execute(select(func.count()).select_from(some)).scalar_one())


def card_weights(conn: Executor, profile_id: int, card_ids: Sequence[int]) -> dict[int, float]:
    """The weakness weight of each given card (missing: 0)."""
    c = cards.c
    out: dict[int, float] = {}
    ids = list(card_ids)
    for start in range(0, len(ids), 900):
        for card_id, weight in conn.execute(
            select(c.id, card_weight()).where(
                c.profile_id == profile_id, c.id.in_(ids[start : start + 900])
            )
        ).all():
            out[int(card_id)] = float(weight)
    return out
