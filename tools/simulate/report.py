"""From runs to the table: the plain-FSRS frontier per seed, each arm's gap to it at equal answers.

The frontier of one setting and seed is flashcore at several uniform retentions with no qbank
log and no weighting (plain FSRS): points (answers, score). Its upper envelope, interpolated linearly at an arm's own answer
count, is what plain FSRS scores with that workload; the gap is the arm's score minus it. An arm
whose answers fall outside the frontier's range is extrapolated from the nearest two points and
flagged (`outside`). The weakest quarter (the topics of lowest hidden ability) gets the same
comparison with its own scores.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tools.simulate.student import Result


@dataclass(frozen=True, slots=True)
class Gap:
    setting: str
    seed: int
    arm: str
    answers: int
    score: float
    frontier: float  # plain FSRS at the same answers
    gap: float
    weak_gap: float
    outside: bool
    high_retention_share: float  # answers at a retention >= 0.93
    minutes: float
    weak_seen: float | None = None  # share of the weakest quarter's cards studied by exam day
    luck: int = 0  # the student's luck (tools.simulate.models.Setting.luck)


def envelope(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points sorted by workload, each score at least the best of less work (upper envelope)."""
    out: list[tuple[float, float]] = []
    best = float("-inf")
    for x, y in sorted(points):
        best = max(best, y)
        out.append((x, best))
    return out


def interpolate(points: Sequence[tuple[float, float]], x: float) -> tuple[float, bool]:
    """The envelope's value at `x` and whether `x` is outside its range (then extrapolated)."""
    if len(points) == 1:
        return points[0][1], x != points[0][0]
    if x <= points[0][0]:
        a, b, outside = points[0], points[1], x < points[0][0]
    elif x >= points[-1][0]:
        a, b, outside = points[-2], points[-1], x > points[-1][0]
    else:
        i = next(i for i in range(1, len(points)) if points[i][0] >= x)
        a, b, outside = points[i - 1], points[i], False
    if b[0] == a[0]:
        return max(a[1], b[1]), outside
    y = a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0])
    if outside and x > points[-1][0]:
        y = max(y, points[-1][1])  # more work never scores below what plain FSRS reached
    return y, outside


def frontier_setting(setting: str) -> str:
    """The setting whose plain runs are `setting`'s frontier: its world's when it shares one
    (mixed-questions lives in hard-questions' world: the same flashcards, so the same plain
    FSRS runs; models.frontier_name), else its own."""
    from tools.simulate.models import SETTINGS, frontier_name

    known = SETTINGS.get(setting)
    return frontier_name(known) if known is not None else setting


def gaps(results: Sequence[Result]) -> list[Gap]:
    out: list[Gap] = []
    keys = sorted({(r.setting, r.seed, r.luck) for r in results})
    for setting, seed, luck in keys:
        mine = [r for r in results if (r.setting, r.seed, r.luck) == (setting, seed, luck)]
        home = frontier_setting(setting)
        plain = [r for r in results if (r.setting, r.seed, r.luck) == (home, seed, luck)
                 and r.arm.startswith("plain")]  # fmt: skip
        if not plain:
            continue
        front = envelope((r.answers, r.score) for r in plain)
        weak_front = envelope((r.answers, r.weak_score) for r in plain)
        for r in mine:
            if r.arm.startswith("plain"):
                continue
            y, outside = interpolate(front, r.answers)
            wy, _ = interpolate(weak_front, r.answers)
            total = sum(r.retention_answers.values()) or 1
            high = sum(n for k, n in r.retention_answers.items() if float(k) >= 0.93) / total
            out.append(
                Gap(setting, seed, r.arm, r.answers, r.score, round(y, 3), round(r.score - y, 3),
                    round(r.weak_score - wy, 3), outside, round(high, 3), r.minutes,
                    weak_seen(r), luck)
            )  # fmt: skip
    return out


def weak_seen(r: Result) -> float | None:
    """The share of the weakest quarter's cards the run studied by exam day (None: not kept)."""
    if not r.topic_seen:
        return None
    from tools.simulate.models import SETTINGS, make_world

    world = make_world(SETTINGS[r.setting], r.seed)
    weak = world.weakest_quarter()
    total = sum(len(world.cards_of(t)) for t in weak)
    return round(sum(r.topic_seen[t] for t in weak) / total, 3) if total else None


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


# Student's t, two-sided 95 %, by degrees of freedom (1-30); beyond, the normal's 1.96 with
# Cornish-Fisher's first correction (within 0.002 of the exact value from 31 on).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


def t95(df: int) -> float:
    """The two-sided 95 % quantile of Student's t with `df` degrees of freedom (df >= 1)."""
    if df <= len(_T95):
        return _T95[max(1, df) - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df)


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean, standard deviation and the half-width of the mean's 95 % confidence interval
    (Student's t over the runs, each taken as an independent draw of world and luck; nan with
    fewer than two)."""
    m, sd = mean_sd(values)
    if len(values) < 2:
        return m, sd, float("nan")
    return m, sd, t95(len(values) - 1) * sd / math.sqrt(len(values))


def world_ci(runs: Sequence[tuple[int, float]]) -> tuple[float, float, float]:
    """`mean_ci` of (seed, value) runs, the interval's half-width from the worlds' means when a
    world ran at several lucks (its runs share the world, so they are not independent draws:
    over the runs the interval came out too narrow); mean and deviation over the runs."""
    by_world: dict[int, list[float]] = {}
    for seed, value in runs:
        by_world.setdefault(seed, []).append(value)
    m, sd, half = mean_ci([v for _, v in runs])
    if all(len(v) == 1 for v in by_world.values()):
        return m, sd, half
    _, _, half = mean_ci([statistics.fmean(v) for v in by_world.values()])
    return m, sd, half


@dataclass(frozen=True, slots=True)
class SpreadParts:
    """One arm's weakest-quarter gaps in one model split into the student's luck and the world
    (random effects, one-way, from the worlds run at two lucks or more): `luck_sd` the spread of
    one world's runs around its own mean, `world_sd` the spread of the worlds' true means (0
    when the worlds' means differ no more than their lucks explain), `below` the share of worlds
    whose true mean is below plain FSRS, were those means normal around the model's mean."""

    setting: str
    arm: str
    worlds: int
    mean: float
    luck_sd: float
    world_sd: float
    below: float


def spread_parts(rows: Sequence[Gap]) -> list[SpreadParts]:
    """The weakest quarter's spread, luck against world, per model and arm (see SpreadParts);
    only models with two worlds or more run at two lucks or more."""
    out = []
    for setting, arm in dict.fromkeys((g.setting, g.arm) for g in rows):
        worlds: dict[int, list[float]] = {}
        for g in rows:
            if (g.setting, g.arm) == (setting, arm):
                worlds.setdefault(g.seed, []).append(g.weak_gap)
        several = [v for v in worlds.values() if len(v) > 1]
        if len(several) < 2:
            continue
        within = sum((len(v) - 1) * statistics.variance(v) for v in several)
        luck_var = within / sum(len(v) - 1 for v in several)
        means = [statistics.fmean(v) for v in several]
        per_world = statistics.fmean(len(v) for v in several)
        world_var = max(0.0, statistics.variance(means) - luck_var / per_world)
        mean = statistics.fmean(means)
        world_sd = math.sqrt(world_var)
        if world_sd > 0.0:
            below = statistics.NormalDist(mean, world_sd).cdf(0.0)
        else:
            below = 1.0 if mean < 0 else 0.0
        out.append(SpreadParts(setting, arm, len(several), mean, math.sqrt(luck_var), world_sd,
                               below))  # fmt: skip
    return out


@dataclass(frozen=True, slots=True)
class WorldGaps:
    """One arm on one world (setting and seed) over the student's lucks: the gaps' mean and
    standard deviation, and how many runs are at or above plain FSRS."""

    setting: str
    seed: int
    arm: str
    runs: int
    gap: tuple[float, float]
    weak_gap: tuple[float, float]
    gap_at_or_above: int
    weak_at_or_above: int


def over_lucks(rows: Sequence[Gap]) -> list[WorldGaps]:
    """Each world's gaps over the lucks it was run at (`--lucks`): one run's weakest quarter
    carries about half a point of the student's luck, so a world is judged on the mean."""
    out = []
    for setting, seed, arm in dict.fromkeys((g.setting, g.seed, g.arm) for g in rows):
        mine = [g for g in rows if (g.setting, g.seed, g.arm) == (setting, seed, arm)]
        out.append(
            WorldGaps(setting, seed, arm, len(mine), mean_sd([g.gap for g in mine]),
                      mean_sd([g.weak_gap for g in mine]), sum(1 for g in mine if g.gap >= 0),
                      sum(1 for g in mine if g.weak_gap >= 0))
        )  # fmt: skip
    return out


def table(results: Sequence[Result], notes: dict[str, str] | None = None) -> str:
    """The summary per setting and arm (every run: seeds and lucks; the mean's interval over
    the worlds when they ran at several lucks), each world over its lucks when there are
    several, then every run."""
    rows = gaps(results)
    lines = [
        "| setting | arm | gap to plain-FSRS frontier at equal answers [mean's 95% CI] | "
        "runs above | weakest quarter gap [mean's 95% CI] | weakest quarter at or above | "
        "answers at retention >= 0.93 | answers (plain 0.90) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for setting in dict.fromkeys(g.setting for g in rows):
        for arm in dict.fromkeys(g.arm for g in rows if g.setting == setting):
            mine = [g for g in rows if g.setting == setting and g.arm == arm]
            g, gs, gh = world_ci([(x.seed, x.gap) for x in mine])
            w, ws, wh = world_ci([(x.seed, x.weak_gap) for x in mine])
            above = sum(1 for x in mine if x.gap > 0)
            weak_above = sum(1 for x in mine if x.weak_gap >= 0)
            high = statistics.fmean(x.high_retention_share for x in mine)
            answers = statistics.fmean(x.answers for x in mine)
            home = frontier_setting(setting)
            base = [r.answers for r in results if r.setting == home and r.arm == "plain-0.90"]
            base_text = f"{statistics.fmean(base):,.0f}" if base else "-"
            flag = " (extrapolated)" if any(x.outside for x in mine) else ""
            lines.append(
                f"| {setting} | {arm} | {g:+.2f} ± {gs:.2f}{_ci(g, gh)}{flag} | {above} of "
                f"{len(mine)} | {w:+.2f} ± {ws:.2f}{_ci(w, wh)} | {weak_above} of {len(mine)} | "
                f"{100 * high:.0f}% | "
                f"{answers:,.0f} ({base_text}) |"
            )
    worlds = over_lucks(rows)
    if any(x.runs > 1 for x in worlds):
        lines += ["", "Each world over its lucks (mean ± sd; runs at or above plain FSRS):", "",
                  "| setting | seed | arm | lucks | gap | at or above | weakest quarter gap "
                  "| at or above |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for x in worlds:
            lines.append(
                f"| {x.setting} | {x.seed} | {x.arm} | {x.runs} | {x.gap[0]:+.2f} ± "
                f"{x.gap[1]:.2f} | {x.gap_at_or_above} of {x.runs} | {x.weak_gap[0]:+.2f} ± "
                f"{x.weak_gap[1]:.2f} | {x.weak_at_or_above} of {x.runs} |"
            )
    parts = spread_parts(rows)
    if parts:
        lines += ["", "The weakest quarter's spread: the student's luck against the world (worlds "
                  "run at two lucks or more):", "",
                  "| setting | arm | worlds | mean | luck sd | world sd | worlds below plain FSRS "
                  "on average (estimated) |", "|---|---|---|---|---|---|---|"]  # fmt: skip
        for x in parts:
            lines.append(
                f"| {x.setting} | {x.arm} | {x.worlds} | {x.mean:+.2f} | {x.luck_sd:.2f} | "
                f"{x.world_sd:.2f} | {100 * x.below:.0f}% |"
            )
    lines += ["", "Per seed:", "",
              "| setting | seed | arm | answers | score | frontier | gap | weakest quarter gap "
              "| weakest quarter's cards studied (plain 0.90) |",
              "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    seen_plain = {
        (r.setting, r.seed, r.luck): weak_seen(r) for r in results if r.arm == "plain-0.90"
    }  # fmt: skip
    for x in rows:
        plain = seen_plain.get((frontier_setting(x.setting), x.seed, x.luck))
        seen = "-" if x.weak_seen is None else f"{100 * x.weak_seen:.0f}%"
        seen += "" if plain is None else f" ({100 * plain:.0f}%)"
        seed = f"{x.seed} (luck {x.luck})" if x.luck else str(x.seed)
        lines.append(
            f"| {x.setting} | {seed} | {x.arm} | {x.answers:,} | {x.score:.2f} | "
            f"{x.frontier:.2f}{'*' if x.outside else ''} | {x.gap:+.2f} | {x.weak_gap:+.2f} | "
            f"{seen} |"
        )
    lines += ["", "Frontier points (plain FSRS, no qbank log), per seed:", ""]
    for setting in dict.fromkeys(r.setting for r in results):
        for seed, luck in sorted({(r.seed, r.luck) for r in results if r.setting == setting
                                  and r.arm.startswith("plain")}):  # fmt: skip
            pts = sorted(
                (r for r in results if r.setting == setting and (r.seed, r.luck) == (seed, luck)
                 and r.arm.startswith("plain")),
                key=lambda r: r.answers,
            )  # fmt: skip
            lucky = f" luck {luck}" if luck else ""
            lines.append(
                f"- {setting} seed {seed}{lucky}: "
                + ", ".join(f"{r.arm[6:]} {r.answers:,} ans {r.score:.2f}" for r in pts)
            )
    if notes:
        lines += ["", "Settings:", ""] + [f"- {k}: {v}" for k, v in notes.items()]
    return "\n".join(lines)


def _ci(mean: float, half: float) -> str:
    return "" if math.isnan(half) else f" [{mean - half:+.2f}, {mean + half:+.2f}]"


def retention_shares(results: Sequence[Result]) -> str:
    """Share of answers per desired retention, per setting and arm (all seeds)."""
    lines = []
    for setting in dict.fromkeys(r.setting for r in results):
        for arm in dict.fromkeys(r.arm for r in results if r.setting == setting):
            if arm.startswith("plain"):
                continue
            total: dict[str, int] = {}
            for r in results:
                if r.setting == setting and r.arm == arm:
                    for k, n in r.retention_answers.items():
                        total[k] = total.get(k, 0) + n
            n = sum(total.values()) or 1
            parts = ", ".join(f"{k}: {100 * v / n:.0f}%" for k, v in sorted(total.items()))
            lines.append(f"- {setting} / {arm}: {parts}")
    return "\n".join(lines)
