"""Does weakness weighting help? A simulated Step 1 student, 60 days, scored on an exam.

Run it: `python -m tools.simulate` (about 80 s on two idle cores), `--help` for the knobs,
`--json` for machine output, `--variant name=mine,prior_weight=20,half_score=2` to try other
constants. Pure: it uses only `flashcore.core`, no database.

The world (drawn per seed, identical for every policy):
- `topics` topics with skewed exam weights (lognormal, `--exam-skew`), normalized to 1, and
  about `cards_per_topic` cards each (uniform between half and one and a half times that);
  the deck is ordered topic by topic, in a random topic order (as subject-ordered decks are).
- a hidden ability per topic, lognormal (`--ability-sigma`), that the scheduler never sees:
  a card's TRUE stability is the fsrs-tracked stability × its topic's ability, and the student
  recalls it with the FSRS forgetting curve at that true stability.

Each study day, for every policy alike:
1. Reviews: the due cards, ordered by `queue.build` (so by `review_priority`), at most
   `review_limit` reviews; `new_per_day` new cards are introduced (they do not count against
   the limit, so every policy introduces as many; learning steps do not count either). A review
   succeeds with the true recall probability: Again on failure, Hard/Good/Easy (15/75/10 %) on
   success; a new card's first answer is Again with probability `new_fail`. Learning and
   relearning steps are answered in the same session. Every answer goes through
   `fsrs_adapter.answer` at the card's retention `retention_for(settings, weight)`.
2. A qbank block: `qbank_per_day` questions, topics drawn by exam weight, each answered
   correctly with probability `guess + (1 - guess) × recall` of a random card of the topic
   (recall 0 for a card not yet introduced). Every answer is an `Attempt` for the topic.
Topic scores are recomputed each morning with `weakness.score_topic` over the attempts so far.

After `days` days the expected exam score is Σ_topic exam_weight × mean over the topic's cards
of `guess + (1 - guess) × recall` (unseen cards: `guess`), in percent.

Policies: plain FSRS (weight 0 everywhere) at several uniform retentions traces the efficiency
frontier of (answers, exam score); flashcore's weighting (base 0.90, cap 0.97, new cards of weak
topics first, weak topics first in the review order, pull-forward after fresh misses) and
variants are compared with the frontier's score interpolated at their own answer count, per seed.
Workload = answers: every call to `fsrs_adapter.answer`, learning steps included.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import statistics
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flashcore.core import fsrs_adapter, queue, weakness
from flashcore.core.model import CardState, Rating, Schedule
from flashcore.core.settings import Settings

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # first study session, 08:00 UTC
DAY_START_HOUR = 4  # the study day rolls over at 04:00 UTC
QBANK_HOUR_OFFSET = timedelta(hours=3)  # the qbank block, after the reviews
FRESH_DAYS = weakness.FRESH_DAYS  # as services.qbank: misses this recent pull cards forward
SUCCESS_GRADES = (Rating.HARD, Rating.GOOD, Rating.EASY)
SUCCESS_CUM = (0.15, 0.90, 1.0)
MAX_SESSION_STEPS = 12  # learning-step answers per card per session, a guard
DEFAULT_RETENTIONS = (0.80, 0.85, 0.90, 0.93, 0.95, 0.97)
WEIGHTINGS = ("none", "flashcore", "miss_rate", "misses", "frequency")


@dataclass(frozen=True, slots=True)
class SimConfig:
    """The simulated student and study plan; the same for every policy."""

    topics: int = 200
    cards_per_topic: int = 25
    days: int = 60
    new_per_day: int = 80
    review_limit: int = 400
    qbank_per_day: int = 40
    ability_sigma: float = 0.6
    exam_skew: float = 1.0
    guess: float = 0.2
    new_fail: float = 0.25


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """How the scheduler uses the qbank log. `weighting="none"` is plain FSRS at `base`.

    `prior_rate`, `prior_weight`, `half_score` are the weakness model's constants (None: the
    ones in flashcore.core.weakness, through `score_topic` itself). `retention_gain` and
    `priority_gain` scale the score before it sets the retention and the review priority.
    Other weightings, for comparison: `miss_rate` (the shrunk miss rate p: a negative control),
    `misses` (M / (M + half_score)), `frequency` (N / (N + half_score), misses ignored).
    """

    name: str
    base: float = 0.90
    cap: float = 0.97
    weighting: str = "none"
    half_life: float = 14.0
    prior_rate: float | None = None
    prior_weight: float | None = None
    half_score: float | None = None
    retention_gain: float = 1.0
    priority_gain: float = 1.0
    new_first: bool = True
    pull_forward: int = 10

    @property
    def plain(self) -> bool:
        return self.weighting == "none"


@dataclass(frozen=True, slots=True)
class World:
    exam_weight: tuple[float, ...]
    ability: tuple[float, ...]
    topic_of: tuple[int, ...]  # card -> topic; cards are numbered in deck order
    cards_of: tuple[tuple[int, ...], ...]  # topic -> its cards


@dataclass(frozen=True, slots=True)
class RunResult:
    policy: str
    seed: int
    answers: int  # every call to fsrs_adapter.answer: the workload
    reviews: int  # answers on cards in the review state
    lapses: int
    introduced: int
    exam_score: float  # percent


@dataclass(frozen=True, slots=True)
class PolicySummary:
    policy: str
    spec: PolicySpec
    answers_mean: float
    answers_sd: float
    exam_mean: float
    exam_sd: float
    frontier_gap_mean: float | None  # exam points above the frontier at equal answers
    frontier_gap_sd: float | None
    seeds_above: int | None
    in_frontier_range: bool | None


# --- the world -------------------------------------------------------------------------------


def make_world(config: SimConfig, seed: int) -> World:
    """The hidden truth for one seed: exam weights, abilities, cards per topic, deck order."""
    rng = random.Random(f"flashcore-sim-world:{seed}")
    raw = [rng.lognormvariate(0.0, config.exam_skew) for _ in range(config.topics)]
    total = sum(raw)
    exam_weight = tuple(w / total for w in raw)
    ability = tuple(rng.lognormvariate(0.0, config.ability_sigma) for _ in range(config.topics))
    c = config.cards_per_topic
    sizes = [rng.randint(max(1, c - c // 2), c + c // 2) for _ in range(config.topics)]
    order = list(range(config.topics))
    rng.shuffle(order)
    topic_of: list[int] = []
    cards_of: list[tuple[int, ...]] = [()] * config.topics
    for t in order:
        first = len(topic_of)
        topic_of.extend([t] * sizes[t])
        cards_of[t] = tuple(range(first, first + sizes[t]))
    return World(exam_weight, ability, tuple(topic_of), tuple(cards_of))


# --- the weakness model, with its constants as parameters ------------------------------------


def score_with(
    attempts: Iterable[weakness.Attempt],
    today: date,
    half_life: float,
    prior_rate: float,
    prior_weight: float,
    half_score: float,
) -> float:
    """`weakness.score_topic(...).score` with its constants passed in (for tuning them)."""
    m = n = 0.0
    for a in attempts:
        age = (today - a.on_date).days
        if age < 0:
            continue
        w = weakness.decay(age, half_life) * a.weight
        n += w
        if a.missed:
            m += w
    if n == 0.0:
        return 0.0
    p = (m + prior_weight * prior_rate) / (n + prior_weight)
    raw = m * p
    return raw / (raw + half_score)


def topic_score(spec: PolicySpec, attempts: list[weakness.Attempt], today: date) -> float:
    """The policy's weight for one topic today (0 for plain FSRS or no attempts)."""
    if spec.plain or not attempts:
        return 0.0
    prior_rate = weakness.PRIOR_MISS_RATE if spec.prior_rate is None else spec.prior_rate
    prior_weight = weakness.PRIOR_WEIGHT if spec.prior_weight is None else spec.prior_weight
    half_score = weakness.HALF_SCORE_AT if spec.half_score is None else spec.half_score
    if spec.weighting == "flashcore":
        if spec.prior_rate is None and spec.prior_weight is None and spec.half_score is None:
            return weakness.score_topic(attempts, today, spec.half_life).score
        return score_with(attempts, today, spec.half_life, prior_rate, prior_weight, half_score)
    m = n = 0.0
    for a in attempts:
        age = (today - a.on_date).days
        if age < 0:
            continue
        w = weakness.decay(age, spec.half_life)
        n += w
        m += w if a.missed else 0.0
    if spec.weighting == "miss_rate":  # negative control: how often, not how many
        return (m + prior_weight * prior_rate) / (n + prior_weight) if n else 0.0
    if spec.weighting == "misses":  # decayed miss count alone
        return m / (m + half_score)
    if spec.weighting == "frequency":  # how often the topic comes up, misses or not
        return n / (n + half_score)
    raise ValueError(f"unknown weighting {spec.weighting!r}; known: {', '.join(WEIGHTINGS)}")


# --- one run ---------------------------------------------------------------------------------


def _settings(spec: PolicySpec) -> Settings:
    return Settings(
        desired_retention=spec.base,
        weakness_max_retention=max(spec.base, spec.cap),
        weakness_half_life_days=spec.half_life,
        day_start_hour=DAY_START_HOUR,
    )


def _success_grade(u: float) -> Rating:
    for grade, edge in zip(SUCCESS_GRADES, SUCCESS_CUM, strict=True):
        if u < edge:
            return grade
    return Rating.GOOD


class _Run:
    """One policy on one seed's world: the student's cards, the qbank log, the counters."""

    def __init__(self, config: SimConfig, spec: PolicySpec, seed: int) -> None:
        self.config = config
        self.spec = spec
        self.world = make_world(config, seed)
        self.settings = _settings(spec)
        self.policy = fsrs_adapter.Policy.from_settings(self.settings)
        self.curve = fsrs_adapter.curve(self.policy)
        n_cards = len(self.world.topic_of)
        self.schedules: list[Schedule | None] = [None] * n_cards
        self.card_rngs = [random.Random(seed * 1_000_003 + c) for c in range(n_cards)]
        self.qbank_rng = random.Random(f"flashcore-sim-qbank:{seed}")
        self.attempts: list[list[weakness.Attempt]] = [[] for _ in range(config.topics)]
        self.scores = [0.0] * config.topics
        self.new_queue = list(range(n_cards))  # not yet introduced, in deck order
        self.cum_weights = list(itertools.accumulate(self.world.exam_weight))
        self.answers = self.reviews = self.lapses = 0

    def true_recall(self, card: int, at: datetime) -> float:
        """The hidden truth: the forgetting curve at fsrs's stability × the topic's ability."""
        s = self.schedules[card]
        if s is None or s.memory is None or s.last_review is None:
            return 0.0
        true_stability = s.memory.stability * self.world.ability[self.world.topic_of[card]]
        elapsed = (at - s.last_review).total_seconds() / 86400.0
        return self.curve.retrievability_days(true_stability, elapsed)

    def answer(self, card: int, schedule: Schedule, rating: Rating, at: datetime) -> Schedule:
        weight = min(1.0, self.scores[self.world.topic_of[card]] * self.spec.retention_gain)
        retention = weakness.retention_for(self.settings, weight)
        self.answers += 1
        if schedule.state is CardState.REVIEW:
            self.reviews += 1
            self.lapses += rating is Rating.AGAIN
        return fsrs_adapter.answer(card, schedule, rating, at, retention, self.policy)

    def study(self, card: int, now: datetime) -> None:
        """Answer one card, then its learning or relearning steps, in this session."""
        rng = self.card_rngs[card]
        schedule = self.schedules[card]
        if schedule is None:
            schedule = Schedule(state=CardState.NEW, due=now)
            failed = rng.random() < self.config.new_fail
        else:
            failed = rng.random() >= self.true_recall(card, now)
        rating = Rating.AGAIN if failed else _success_grade(rng.random())
        schedule = self.answer(card, schedule, rating, now)
        for _ in range(MAX_SESSION_STEPS):
            if schedule.state is CardState.REVIEW:
                break
            now = max(schedule.due, now)
            self.schedules[card] = schedule
            failed = rng.random() >= self.true_recall(card, now)
            rating = Rating.AGAIN if failed else _success_grade(rng.random())
            schedule = self.answer(card, schedule, rating, now)
        self.schedules[card] = schedule

    def rescore(self, today: date) -> None:
        if not self.spec.plain:
            for t, attempts in enumerate(self.attempts):
                self.scores[t] = topic_score(self.spec, attempts, today)

    def review_day(self, now: datetime) -> None:
        """Today's queue, built by `queue.build` as the app builds it, answered in order."""
        today = now.date()
        day_start = datetime.combine(today, time(DAY_START_HOUR), UTC)
        rollover = day_start + timedelta(days=1)
        pulled = self.pull_forward(today, now, rollover)
        topic_of = self.world.topic_of
        gain = self.spec.priority_gain
        candidates = [
            queue.Candidate(
                card,
                card,
                int(s.state),
                s.due,
                s.memory.stability if s.memory else None,
                s.last_review,
                self.scores[topic_of[card]] * gain,
                pulled.get(card),
            )
            for card, s in enumerate(self.schedules)
            if s is not None and (s.due < rollover or card in pulled)
        ]
        if self.spec.new_first and not self.spec.plain:
            self.new_queue.sort(key=lambda c: (-self.scores[topic_of[c]], c))
        news = [
            queue.Candidate(c, c, int(CardState.NEW), now, None, None, 0.0)
            for c in self.new_queue[: self.config.new_per_day]
        ]
        curve = self.curve
        built = queue.build(
            candidates,
            news,
            now=now,
            day_start=day_start,
            rollover=rollover,
            limits=queue.Limits(
                new_left=self.config.new_per_day,
                reviews_left=self.config.review_limit,
                new_ignores_review_limit=True,
                bury_siblings=False,
            ),
            retrievability=lambda stability, last: curve.retrievability(stability, last, now),
        )
        introduced = set()
        for entry in built.entries:
            self.study(entry.card_id, now)
            if entry.kind == "new":
                introduced.add(entry.card_id)
        if introduced:
            self.new_queue = [c for c in self.new_queue if c not in introduced]

    def pull_forward(self, today: date, now: datetime, rollover: datetime) -> dict[int, str]:
        """As services.qbank.pull_forward: per topic with misses in the last FRESH_DAYS days,
        its not-yet-due review cards with the lowest retrievability, at most N per topic."""
        per_topic = self.spec.pull_forward
        if self.spec.plain or per_topic <= 0:
            return {}
        since = today - timedelta(days=FRESH_DAYS)
        fresh: Counter[int] = Counter()
        for t, attempts in enumerate(self.attempts):
            for a in reversed(attempts):
                if a.on_date < since:
                    break
                fresh[t] += a.missed
        chosen: dict[int, str] = {}
        for t, count in fresh.most_common():
            if count <= 0:
                break
            ranked = []
            for card in self.world.cards_of[t]:
                s = self.schedules[card]
                if s is None or s.state is not CardState.REVIEW or s.due < rollover:
                    continue
                assert s.memory is not None and s.last_review is not None
                r = self.curve.retrievability(s.memory.stability, s.last_review, now)
                ranked.append((r, card))
            ranked.sort()
            for _, card in ranked[:per_topic]:
                chosen[card] = f"pulled forward after {count} misses on topic {t}"
        return chosen

    def qbank_block(self, at: datetime) -> None:
        """Questions drawn by exam weight, answered with the true recall of a random card."""
        rng = self.qbank_rng
        guess = self.config.guess
        topics = range(self.config.topics)
        for _ in range(self.config.qbank_per_day):
            t = rng.choices(topics, cum_weights=self.cum_weights)[0]
            cards = self.world.cards_of[t]
            card = cards[rng.randrange(len(cards))]
            p_correct = guess + (1.0 - guess) * self.true_recall(card, at)
            self.attempts[t].append(weakness.Attempt(at.date(), rng.random() >= p_correct))

    def exam_score(self, at: datetime) -> float:
        """Σ exam weight × mean expected correctness over the topic's cards, in percent."""
        guess = self.config.guess
        total = 0.0
        for t, cards in enumerate(self.world.cards_of):
            recall = sum(self.true_recall(c, at) for c in cards) / len(cards)
            total += self.world.exam_weight[t] * (guess + (1.0 - guess) * recall)
        return 100.0 * total


def simulate(config: SimConfig, spec: PolicySpec, seed: int) -> RunResult:
    """One policy, one seed: `days` study days, then the exam. Deterministic."""
    run = _Run(config, spec, seed)
    for day in range(config.days):
        now = START + timedelta(days=day)
        run.rescore(now.date())
        run.review_day(now)
        run.qbank_block(now + QBANK_HOUR_OFFSET)
    return RunResult(
        policy=spec.name,
        seed=seed,
        answers=run.answers,
        reviews=run.reviews,
        lapses=run.lapses,
        introduced=len(run.world.topic_of) - len(run.new_queue),
        exam_score=round(run.exam_score(START + timedelta(days=config.days)), 4),
    )


# --- policies, the frontier, the report ------------------------------------------------------


def frontier_policies(retentions: Sequence[float]) -> list[PolicySpec]:
    return [PolicySpec(name=f"fsrs r={r:.2f}", base=r) for r in retentions]


def default_variants() -> list[PolicySpec]:
    """flashcore as shipped, its parts in isolation, and a negative control."""
    app = PolicySpec(name="flashcore", weighting="flashcore")
    targets = replace(app, new_first=False, pull_forward=0)
    return [
        app,
        replace(
            app, name="flashcore new-first only", cap=app.base, priority_gain=0.0, pull_forward=0
        ),
        replace(targets, name="flashcore retention+order only"),
        replace(targets, name="miss rate retention+order (control)", weighting="miss_rate"),
    ]


def parse_variant(text: str) -> PolicySpec:
    """`name=x,cap=0.95,half_score=1.5,new_first=0` -> a PolicySpec (weighting: flashcore)."""
    values: dict[str, Any] = {"name": text, "weighting": "flashcore"}
    known = [f.name for f in fields(PolicySpec)]
    for part in text.split(","):
        key, sep, raw = (x.strip() for x in part.partition("="))
        if not sep or key not in known:
            raise ValueError(f"bad variant part {part!r}: use key=value, keys: {', '.join(known)}")
        if key in ("name", "weighting"):
            values[key] = raw
        elif key == "new_first":
            values[key] = raw.lower() in ("1", "true", "yes", "on")
        else:
            try:
                values[key] = int(raw) if key == "pull_forward" else float(raw)
            except ValueError:
                raise ValueError(f"{key}={raw!r} is not a number") from None
    if values["weighting"] not in WEIGHTINGS:
        raise ValueError(
            f"unknown weighting {values['weighting']!r}; known: {', '.join(WEIGHTINGS)}"
        )
    return PolicySpec(**values)


def interpolate(points: Sequence[tuple[float, float]], x: float) -> tuple[float, bool]:
    """The frontier's score at `x` answers: the upper envelope of the points, linear between
    them, flat beyond either end; and whether `x` lies inside the points' range."""
    pts = sorted(points)
    envelope: list[tuple[float, float]] = []
    best = -math.inf
    for px, py in pts:
        best = max(best, py)
        envelope.append((px, best))
    if x <= envelope[0][0]:
        return envelope[0][1], x == envelope[0][0]
    if x >= envelope[-1][0]:
        return envelope[-1][1], x == envelope[-1][0]
    for (x0, y0), (x1, y1) in itertools.pairwise(envelope):
        if x0 <= x <= x1:
            return (y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else max(y0, y1)), True
    raise AssertionError("unreachable")


def _sd(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def summarize(
    specs: Sequence[PolicySpec], results: Sequence[RunResult], frontier_names: Sequence[str]
) -> list[PolicySummary]:
    by_policy: dict[str, dict[int, RunResult]] = {}
    for r in results:
        by_policy.setdefault(r.policy, {})[r.seed] = r
    seeds = sorted({r.seed for r in results})
    summaries = []
    for spec in specs:
        runs = [by_policy[spec.name][s] for s in seeds]
        answers = [float(r.answers) for r in runs]
        exam = [r.exam_score for r in runs]
        gap_mean = gap_sd = None
        above = None
        in_range = None
        if spec.name not in frontier_names and frontier_names:
            gaps = []
            inside = []
            for s, run in zip(seeds, runs, strict=True):
                points = [
                    (float(by_policy[n][s].answers), by_policy[n][s].exam_score)
                    for n in frontier_names
                ]
                level, ok = interpolate(points, float(run.answers))
                gaps.append(run.exam_score - level)
                inside.append(ok)
            gap_mean, gap_sd = statistics.fmean(gaps), _sd(gaps)
            above = sum(g > 0 for g in gaps)
            in_range = all(inside)
        summaries.append(
            PolicySummary(
                policy=spec.name,
                spec=spec,
                answers_mean=statistics.fmean(answers),
                answers_sd=_sd(answers),
                exam_mean=statistics.fmean(exam),
                exam_sd=_sd(exam),
                frontier_gap_mean=gap_mean,
                frontier_gap_sd=gap_sd,
                seeds_above=above,
                in_frontier_range=in_range,
            )
        )
    return summaries


def _run_one(job: tuple[SimConfig, PolicySpec, int]) -> RunResult:
    return simulate(*job)


def run_all(
    config: SimConfig, specs: Sequence[PolicySpec], seeds: Sequence[int], jobs: int = 1
) -> list[RunResult]:
    """Every policy on every seed; in `jobs` processes when > 1. Order-independent results."""
    work = [(config, spec, seed) for spec in specs for seed in seeds]
    if jobs <= 1:
        return [_run_one(w) for w in work]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_run_one, work))


def report(
    config: SimConfig,
    specs: Sequence[PolicySpec],
    seeds: Sequence[int],
    results: Sequence[RunResult],
    frontier_names: Sequence[str],
) -> dict[str, Any]:
    """The JSON report: configuration, seeds, per-policy summaries and every run."""
    summaries = summarize(specs, results, frontier_names)
    return {
        "config": asdict(config),
        "seeds": list(seeds),
        "frontier": list(frontier_names),
        "policies": [
            {
                "policy": s.policy,
                "spec": asdict(s.spec),
                "answers_mean": round(s.answers_mean, 1),
                "answers_sd": round(s.answers_sd, 1),
                "exam_mean": round(s.exam_mean, 3),
                "exam_sd": round(s.exam_sd, 3),
                "frontier_gap_mean": None
                if s.frontier_gap_mean is None
                else round(s.frontier_gap_mean, 3),
                "frontier_gap_sd": None
                if s.frontier_gap_sd is None
                else round(s.frontier_gap_sd, 3),
                "seeds_above_frontier": s.seeds_above,
                "in_frontier_range": s.in_frontier_range,
            }
            for s in summaries
        ],
        "runs": [asdict(r) for r in sorted(results, key=lambda r: (r.policy, r.seed))],
    }


def format_table(data: dict[str, Any]) -> str:
    seeds = data["seeds"]
    c = data["config"]
    lines = [
        f"{c['topics']} topics × ~{c['cards_per_topic']} cards, {c['days']} days, "
        f"{c['new_per_day']} new/day, review limit {c['review_limit']}, "
        f"{c['qbank_per_day']} qbank questions/day; {len(seeds)} seeds ({seeds[0]}..{seeds[-1]}); "
        "mean ± sd over seeds",
        "",
        f"{'policy':<36} {'answers':>16} {'exam score %':>16} {'vs frontier (points)':>24}",
    ]
    for p in data["policies"]:
        answers = f"{p['answers_mean']:,.0f} ± {p['answers_sd']:,.0f}"
        exam = f"{p['exam_mean']:.2f} ± {p['exam_sd']:.2f}"
        gap = ""
        if p["frontier_gap_mean"] is not None:
            gap = (
                f"{p['frontier_gap_mean']:+.2f} ± {p['frontier_gap_sd']:.2f} "
                f"({p['seeds_above_frontier']}/{len(seeds)} above)"
            )
            if not p["in_frontier_range"]:
                gap += " *"
        lines.append(f"{p['policy']:<36} {answers:>16} {exam:>16} {gap:>24}")
    lines.append("")
    lines.append(
        "vs frontier: exam score minus plain FSRS's frontier interpolated at the same answer "
        "count, per seed. * = outside the frontier's answer range on some seed (flat extrapolation)."
    )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    d = SimConfig()
    p = argparse.ArgumentParser(
        prog="python -m tools.simulate",
        description=(
            "Simulate a Step 1 student and compare flashcore's weakness weighting with plain "
            "FSRS's efficiency frontier. Example: python -m tools.simulate --seeds 5"
        ),
    )
    p.add_argument("--topics", type=int, default=d.topics)
    p.add_argument("--cards-per-topic", type=int, default=d.cards_per_topic)
    p.add_argument("--days", type=int, default=d.days)
    p.add_argument("--new-per-day", type=int, default=d.new_per_day)
    p.add_argument("--review-limit", type=int, default=d.review_limit)
    p.add_argument("--qbank-per-day", type=int, default=d.qbank_per_day)
    p.add_argument("--ability-sigma", type=float, default=d.ability_sigma)
    p.add_argument("--exam-skew", type=float, default=d.exam_skew)
    p.add_argument("--guess", type=float, default=d.guess)
    p.add_argument("--new-fail", type=float, default=d.new_fail)
    p.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument(
        "--retentions",
        default=",".join(f"{r:.2f}" for r in DEFAULT_RETENTIONS),
        help="plain FSRS retentions that trace the frontier",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="K=V,...",
        help="an extra weighting policy, e.g. name=tuned,half_score=1.5,cap=0.95 "
        "(keys: the PolicySpec fields); repeatable",
    )
    p.add_argument("--only-variants", action="store_true", help="skip the default variants")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = SimConfig(
        topics=args.topics,
        cards_per_topic=args.cards_per_topic,
        days=args.days,
        new_per_day=args.new_per_day,
        review_limit=args.review_limit,
        qbank_per_day=args.qbank_per_day,
        ability_sigma=args.ability_sigma,
        exam_skew=args.exam_skew,
        guess=args.guess,
        new_fail=args.new_fail,
    )
    try:
        retentions = [float(r) for r in args.retentions.split(",") if r.strip()]
        extra = [parse_variant(v) for v in args.variant]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    frontier = frontier_policies(retentions)
    specs = [*frontier, *([] if args.only_variants else default_variants()), *extra]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        print("error: policy names must be unique", file=sys.stderr)
        return 1
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    results = run_all(config, specs, seeds, jobs=args.jobs)
    data = report(config, specs, seeds, results, [s.name for s in frontier])
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(format_table(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
