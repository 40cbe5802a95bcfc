"""An import's batch folded into the kept sums (repos.qbank_sums) once it is published: the
import counts its attempts per group and day from its memory, and the sums take them, so that
the weights that follow and the reports after it read none of its attempts (at 200,000 cards
and 1,000,000 attempts, a report read and grouped the 100,000 attempts of the last import
until a report synced the sums: ~1.2 s each time).

The fold writes its rows (one per group and day the batch reached, and one window per group,
see repos.qbank_windows) above the ids readers read (the state's `sums_upto` and
`windows_upto`), in short steps no reader sees, then raises those ids with the state's last
attempt id in one short write (`begin_fold`, `fold_rows`, `end_fold`): a reader waits for no
long write, and sees the batch folded whole or read by id beside the sums."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update

from flashcore.storage.repos.common import _driver, dialect_of, insert_many
from flashcore.storage.repos.qbank import MISSED, TextTally, tallied_attempts
from flashcore.storage.repos.qbank_sums import _digest, _listed_ids
from flashcore.storage.repos.qbank_sums_rows import Key, _State, _state
from flashcore.storage.repos.qbank_windows import WindowRow, fold_windows, insert_windows
from flashcore.storage.tables import qbank_attempts, qbank_sums, qbank_sums_state, qbank_windows

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

__all__ = [
    "DayCount",
    "FoldStart",
    "batch_extent",
    "begin_fold",
    "end_fold",
    "fold_rows",
    "fold_windows",
    "group_days",
    "group_days_in_slices",
    "listed_qids",
    "stored_days",
    "sums_kept",
    "tallies_of_days",
]

DayCount = tuple[Key, date, int, int]  # group, day, attempts, misses

# An attempt as an import holds it: (source, qid, outcome, ISO day, topic, category, system).
Held = tuple[str, str, str, str, str, str, str]


def sums_kept(conn: Executor, profile_id: int) -> bool:
    """Whether the profile keeps sums (a report of a large history started them)."""
    s = qbank_sums_state.c
    found = conn.execute(select(s.profile_id).where(s.profile_id == profile_id)).first()
    return found is not None


def listed_qids(conn: Executor, profile_id: int) -> tuple[frozenset[str], str]:
    """The question ids the profile's live notes list (an attempt at one is grouped by its
    source and id, see `_group_keys`), and their digest as the sums' state keeps it."""
    ids = {str(q) for q in conn.execute(_listed_ids(profile_id)).scalars()}
    return frozenset(ids), _digest(ids)


def group_days(attempts: Iterable[Held], listed: frozenset[str]) -> list[DayCount]:
    """Attempts counted per group and day as the database groups them (`qbank_sums`: by
    source, id and texts for a question id some note lists, else by the texts alone), in the
    order each (group, day) first comes."""
    held = attempts if isinstance(attempts, list) else list(attempts)
    slices = group_days_in_slices(held, listed, len(held))
    while True:
        try:
            next(slices)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def group_days_in_slices(
    held: list[Held], listed: frozenset[str], rows: int
) -> Generator[None, None, list[DayCount]]:
    """`group_days`, yielding after each `rows` attempts counted (the same list, returned:
    a Counter keeps each key where it first came, across slices as in one)."""
    counted: Counter[tuple[str, ...]] = Counter()
    missed: Counter[tuple[str, ...]] = Counter()
    for start in range(0, len(held), max(1, rows)):
        part = held[start : start + rows]
        keys = [
            (source, qid, topic, category, system, day)
            if qid in listed
            else ("", "", topic, category, system, day)
            for source, qid, _outcome, day, topic, category, system in part
        ]
        counted.update(keys)  # counted in C: ~3x the loop it replaced
        missed.update([key for key, a in zip(keys, part, strict=True) if a[2] in MISSED])
        yield
    days: dict[str, date] = {}
    out: list[DayCount] = []
    for key, n in counted.items():
        source, qid, topic, category, system, day = key
        on_date = days.get(day) or days.setdefault(day, date.fromisoformat(day))
        out.append(((source, qid, topic, category, system), on_date, n, missed.get(key, 0)))
    return out


def tallies_of_days(days: list[DayCount], rows: int) -> Generator[None, None, list[TextTally]]:
    """The tallies of a batch grouped per (group, day) by `group_days` (~30,000 counts for
    100,000 attempts: a pass over them instead of the rows), yielding after each `rows`
    counts: its groups' texts are the rows' as stored, and they come in the order of each
    (group, day)'s first row, so each text comes where its first row did, as an import's
    stage counts them row by row (`HeldStage.tallies`)."""
    counted: dict[tuple[str, ...], list[int]] = {}
    for start in range(0, len(days), max(1, rows)):
        for group, _day, n, m in days[start : start + rows]:
            texts = group[2:]  # (topic, category, system) after (source, qid)
            c = counted.get(texts)
            if c is None:
                counted[texts] = [n, m]
            else:
                c[0] += n
                c[1] += m
        yield
    return [TextTally(t, c, s, n, m) for (t, c, s), (n, m) in counted.items()]


def batch_extent(conn: Executor, batch_id: int, first_id: int) -> tuple[int, int]:
    """How many attempts a batch holds (ids from `first_id` on) and the highest id."""
    a = qbank_attempts.c
    n, top = conn.execute(
        select(func.count(), func.max(a.id)).where(a.id >= first_id, a.batch_id == batch_id)
    ).one()
    return int(n), int(top or 0)


@dataclass(frozen=True, slots=True)
class FoldStart:
    """The sums a fold started on: it adds to them, and only if they stand when it ends."""

    settled_before: date
    window_day: date
    half_life: float
    last_attempt_id: int
    attempts: int


def begin_fold(
    conn: Executor, profile_id: int, owner: str, listed: str, unfolded: int, through_id: int,
    alive: Callable[[str], bool],
) -> FoldStart | None:  # fmt: skip
    """Start folding a published batch of `unfolded` attempts with ids up to `through_id` (in
    the caller's write transaction): the sums must stand just before it (every attempt but the
    batch's, grouped with the listed ids of digest `listed`, windows kept) and no other import
    still alive (`alive(owner)`) be folding. Removes what a fold that died left unseen, and
    marks the sums as being folded by `owner`. None (nothing written) when it cannot."""
    state = _locked(conn, profile_id)
    if state is None or state.window_day is None or state.listed != listed:
        return None
    if state.last_attempt_id >= through_id:
        return None
    if state.attempts + unfolded != tallied_attempts(conn, profile_id):
        return None  # another batch came or went since the sums were taken
    if state.folding is not None and state.folding != owner and alive(state.folding):
        return None
    _drop_unseen(conn, profile_id, state)
    _set(conn, profile_id, folding=owner)
    return FoldStart(
        state.settled_before, state.window_day, state.half_life, state.last_attempt_id,
        state.attempts,
    )  # fmt: skip


def fold_rows(
    conn: Executor, profile_id: int, owner: str, days: Sequence[DayRow],
    windows: Sequence[WindowRow],
) -> bool:  # fmt: skip
    """Write a step of a fold's rows (made by `stored_days` and `repos.stored_windows`),
    unseen (in the caller's write transaction); False (and nothing written) once the fold is
    no longer `owner`'s (a sync summed afresh meanwhile)."""
    s = qbank_sums_state.c
    folding = conn.execute(
        select(s.folding).where(s.profile_id == profile_id).with_for_update()
    ).first()
    if folding is None or folding[0] != owner:
        return False
    if days:
        _insert_days(conn, days)
    insert_windows(conn, windows)
    return True


def end_fold(
    conn: Executor, profile_id: int, owner: str, start: FoldStart, through_id: int, count: int
) -> bool:
    """Show the fold's rows: the sums now hold the batch (`count` attempts up to
    `through_id`). False, and its rows left unseen for the next fold or sync to remove, when
    the sums changed since `begin_fold`."""
    state = _locked(conn, profile_id)
    if state is None or state.folding != owner:
        return False
    if (state.last_attempt_id, state.attempts) != (start.last_attempt_id, start.attempts):
        _set(conn, profile_id, folding=None)
        return False
    _set(
        conn, profile_id, last_attempt_id=through_id, attempts=state.attempts + count,
        sums_upto=_top(conn, qbank_sums, profile_id, state.sums_upto),
        windows_upto=_top(conn, qbank_windows, profile_id, state.windows_upto), folding=None,
    )  # fmt: skip
    return True


def _locked(conn: Executor, profile_id: int) -> _State | None:
    """The state, its row locked (PostgreSQL: one writer of the sums at a time per profile)."""
    s = qbank_sums_state.c
    conn.execute(select(s.profile_id).where(s.profile_id == profile_id).with_for_update()).first()
    return _state(conn, profile_id)


def _set(conn: Executor, profile_id: int, **values: Any) -> None:
    s = qbank_sums_state.c
    conn.execute(update(qbank_sums_state).where(s.profile_id == profile_id).values(**values))


def _drop_unseen(conn: Executor, profile_id: int, state: _State) -> None:
    """Remove the rows above the ids readers read (what a fold that died left)."""
    for table, upto in ((qbank_sums, state.sums_upto), (qbank_windows, state.windows_upto)):
        c = table.c
        conn.execute(delete(table).where(c.profile_id == profile_id, c.id > (upto or 0)))


def _top(conn: Executor, table: Any, profile_id: int, upto: int | None) -> int:
    """The highest id among the profile's rows of `table` above `upto` (else `upto`)."""
    c = table.c
    found = conn.execute(
        select(func.max(c.id)).where(c.id > (upto or 0), c.profile_id == profile_id)
    ).scalar()
    return int(found) if found is not None else int(upto or 0)


DayRow = tuple[Any, ...]  # a (group, day) count as the database stores it


def stored_days(conn: Executor, profile_id: int, days: Sequence[DayCount]) -> list[DayRow]:
    """The (group, day) counts as rows of the profile (profile, source, qid, topic, category,
    system, day, attempts, misses), a day as the dialect stores it (converted once a day)."""
    dialect = dialect_of(conn)
    process = qbank_sums.c.on_date.type.dialect_impl(dialect).bind_processor(dialect)
    stored: dict[date, Any] = {}
    for _key, day, _n, _m in days:
        if day not in stored:
            stored[day] = process(day) if process is not None else day
    return [(profile_id, *key, stored[day], n, m) for key, day, n, m in days]


_DAY_NAMES = ("profile_id", "source", "qid", "topic", "category", "system", "on_date",
              "attempts", "misses")  # fmt: skip


def _insert_days(conn: Executor, days: Sequence[DayRow]) -> None:
    """The (group, day) rows (the fold writes ~30,000 for 100,000 attempts over a week): on
    SQLite by the driver's executemany."""
    if dialect_of(conn).name != "sqlite":
        insert_many(conn, qbank_sums, [
            {**dict(zip(_DAY_NAMES, row, strict=True)), "decayed_attempts": 0.0,
             "decayed_misses": 0.0, "last_miss": None, "last_correct": None}
            for row in days
        ])  # fmt: skip
        return
    _driver(conn).executemany(
        "INSERT INTO qbank_sums (profile_id, source, qid, topic, category, system, on_date,"
        " attempts, misses, decayed_attempts, decayed_misses) VALUES"
        " (?, ?, ?, ?, ?, ?, ?, ?, ?, 0.0, 0.0)",
        days,
    )
