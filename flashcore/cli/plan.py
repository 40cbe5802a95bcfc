"""The exam commands of the command line: `exam`, `plan`, `assess`, `optimize`."""

from __future__ import annotations

import argparse
import math
import sys
from datetime import date
from pathlib import Path
from typing import Any

from flashcore.cli.context import open_collection
from flashcore.cli.output import emit_json, say, table
from flashcore.cli.parser import (
    AddCommand,
    CliUsageError,
    Handler,
    add_verb,
    add_verbs,
    json_flag,
    needs_verb,
    whole,
)
from flashcore.core.text import shown

EXAMPLE_REPORT = "decks/samples/nbme-report.txt"


def iso_day(text: str) -> date:
    """An argparse type: a day as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a date (YYYY-MM-DD)") from None


def percent(text: str) -> float:
    """An argparse type: a score from 0 to 100."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 100:  # NaN fails too
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a score from 0 to 100")
    return value


# ---------------------------------------------------------------- exam


def cmd_exam(args: argparse.Namespace) -> int:
    from flashcore.services import exam

    with open_collection(args) as fc:
        if args.verb == "set":
            if args.date is None:
                raise CliUsageError("exam set needs a DATE: flashcore exam set 2027-02-15")
            exam.set_exam(fc, args.date, minutes_per_day=args.minutes_per_day,
                          buffer_days=args.buffer_days)  # fmt: skip
        elif args.verb == "clear":
            exam.clear_exam(fc)
            if args.json:
                emit_json({"cleared": True})
            else:
                say("exam cleared")
            return 0
        elif args.date is not None:
            raise CliUsageError(f"exam {args.verb} takes no DATE")
        data = exam.show(fc)
    if args.json:
        emit_json(data)
        return 0
    if data["passed"]:
        say(f"exam {data['exam_date']}: behind ({_days(-data['days_left'])} ago); it changes "
            "nothing now: set the next one with `flashcore exam set YYYY-MM-DD "
            "--minutes-per-day M` or `flashcore exam clear`")  # fmt: skip
        return 0
    say(f"exam {data['exam_date']}: {_days(data['days_left'])} left, "
        f"{data['minutes_per_day']} minutes a day, {data['buffer_days']} buffer days")  # fmt: skip
    say(f"{data['new_cards_left']} new cards left: {_needed(data)} "
        f"(plan_mode {data['plan_mode']})")  # fmt: skip
    say("see the whole plan with: flashcore plan")
    return 0


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _needed(data: dict[str, Any]) -> str:
    """The new cards a day the plan needs, in words (the buffer may have begun)."""
    needed, left = data["new_per_day_needed"], data["new_cards_left"]
    if left and data["days_left"] <= data["buffer_days"]:
        if data["buffer_days"] == 0:
            return f"the exam is today: {needed} never seen"
        return f"the {data['buffer_days']}-day buffer has begun: all {needed} as soon as you can"
    return f"{needed} a day sees them all before the buffer"


# ---------------------------------------------------------------- plan


class _Progress:
    """`done of total` on stderr at a terminal (nothing when stderr is not one)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.on = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.on:
            return
        share = done / total if total else 1.0
        bar = "#" * int(share * 30) + "-" * (30 - int(share * 30))
        sys.stderr.write(f"\r{self.what:<10} [{bar}] {done} of {total}\x1b[K")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.on:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def cmd_plan(args: argparse.Namespace) -> int:
    from flashcore.services.plan import plan

    with open_collection(args) as fc:
        if args.solve:
            from flashcore.services.optimize import solve_retention

            progress = _Progress("solving")
            try:
                steps = solve_retention(fc, progress=progress)
            finally:
                progress.clear()
            if not args.json:
                chosen = ", ".join(f"≤{d} days: {r:.2f}" for d, r in steps) or "none above base"
                say(f"retention toward the exam: {chosen}")
        data = plan(fc)
    if args.json:
        emit_json(data)
        return 0
    print_plan(data)
    return 0


def print_plan(data: dict[str, Any]) -> None:
    if data["passed"]:
        say(f"Exam {data['exam_date']}: behind ({_days(-data['days_left'])} ago)")
        for w in data["warnings"]:
            say(f"! {w['message']}")
        return
    say(f"Exam {data['exam_date']}: {_days(data['days_left'])} left · "
        f"{data['minutes_per_day']} min a day · {data['buffer_days']}-day buffer")  # fmt: skip
    say(f"New cards: {data['new_cards_left']:,} left of {data['cards_in_scope']:,} in scope; "
        f"{_needed(data)} (plan_mode {data['plan_mode']}, new_per_day "
        f"{data['new_per_day']})")  # fmt: skip
    days = data["days"]
    if days:
        rows = []
        waiting = any(d.get("held_reviews") for d in days)  # the review limit's backlog
        for start in range(0, len(days), 7):
            week = days[start : start + 7]
            mean = sum(d["minutes"] for d in week) / len(week)
            peak = max(d["minutes"] for d in week)
            over = sum(1 for d in week if d["over_budget"])
            row = [week[0]["date"], sum(d["reviews"] for d in week),
                   sum(d["new"] for d in week), f"{mean:.0f}", f"{peak:.0f}",
                   f"{over} of {len(week)}" if over else ""]  # fmt: skip
            if waiting:
                row.append(f"{week[-1]['held_reviews']:,}")
            rows.append(tuple(row))
        heads = ["week of", "reviews", "new", "min/day", "peak", "over budget"]
        say("")
        pace = min(data["new_per_day_needed"], 9999)
        say(f"Forecast, week by week, at {pace:,} new cards a day (the real scheduler, your "
            "answer times):")  # fmt: skip
        say(table(rows, heads + (["waiting at end"] if waiting else [])))
    ready = data["readiness"]
    say("")
    say(f"Readiness by system on exam day, at that pace: about "
        f"{ready['expected_points_at_risk']:.0f} exam points at risk (percent of the exam)")  # fmt: skip
    rows = []
    for r in ready["systems"]:
        recall = "-" if r["recall"] is None else f"{r['recall']:.0%}"
        qbank = "-" if r["qbank_correct"] is None else f"{r['qbank_correct']:.0%}"
        if r["qbank_trend"] is not None:
            qbank += f" {r['qbank_trend'] * 100:+.0f}/wk"
        rows.append((r["short"], f"{r['points_at_risk']:.1f}", r["cards"],
                     f"{r['unseen']:.0%}", recall, qbank, r["report"] or ""))  # fmt: skip
    say(table(rows, ["system", "at risk", "cards", "unseen", "recall", "qbank", "report"]))
    if ready.get("qbank_misses_only"):
        say(f"qbank: {ready['qbank_misses_only']:,} misses were logged without the questions "
            "answered right beside them (pastes of incorrects): they give no correct rate here, "
            "only weight in `flashcore weakness`; log whole blocks with a result column to "
            "count them")  # fmt: skip
    projected = data["assessments"]["projected"]
    if projected is not None:
        latest = data["assessments"]["latest"]
        say("")
        say(f"Self-assessments: {data['assessments']['count']}, latest {latest['name']} "
            f"{latest['score']:g} (pass line {latest['pass_line']:g}); projected "
            f"{projected['score']:.0f} on exam day ({projected['per_week']:+.1f} a week)")  # fmt: skip
    if data["warnings"]:
        say("")
        for w in data["warnings"]:
            say(f"! {w['message']}")


# ---------------------------------------------------------------- assess


def cmd_assess(args: argparse.Namespace) -> int:
    from flashcore.services import assess

    with open_collection(args) as fc:
        if args.verb == "add":
            if args.name is None or args.score is None:
                raise CliUsageError('assess add needs NAME and SCORE: flashcore assess add '
                                    '"NBME 31" 64')  # fmt: skip
            try:
                score = percent(args.score)
            except argparse.ArgumentTypeError as exc:
                raise CliUsageError(f"SCORE: {exc}") from None
            report = Path(args.report) if args.report else None
            added = assess.add(fc, args.name, score, taken_on=args.on_date,
                               pass_line=args.pass_line, report=report)  # fmt: skip
            if args.json:
                emit_json(added.to_json())
            else:
                verdict = "at or above" if added.margin >= 0 else "below"
                say(f"assessment {added.assessment_id}: {added.name} {added.score:g} on "
                    f"{added.taken_on.isoformat()}, {abs(added.margin):g} point{'' if abs(added.margin) == 1 else 's'} {verdict} the "
                    f"pass line {added.pass_line:g}")  # fmt: skip
                weak = [a for a in added.to_json()["areas"] if a["band"] == "lower"]
                if added.areas:
                    say(f"report: {len(added.areas)} areas; weak: "
                        + (", ".join(a["area"] for a in weak) or "none"))  # fmt: skip
            return 0
        if args.verb == "remove":
            if args.name is None:
                raise CliUsageError("assess remove needs an ID (see flashcore assess list)")
            assess.remove(fc, whole(1, 2**63 - 1, "an assessment id")(args.name))
            say(f"removed assessment {args.name}")
            return 0
        found = assess.list_all(fc)
        projection = assess.projection(fc, found)
    if args.json:
        emit_json(assess.to_json(found))
        return 0
    if not found:
        say('no self-assessments yet: flashcore assess add "NBME 31" 64 --report FILE')
        return 0
    rows = [(a.assessment_id, a.taken_on.isoformat(), a.name, f"{a.score:g}",
             f"{a.pass_line:g}", f"{a.margin:+g}", len(a.areas)) for a in reversed(found)]  # fmt: skip
    say(table(rows, ["id", "date", "assessment", "score", "pass", "margin", "areas"]))
    if projection is not None:
        state = "passes" if projection.score >= projection.pass_line else "is under"
        say(f"\nprojected on {projection.on.isoformat()}: {projection.score:.0f} "
            f"({projection.per_week:+.1f} a week over {projection.based_on}); that {state} the "
            f"pass line {projection.pass_line:g}")  # fmt: skip
    return 0


# ---------------------------------------------------------------- optimize


def cmd_optimize(args: argparse.Namespace) -> int:
    from flashcore.services.optimize import optimize

    with open_collection(args) as fc:
        progress = _Progress("fitting")
        try:
            result = optimize(fc, apply=not args.dry_run, progress=progress)
        finally:
            progress.clear()
    if args.json:
        emit_json(result.to_json())
        return 0
    say(f"fitted FSRS to {result.reviews:,} reviews of {result.cards:,} cards "
        f"({result.seconds:.1f} s)")  # fmt: skip
    say(f"log loss   {result.before.log_loss:.4f} -> {result.after.log_loss:.4f}")
    say(f"RMSE(bins) {result.before.rmse_bins:.4f} -> {result.after.rmse_bins:.4f}")
    say(result.verdict())
    return 0


# ---------------------------------------------------------------- parser


def add_commands(add: AddCommand, common: argparse.ArgumentParser) -> None:
    """`exam`, `plan`, `assess`, `optimize`."""
    _add_exam(add, common)
    p = add("plan", "the plan to exam day: daily load against the budget, new cards a day, "
            "readiness by system, warnings with what to do", "flashcore plan --json", cmd_plan)  # fmt: skip
    p.add_argument("--solve", action="store_true",
                   help="first choose retention targets toward the exam (fsrs-rs's optimal "
                   "retention; about a minute, with progress)")  # fmt: skip
    json_flag(p)
    _add_assess(add, common)
    p = add("optimize", "fit FSRS parameters to your own reviews (fsrs-rs); report log loss and "
            "RMSE before and after, and use them when they fit better",
            "flashcore optimize --dry-run\nflashcore optimize   # stores the fitted parameters "
            "when they fit better", cmd_optimize)  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help="report only; change nothing")
    json_flag(p)


def _add_exam(add: AddCommand, common: argparse.ArgumentParser) -> None:
    p = add("exam", "the exam date and daily budget: set DATE | show | clear",
            "flashcore exam show", needs_verb)  # fmt: skip
    verb = add_verbs(p, common)
    v = verb("set", "set the exam day, the daily review budget and the buffer before it",
             "flashcore exam set 2027-02-15 --minutes-per-day 120   # sets your exam date",
             cmd_exam)  # fmt: skip
    v.add_argument("date", nargs="?", type=iso_day, metavar="DATE",
                   help="the exam day, YYYY-MM-DD (after today)")  # fmt: skip
    v.add_argument("--minutes-per-day", type=whole(1, 1440), metavar="M",
                   help="daily review budget in minutes (1 to 1440; default 120)")  # fmt: skip
    v.add_argument("--buffer-days", type=whole(0, 60), metavar="N",
                   help="see every card this many days before the exam (0 to 60; default 7)")  # fmt: skip
    json_flag(v)
    v = verb("show", "the exam day, days left and new cards a day needed",
             "flashcore exam show --json", cmd_exam)  # fmt: skip
    v.set_defaults(date=None)
    json_flag(v)
    v = verb("clear", "forget the exam date (the plan and exam-aware scheduling stop)",
             "flashcore exam clear   # removes the exam date", cmd_exam)  # fmt: skip
    v.set_defaults(date=None)
    json_flag(v)


def _add_assess(add: AddCommand, common: argparse.ArgumentParser) -> None:
    assess = add("assess", "self-assessments: add NAME SCORE | list | remove ID",
                 f'flashcore assess add "NBME 31" 64 --date 2026-11-20 --report '
                 f"{EXAMPLE_REPORT}", _needs_assess_verb)  # fmt: skip
    asub = assess.add_subparsers(dest="verb", metavar="VERB")

    def verb(name: str, help_text: str, example: str, handler: Handler) -> argparse.ArgumentParser:
        return add_verb(asub, common, name, help_text, example, handler)

    p = verb("add", "record a self-assessment score (0-100), with its score report",
             f'flashcore assess add "NBME 31" 64 --pass-line 60 --report {EXAMPLE_REPORT}'
             "   # records the score", cmd_assess)  # fmt: skip
    p.add_argument("name", metavar="NAME", help="the assessment's name (NBME 31, UWSA 2, ...)")
    p.add_argument("score", metavar="SCORE", help="percent correct, 0 to 100")
    p.add_argument("--date", dest="on_date", type=iso_day, metavar="YYYY-MM-DD",
                   help="the day it was taken (default: today)")  # fmt: skip
    p.add_argument("--pass-line", type=percent, default=60.0, metavar="P",
                   help="the passing score on the same scale (default 60)")  # fmt: skip
    p.add_argument("--report", metavar="FILE",
                   help="its per-system/per-discipline report (text or CSV; see README)")  # fmt: skip
    json_flag(p)
    p = verb("list", "self-assessments, newest first, and their trend to the exam",
             "flashcore assess list --json", cmd_assess)  # fmt: skip
    p.set_defaults(name=None)
    json_flag(p)
    p = verb("remove", "remove a mistaken self-assessment",
             "flashcore assess list   # find its id first\n"
             "flashcore assess remove 2   # deletes assessment 2 (an example id)",
             cmd_assess)  # fmt: skip
    p.add_argument("name", metavar="ID", help="the assessment's id, from `flashcore assess list`")
    json_flag(p)


def _needs_assess_verb(args: argparse.Namespace) -> int:
    raise CliUsageError("assess needs a verb; see flashcore assess --help")
