"""One simulated student studying through flashcore's own services.

The student opens a real SQLite collection (on a RAM disk when there is one), adds a deck written
from the world, and for `days` study days: maybe imports yesterday's qbank block (morning), studies
every card `StudySession` offers (waiting for learning steps as the reviewer does), does a block
of qbank questions in the afternoon and maybe imports it that evening. The clock is a
`FixedClock` moved by the student; nothing of the scheduler's policy is copied here: what to study,
at what retention, in what order, all come from the product.

The hidden truth (`Setting.memory`): "scaled", a card's TRUE stability is the scheduler's
stability × its topic's ability, and the student recalls it on the FSRS forgetting curve at
that stability; "own", the card has a trace of its own (`tools.simulate.memory`), moved only by
the student's answers, their times and the true recall at each, never read off the scheduler.
In both, a new card's first answer fails with 0.25 / ability, between 0.05 and 0.6. A passing answer is Hard/Good/Easy
15/75/10 %. A qbank question tests one card: answered right with `guess + (1 − guess) ×
recall × clarity` (clarity 1 unless the setting makes questions harder than the cards; the
question's own where they differ within a topic).
Uniform draws come from (seed, card, answer number) or (seed, day, question), so every arm of
one seed faces the same luck where it faces the same situation.

Exam score: Σ over topics of exam weight × the mean over its cards of `guess + (1 − guess) ×
true recall` on exam day (a card never studied: `guess`), in percent.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from tools.simulate import memory as truth
from tools.simulate.models import World, draws_name

START = date(2027, 1, 4)
STUDY_AT = time(8, 0)
QBANK_AT = time(15, 0)
EVENING_IMPORT_AT = time(21, 0)
MORNING_IMPORT_AT = time(7, 30)
SECONDS = {"new": 20.0, "step": 10.0, "review": 8.0, "forgot": 6.0}
SUCCESS = ((0.15, 2), (0.90, 3), (1.01, 4))  # cumulative share -> Hard, Good, Easy
# The frontier's cap: the lowest `weakness_max_retention` allowed, below every retention it runs
# at, so no topic earns a weight (core.weakness: weight 0 where the cap is not above the base).
PLAIN_CAP = "0.70"


@dataclass(frozen=True, slots=True)
class Arm:
    """How the student uses flashcore. `qbank=False`: plain FSRS at `retention` (no log is
    imported and no topic is weighted, not even by its flashcards: the frontier). `config`: more settings set once at the start (ablations).
    `absolute`: schedule by the weighting shipped before issue 21 (a topic's own misses, not
    compared with the student's average): the product's scheduling step is bypassed for the
    run, an ablation of that step alone."""

    name: str
    retention: float = 0.90
    qbank: bool = True
    config: tuple[tuple[str, str], ...] = ()
    absolute: bool = False
    # ablation for cards of missed questions: "cap" (before issue 21), "base" (the product's
    # rule since), "decay" (from the cap down with the miss's age); "" the product as it is
    qid_retention: str = ""
    # constants of the core set for the run (ablations): `COMBINE` (core.weakness) or
    # `module.NAME` (another core module's); () as shipped
    patch: tuple[tuple[str, object], ...] = ()
    # the "% correct others" the paste shows, moved by up to this many points per question
    # (uniform, fixed per question, unrelated to how the student answers): shares that carry
    # no information about the student, a breaker for core.difficulty; 0 the true difficulty
    share_noise: float = 0.0


@dataclass(slots=True)
class Result:
    setting: str
    seed: int
    arm: str
    answers: int
    minutes: float
    score: float  # exam score, percent
    weak_score: float  # the weakest quarter of topics' exam-weighted score, percent
    seen: int
    cards: int
    retention_answers: dict[str, int] = field(default_factory=dict)  # desired retention -> n
    imports: int = 0
    matched: int = 0  # attempts the imports matched (card or topic)
    unmatched: int = 0
    seconds: float = 0.0
    # per topic (diagnostics): mean true recall of its cards on exam day, answers, answers
    # above the base retention, and cards studied
    topic_recall: list[float] = field(default_factory=list)
    topic_answers: list[int] = field(default_factory=list)
    topic_raised: list[int] = field(default_factory=list)
    topic_seen: list[int] = field(default_factory=list)  # cards studied by exam day
    luck: int = 0  # the setting's luck (0: the draws as before lucks existed)
    # per topic: answers to cards a topic's fresh misses pulled forward (not a question id's)
    topic_pulled: list[int] = field(default_factory=list)
    leeches: int = 0  # cards the product suspended as leeches (again counted again)
    leeches_returned: int = 0  # of them, unsuspended by the student (Setting.leech_return_days)

    def as_json(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


def uniform(*key: object) -> float:
    """A uniform draw in [0, 1) fixed by `key` (no global RNG)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0**64


def write_deck(world: World, path: Path) -> None:
    lines = ['[deck]\nname = "Simulated Step 1"\nkey = "sim"\n']
    for card, topic in enumerate(world.deck_order):
        qids = f'qids = ["uworld:{qid(card)}"]\n' if world.listed_qid[card] else ""
        lines.append(
            f'[[cards]]\nid = "c{card}"\nfront = "Fact {card} of {world.names[topic]}?"\n'
            f'back = "Answer {card}"\ntopics = ["{world.paths[topic]}"]\n{qids}'
        )
    path.write_text("\n".join(lines), encoding="utf-8")


def qid(card: int) -> str:
    return str(900000 + card)


def _scratch() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class Student:
    """One arm on one world, through the services."""

    def __init__(self, world: World, arm: Arm) -> None:
        self.world = world
        self.arm = arm
        self.setting = world.setting
        self.memory: dict[int, tuple[float, datetime]] = {}  # card index -> (fsrs S, last)
        self.traces: dict[int, truth.Trace] = {}  # card index -> its own memory ("own")
        self.answers = 0
        self.seconds = 0.0
        self.reps: Counter[int] = Counter()
        self.retentions: Counter[str] = Counter()
        self.pending_block: list[tuple[int, bool]] = []  # (card index, correct)
        self.pending_day: date | None = None
        self.imports = self.matched = self.unmatched = 0
        self.topic_answers: Counter[int] = Counter()
        self.topic_raised: Counter[int] = Counter()
        self.topic_pulled: Counter[int] = Counter()
        self.topic_recall: list[float] = []
        self.day = 0
        self.leech_back: dict[int, int] = {}  # suspended leech (card index) -> day it returns
        self.leeches = self.leeches_returned = 0  # leeches suspended, unsuspended by the student

    # ------------------------------------------------------------ the truth

    def recall(self, card: int, at: datetime) -> float:
        if self.setting.memory != "scaled":
            return truth.recall(self.traces.get(card), at)
        known = self.memory.get(card)
        if known is None:
            return 0.0
        stability, last = known
        true = stability * self.world.ability[self.world.deck_order[card]]
        return self.curve.retrievability_days(true, (at - last).total_seconds() / 86400.0)

    def remember(self, card: int, grade: int, at: datetime) -> None:
        """The student's own trace after answering `card` with `grade` at `at` ("own")."""
        ability = self.world.ability[self.world.deck_order[card]]
        trace = self.traces.get(card)
        if trace is None:
            self.traces[card] = truth.learn(grade, ability, at)
        else:
            lapse = "relapse" if self.setting.memory == "own-relapse" else "restudy"
            self.traces[card] = truth.review(trace, grade, ability, at, lapse)

    def draw(self, *key: object) -> float:
        """The student's uniform draw for `key`: the world's seed, salted by the luck if any."""
        luck = self.setting.luck
        if not luck:
            return uniform(self.world.seed, *key)
        return uniform("luck", luck, self.world.seed, *key)

    # ------------------------------------------------------------ the run

    def run(self, folder: Path | None = None) -> Result:
        """Run to exam day. `folder`: keep the collection there (tests read it afterwards)."""
        import time as wall

        started = wall.process_time()
        from flashcore.services import exam, weights

        saved = weights.scheduling_scores, exam.retention_for  # type: ignore[attr-defined]
        saved_constants = {name: getattr(*_constant(name)) for name, _ in self.arm.patch}
        for name, value in self.arm.patch:
            setattr(*_constant(name), value)
        if self.arm.absolute:
            weights.scheduling_scores = lambda index, direct, *_: direct  # type: ignore[attr-defined]
        if self.arm.qid_retention:
            exam.retention_for = _qid_retention(  # type: ignore[attr-defined]
                self.arm.qid_retention,
                exam.retention_for,  # type: ignore[attr-defined]
            )
        try:
            return self._run(folder, started)
        finally:
            weights.scheduling_scores, exam.retention_for = saved  # type: ignore[attr-defined]
            for name, value in saved_constants.items():
                setattr(*_constant(name), value)

    def _run(self, folder: Path | None, started: float) -> Result:
        import time as wall

        from flashcore.core import fsrs_adapter
        from flashcore.core.clock import FixedClock
        from flashcore.services import Flashcore

        s = self.setting
        with tempfile.TemporaryDirectory(prefix="flashcore-sim-", dir=_scratch()) as scratch:
            tmp = str(folder) if folder is not None else scratch
            deck = Path(tmp) / "sim.toml"
            write_deck(self.world, deck)
            self.clock = FixedClock(datetime.combine(START, STUDY_AT, UTC))
            fc = Flashcore.open(str(Path(tmp) / "sim.sqlite3"), clock=self.clock, create=True)
            self.fc = fc
            try:
                fc.config_set("new_per_day", str(s.new_per_day))
                fc.config_set("reviews_per_day", "9999")
                fc.config_set("desired_retention", f"{self.arm.retention:.2f}")
                if not self.arm.qbank:
                    # Plain FSRS: no weighting at all. The flashcard signal needs no qbank log,
                    # so without this the frontier would reorder and raise weak topics too.
                    fc.config_set("weakness_max_retention", PLAIN_CAP)
                if s.leech_threshold:
                    fc.config_set("leech_threshold", str(s.leech_threshold))
                if s.leech_action:
                    fc.config_set("leech_action", s.leech_action)
                for key, value in self.arm.config:
                    fc.config_set(key, value)
                if s.exam:
                    from flashcore.services import exam as exams

                    exams.set_exam(fc, START + timedelta(days=s.days))
                (report,) = fc.add_decks([deck])
                assert report.ok, report.problems
                by_key = {c["note_key"]: c["card_id"] for c in fc.cards()}
                self.card_id = [by_key[f"sim:c{n}"] for n in range(s.cards)]
                self.index_of = {cid: n for n, cid in enumerate(self.card_id)}
                self.curve = fsrs_adapter.curve(fc.policy)
                for day in range(s.days):
                    self.study_day(day)
                exam_at = datetime.combine(START + timedelta(days=s.days), STUDY_AT, UTC)
                score, weak = self.exam(exam_at)
            finally:
                fc.close()
        return Result(
            s.name, self.world.seed, self.arm.name, self.answers, round(self.seconds / 60, 1),
            round(score, 3), round(weak, 3), len(self.memory), s.cards,
            dict(sorted(self.retentions.items())), self.imports, self.matched, self.unmatched,
            round(wall.process_time() - started, 1),
            [round(x, 4) for x in self.topic_recall],
            [self.topic_answers[t] for t in range(s.topics)],
            [self.topic_raised[t] for t in range(s.topics)],
            [sum(1 for c in self.world.cards_of(t) if c in self.memory) for t in range(s.topics)],
            s.luck,
            [self.topic_pulled[t] for t in range(s.topics)],
            self.leeches, self.leeches_returned,
        )  # fmt: skip

    def at(self, day: int, when: time) -> datetime:
        return datetime.combine(START + timedelta(days=day), when, UTC)

    def study_day(self, day: int) -> None:
        s = self.setting
        self.day = day
        self.rewrite_leeches(day)
        if self.arm.qbank and s.imports == "morning" and self.pending_block:
            self.clock.set(self.at(day, MORNING_IMPORT_AT))
            self.import_block()
        self.clock.set(self.at(day, STUDY_AT))
        self.sitting()
        if not self.arm.qbank:
            return
        self.clock.set(max(self.clock.now(), self.at(day, QBANK_AT)))
        self.qbank_block(day)
        if s.imports == "evening":
            self.clock.set(max(self.clock.now(), self.at(day, EVENING_IMPORT_AT)))
            self.import_block()

    def rewrite_leeches(self, day: int) -> None:
        """The leeches whose rewrite is done (`Setting.leech_return_days`), unsuspended
        before the day's reviews, as `flashcore cards unsuspend ID...` does."""
        back = sorted(card for card, on in self.leech_back.items() if on <= day)
        if not back:
            return
        from flashcore.services import study

        self.clock.set(self.at(day, MORNING_IMPORT_AT))
        study.set_cards(self.fc, "unsuspend", [self.card_id[card] for card in back])
        for card in back:
            del self.leech_back[card]
        self.leeches_returned += len(back)

    def sitting(self) -> None:
        from flashcore.core.model import CardState, Rating
        from flashcore.core.reasons import PullKind
        from flashcore.services import study

        fc = self.fc
        rollover = fc.rollover()
        with study.StudySession(fc) as session:
            while True:
                q = session.queue(details=False)
                if not q.items:
                    nxt = q.next_learning_due
                    if nxt is None or nxt >= rollover:
                        return
                    self.clock.set(max(nxt, self.clock.now()))
                    continue
                item = q.items[0]
                card = self.index_of[item.card_id]
                now = self.clock.now()
                n = self.reps[card]
                u = self.draw(card, n)
                if item.state is CardState.NEW:
                    ability = self.world.ability[self.world.deck_order[card]]
                    failed = u < min(0.6, max(0.05, 0.25 / ability))
                    seconds = SECONDS["new"]
                else:
                    failed = u >= self.recall(card, now)
                    kind = "review" if item.state is CardState.REVIEW else "step"
                    seconds = SECONDS[kind] + (SECONDS["forgot"] if failed else 0.0)
                if failed:
                    rating = Rating.AGAIN
                else:
                    v = self.draw(card, n, "grade")
                    rating = Rating(next(g for cum, g in SUCCESS if v < cum))
                result = session.answer(
                    item.card_id, rating, duration_ms=int(seconds * 1000), reason=item.reason
                )
                self.reps[card] += 1
                self.answers += 1
                self.seconds += seconds
                self.retentions[f"{result.retention:.2f}"] += 1
                topic = self.world.deck_order[card]
                self.topic_answers[topic] += 1
                if result.retention > self.arm.retention + 1e-9:
                    self.topic_raised[topic] += 1
                pulled = item.why.pulled
                if pulled is not None and pulled.kind is PullKind.TOPIC:
                    self.topic_pulled[topic] += 1
                if result.suspended:
                    self.leeches += 1
                    if self.setting.leech_return_days:
                        self.leech_back[card] = self.day + self.setting.leech_return_days
                sched = result.schedule
                assert sched.memory is not None and sched.last_review is not None
                self.memory[card] = (sched.memory.stability, sched.last_review)
                if self.setting.memory != "scaled":
                    self.remember(card, int(rating), now)
                self.clock.advance(timedelta(seconds=seconds))

    # ------------------------------------------------------------ the question bank

    def qbank_block(self, day: int) -> None:
        w = self.world
        luck = f":luck{w.setting.luck}" if w.setting.luck else ""
        rng = random.Random(f"flashcore-sim-qbank:{draws_name(w.setting)}:{w.seed}:{day}{luck}")
        topics = rng.choices(range(len(w.exam_weight)), w.exam_weight, k=w.setting.qbank_per_day)
        now = self.clock.now()
        guess = w.setting.guess
        block = []
        for number, topic in enumerate(topics):
            members = w.cards_of(topic)
            card = members[rng.randrange(len(members))]
            p = guess + (1 - guess) * self.recall(card, now) * w.question_clarity[card]
            block.append((card, self.draw(day, number, "qbank") < p))
        self.pending_block = block
        self.pending_day = START + timedelta(days=day)

    def import_block(self) -> None:
        from flashcore.services import qbank

        w = self.world
        block, on_day = self.pending_block, self.pending_day
        self.pending_block, self.pending_day = [], None
        assert on_day is not None
        if w.setting.log == "all":
            lines = ["question_id,result,date,subject,system,topic,source"]
            for card, correct in block:
                t = w.deck_order[card]
                lines.append(
                    f"{qid(card)},{'correct' if correct else 'incorrect'},{on_day.isoformat()},"
                    f"Pathology,{w.systems[t]},{w.names[t]} disease,uworld"
                )
            data = "\n".join(lines) + "\n"
        else:
            rows = []
            for number, (card, correct) in enumerate(block):
                if correct:
                    continue
                t = w.deck_order[card]
                share = others_share(w, card)
                if self.arm.share_noise:
                    shift = (2 * uniform("share", w.seed, card) - 1) * self.arm.share_noise
                    share = min(0.99, max(0.01, share + shift / 100))
                rows.append(
                    f"{number + 1} - {qid(card)}\tPathology\t{w.systems[t]}\t{w.systems[t]}\t"
                    f"{w.names[t]} disease\t{round(100 * share)}%\t80 sec"
                )
            if not rows:
                return
            data = "\n".join(rows) + "\n"
        report = qbank.import_log(
            self.fc, data.encode(), origin=f"sim-{on_day.isoformat()}", again=True
        )
        self.imports += 1
        self.matched += report.matched_card + report.matched_topic
        self.unmatched += len(report.unmatched_topics) + len(report.unmatched_qids)

    # ------------------------------------------------------------ exam day

    def exam(self, at: datetime) -> tuple[float, float]:
        w = self.world
        guess = w.setting.guess
        per_topic = []
        for t in range(len(w.exam_weight)):
            members = w.cards_of(t)
            mean = sum(guess + (1 - guess) * self.recall(c, at) for c in members) / len(members)
            per_topic.append(mean)
        self.topic_recall = [sum(self.recall(c, at) for c in w.cards_of(t)) / len(w.cards_of(t))
                             for t in range(len(w.exam_weight))]  # fmt: skip
        score = 100 * sum(w.exam_weight[t] * m for t, m in enumerate(per_topic))
        weak = w.weakest_quarter()
        weight = sum(w.exam_weight[t] for t in weak)
        weak_score = 100 * sum(w.exam_weight[t] * per_topic[t] for t in weak) / weight
        return score, weak_score


# Other students' recall of a question's fact, for the "% correct others" the paste shows.
OTHERS_RECALL = 0.9


def others_share(world: World, card: int) -> float:
    """The share of other students who answer the question testing `card` right: the
    question's true difficulty (`guess + (1 − guess) × recall × clarity`) for students who
    recall its fact at OTHERS_RECALL. Constant where questions are as clear as the cards
    (clarity 1)."""
    guess = world.setting.guess
    return guess + (1 - guess) * OTHERS_RECALL * world.question_clarity[card]


def _qid_retention(kind: str, retention_for: Any) -> Any:
    """An ablation of the missed-question rule: a card whose question was missed (weight > 1)
    reviewed at the cap, at the base retention, or from the cap down with the miss's age."""
    from flashcore.core.weakness import MISSED_QUESTION

    def patched(settings: Any, weight: float) -> float:
        if weight < MISSED_QUESTION:
            return float(retention_for(settings, weight))
        if kind == "base":
            return float(settings.desired_retention)
        if kind == "cap":
            return float(max(settings.desired_retention, settings.weakness_max_retention))
        return float(retention_for(settings, min(0.999, weight - MISSED_QUESTION)))

    return patched


def _constant(name: str) -> tuple[Any, str]:
    """(module, attribute) of a patchable core constant: `COMBINE` is core.weakness's,
    `module.NAME` flashcore.core.module's."""
    import importlib

    module, _, attribute = name.rpartition(".")
    if module.startswith("flashcore."):  # a full module path (storage ablations)
        return importlib.import_module(module), attribute
    return importlib.import_module(f"flashcore.core.{module or 'weakness'}"), attribute
