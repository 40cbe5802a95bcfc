"""`python -m tools.simulate`: does the weakness weighting earn its reviews? See the package doc."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from tools.simulate import report
from tools.simulate.models import SETTINGS, Setting, frontier_name, make_world
from tools.simulate.student import Arm, Result, Student

DEFAULT_RETENTIONS = (0.85, 0.90, 0.93, 0.95, 0.97)
# The arms besides the frontier: flashcore as configured, and parts of it switched off.
ARMS: dict[str, Arm] = {
    "flashcore": Arm("flashcore"),
    "misses": Arm("misses", patch=(("COMBINE", "misses"),)),
    "both": Arm("both", patch=(("COMBINE", "both"),)),
    "gated": Arm("gated", patch=(("COMBINE", "gated"),)),
    "forgetting": Arm("forgetting", patch=(("COMBINE", "forgetting"),)),
    # misses must outweigh a memory better than average (core.weakness.divisor)
    "protect": Arm("protect", patch=(("COMBINE", "protect"),)),
    # pull forward only cards whose retrievability is below the topic's weighted target
    "pull-due": Arm("pull-due", patch=(("PULL_ONLY_DUE", True),)),
    # new cards in introduction order, whatever their weight (no weak-first, hence no probes)
    "deck-order": Arm("deck-order", patch=(("flashcore.services.queue.WEAK_FIRST", "never"),)),
    # with an exam date (--exam), introduction order once every new card fits before it
    "exam-order": Arm("exam-order", patch=(("flashcore.services.queue.WEAK_FIRST", "exam"),)),
    # topics forgotten more than average keep at least the workload's uniform retention
    # divided by their forgetting (core.memory_floor)
    "floor": Arm("floor", patch=(("memory_floor.ENABLED", True),)),
    # the same, its uniform equivalent from the weights alone (not counting the floors' cost)
    "floor1": Arm("floor1", patch=(("memory_floor.ENABLED", True), ("memory_floor.ITERATIONS", 1))),
    # the same, only for topics whose every card has been introduced (the new-card order kept)
    "floor-intro": Arm(
        "floor-intro",
        patch=(
            ("memory_floor.ENABLED", True),
            ("memory_floor.ITERATIONS", 1),
            ("memory_floor.ONLY_INTRODUCED", True),
        ),
    ),
    # no pull-forwards at all (the weights and the order as shipped)
    "no-pull": Arm("no-pull", config=(("pull_forward_per_topic", "0"),)),
    # misses shrunk toward the student's average by a prior fitted from how much the topics
    # differ beyond chance (empirical Bayes, core.weakness.fitted_prior) instead of 3 misses
    "eb": Arm("eb", patch=(("shrinkage.FITTED", True),)),
    # every introduced topic's reviews at least at the weights' uniform equivalent (forgotten
    # more than average: that divided by its forgetting); the new-card order kept
    "floor-all": Arm(
        "floor-all",
        patch=(
            ("memory_floor.ENABLED", True),
            ("memory_floor.ITERATIONS", 1),
            ("memory_floor.ONLY_INTRODUCED", True),
            ("memory_floor.FLOOR_ALL", True),
        ),
    ),
    # a topic with new cards left whose first answers fail more than average is weighted by
    # them (core.first_answers): its new cards come earlier (issue 21, ninth round)
    "first": Arm("first", patch=(("first_answers.ENABLED", True),)),
    # the same, below every topic the misses and lapses weight (ahead of the unweighted only)
    "first-after": Arm(
        "first-after", patch=(("first_answers.ENABLED", True), ("first_answers.MODE", "after"))
    ),
    # the same weight, and every 4th new card of the day (between the probes') for such topics
    "first-share": Arm(
        "first-share", patch=(("first_answers.ENABLED", True), ("first_answers.MODE", "share"))
    ),
    "no-first": Arm("no-first", patch=(("first_answers.ENABLED", False),)),
    # every topic's probes reach its share of the cards studied so far (issue 21e,
    # core.introduction.COVERAGE): no topic left behind the average by the weak-first order
    "coverage": Arm("coverage", patch=(("introduction.COVERAGE", 1.0),)),
    "coverage-half": Arm("coverage-half", patch=(("introduction.COVERAGE", 0.5),)),
    # a topic's misses as evidence: its standing the posterior's lower quartile, not its mean
    # (issue 21e, core.weakness.EVIDENCE_Z): a few misses of a sparse log say little
    "evidence": Arm("evidence", patch=(("shrinkage.EVIDENCE_Z", -0.674),)),
    # the misses' "% correct others" left unweighed (before issue 21's twelfth round), or
    # weighed by 1 / (1 - share) instead of the share (core.difficulty.MODE)
    "difficulty-off": Arm("difficulty-off", patch=(("difficulty.MODE", "off"),)),
    "difficulty-linear": Arm("difficulty-linear", patch=(("difficulty.MODE", "linear"),)),
    # every question's share moved by up to 26 points (sd 15) at random: no information
    "noisy-shares": Arm("noisy-shares", share_noise=26.0),
    # a topic's pull-forwards by its misses' "% correct others" (core.difficulty.PULL): that
    # share of them where they were on questions harder for others than your average miss
    # (as shipped since issue 21's thirteenth round), none there, or untouched (before)
    "pull-scale": Arm("pull-scale", patch=(("difficulty.PULL", "scale"),)),
    "pull-gate": Arm("pull-gate", patch=(("difficulty.PULL", "gate"),)),
    "pull-off": Arm("pull-off", patch=(("difficulty.PULL", "off"),)),
    "shipped": Arm("shipped", absolute=True),
    "shipped-no-raise": Arm(
        "shipped-no-raise", absolute=True, config=(("weakness_max_retention", "0.90"),)
    ),
    "shipped-no-pull": Arm(
        "shipped-no-pull", absolute=True, config=(("pull_forward_per_topic", "0"),)
    ),
}


def _one(job: tuple[Setting, int, Arm]) -> Result:
    setting, seed, arm = job
    return Student(make_world(setting, seed), arm).run()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tools.simulate",
        description="A simulated student studies through flashcore's services; the weakness "
        "weighting against plain FSRS at several uniform retentions, at equal answers. "
        "Example: python -m tools.simulate --settings base,unfinished --seeds 3 --jobs 2",
    )
    p.add_argument("--settings", default="base", help=f"comma list of: {', '.join(SETTINGS)}")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--arms", default="flashcore", help=f"comma list of: {', '.join(ARMS)}")
    p.add_argument(
        "--retentions",
        default=",".join(f"{r:.2f}" for r in DEFAULT_RETENTIONS),
        help="the frontier's uniform retentions",
    )
    p.add_argument("--scale", type=float, default=1.0, help="cards per topic x this (smoke)")
    p.add_argument("--days", type=int, default=None, help="override the setting's days")
    p.add_argument("--exam", action="store_true", help="the student sets the exam date (every arm)")
    p.add_argument(
        "--lucks",
        default="0",
        help="comma list of the student's lucks per seed (0: the draws as always; others salt "
        "the answers and question blocks, not the world): the same seed at several lucks "
        "measures how much of a gap is luck",
    )
    p.add_argument(
        "--leech-threshold",
        type=int,
        default=0,
        help="the profile's leech_threshold in every arm, frontier included (0: the product's "
        "default); keep such runs in an --out file of their own",
    )
    p.add_argument(
        "--leech-action",
        choices=("suspend", "tag"),
        default=None,
        help="the profile's leech_action in every arm, frontier included (default: the "
        "product's); keep such runs in an --out file of their own",
    )
    p.add_argument(
        "--leech-return",
        type=int,
        default=0,
        metavar="DAYS",
        help="the student rewrites a leech the product suspends and unsuspends it DAYS study "
        "days later (0: never touches a leech)",
    )
    p.add_argument("--jobs", type=int, default=1, help="processes (the machine is shared)")
    p.add_argument("--out", type=Path, help="append each run as a JSON line here (and reuse)")
    p.add_argument("--json", action="store_true", help="print the runs and gaps as JSON")
    a = p.parse_args(argv)
    counts = (  # option, value, what it counts, its least value
        ("--leech-return", a.leech_return, "number of days", 0),
        ("--leech-threshold", a.leech_threshold, "number of lapses", 0),
        ("--days", a.days, "number of days", 1),
        ("--seeds", a.seeds, "number of seeds", 1),
        ("--jobs", a.jobs, "number of processes", 1),
    )
    for option, value, what, least in counts:
        if value is not None and value < least:
            print(f"error: {option} {value}: not a {what} ({least} or more)", file=sys.stderr)
            return 1
    names = [x.strip() for x in a.settings.split(",") if x.strip()]
    unknown = [x for x in names if x not in SETTINGS]
    if unknown:
        print(
            f"error: unknown setting {unknown[0]!r}; known: {', '.join(SETTINGS)}", file=sys.stderr
        )
        return 1
    arm_names = [x.strip() for x in a.arms.split(",") if x.strip()]
    bad = [x for x in arm_names if x not in ARMS]
    if bad:
        print(f"error: unknown arm {bad[0]!r}; known: {', '.join(ARMS)}", file=sys.stderr)
        return 1
    try:
        retentions = [float(x) for x in a.retentions.split(",") if x.strip()]
    except ValueError:
        print(f"error: --retentions {a.retentions!r}: not numbers", file=sys.stderr)
        return 1
    try:
        lucks = [int(x) for x in a.lucks.split(",") if x.strip()]
    except ValueError:
        print(f"error: --lucks {a.lucks!r}: not whole numbers", file=sys.stderr)
        return 1
    arms = [Arm(f"plain-{r:.2f}", r, qbank=False) for r in retentions]
    arms += [ARMS[x] for x in arm_names]

    def prepared(name: str, luck: int) -> Setting:
        s = SETTINGS[name]
        if a.scale != 1.0:
            s = s.scaled(a.scale)
        if a.days is not None:
            s = replace(s, days=a.days)
        if a.exam:
            s = replace(s, exam=True)
        if a.leech_threshold:
            s = replace(s, leech_threshold=a.leech_threshold)
        if a.leech_action:
            s = replace(s, leech_action=a.leech_action)
        if a.leech_return:
            s = replace(s, leech_return_days=a.leech_return)
        return replace(s, luck=luck)

    settings = [prepared(name, luck) for name in names for luck in lucks]

    def runs_as(s: Setting, arm: Arm) -> Setting:
        """The frontier of a model that shares its world with another (its `world`) is that
        model's plain runs: the same flashcards without a qbank, the same runs."""
        home = frontier_name(s)
        return prepared(home, s.luck) if home != s.name and not arm.qbank else s

    done: dict[tuple[str, int, int, str], Result] = {}
    if a.out is not None and a.out.exists():
        for line in a.out.read_text().splitlines():
            r = Result(**json.loads(line))
            done[(r.setting, r.seed, r.luck, r.arm)] = r
    wanted = dict.fromkeys(
        (runs_as(s, arm), seed, arm)
        for s in settings
        for seed in range(a.first_seed, a.first_seed + a.seeds)
        for arm in arms
    )
    jobs = [
        (s, seed, arm) for s, seed, arm in wanted if (s.name, seed, s.luck, arm.name) not in done
    ]
    started = time.monotonic()
    results = [
        done[(s.name, seed, s.luck, arm.name)]
        for s, seed, arm in wanted
        if (s.name, seed, s.luck, arm.name) in done
    ]

    def keep(r: Result) -> None:
        results.append(r)
        if a.out is not None:
            with a.out.open("a") as f:
                f.write(json.dumps(r.as_json()) + "\n")
        luck = f" luck {r.luck}" if r.luck else ""
        print(
            f"{r.setting} seed {r.seed}{luck} {r.arm:<12} answers {r.answers:6,} score {r.score:6.2f} "
            f"weakest quarter {r.weak_score:6.2f}  ({r.seconds:.0f} s CPU, "
            f"{time.monotonic() - started:.0f} s, load {os.getloadavg()[0]:.1f})",
            file=sys.stderr,
        )

    if a.jobs > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(a.jobs) as pool:
            for r in pool.map(_one, jobs):
                keep(r)
    else:
        for job in jobs:
            keep(_one(job))
    notes = {s.name: s.note for s in settings}
    if a.json:
        print(json.dumps({
            "runs": [r.as_json() for r in results],
            "gaps": [g.__dict__ if hasattr(g, "__dict__") else _gap_json(g)
                     for g in report.gaps(results)],
        }, indent=2))  # fmt: skip
    else:
        print(report.table(results, notes))
        print("\nShare of answers per desired retention:\n")
        print(report.retention_shares(results))
    return 0


def _gap_json(g: report.Gap) -> dict[str, object]:
    return {f: getattr(g, f) for f in g.__dataclass_fields__}


if __name__ == "__main__":
    raise SystemExit(main())
