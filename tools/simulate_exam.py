"""Do the exam features help? A simulated student studies toward an exam through flashcore's own
services (a real SQLite collection, the reviewer's StudySession, a moving clock), and is scored
on exam day. Exam-day score per review minute, with and without the exam features.

    python -m tools.simulate_exam [--cards 1500] [--days 60] [--minutes 30] [--seeds 3]

The world (per seed, the same for every arm): `cards` cards over 60 topics spread over the
outline's systems by their share; a hidden ability per topic (lognormal, sigma 0.6) that the
scheduler never sees: a card's TRUE stability is fsrs's stability × its topic's ability, and
the student recalls it on the FSRS curve at that stability. Answers take the student 20 s for
a new card, 10 s for a learning step, 8 s for a review (+6 s when it is forgotten); a passing
review is Hard/Good/Easy 15/75/10 %, a new card's first answer is Again 25 % of the time.

Every arm has the same time: `minutes` a day of the student's real time. The arms:
- `plain`: flashcore as before this feature: new_per_day 20, the queue in its order until the
  day's time is spent;
- `plain+rate`: the same, with new_per_day set once to what every card needs by a week
  before the exam (what a careful student computes);
- `exam`: `exam set` with the same minutes a day and a 7-day buffer, `plan_mode auto`, the
  retention steps of `plan --solve` (solved once, on day one), and the reviewer's session cut
  to the day's budget (core.budget); the last-stretch rule acts in every answer;
- `exam-nosolve`: the same without the retention steps (the profile's own retention).

Exam score = Σ over topics of the topic's share of the exam (its system's outline share split
over the system's topics) × the mean over its cards of `0.2 + 0.8 × true recall` on exam day
(a card never seen: 0.2, a guess), in percent. "Per review minute": the score above the guess
level (20 points) per hour of study, since every arm studies about the same time.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flashcore.core import fsrs_adapter, outline
from flashcore.core.clock import FixedClock
from flashcore.core.model import CardState, Rating

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TOPICS = 60
GUESS = 0.2
SECONDS = {"new": 20.0, "step": 10.0, "review": 8.0, "forgot": 6.0}
ARMS = ("plain", "plain+rate", "exam", "exam-nosolve")


@dataclass(frozen=True, slots=True)
class Run:
    arm: str
    seed: int
    exam_score: float
    minutes: float
    answers: int
    seen: int
    cards: int

    @property
    def points_per_hour(self) -> float:
        return (self.exam_score - 100 * GUESS) / max(1e-9, self.minutes / 60.0)


def _world(cards: int, seed: int) -> tuple[list[tuple[str, float, float]], list[int]]:
    """(topic path, exam weight, ability) per topic; the topic of each card."""
    rng = random.Random(f"flashcore-exam-sim:{seed}")
    systems = list(outline.SYSTEM_SHARES.items())
    areas = {v: k for k, v in outline.AREA_SYSTEMS.items()}
    topics: list[tuple[str, float, float]] = []
    per_system = {name: max(1, round(TOPICS * share)) for name, share in systems}
    for name, share in systems:
        area = areas.get(name, "Multisystem")
        n = per_system[name]
        for t in range(n):
            ability = rng.lognormvariate(0.0, 0.6)
            topics.append((f"Pathology::{area}::Topic {name[:12]} {t}", share / n, ability))
    topic_of = [rng.randrange(len(topics)) for _ in range(cards)]
    return topics, topic_of


def _deck(path: Path, topics: list[tuple[str, float, float]], topic_of: list[int]) -> None:
    lines = ['[deck]\nname = "Simulated"\nkey = "sim"\n']
    for n, t in enumerate(topic_of):
        lines.append(
            f'[[cards]]\nid = "c{n}"\nfront = "Question {n}?"\nback = "Answer {n}"\n'
            f'topics = ["{topics[t][0]}"]\n'
        )
    path.write_text("\n".join(lines), encoding="utf-8")


def run(arm: str, seed: int, cards: int, days: int, minutes: float, verbose: bool = False) -> Run:
    """One arm on one seed, through the services (see the module's doc)."""
    from flashcore.services import Flashcore, exam, study
    from flashcore.services.optimize import solve_retention

    topics, topic_of = _world(cards, seed)
    rng = random.Random(f"flashcore-exam-student:{seed}")
    clock = FixedClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        deck = Path(tmp) / "sim.toml"
        _deck(deck, topics, topic_of)
        fc = Flashcore.open(str(Path(tmp) / "sim.sqlite3"), clock=clock, create=True)
        try:
            (report,) = fc.add_decks([deck])
            assert report.ok, report.problems
            ids = {c["note_key"]: c["card_id"] for c in fc.cards()}
            card_topic = {ids[f"sim:c{n}"]: t for n, t in enumerate(topic_of)}
            exam_day = START.date() + timedelta(days=days)
            if arm == "plain+rate":
                fc.config_set("new_per_day", str(math.ceil(cards / max(1, days - 7))))
            if arm.startswith("exam"):
                exam.set_exam(fc, exam_day, minutes_per_day=int(minutes), buffer_days=7)
                fc.config_set("plan_mode", "auto")
                if arm == "exam":
                    steps = solve_retention(fc)
                    print(f"seed {seed}: retention steps {steps}", file=sys.stderr)
            curve = fsrs_adapter.curve(fc.policy)
            memory: dict[int, tuple[float, datetime]] = {}
            spent_total = 0.0
            answers = 0

            def recall(card: int, at: datetime) -> float:
                known = memory.get(card)
                if known is None:
                    return 0.0
                stability, last = known
                true = stability * topics[card_topic[card]][2]
                return curve.retrievability_days(true, (at - last).total_seconds() / 86400.0)

            for day in range(days):
                clock.set(START + timedelta(days=day))
                budgeted = arm.startswith("exam")
                session = study.StudySession(fc, exam_budget=budgeted, minutes=None)
                spent = 0.0
                while budgeted or spent < minutes * 60:
                    q = session.queue(details=False)
                    if not q.items:
                        nxt = q.next_learning_due
                        if nxt is None or nxt >= fc.rollover():
                            break
                        clock.set(nxt)
                        continue
                    item = q.items[0]
                    now = clock.now()
                    if item.state is CardState.NEW:
                        failed = rng.random() < 0.25
                        seconds = SECONDS["new"]
                    else:
                        failed = rng.random() >= recall(item.card_id, now)
                        kind = "review" if item.state is CardState.REVIEW else "step"
                        seconds = SECONDS[kind] + (SECONDS["forgot"] if failed else 0.0)
                    if failed:
                        rating = Rating.AGAIN
                    else:
                        u = rng.random()
                        rating = Rating.HARD if u < 0.15 else (
                            Rating.GOOD if u < 0.9 else Rating.EASY
                        )  # fmt: skip
                    result = session.answer(item.card_id, rating, duration_ms=int(seconds * 1000))
                    answers += 1
                    spent += seconds
                    s = result.schedule
                    assert s.memory is not None and s.last_review is not None
                    memory[item.card_id] = (s.memory.stability, s.last_review)
                    clock.advance(timedelta(seconds=seconds))
                session.close()
                spent_total += spent
                if verbose:
                    print(f"  {arm} day {day}: {spent / 60:.1f} min, seen {len(memory)}, "
                          f"new_per_day {fc.settings.new_per_day}", file=sys.stderr)  # fmt: skip
            at = datetime.combine(exam_day, START.timetz())
            score = 0.0
            by_topic: dict[int, list[int]] = {}
            for card, t in card_topic.items():
                by_topic.setdefault(t, []).append(card)
            for t, members in by_topic.items():
                mean = sum(GUESS + (1 - GUESS) * recall(c, at) for c in members) / len(members)
                score += topics[t][1] * mean
            weight_covered = sum(topics[t][1] for t in by_topic)
            score = 100.0 * score / weight_covered
            return Run(arm, seed, round(score, 3), round(spent_total / 60.0, 1), answers,
                       len(memory), cards)  # fmt: skip
        finally:
            fc.close()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tools.simulate_exam",
        description="A simulated student toward an exam, with and without the exam features. "
        "Example: python -m tools.simulate_exam --seeds 3",
    )
    p.add_argument("--cards", type=int, default=1500)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--minutes", type=float, default=30.0, help="study minutes a day")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--json", action="store_true")
    p.add_argument("--verbose", action="store_true", help="each day's minutes and cards seen")
    a = p.parse_args(argv)
    arms = [x.strip() for x in a.arms.split(",") if x.strip()]
    unknown = [x for x in arms if x not in ARMS]
    if unknown:
        print(f"error: unknown arm {unknown[0]!r}; known: {', '.join(ARMS)}", file=sys.stderr)
        return 1
    runs: list[Run] = []
    for seed in range(a.seeds):
        for arm in arms:
            started = time.monotonic()
            r = run(arm, seed, a.cards, a.days, a.minutes, a.verbose)
            runs.append(r)
            print(f"seed {seed} {arm:<20} score {r.exam_score:6.2f}  minutes {r.minutes:7.1f}  "
                  f"answers {r.answers:6d}  seen {r.seen}/{r.cards}  "
                  f"({time.monotonic() - started:.0f} s)", file=sys.stderr)  # fmt: skip
    summary: dict[str, Any] = {}
    for arm in arms:
        mine = [r for r in runs if r.arm == arm]
        summary[arm] = {
            "exam_score": round(statistics.fmean(r.exam_score for r in mine), 2),
            "exam_score_sd": round(statistics.pstdev(r.exam_score for r in mine), 2),
            "minutes": round(statistics.fmean(r.minutes for r in mine), 1),
            "points_per_hour": round(statistics.fmean(r.points_per_hour for r in mine), 3),
            "seen": round(statistics.fmean(r.seen for r in mine)),
        }
    if a.json:
        print(json.dumps({"summary": summary, "runs": [asdict(r) for r in runs]}, indent=2))
    else:
        print(f"{a.cards} cards, {a.days} days, {a.minutes:g} min a day, {a.seeds} seeds")
        for arm, s in summary.items():
            print(f"{arm:<20} exam {s['exam_score']:6.2f} ± {s['exam_score_sd']:.2f}  "
                  f"{s['minutes']:7.1f} min  {s['points_per_hour']:.3f} points/hour above "
                  f"guessing  seen {s['seen']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
