"""The simulator drives the real product: one tiny run per student model, checked against what
the product wrote (its review log, its qbank log), plus the frontier's arithmetic."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.storage.tables import card_weight, cards, qbank_attempts, review_logs
from tools.simulate import __main__ as cli
from tools.simulate import report
from tools.simulate.models import SETTINGS, make_world
from tools.simulate.student import Arm, Student


def tiny(name: str, days: int = 6):
    return replace(SETTINGS[name].scaled(0.1), topics=12, days=days)


def logged(folder: Path) -> tuple[int, Counter[str], int, int]:
    engine = sa.create_engine(f"sqlite:///{folder / 'sim.sqlite3'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(review_logs.c.desired_retention)).all()
            attempts = conn.execute(sa.select(sa.func.count()).select_from(qbank_attempts))
            n_attempts = int(attempts.scalar_one())
            misses = conn.execute(
                sa.select(sa.func.count())
                .select_from(qbank_attempts)
                .where(qbank_attempts.c.outcome != "correct")
            ).scalar_one()
    finally:
        engine.dispose()
    return len(rows), Counter(f"{r[0]:.2f}" for r in rows), n_attempts, int(misses)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_each_student_model_answers_through_the_product_and_imports_its_log(name, tmp_path):
    setting = tiny(name)
    world = make_world(setting, seed=1)
    result = Student(world, Arm("flashcore")).run(folder=tmp_path)

    rows, retentions, attempts, misses = logged(tmp_path)
    assert result.answers > 0
    assert rows == result.answers  # every simulated answer is a row of the review log
    assert dict(retentions) == result.retention_answers  # at the retention the product chose
    assert result.seen <= setting.cards
    assert result.unmatched == 0  # every question met its topic (or its card)
    if setting.log == "all":
        # every answer of the blocks imported so far (the last morning import is still due)
        assert attempts == setting.qbank_per_day * (setting.days - 1)
    else:
        assert attempts == misses  # a paste of incorrects only
    assert misses > 0 and result.imports > 0
    assert 20.0 <= result.score <= 100.0 and 20.0 <= result.weak_score <= 100.0


def test_a_plain_arm_imports_nothing_weights_nothing_and_answers_at_its_uniform_retention(
    tmp_path,
):
    # Twelve days: enough lapses for the flashcard signal, which needs no qbank log, to weight
    # some topics had the frontier not switched the weighting off.
    world = make_world(tiny("base", days=12), seed=2)
    result = Student(world, Arm("plain-0.85", 0.85, qbank=False)).run(folder=tmp_path)

    rows, retentions, attempts, _ = logged(tmp_path)
    assert rows == result.answers and attempts == 0
    assert set(retentions) == {"0.85"}
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'sim.sqlite3'}")
    try:
        with engine.connect() as conn:
            weighted = conn.execute(
                sa.select(sa.func.count()).select_from(cards).where(card_weight() > 0)
            ).scalar_one()
    finally:
        engine.dispose()
    assert weighted == 0


def test_the_same_seed_gives_the_same_run_and_the_same_luck_across_arms():
    world = make_world(tiny("base", days=4), seed=3)
    a = Student(world, Arm("plain-0.90", 0.90, qbank=False)).run()
    b = Student(world, Arm("plain-0.90", 0.90, qbank=False)).run()
    assert (a.answers, a.score, a.weak_score) == (b.answers, b.score, b.weak_score)


def test_the_gap_is_measured_against_the_frontier_at_the_arm_s_own_answers():
    front = report.envelope([(100, 60.0), (200, 70.0), (150, 59.0)])
    assert front == [(100, 60.0), (150, 60.0), (200, 70.0)]
    assert report.interpolate(front, 175) == (65.0, False)
    y, outside = report.interpolate(front, 300)
    assert outside and y == 90.0


def test_the_command_prints_the_table_with_every_seed(capsys, tmp_path):
    out = tmp_path / "runs.jsonl"
    args = ["--settings=base", "--scale=0.1", "--days=4", "--seeds=2", "--retentions=0.85,0.95",
            f"--out={out}"]  # fmt: skip
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "| base | flashcore |" in text and "| base | 1 | flashcore |" in text
    assert len(out.read_text().splitlines()) == 6
    assert cli.main(args) == 0  # the runs are reused, not run again
    assert len(out.read_text().splitlines()) == 6
    assert cli.main(["--settings=nope"]) == 1


def test_an_arm_sets_the_weakness_models_constants_for_its_run_only(tmp_path):
    from flashcore.core import weakness

    before = weakness.COMBINE, weakness.PULL_FORWARD_WHERE
    # A bare name is core.weakness's; `module.NAME` another core module's (here the same one).
    arm = Arm("misses", patch=(("COMBINE", "misses"), ("weakness.PULL_FORWARD_WHERE", "all")))
    result = Student(make_world(tiny("base"), seed=1), arm).run(folder=tmp_path)
    assert result.answers > 0 and len(result.topic_seen) == tiny("base").topics
    assert before == (weakness.COMBINE, weakness.PULL_FORWARD_WHERE)
    assert weakness.COMBINE == "both"


def test_a_student_with_an_exam_sets_its_date_on_exam_day(tmp_path):
    from datetime import UTC, datetime

    from flashcore.core.clock import FixedClock
    from flashcore.services import Flashcore

    setting = replace(tiny("base", days=3), exam=True)
    result = Student(make_world(setting, seed=0), Arm("flashcore")).run(folder=tmp_path)
    assert result.answers > 0
    clock = FixedClock(datetime(2027, 1, 4, 8, tzinfo=UTC))
    with Flashcore.open(str(tmp_path / "sim.sqlite3"), clock=clock) as fc:
        assert fc.exam is not None
        assert fc.exam.exam_date.isoformat() == "2027-01-07"  # START + 3 days


def test_an_arm_sets_a_service_constant_by_its_full_path_for_its_run_only(tmp_path):
    from flashcore.services import queue as queue_service
    from tools.simulate.__main__ import ARMS

    arm = ARMS["deck-order"]
    assert arm.patch == (("flashcore.services.queue.WEAK_FIRST", "never"),)
    Student(make_world(tiny("base"), seed=1), arm).run(folder=tmp_path)
    assert queue_service.WEAK_FIRST == "always"


def test_a_luck_changes_the_student_s_draws_but_not_the_world(tmp_path):
    setting = tiny("base", days=4)
    lucky = replace(setting, luck=2)
    assert make_world(lucky, seed=3) == replace(make_world(setting, seed=3), setting=lucky)
    a = Student(make_world(setting, seed=3), Arm("flashcore")).run()
    b = Student(make_world(lucky, seed=3), Arm("flashcore")).run()
    again = Student(make_world(lucky, seed=3), Arm("flashcore")).run()
    assert (a.luck, b.luck) == (0, 2)
    assert (b.answers, b.score, b.weak_score) == (again.answers, again.score, again.weak_score)
    assert (a.answers, a.score, a.topic_answers) != (b.answers, b.score, b.topic_answers)


def test_the_command_runs_each_luck_and_keeps_them_apart(capsys, tmp_path):
    out = tmp_path / "runs.jsonl"
    args = ["--settings=base", "--scale=0.1", "--days=3", "--seeds=1", "--lucks=0,1",
            "--retentions=0.90", f"--out={out}"]  # fmt: skip
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "| base | 0 | flashcore |" in text and "| base | 0 (luck 1) | flashcore |" in text
    assert len(out.read_text().splitlines()) == 4
    assert cli.main(args) == 0  # reused per luck
    assert len(out.read_text().splitlines()) == 4
    assert cli.main(["--lucks=x"]) == 1


def test_every_arm_patches_constants_that_exist():
    from tools.simulate.__main__ import ARMS
    from tools.simulate.student import _constant

    for arm in ARMS.values():
        for name, _ in arm.patch:
            module, attribute = _constant(name)
            assert hasattr(module, attribute), (arm.name, name)


def test_mixed_questions_shares_hard_questions_world_and_varies_its_questions_within_a_topic():
    from tools.simulate.student import others_share

    hard, mixed = (
        make_world(SETTINGS["hard-questions"], 2),
        make_world(SETTINGS["mixed-questions"], 2),
    )
    # the same topics, abilities, exam weights and deck: the same flashcards, the same frontier
    assert (mixed.ability, mixed.exam_weight, mixed.deck_order, mixed.paths, mixed.clarity) == (
        hard.ability, hard.exam_weight, hard.deck_order, hard.paths, hard.clarity,
    )  # fmt: skip
    # hard questions: every question of a topic as clear as its topic; mixed: each its own
    assert hard.question_clarity == tuple(hard.clarity[t] for t in hard.deck_order)
    shares = {round(others_share(mixed, c), 3) for c in mixed.cards_of(0)}
    assert len(shares) > 10  # the paste shows a share per question, not one per topic
    assert {round(others_share(hard, c), 3) for c in hard.cards_of(0)} == {
        round(0.2 + 0.8 * 0.9 * hard.clarity[0], 3)
    }
    assert all(0.0 < q <= 1.0 for q in mixed.question_clarity)
    # questions as clear as the cards (every other model): one share everywhere
    base = make_world(SETTINGS["base"], 0)
    assert set(base.question_clarity) == {1.0}


def test_a_run_counts_the_answers_a_topic_s_misses_pulled_forward(tmp_path):
    result = Student(make_world(tiny("hard-questions", days=12), seed=1), Arm("flashcore")).run()
    assert len(result.topic_pulled) == tiny("hard-questions").topics
    assert all(0 <= p <= a for p, a in zip(result.topic_pulled, result.topic_answers, strict=True))


def test_a_model_sharing_another_s_world_takes_its_frontier_from_that_model_s_plain_runs(
    capsys, tmp_path
):
    out = tmp_path / "runs.jsonl"
    args = ["--settings=mixed-questions", "--scale=0.1", "--days=3", "--seeds=1",
            "--retentions=0.90", f"--out={out}"]  # fmt: skip
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    # plain FSRS has no qbank: mixed questions' frontier is hard questions' (the same world)
    assert sorted((r["setting"], r["arm"]) for r in kept) == [
        ("hard-questions", "plain-0.90"), ("mixed-questions", "flashcore"),
    ]  # fmt: skip
    assert (
        "| mixed-questions | flashcore |" in text and "| mixed-questions | 0 | flashcore |" in text
    )
    both = ["--settings=hard-questions,mixed-questions", *args[1:]]
    assert cli.main(both) == 0
    assert len(out.read_text().splitlines()) == 3  # hard questions' flashcore run only


def test_each_world_is_judged_over_its_lucks_by_its_mean_and_its_runs_at_or_above():
    def gap(luck: int, g: float, w: float, seed: int = 2) -> report.Gap:
        return report.Gap("hard-questions", seed, "flashcore", 6500, 96.0, 95.8, g, w, False,
                          0.2, 1000.0, None, luck)  # fmt: skip

    rows = [gap(0, 0.23, -0.36), gap(1, 0.07, -0.26), gap(2, 0.16, 0.29), gap(0, 0.1, 0.0, 3)]
    worlds = report.over_lucks(rows)
    assert [(x.seed, x.runs) for x in worlds] == [(2, 3), (3, 1)]
    two = worlds[0]
    assert two.gap[0] == pytest.approx(0.46 / 3) and two.weak_gap[0] == pytest.approx(-0.11)
    assert two.weak_gap[1] == pytest.approx(0.35)
    assert (two.gap_at_or_above, two.weak_at_or_above) == (3, 1)
    assert (worlds[1].weak_at_or_above, worlds[1].gap[1]) == (1, 0.0)  # 0.0 counts as at


def test_a_model_s_mean_gap_carries_its_95_percent_confidence_interval():
    assert report.t95(11) == 2.201 and report.t95(1) == 12.706
    assert report.t95(40) == pytest.approx(2.021, abs=0.002)  # past the table: the expansion
    assert report.t95(200) == pytest.approx(1.972, abs=0.002)
    m, sd, half = report.mean_ci([0.1, 0.3, 0.5, 0.7])
    assert (m, sd) == (pytest.approx(0.4), pytest.approx(0.2582, abs=1e-4))
    assert half == pytest.approx(3.182 * 0.2582 / 2, abs=1e-3)
    assert report.mean_ci([0.2])[2] != report.mean_ci([0.2])[2]  # one run: no interval (nan)


def test_a_world_run_at_several_lucks_counts_once_in_the_interval():
    # Found by rv3: 12 worlds at two lucks gave "24 runs" and an interval as if each run were a
    # world of its own, too narrow (hard questions' weakest quarter [+0.29, +0.91]; over the
    # worlds' means [+0.25, +0.95]). The runs of one world share it: the interval is over the
    # worlds' means; the mean and deviation stay over the runs.
    runs = [(0, 0.1), (0, 0.3), (1, 0.9), (1, 1.1), (2, 0.4), (2, 0.6)]
    m, sd, half = report.world_ci(runs)
    assert (m, sd) == report.mean_ci([v for _, v in runs])[:2]
    assert half == pytest.approx(report.mean_ci([0.2, 1.0, 0.5])[2])
    assert half > report.mean_ci([v for _, v in runs])[2]
    one_luck = [(0, 0.1), (1, 0.9), (2, 0.4)]  # one run per world: as before
    assert report.world_ci(one_luck) == report.mean_ci([0.1, 0.9, 0.4])


def test_the_weakest_quarter_s_spread_is_split_into_luck_and_world():
    def gap(seed: int, luck: int, w: float, setting: str = "light-qbank") -> report.Gap:
        return report.Gap(setting, seed, "flashcore", 6500, 96.0, 95.8, 0.1, w, False, 0.2,
                          1000.0, None, luck)  # fmt: skip

    # two worlds whose lucks differ by 0.2 each: luck variance 0.02; their means (+1, -1) vary
    # far beyond what that explains: world variance 2 - 0.02 / 2
    rows = [gap(0, 0, 1.1), gap(0, 1, 0.9), gap(1, 0, -0.9), gap(1, 1, -1.1)]
    (x,) = report.spread_parts(rows)
    assert (x.setting, x.worlds, x.mean) == ("light-qbank", 2, pytest.approx(0.0))
    assert x.luck_sd == pytest.approx(0.02**0.5)
    assert x.world_sd == pytest.approx((2 - 0.01) ** 0.5)
    assert x.below == pytest.approx(0.5)
    # worlds that differ no more than their lucks: no world effect, none below on average
    same = [gap(0, 0, 0.5), gap(0, 1, -0.1), gap(1, 0, 0.1), gap(1, 1, 0.3)]
    (y,) = report.spread_parts(same)
    assert (y.world_sd, y.below, y.mean) == (0.0, 0.0, pytest.approx(0.2))
    # one world at several lucks, or worlds at one luck each: nothing to split
    assert report.spread_parts([gap(0, 0, 0.1), gap(0, 1, 0.2), gap(1, 0, 0.3)]) == []


def test_the_leech_threshold_option_sets_the_profile_s_threshold_in_every_arm(tmp_path):
    # A diagnosis (issue 21c): how much of a gap the leeches' suspension makes. One lapse makes
    # a leech at threshold 1; with the product's default (8) nothing lapses that often in a week.
    def leeches(threshold: int, folder: Path) -> int:
        setting = replace(tiny("skewed-own-relapse", days=8), leech_threshold=threshold)
        Student(make_world(setting, seed=1), Arm("plain-0.90", 0.90, qbank=False)).run(folder)
        engine = sa.create_engine(f"sqlite:///{folder / 'sim.sqlite3'}")
        try:
            with engine.connect() as conn:
                found = sa.select(sa.func.count()).select_from(cards).where(cards.c.leech)
                return int(conn.execute(found).scalar_one())
        finally:
            engine.dispose()

    (tmp_path / "one").mkdir()
    (tmp_path / "default").mkdir()
    assert leeches(1, tmp_path / "one") > 0
    assert leeches(0, tmp_path / "default") == 0
    out = tmp_path / "runs.jsonl"
    args = ["--settings=base", "--scale=0.1", "--days=3", "--seeds=1", "--retentions=0.90",
            "--arms=", "--leech-threshold=1", f"--out={out}"]  # fmt: skip
    assert cli.main(args) == 0


def test_the_leech_options_set_the_action_in_every_arm_and_bring_suspended_leeches_back(tmp_path):
    # Issue 21d: `--leech-action` sets the profile's leech_action in every arm, frontier
    # included; `--leech-return N` is a student who rewrites a suspended leech and unsuspends
    # it N study days later. Threshold 1: every lapse makes a leech.
    def run(folder: Path, **changes) -> tuple[int, int, int, int]:
        folder.mkdir()
        setting = replace(tiny("skewed-own-relapse", days=8), leech_threshold=1, **changes)
        found = Student(make_world(setting, seed=1), Arm("plain-0.90", 0.90, qbank=False)).run(
            folder
        )
        engine = sa.create_engine(f"sqlite:///{folder / 'sim.sqlite3'}")
        try:
            with engine.connect() as conn:
                count = sa.select(sa.func.count()).select_from(cards)
                marked = conn.execute(count.where(cards.c.leech)).scalar_one()
                suspended = conn.execute(count.where(cards.c.suspended)).scalar_one()
        finally:
            engine.dispose()
        return found.leeches, found.leeches_returned, int(marked), int(suspended)

    never = run(tmp_path / "never", leech_action="suspend")
    assert never[0] > 0 and never[1] == 0 and never[3] == never[2] > 0
    back = run(tmp_path / "back", leech_action="suspend", leech_return_days=1)
    assert back[0] > 0 and 0 < back[1] <= back[0]
    assert back[3] < never[3]  # the student unsuspended some
    tagged = run(tmp_path / "tag", leech_action="tag")
    assert tagged[0] == 0 and tagged[2] > 0 and tagged[3] == 0  # marked, never suspended
    out = tmp_path / "runs.jsonl"
    args = ["--settings=base", "--scale=0.1", "--days=3", "--seeds=1", "--retentions=0.90",
            "--arms=", "--leech-threshold=1", "--leech-action=tag", "--leech-return=2",
            f"--out={out}"]  # fmt: skip
    assert cli.main(args) == 0
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["leeches"] == 0


def test_a_negative_leech_return_is_one_line_naming_the_option(capsys):
    assert cli.main(["--leech-return=-3", "--settings=base"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "error: --leech-return -3: not a number of days (0 or more)"
    ]


@pytest.mark.parametrize(
    ("arg", "said"),
    [
        ("--leech-threshold=-1", "--leech-threshold -1: not a number of lapses (0 or more)"),
        ("--days=0", "--days 0: not a number of days (1 or more)"),
        ("--days=-5", "--days -5: not a number of days (1 or more)"),
        ("--seeds=0", "--seeds 0: not a number of seeds (1 or more)"),
        ("--jobs=0", "--jobs 0: not a number of processes (1 or more)"),
    ],
)
def test_a_count_below_its_least_is_one_line_naming_the_option(capsys, arg, said):
    # --leech-threshold -1 and --days -5 ran before (found by rv8)
    assert cli.main([arg, "--settings=base"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {said}"]
