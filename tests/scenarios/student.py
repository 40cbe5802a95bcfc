"""A student's month, driven through the services with a moving clock, with the invariants of a
real study week checked after every day.

Each study day: maybe a qbank block imported (morning, before studying, or evening, after),
every card the queue offers answered with a seeded mix of grades (through the reviewer's
`StudySession` on some days, through `due` + `answer` as the command line does on others),
now and then an undo, sometimes a second sitting late at night that crosses midnight; some
days are skipped; settings change mid-way. A failing day names its seed and day to replay:
`FLASHCORE_SCENARIO_SEED=<seed> python3 -m pytest tests/scenarios -k month`.

With `FLASHCORE_SCENARIO_REPORT=1` a run does not stop at the first broken invariant: it
prints every one, day by day (how the suite was first run against the old code).
"""

from __future__ import annotations

import os
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from flashcore.core import studyday
from flashcore.core.clock import FixedClock
from flashcore.core.model import CardState, Rating
from flashcore.services import qbank, study
from flashcore.services.check import check
from flashcore.storage.tables import review_logs
from tests.scenarios import builders, surfaces

GRADES = (Rating.AGAIN, Rating.HARD, Rating.GOOD, Rating.EASY)
GRADE_WEIGHTS = (0.12, 0.1, 0.68, 0.1)
# A card answered more often than this in one sitting is a loop. Learning alone can take a
# dozen answers (three steps, learn-ahead, 12% Again and 10% Hard: seed 11 of the long months
# has one of 14); a card that leaves (re)learning and comes back is caught by the day's log.
MAX_ANSWERS_PER_CARD = 30

# day index -> settings changed that morning, before studying
SETTINGS_PLAN: dict[int, list[tuple[str, str]]] = {
    5: [("new_per_day", "8")],
    9: [("desired_retention", "0.88"), ("learning_steps", "1m 10m 1h")],
    13: [("reviews_per_day", "25")],
    17: [("bury_siblings", "false")],
    20: [("timezone", "America/New_York"), ("day_start_hour", "3")],
    24: [("reviews_per_day", "200"), ("learning_steps", "1m 10m"), ("bury_siblings", "true")],
}


class Violation(AssertionError):
    pass


@dataclass(slots=True)
class Answer:
    card_id: int
    at: datetime
    rating: Rating


@dataclass(slots=True)
class Month:
    fc: Any
    clock: FixedClock
    folder: Path
    seed: int
    days: int
    notes_per_leaf: int = 5
    start: date = date(2026, 11, 2)
    report_only: bool = False
    findings: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    forecast: tuple[date, tuple[int | None, int | None, int]] | None = None
    answered_per_day: list[int] = field(default_factory=list)
    hooks: dict[str, Callable[..., None]] = field(default_factory=dict)
    rng: random.Random = field(init=False)
    weak: set[str] = field(init=False)
    today_label: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.weak = set(self.rng.sample([leaf.path for leaf in builders.leaves()], 3))

    # ------------------------------------------------------------ the month

    def setup(self) -> None:
        self.clock.set(datetime.combine(self.start, time(8), ZoneInfo("UTC")))
        self.fc.config_set("new_per_day", "12")
        reports = self.fc.add_decks(builders.write_decks(self.folder, self.notes_per_leaf))
        assert all(r.ok for r in reports), [r.problems for r in reports]

    def run(self) -> None:
        self.setup()
        for day in range(self.days):
            with self.replayable(day):
                self.study_day(day)

    @contextmanager
    def replayable(self, day: int) -> Iterator[None]:
        try:
            yield
        except AssertionError as exc:
            raise Violation(
                f"seed {self.seed}, day {day} ({self.start + timedelta(days=day)}): {exc}\n"
                f"replay: FLASHCORE_SCENARIO_SEED={self.seed} FLASHCORE_SCENARIO_DAYS={day + 1}"
            ) from exc

    def expect(self, ok: bool, message: str) -> None:
        if ok:
            return
        if self.report_only:
            self.findings.append(f"{self.today_label}: {message}")
            return
        raise AssertionError(message)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.fc.settings.timezone)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.zone)

    def study_day(self, index: int) -> None:
        rng = self.rng
        day = self.start + timedelta(days=index)
        self.today_label = f"day {index} {day}"
        skipped = index > 2 and rng.random() < 0.12
        if skipped:
            for key, value in SETTINGS_PLAN.get(index, []):
                self.fc.config_set(key, value)
            self.forecast = None
            self.answered_per_day.append(0)
            return
        morning = self.at(day, rng.randrange(6, 11), rng.randrange(60))
        self.clock.set(morning)
        first_queue = study.build_queue(self.fc, limit=0, details=False)
        first = (first_queue.new, first_queue.learning, first_queue.review)
        if self.forecast is not None and self.forecast[0] == self.study_date():
            self.check_forecast(first, first_queue.learning_later)
        self.check_counts(full=False)
        for key, value in SETTINGS_PLAN.get(index, []):  # changed after a look at Home
            self.fc.config_set(key, value)
        block = None
        if rng.random() < 0.8:
            block = builders.qbank_block(rng, self.weak, rng.randrange(12, 30), self.notes_per_leaf)
        evening_import = block is not None and rng.random() < 0.5
        if block is not None and not evening_import:
            self.import_block(block, index)
        if "morning" in self.hooks:
            self.hooks["morning"](self, index)
        answered = self.sitting(use_session=index % 2 == 0)
        if rng.random() < 0.25:  # a second sitting late at night, across midnight
            self.clock.set(max(self.clock.now(), self.at(day, 23, rng.randrange(30, 59))))
            answered += self.sitting(use_session=index % 2 == 1, minutes=rng.randrange(20, 90))
        self.answered_per_day.append(answered)
        if evening_import and block is not None:
            self.clock.set(max(self.clock.now(), self.at(day, 21, rng.randrange(60))))
            self.import_block(block, index)
        self.check_counts()
        self.forecast = (self.study_date() + timedelta(days=1), surfaces.session_end(self.fc))
        self.check_day_log(self.study_date())
        self.check_replay()

    def study_date(self) -> date:
        s = self.fc.settings
        return studyday.study_date(self.clock.now(), s.zone, s.day_start_hour)

    # ------------------------------------------------------------ qbank

    def import_block(self, block: list[builders.Attempt], index: int) -> None:
        kind = ("uworld", "csv", "qids")[index % 3]
        if kind == "uworld":
            data = builders.uworld_paste(block, self.rng)
        elif kind == "csv":
            data = builders.csv_log(block, self.study_date())
        else:
            data = builders.qid_list(block)
        if not any(a for a in block if not a.correct) and kind != "csv":
            return
        qbank.import_log(self.fc, data, origin=f"day{index}.{kind}", again=True)

    # ------------------------------------------------------------ answering

    def sitting(self, *, use_session: bool, minutes: int | None = None) -> int:
        """Answer every card the queue offers (or until `minutes` have passed); wait for
        learning steps as the reviewer does. Returns the number of answers."""
        start = self.clock.now()
        day = self.study_date()
        s = self.fc.settings
        rollover = studyday.next_rollover(start, s.zone, s.day_start_hour)
        first = surfaces.due(self.fc)
        bound = 12 * (sum(first) + 5)
        count = 0
        per_card: Counter[int] = Counter()
        session = study.StudySession(self.fc) if use_session else None
        try:
            while True:
                if minutes is not None and self.clock.now() - start > timedelta(minutes=minutes):
                    break
                if session is not None:
                    queue = session.queue(details=False)
                else:
                    queue = study.build_queue(self.fc, limit=1, details=False)
                if not queue.items:
                    nxt = queue.next_learning_due
                    if (
                        nxt is not None
                        and nxt < rollover
                        and nxt - self.clock.now() < timedelta(hours=2)
                    ):
                        self.clock.set(max(nxt, self.clock.now()))
                        continue
                    break
                item = queue.items[0]
                self.answer(session, item)
                count += 1
                per_card[item.card_id] += 1
                self.expect(
                    per_card[item.card_id] <= MAX_ANSWERS_PER_CARD,
                    f"card {item.card_id} answered {per_card[item.card_id]} times in one sitting "
                    f"({item.reason})",
                )
                if count > bound:
                    self.expect(False, f"the queue did not empty within {bound} answers")
                    break
                if self.study_date() != day:
                    break
                self.clock.advance(timedelta(seconds=self.rng.randrange(4, 40)))
                if self.rng.random() < 0.03:
                    self.undo(session)
        finally:
            if session is not None:
                session.close()
        return count

    def answer(self, session: study.StudySession | None, item: study.QueueItem) -> None:
        view = (
            session.show(item.card_id) if session is not None else study.show(self.fc, item.card_id)
        )
        self.check_previews(view)
        rating = self.rng.choices(GRADES, GRADE_WEIGHTS)[0]
        if session is not None:
            result = session.answer(
                item.card_id, rating, expect_version=view.version, reason=item.reason
            )
        else:
            result = study.answer(
                self.fc, item.card_id, rating, expect_version=view.version, reason=item.reason
            )
        expected = view.outcomes[rating]
        self.expect(
            (result.schedule.state, result.schedule.due) == (expected.state, expected.due),
            f"card {item.card_id} {rating.name}: preview {expected.state.label} {expected.due} "
            f"but answering wrote {result.schedule.state.label} {result.schedule.due}",
        )
        self.answers.append(Answer(item.card_id, self.clock.now(), rating))

    def undo(self, session: study.StudySession | None) -> None:
        (done,) = study.undo(self.fc)
        last = self.answers.pop()
        assert (done.card_id, done.reviewed_at) == (last.card_id, last.at), (done, last)
        if session is not None:
            session.invalidate()

    # ------------------------------------------------------------ invariants

    def check_previews(self, view: study.CardView) -> None:
        if view.state is not CardState.REVIEW:
            return
        o = view.outcomes
        hard, good, easy = (o[r].due for r in (Rating.HARD, Rating.GOOD, Rating.EASY))
        cap = self.clock.now() + timedelta(days=self.fc.settings.maximum_interval)
        self.expect(
            hard < good < easy or easy >= cap,
            f"card {view.card_id} (review) previews Hard {o[Rating.HARD].label} · Good "
            f"{o[Rating.GOOD].label} · Easy {o[Rating.EASY].label}",
        )

    def check_forecast(self, first: tuple[int, int, int], later: int) -> None:
        """ "Due tomorrow" counts the learning cards due any time that day: the first queue's
        learning count plus those due later in the day."""
        assert self.forecast is not None
        told = self.forecast[1]
        got = (first[0], first[1] + later, first[2])
        self.expect(got == told, f"'due tomorrow' said {told}, the day's first queue holds {got}")

    def check_counts(self, *, full: bool = True) -> None:
        """Every surface shows the same numbers for the same scope: the collection always;
        with `full` each deck too, and some weak topics."""
        fc = self.fc
        collection = surfaces.due(fc)
        today_panel, tree = surfaces.home(fc)
        self.expect(
            today_panel == collection, f"Home's Today panel {today_panel} != due {collection}"
        )
        self.expect(
            tree[None] == collection, f"Home's deck tree root {tree[None]} != due {collection}"
        )
        stats_today = surfaces.stats_today(fc)
        self.expect(stats_today == collection, f"stats today {stats_today} != due {collection}")
        tomorrow = surfaces.session_end(fc)
        stats_tomorrow = surfaces.stats_tomorrow(fc)
        self.expect(
            stats_tomorrow == tomorrow,
            f"stats tomorrow {stats_tomorrow} != session end's due tomorrow {tomorrow}",
        )
        if not full:
            return
        listed = surfaces.decks_list(fc)
        for name, counts in listed.items():
            scoped = surfaces.due(fc, deck=name)
            self.expect(counts == scoped, f"decks list {name}: {counts} != due --deck {scoped}")
            self.expect(
                tree.get(name) == scoped,
                f"Home's deck tree {name}: {tree.get(name)} != due --deck {scoped}",
            )
        weak = sorted(surfaces.weakness_due(fc).items())
        for topic, count in self.rng.sample(weak, min(4, len(weak))):
            scoped = surfaces.due(fc, topic=topic)
            self.expect(
                count == scoped[1] + scoped[2],
                f"weakness {topic}: {count} due != due --topic {scoped}",
            )

    def check_day_log(self, day: date) -> None:
        """Every answer of the day is in the review log, and none twice: no card answered twice
        in the day unless it was in (re)learning; pulled-forward cards at most once; a passing
        review on a later study day grows stability."""
        s = self.fc.settings
        start = studyday.day_start_of(day, s.zone, s.day_start_hour)
        end = studyday.day_start_of(day + timedelta(days=1), s.zone, s.day_start_hour)
        r = review_logs.c
        with self.fc.engine.connect() as conn:
            rows = conn.execute(
                sa.select(r.card_id, r.reviewed_at, r.rating, r.state_before, r.reason,
                          r.packed_before, r.stability_after, r.last_review_before)
                .where(r.profile_id == self.fc.profile_id, r.reviewed_at >= start, r.reviewed_at < end)
                .order_by(r.id)
            ).all()  # fmt: skip
        logged = Counter((row.card_id, row.reviewed_at, row.rating) for row in rows)
        mine = Counter(
            (a.card_id, a.at, int(a.rating)) for a in self.answers if start <= a.at < end
        )
        self.expect(
            logged == mine,
            f"review log {sum(logged.values())} rows != {sum(mine.values())} answers given",
        )
        fresh: Counter[int] = Counter()
        pulled: Counter[int] = Counter()
        for row in rows:
            if row.state_before in (int(CardState.NEW), int(CardState.REVIEW)):
                fresh[row.card_id] += 1
            if row.reason.startswith("pulled forward"):
                pulled[row.card_id] += 1
            if (
                row.state_before == int(CardState.REVIEW)
                and row.rating >= int(Rating.GOOD)
                and row.last_review_before is not None
                and studyday.study_date(row.last_review_before, s.zone, s.day_start_hour) < day
            ):
                stability_before = row.packed_before[1]  # schema 0017: packed
                self.expect(
                    stability_before is not None and row.stability_after > stability_before,
                    f"card {row.card_id}: {Rating(row.rating).name} on a later study day "
                    f"({row.last_review_before:%m-%d %H:%M} -> {row.reviewed_at:%m-%d %H:%M}) "
                    f"left stability {stability_before} -> {row.stability_after:.2f}",
                )
        twice = {c: n for c, n in fresh.items() if n > 1}
        self.expect(
            not twice,
            f"cards answered again after leaving (re)learning: {dict(list(twice.items())[:5])}",
        )
        again = {c: n for c, n in pulled.items() if n > 1}
        self.expect(not again, f"pulled-forward cards answered more than once: {again}")

    def check_replay(self) -> None:
        report = check(self.fc)
        self.expect(not report.problems, f"check: {report.problems[:3]}")


def scenario_seed(default: int) -> int:
    return int(os.environ.get("FLASHCORE_SCENARIO_SEED", default))


def scenario_days(default: int) -> int:
    return int(os.environ.get("FLASHCORE_SCENARIO_DAYS", default))


def summary(month: Month) -> dict[str, Any]:
    per_state: dict[str, int] = defaultdict(int)
    for card in month.fc.cards():
        per_state[card["state"]] += 1
    return {
        "answers": len(month.answers),
        "per_day": month.answered_per_day,
        "cards": dict(per_state),
    }
