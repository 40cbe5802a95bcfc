"""Anki's scheduling, as a package holds it, read as flashcore's values. Pure: no database.

What each Anki column becomes (`--with-scheduling`):
- `type` gives the state: 0 new, 1 learning, 2 review, 3 relearning. A new card keeps flashcore's
  own schedule (None here).
- `due`: a review card (and an interday learning card, queue 3) is due on a *day*, counted from
  the collection's creation (`crt`); an intraday (re)learning card at an instant (epoch seconds).
  A card in a filtered deck keeps its home schedule in `odue`. A day becomes the flashcore study
  day that holds the middle of Anki's day (`AnkiClock.due_instant`): when the profile's timezone
  and `day_start_hour` are Anki's (the import offers them), that is Anki's day exactly; when they
  differ, the day whose larger part it overlaps — a review is never moved by more than the
  difference of the two rollovers.
- FSRS memory: `data`'s `s` (stability), `d` (difficulty) and `dr` (desired retention), and `lrt`
  (the last review, seconds); without them (a card never seen by FSRS, e.g. an SM-2 collection)
  the memory is what py-fsrs gives for the card's own revlog (`memory_from_history`).
- `left`: the (re)learning steps still to go; flashcore's `step` is how many are done.
- `flags`: any colour flag -> flagged.
- the revlog: each answer (ease 1-4; learn, review, relearn and filtered rows) becomes a review-log
  row marked `imported`, keyed by its revlog id; manual rows (ease 0: "set due date", "forget",
  rescheduling) are not answers and are skipped (they still shaped the card's state, which is
  taken from the card itself).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flashcore.core import fsrs_adapter, studyday
from flashcore.core.errors import ConfigError
from flashcore.core.model import CardState, Memory, Rating, Schedule
from flashcore.importers.anki_package.types import Card, DeckConfig, PackageInfo, RevlogEntry

_DAY = 86_400
_EPOCH_SECONDS = 1_000_000_000  # a `due` above this is an instant (seconds), not a day number
_TYPE_STATE = {
    1: CardState.LEARNING,
    2: CardState.REVIEW,
    3: CardState.RELEARNING,
}
# revlog `type`: 0 learn, 1 review, 2 relearn, 3 filtered (an answer in a filtered deck)
_ANSWER_KINDS = {0, 1, 2, 3}
_KIND_STATE = {0: CardState.LEARNING, 1: CardState.REVIEW, 2: CardState.RELEARNING}
# FSRS-5's parameters are FSRS-6's with these two appended (no short-term exponent, decay 0.5),
# as fsrs-rs reads a 19-number set.
_FSRS5_TAIL = (0.0, 0.5)


@dataclass(frozen=True, slots=True)
class AnkiClock:
    """Anki's day numbering for one package. Review `due` N is the study day `crt_date + N`,
    which begins at `rollover_hour` in the zone `minutes_west` of UTC (Anki stores the offset
    JavaScript-style: minutes west). A collection without `creationOffset` (the oldest
    scheduler) counts whole 86,400-second days from `crt` itself."""

    crt: int
    rollover_hour: int
    creation_west: int | None
    minutes_west: int

    @classmethod
    def of(cls, info: PackageInfo) -> AnkiClock:
        config = info.collection_config
        creation = config.get("creationOffset")
        local = config.get("localOffset")
        creation_west = int(creation) if isinstance(creation, int | float) else None
        west = local if isinstance(local, int | float) else creation_west
        hour = info.rollover_hour
        return cls(
            crt=int(info.crt),
            rollover_hour=hour if hour is not None and 0 <= hour <= 23 else 4,
            creation_west=creation_west,
            minutes_west=int(west or 0),
        )

    @property
    def utc_offset(self) -> timedelta:
        return -timedelta(minutes=self.minutes_west)

    def crt_date(self) -> date:
        return _crt_date(self)

    def day_start(self, day_number: int) -> datetime:
        """The instant (UTC) Anki's study day `day_number` begins."""
        if self.creation_west is None:
            return datetime.fromtimestamp(self.crt + day_number * _DAY, UTC)
        day = self.crt_date() + timedelta(days=day_number)
        local = datetime.combine(day, time(self.rollover_hour), UTC)
        return local + timedelta(minutes=self.minutes_west)

    def day_of(self, instant: datetime) -> int:
        """Anki's day number of an instant (the inverse of `day_start`)."""
        return self.day_of_seconds(int(instant.timestamp()))

    def day_of_seconds(self, seconds: int) -> int:
        if self.creation_west is None:
            return (seconds - self.crt) // _DAY
        shifted = seconds - self.minutes_west * 60 - self.rollover_hour * 3600
        return shifted // _DAY - _crt_epoch_day(self)

    def due_instant(self, day_number: int, zone: ZoneInfo, start_hour: int) -> datetime:
        """flashcore's due for an Anki due day: the start of the flashcore study day that holds
        the middle of Anki's day (Anki's day itself when zone and rollover agree)."""
        return _due_instant(self, day_number, zone, start_hour)


@lru_cache(maxsize=64)
def _crt_date(clock: AnkiClock) -> date:
    west = clock.creation_west if clock.creation_west is not None else clock.minutes_west
    local = datetime.fromtimestamp(clock.crt, UTC) - timedelta(minutes=west)
    return (local - timedelta(hours=clock.rollover_hour)).date()


@lru_cache(maxsize=64)
def _crt_epoch_day(clock: AnkiClock) -> int:
    return (_crt_date(clock) - date(1970, 1, 1)).days


_QUARTER_MS = 900_000  # zones differ from UTC by whole quarters of an hour


@lru_cache(maxsize=65_536)
def _study_date(quarter: int, zone: ZoneInfo, start_hour: int) -> date:
    """The study date of every instant in one quarter of an hour (a study day starts on the
    hour, and every zone is a whole number of quarters from UTC)."""
    instant = datetime.fromtimestamp(quarter * _QUARTER_MS / 1000, UTC)
    return studyday.study_date(instant, zone, start_hour)


@lru_cache(maxsize=65_536)
def _due_instant(clock: AnkiClock, day_number: int, zone: ZoneInfo, start_hour: int) -> datetime:
    middle = clock.day_start(day_number) + timedelta(hours=12)
    return studyday.day_start(middle, zone, start_hour)


@dataclass(frozen=True, slots=True)
class ImportedCard:
    """A card's scheduling as Anki had it, in flashcore's terms."""

    anki_card_id: int
    schedule: Schedule | None  # None: a new card (flashcore's own new schedule stays)
    retention: float | None
    flagged: bool
    memory_from_data: bool  # the memory came from Anki's FSRS state (not rebuilt)


@dataclass(frozen=True, slots=True)
class ImportedReview:
    """One Anki revlog answer as a flashcore review-log row (the card's state before and after
    as far as the revlog says: its `ivl` gives the next due, its `factor` the FSRS difficulty
    when FSRS answered, and the row's type the state it was answered in)."""

    anki_revlog_id: int
    reviewed_at: datetime
    rating: Rating
    duration_ms: int | None
    state_before: CardState
    state_after: CardState
    due_after: datetime
    difficulty_after: float  # 0.0 when unknown (an SM-2 answer)
    elapsed_days: int
    lapses_before: int
    due_before: datetime
    last_review_before: datetime | None


def is_answer(entry: RevlogEntry) -> bool:
    """An answer (a button pressed), not a manual reschedule."""
    return 1 <= entry.ease <= 4 and entry.kind in _ANSWER_KINDS


def revlog_time(revlog_id: int) -> datetime:
    return datetime.fromtimestamp(revlog_id / 1000, UTC)


def preset_parameters(config: DeckConfig) -> tuple[float, ...] | None:
    """The preset's FSRS parameters as flashcore's fsrs takes them (FSRS-6: 21 numbers; an
    FSRS-5 set gets FSRS-6's neutral tail); () for Anki's defaults; None when fsrs refuses them."""
    params = tuple(config.fsrs_params)
    if not params:
        return ()
    if len(params) == 19:
        params = params + _FSRS5_TAIL
    if len(params) != len(fsrs_adapter.DEFAULT_FSRS_PARAMETERS):
        return None
    try:
        fsrs_adapter.check_parameters(params)
    except ConfigError:
        return None
    return params


def steps_text(minutes: Sequence[float]) -> tuple[str, ...]:
    """Anki's steps (minutes) in flashcore's notation: whole seconds, minutes, hours or days."""
    out = []
    for value in minutes:
        seconds = max(1, round(value * 60))
        for unit, size in (("d", _DAY), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                out.append(f"{seconds // size}{unit}")
                break
        else:
            out.append(f"{seconds}s")
    return tuple(out)


def _instant_or_day(value: int, clock: AnkiClock, zone: ZoneInfo, start_hour: int) -> datetime:
    if value > _EPOCH_SECONDS:
        return datetime.fromtimestamp(value, UTC)
    return clock.due_instant(value, zone, start_hour)


def card_schedule(
    card: Card,
    clock: AnkiClock,
    zone: ZoneInfo,
    start_hour: int,
    *,
    learn_steps: int,
    relearn_steps: int,
    default_retention: float,
    history_memory: Memory | None,
    last_answer: datetime | None,
) -> ImportedCard:
    """`card` in flashcore's terms. `learn_steps`/`relearn_steps`: how many steps flashcore's
    profile has (the step index counts them); `history_memory`: the memory py-fsrs gives for
    the card's revlog, used when `data` holds none; `last_answer`: its last revlog answer."""
    data = card.data_json()
    retention = _number(data.get("dr"))
    flagged = (card.flags & 0b111) != 0
    state = _TYPE_STATE.get(card.type)
    if state is None:  # new (or a type this flashcore does not know): flashcore's new schedule
        return ImportedCard(card.id, None, retention, flagged, False)
    due_value = card.original_due if card.original_deck_id and card.original_due else card.due
    due = _instant_or_day(due_value, clock, zone, start_hour)
    s, d = _number(data.get("s")), _number(data.get("d"))
    from_data = s is not None and d is not None and s > 0 and 1 <= d <= 10
    if from_data:
        assert s is not None and d is not None
        memory: Memory = Memory(stability=s, difficulty=d)
    elif history_memory is not None:
        memory = history_memory
    else:  # no FSRS state and no answers: an interval Anki gave, read as R(ivl) = retention
        memory = Memory(stability=float(max(1, card.interval)), difficulty=5.0)
    lrt = _number(data.get("lrt"))
    if lrt is not None and lrt > _EPOCH_SECONDS:
        last_review: datetime | None = datetime.fromtimestamp(int(lrt), UTC)
    elif last_answer is not None:
        last_review = last_answer
    elif state is CardState.REVIEW:
        last_review = due - timedelta(days=max(1, card.interval))
    else:
        last_review = due
    step = None
    if state is not CardState.REVIEW:
        total = learn_steps if state is CardState.LEARNING else relearn_steps
        remaining = card.left % 1000
        step = min(max(0, total - remaining), max(0, total - 1))
    schedule = Schedule(
        state=state,
        due=due,
        step=step,
        memory=memory,
        last_review=last_review,
        reps=max(0, card.reps),
        lapses=max(0, card.lapses),
    )
    return ImportedCard(card.id, schedule, retention or default_retention, flagged, from_data)


DataNumbers = tuple[float | None, float | None, float | None, float | None]


def data_numbers(data: dict[str, Any]) -> DataNumbers:
    """The numbers `card_schedule` reads of a card's decoded `data`: stability `s`, difficulty
    `d`, desired retention `dr`, last review `lrt` (each None when absent or not a finite
    number)."""
    return (
        _number(data.get("s")),
        _number(data.get("d")),
        _number(data.get("dr")),
        _number(data.get("lrt")),
    )


def _number(value: Any) -> float | None:
    if type(value) is float:  # most: JSON's numbers with a point
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(slots=True)
class ReviewTrack:
    """What the revlog said so far about one card, to turn its next row into a review."""

    last_answer: datetime | None = None
    last_day: date | None = None  # the flashcore study day of the last answer
    due: datetime | None = None
    state: CardState = CardState.NEW
    lapses: int = 0


def review_of(
    entry: RevlogEntry,
    track: ReviewTrack,
    clock: AnkiClock,
    zone: ZoneInfo,
    start_hour: int,
) -> ImportedReview:
    """The review-log values of one answer; `track` (the card's rows so far) moves on."""
    when = revlog_time(entry.id)
    before = track.state
    if entry.kind in _KIND_STATE and not (entry.kind == 0 and before is CardState.NEW):
        before = _KIND_STATE[entry.kind]
    elif entry.kind == 3:
        before = CardState.REVIEW if track.state is not CardState.NEW else CardState.NEW
    if entry.interval > 0:
        after = CardState.REVIEW
        day = clock.day_of_seconds(entry.id // 1000) + entry.interval
        due_after = clock.due_instant(day, zone, start_hour)
    else:
        after = (
            CardState.RELEARNING
            if before in (CardState.REVIEW, CardState.RELEARNING)
            else (CardState.LEARNING)
        )
        due_after = when + timedelta(seconds=max(0, -entry.interval))
    today = _study_date(entry.id // _QUARTER_MS, zone, start_hour)
    elapsed = 0
    if track.last_day is not None:
        elapsed = max(0, (today - track.last_day).days)
    difficulty = 0.0
    if 100 <= entry.factor <= 1100:  # FSRS writes difficulty here: ((d - 1) / 9 + 0.1) * 1000
        difficulty = (entry.factor / 1000 - 0.1) * 9 + 1
    review = ImportedReview(
        anki_revlog_id=entry.id,
        reviewed_at=when,
        rating=Rating(entry.ease),
        duration_ms=max(0, entry.taken_millis) or None,
        state_before=before,
        state_after=after,
        due_after=due_after,
        difficulty_after=difficulty,
        elapsed_days=elapsed,
        lapses_before=track.lapses,
        due_before=track.due or when,
        last_review_before=track.last_answer,
    )
    if before is CardState.REVIEW and entry.ease == 1:
        track.lapses += 1
    track.last_answer, track.last_day, track.due, track.state = when, today, due_after, after
    return review


def memory_from_history(
    card_id: int,
    answers: Iterable[tuple[Rating, datetime, int]],
    retention: float,
    policy: fsrs_adapter.Policy,
) -> Memory | None:
    """The FSRS memory py-fsrs gives for a card's answers (rating, time, elapsed study days),
    through flashcore's adapter; None without answers."""
    schedule = Schedule(state=CardState.NEW, due=datetime(1970, 1, 1, tzinfo=UTC))
    for rating, when, elapsed in answers:
        schedule = fsrs_adapter.answer(
            card_id, schedule, rating, when, retention, policy, elapsed_days=elapsed
        )
    return schedule.memory


# The terms of the bulk statements in `importers.anki_revlog_sql`.
def day_terms(clock: AnkiClock) -> tuple[int, int]:
    """(shift, base): Anki's day number of a revlog id is `(id / 1000 - shift) / 86400 - base`
    (whole-number division; see `AnkiClock.day_of_seconds`)."""
    if clock.creation_west is None:
        return clock.crt, 0
    return clock.minutes_west * 60 + clock.rollover_hour * 3600, _crt_epoch_day(clock)


def study_day_number(quarter: int, zone: ZoneInfo, start_hour: int) -> int:
    """The study day (a date ordinal) of an answer's quarter hour."""
    return _study_date(quarter, zone, start_hour).toordinal()


def due_micros(clock: AnkiClock, day_number: int, zone: ZoneInfo, start_hour: int) -> int:
    """flashcore's due of an Anki due day, as the review log stores it (UTC microseconds since
    the epoch: `UTCMicros` on SQLite)."""
    return (clock.due_instant(day_number, zone, start_hour) - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
