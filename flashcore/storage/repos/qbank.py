"""Question-bank logs: attempts, their tallies by text, topic aliases, decayed sums (the
batches they arrive in: repos.qbank_batches)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import (
    Date,
    Float,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from flashcore.storage.repos.qbank_batches import (
    BatchSummary,
    EarlierBatch,
    PendingBatch,
    batch_summaries,
    claim_batch,
    drop_pending,
    finish_batch,
    identical_batch,
    import_in_progress,
    last_published,
    pending_batches,
    publish_batch,
    reweighing_batches,
    shown,
)

# Batches have a module of their own (repos.qbank_batches); their names stay importable here.
from flashcore.storage.repos.scores_kept import clear_kept_scores
from flashcore.storage.tables import (
    qbank_attempts,
    qbank_batches,
    qbank_sums,
    qbank_sums_state,
    qbank_tallies,
    qbank_windows,
    topic_aliases,
    topics,
)

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

# The outcomes that count as a miss (a tally's misses, a fresh miss, a weakness).
MISSED = ("incorrect", "omitted")

__all__ = [
    "MISSED",
    "BatchSummary",
    "DecayedGroup",
    "EarlierBatch",
    "PendingBatch",
    "StoredAttempt",
    "TextTally",
    "add_tallies",
    "aliases_by_topic",
    "attempt_tallies",
    "batch_summaries",
    "can_decay",
    "claim_batch",
    "clear_sums",
    "drop_pending",
    "finish_batch",
    "identical_batch",
    "import_in_progress",
    "last_published",
    "pending_batches",
    "publish_batch",
    "remove_batch",
    "replace_tallies",
    "reweighing_batches",
    "set_alias",
    "shown",
    "stored_attempts",
    "summed_groups",
    "tallied_attempts",
    "text_tallies",
    "topic_path_with_key",
    "topic_weights",
]


@dataclass(frozen=True, slots=True)
class StoredAttempt:
    source: str
    qid: str
    outcome: str
    on_date: date
    subject: str
    system: str
    category: str
    topic: str
    seconds: int | None
    batch_id: int


def stored_attempts(conn: Executor, profile_id: int) -> list[StoredAttempt]:
    """The profile's attempts, newest day first (the latest stored first within a day)."""
    a = qbank_attempts.c
    rows = conn.execute(
        select(
            a.source,
            a.qid,
            a.outcome,
            a.on_date,
            a.subject,
            a.system,
            a.category,
            a.topic,
            a.seconds,
            a.batch_id,
        )
        .where(a.profile_id == profile_id, shown(profile_id))
        .order_by(a.on_date.desc(), a.id.desc())
    )
    return [
        StoredAttempt(
            source, qid, outcome, on_date, subject, system, category, topic, seconds, batch_id
        )
        for source, qid, outcome, on_date, subject, system, category, topic, seconds, batch_id in rows
    ]


def remove_batch(conn: Executor, profile_id: int, batch_id: int) -> int | None:
    """Delete one of the profile's batches with its attempts, their tallies taken off; how many
    attempts went (None: the profile has no such batch)."""
    a, b = qbank_attempts.c, qbank_batches.c
    found = conn.execute(
        select(b.id).where(b.id == batch_id, b.profile_id == profile_id, b.pending_from.is_(None))
    ).first()
    if found is None:
        return None
    gone = [
        TextTally(topic, category, system, -int(n), -int(missed or 0))
        for topic, category, system, n, missed in conn.execute(
            select(a.topic, a.category, a.system, func.count(), _missed_count())
            .where(a.batch_id == batch_id)
            .group_by(a.topic, a.category, a.system)
        )
    ]
    conn.execute(delete(qbank_attempts).where(a.batch_id == batch_id))
    conn.execute(delete(qbank_batches).where(b.id == batch_id))
    add_tallies(conn, profile_id, gone)
    clear_sums(conn, profile_id)  # its attempts are in the sums: summed afresh next time
    return sum(-t.attempts for t in gone)


def clear_sums(conn: Executor, profile_id: int) -> None:
    """Forget the profile's kept sums (attempts were removed, or the tallies replaced): the
    next sync sums its attempts afresh (repos.qbank_sums)."""
    conn.execute(delete(qbank_sums_state).where(qbank_sums_state.c.profile_id == profile_id))
    conn.execute(delete(qbank_sums).where(qbank_sums.c.profile_id == profile_id))
    conn.execute(delete(qbank_windows).where(qbank_windows.c.profile_id == profile_id))
    clear_kept_scores(conn, profile_id)  # made from them (storage.scores_kept)


def _missed_count() -> Any:
    return func.sum(case((qbank_attempts.c.outcome.in_(MISSED), 1), else_=0))


# ------------------------------------------------------------------ tallies by text


@dataclass(frozen=True, slots=True)
class TextTally:
    """Attempts with the same texts (as stored: cut to their columns' lengths)."""

    topic: str
    category: str
    system: str
    attempts: int
    misses: int

    @property
    def texts(self) -> tuple[str, str, str]:
        return (self.topic, self.category, self.system)


def add_tallies(conn: Executor, profile_id: int, changes: Iterable[TextTally]) -> None:
    """Add these counts (negative to take away) to the profile's tallies; a tally that falls to
    no attempt goes. Increments, not stored totals: two imports that overlap on PostgreSQL each
    add their own."""
    summed: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for t in changes:
        m = summed[t.texts]
        m[0] += t.attempts
        m[1] += t.misses
    merged = {k: v for k, v in summed.items() if v != [0, 0]}
    if not merged:
        return
    c = qbank_tallies.c
    existing: dict[tuple[str, str, str], int] = {}
    for tally_id, topic, category, system in conn.execute(
        select(c.id, c.topic, c.category, c.system).where(c.profile_id == profile_id)
    ):
        existing.setdefault((topic, category, system), int(tally_id))
    updates, inserts = [], []
    for texts, (n, missed) in merged.items():
        tally_id = existing.get(texts)
        if tally_id is None:
            topic, category, system = texts
            inserts.append({"profile_id": profile_id, "topic": topic, "category": category,
                            "system": system, "attempts": n, "misses": missed})  # fmt: skip
        else:
            updates.append({"tid": tally_id, "n": n, "m": missed})
    if updates:
        conn.execute(
            update(qbank_tallies)
            .where(c.id == bindparam("tid"))
            .values(attempts=c.attempts + bindparam("n"), misses=c.misses + bindparam("m")),
            updates,
        )
    if inserts:
        conn.execute(insert(qbank_tallies), inserts)
    if any(n < 0 for n, _missed in merged.values()):
        conn.execute(delete(qbank_tallies).where(c.profile_id == profile_id, c.attempts <= 0))


def text_tallies(conn: Executor, profile_id: int) -> list[TextTally]:
    """The profile's tallies, one per distinct texts, in texts order."""
    c = qbank_tallies.c
    rows = conn.execute(
        select(c.topic, c.category, c.system, func.sum(c.attempts), func.sum(c.misses))
        .where(c.profile_id == profile_id)
        .group_by(c.topic, c.category, c.system)
    )
    found = [TextTally(t, cat, s, int(n), int(m)) for t, cat, s, n, m in rows if n]
    return sorted(found, key=lambda t: t.texts)


def attempt_tallies(conn: Executor, profile_id: int) -> list[TextTally]:
    """The tallies as the stored attempts give them, counted afresh (what `text_tallies`
    must equal), in texts order."""
    a = qbank_attempts.c
    rows = conn.execute(
        select(a.topic, a.category, a.system, func.count(), _missed_count())
        # `+ 0`: in table order, not by the (profile_id, on_date) index (see batch_summaries)
        .where((a.profile_id + 0) == profile_id, shown(profile_id))
        .group_by(a.topic, a.category, a.system)
    )
    found = [TextTally(t, cat, s, int(n), int(m or 0)) for t, cat, s, n, m in rows]
    return sorted(found, key=lambda t: t.texts)


def replace_tallies(conn: Executor, profile_id: int, tallies: Iterable[TextTally]) -> None:
    """The profile's tallies become these (`check --repair`)."""
    conn.execute(delete(qbank_tallies).where(qbank_tallies.c.profile_id == profile_id))
    add_tallies(conn, profile_id, tallies)
    clear_sums(conn, profile_id)


# ------------------------------------------------------------------ topics and aliases


def topic_path_with_key(conn: Executor, profile_id: int, key: str) -> str | None:
    """The path of the profile's topic with this key, if any."""
    found = conn.execute(
        select(topics.c.path).where(topics.c.profile_id == profile_id, topics.c.key == key)
    ).scalar()
    return None if found is None else str(found)


def set_alias(conn: Executor, profile_id: int, alias: str, alias_key: str, path: str) -> None:
    """The alias (by its key) now maps to `path`, replacing what it mapped to."""
    t = topic_aliases.c
    conn.execute(delete(topic_aliases).where(t.profile_id == profile_id, t.alias_key == alias_key))
    conn.execute(
        insert(topic_aliases).values(
            profile_id=profile_id, alias=alias, alias_key=alias_key, topic_path=path
        )
    )


def aliases_by_topic(conn: Executor, profile_id: int) -> dict[str, list[str]]:
    """Topic path -> the aliases that map to it."""
    t = topic_aliases.c
    out: dict[str, list[str]] = {}
    for alias, path in conn.execute(
        select(t.alias, t.topic_path).where(t.profile_id == profile_id)
    ):
        out.setdefault(path, []).append(alias)
    return out


def topic_weights(conn: Executor, profile_id: int) -> dict[int, float]:
    """Topic id -> its weight."""
    rows = conn.execute(
        select(topics.c.id, topics.c.weight).where(topics.c.profile_id == profile_id)
    )
    return {int(topic_id): float(weight) for topic_id, weight in rows}


# ------------------------------------------------------------------ decayed sums


def tallied_attempts(conn: Executor, profile_id: int) -> int:
    """How many attempts the profile's tallies count (all its stored attempts)."""
    c = qbank_tallies.c
    found = conn.execute(
        select(func.coalesce(func.sum(c.attempts), 0)).where(c.profile_id == profile_id)
    ).scalar_one()
    return int(found)


def can_decay(conn: Executor) -> bool:
    """Whether the database computes `decayed_groups` (SQLite needs its math functions)."""
    from flashcore.storage.repos.common import dialect_of

    if dialect_of(conn).name != "sqlite":
        return True
    from sqlalchemy.exc import OperationalError

    try:
        with conn.begin_nested():
            conn.execute(select(func.pow(0.5, 1.0)))
    except OperationalError:  # no such function: pow (SQLite built without its math)
        return False
    return True


class DecayedGroup(NamedTuple):
    """Attempts with the same texts (and, for a question some card lists, the same source and
    id; else both ""), summed as `core.weakness.score_topic` sums them on `today`: counts and
    decayed sums of those dated today or before, and, for the gaps, every miss. A named tuple:
    a report makes ~9,000 of them, a frozen dataclass took ~4x as long to make."""

    source: str
    qid: str
    topic: str
    category: str
    system: str
    attempts: int
    misses: int
    decayed_attempts: float
    decayed_misses: float
    recent_attempts: int
    recent_misses: int
    last_miss: date | None
    last_correct: date | None
    all_misses: int  # future-dated ones too
    last_miss_any: date | None  # the same

    @property
    def texts(self) -> tuple[str, str, str]:
        return (self.topic, self.category, self.system)


def summed_groups(
    conn: Executor, profile_id: int, today: date, half_life: float
) -> list[DecayedGroup]:
    """The profile's attempts summed per group: those at the ids of questions its notes list
    per source, id and texts, the others per texts (source and id ""). One pass in the
    database over every attempt, a miss's weight `0.5 ** (age / half_life)` computed there
    (`repos.decayed_groups` reads the kept sums instead when they can answer)."""
    from flashcore.storage.repos.common import dialect_of
    from flashcore.storage.tables import note_qids, notes

    a = qbank_attempts.c
    sqlite = dialect_of(conn).name == "sqlite"
    if sqlite:
        age: Any = func.julianday(today.isoformat()) - func.julianday(a.on_date)
        weight: Any = func.pow(0.5, age / float(half_life))
    else:
        age = literal(today, Date) - a.on_date
        weight = func.power(0.5, cast(age, Float) / float(half_life))
    missed = a.outcome.in_(MISSED)
    counted = a.on_date <= (today.isoformat() if sqlite else today)
    recent = and_(counted, age <= float(half_life))

    def total(condition: Any, value: Any = 1) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    def latest(condition: Any) -> Any:
        return func.max(case((condition, a.on_date), else_=None))

    listed_ids = (
        select(note_qids.c.qid)
        .join(notes, notes.c.id == note_qids.c.note_id)
        .where(notes.c.profile_id == profile_id, notes.c.removed.is_(False))
    )
    is_listed = a.qid.in_(listed_ids)
    keys: list[Any] = [
        case((is_listed, a.source), else_=""),
        case((is_listed, a.qid), else_=""),
        a.topic,
        a.category,
        a.system,
    ]
    rows = conn.execute(
        select(
            *keys,
            total(counted),
            total(and_(counted, missed)),
            total(counted, weight),
            total(and_(counted, missed), weight),
            total(recent),
            total(and_(recent, missed)),
            latest(and_(counted, missed)),
            latest(and_(counted, ~missed)),
            total(missed),
            latest(missed),
        )
        .where((a.profile_id + 0) == profile_id, shown(profile_id))
        .group_by(*keys)
    ).all()
    out = []
    for row in rows:
        source, qid, topic, category, system = row[:5]
        n, m, dn, dm, rn, rm, lm, lc, am, lma = row[5:]
        out.append(
            DecayedGroup(
                source=source,
                qid=qid,
                topic=topic,
                category=category,
                system=system,
                attempts=int(n),
                misses=int(m),
                decayed_attempts=float(dn),
                decayed_misses=float(dm),
                recent_attempts=int(rn),
                recent_misses=int(rm),
                last_miss=_day(lm),
                last_correct=_day(lc),
                all_misses=int(am),
                last_miss_any=_day(lma),
            )
        )
    return out


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
