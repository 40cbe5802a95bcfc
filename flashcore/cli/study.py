"""Study commands: `review`, `due`, `answer`, `undo`, `check`, `stats`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from flashcore.cli.context import (
    make_clock,
    open_collection,
    resolve_scope,
)
from flashcore.cli.output import emit_json, info, say, table
from flashcore.cli.parser import (
    MAX_ID,
    AddCommand,
    CliUsageError,
    extra_new_flag,
    json_flag,
    scope_flags,
    seconds,
    whole,
)

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore


def cmd_due(args: argparse.Namespace) -> int:
    from flashcore.core.text import clip
    from flashcore.services.decks import card_fronts
    from flashcore.services.study import build_queue, raise_new_limit

    with open_collection(args) as fc:
        resolve_scope(args, fc)
        if args.extra_new is not None:
            raise_new_limit(fc, deck=args.deck, topic=args.topic, extra=args.extra_new)
        if args.minutes is not None:
            return _due_within(args, fc)
        q = build_queue(fc, deck=args.deck, topic=args.topic, limit=args.limit)
        fronts = card_fronts(fc, [i.card_id for i in q.items])
    if args.json:
        emit_json([item.to_json() | {"front": fronts.get(item.card_id, "")} for item in q.items])
        return 0
    if not q.items:
        say("All done for today.")
    else:
        rows = [
            (i.card_id, i.state.label, i.note_key, i.reason, clip(fronts.get(i.card_id, ""), 40))
            for i in q.items
        ]
        say(table(rows, ["card_id", "state", "note_key", "reason", "front"]))
        say(f"\n{q.new} new, {q.learning} learning, {q.review} review")
    for line in held_lines(q, args.deck, args.topic):
        say(line)
    return 0


def _due_within(args: argparse.Namespace, fc: Flashcore) -> int:
    """`due --minutes M`: today's queue cut to M minutes, the postponed cards listed after
    the kept ones with their reason (`postponed: true` in JSON)."""
    from flashcore.services.budget import cut_queue
    from flashcore.services.decks import card_fronts
    from flashcore.services.study import build_queue

    q = build_queue(fc, deck=args.deck, topic=args.topic)
    done = cut_queue(fc, q, args.minutes)
    kept = list(done.kept[: args.limit] if args.limit else done.kept)
    fronts = card_fronts(fc, [i.card_id for i in [*kept, *done.postponed]])
    if args.json:
        emit_json(
            [i.to_json() | {"postponed": False, "seconds": round(done.seconds[i.card_id], 1),
                            "front": fronts.get(i.card_id, "")}
             for i in kept]
            + [i.to_json() | {"postponed": True, "seconds": round(done.seconds[i.card_id], 1),
                              "front": fronts.get(i.card_id, "")}
               for i in done.postponed]
        )  # fmt: skip
        return 0
    if not q.items:
        say("All done for today.")
        return 0
    rows = [(i.card_id, i.state.label, i.note_key, i.reason) for i in kept]
    say(table(rows, ["card_id", "state", "note_key", "reason"]))
    say(f"\n{len(done.kept)} cards in about {done.kept_seconds / 60:.0f} of {args.minutes} "
        "minutes (your answer times)")  # fmt: skip
    if done.postponed:
        say(f"postponed to tomorrow: {len(done.postponed)} cards (about "
            f"{done.postponed_seconds / 60:.0f} min), lowest exam points at risk first:")  # fmt: skip
        say(table([(i.card_id, i.state.label, i.note_key, i.reason) for i in done.postponed],
                  ["card_id", "state", "note_key", "reason"]))  # fmt: skip
    return 0


def held_lines(q: Any, deck: str | None, topic: str | None) -> list[str]:
    """What today's limits keep out of the queue, and the command that shows it."""
    import shlex

    scope = "".join(
        f" --{flag} {shlex.quote(value)}"
        for flag, value in (("deck", deck), ("topic", topic))
        if value is not None
    )
    lines = []
    if q.new_squeezed:
        lines.append(
            f"{q.new_squeezed} new card{'s' if q.new_squeezed != 1 else ''} of today's "
            f"{q.new_limit} {'waits' if q.new_squeezed == 1 else 'wait'}: new cards count against the review limit, which today's "
            "reviews and new cards fill: flashcore config set new_ignores_review_limit true (or a larger "
            "reviews_per_day)"
        )
    elif q.new_held:
        lines.append(
            f"{q.new_held} more new card{'s' if q.new_held != 1 else ''} wait beyond today's "
            f"limit of {q.new_limit} new: flashcore due{scope} --extra-new {q.extra_new_for_all}"
        )
    if q.review_held:
        lines.append(
            f"{q.review_held} more due review{'s' if q.review_held != 1 else ''} wait beyond "
            "today's review limit: flashcore config set reviews_per_day N"
        )
    return lines


def cmd_answer(args: argparse.Namespace) -> int:
    from flashcore.core.model import Rating
    from flashcore.services.study import answer

    try:
        rating = Rating.parse(args.rating)
    except ValueError as exc:
        raise CliUsageError(str(exc)) from None
    duration = None if args.duration is None else round(args.duration * 1000)
    with open_collection(args) as fc:
        result = answer(
            fc, args.card_id, rating, duration_ms=duration, expect_reps=args.expect_reps
        )
        zone_of = fc.settings
    if args.json:
        emit_json(result.to_json())
    else:
        say(f"card {result.card_id}: {rating.label} -> {result.schedule.state.label}, "
              f"due {zone_of.local_minute(result.schedule.due)}")  # fmt: skip
        if result.leeched is not None:
            say(result.leeched.text(f"card {result.card_id}"))
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    from flashcore.core.errors import EarlierDayUndoError, FlashcoreError
    from flashcore.services.study import undo

    with open_collection(args) as fc:
        try:
            done = undo(fc, args.steps, earlier_days=args.yes)
        except EarlierDayUndoError as exc:
            if not sys.stdin.isatty():
                raise FlashcoreError(f"{exc} (add --yes)") from exc
            many = "1 answer" if exc.answers == 1 else f"{exc.answers} answers"
            asked = f"{exc}. Undo {many} of an earlier day too? [y/N] "
            if input(asked).strip().lower() not in {"y", "yes"}:
                info("nothing was changed")
                return 1
            done = undo(fc, args.steps, earlier_days=True)
        settings = fc.settings
    if args.json:
        emit_json([{"card_id": u.card_id, "rating": u.rating.name.lower(),
                    "reviewed_at": u.reviewed_at.isoformat()} for u in done])  # fmt: skip
    else:
        for u in done:
            say(f"undone: card {u.card_id} ({u.rating.label} at "
                f"{settings.local_minute(u.reviewed_at)})")  # fmt: skip
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from flashcore.services.check import check

    with open_collection(args) as fc:
        report = check(fc, repair=args.repair)
    if args.json:
        emit_json(report.to_json())
    else:
        say(f"checked {report.cards} cards, {report.reviews} reviews")
        for problem in report.problems[:50]:
            say(f"card {problem['card_id']}: {problem['message']}")
        if report.repaired:
            say(f"repaired {report.repaired} cards")
        for problem in report.tally_problems[:50]:
            say(f"qbank tally {problem}")
        if report.tallies_repaired:
            say("repaired the qbank tallies (counted afresh from the attempts)")
        for problem in report.topic_card_problems[:50]:
            say(f"topic cards {problem}")
        if report.topic_cards_repaired:
            say("repaired the topics' card counts (counted afresh from the cards)")
        for problem in report.weak_candidate_problems[:50]:
            say(f"weakness candidates {problem}")
        if report.weak_candidates_repaired:
            say("repaired the weakness candidates (worked out afresh from the cards)")
    broken = (report.problems or report.tally_problems or report.topic_card_problems
              or report.weak_candidate_problems)  # fmt: skip
    return 1 if broken and not args.repair else 0


def cmd_stats(args: argparse.Namespace) -> int:
    from flashcore.services.stats import stats

    with open_collection(args) as fc:
        data = stats(fc)
    if args.json:
        emit_json(data)
        return 0
    t = data["today"]
    answers = "answer" if t["reviews"] == 1 else "answers"
    say(f"today: {t['reviews']} {answers} ({t['again']} again), {t['new']} new, "
          f"{t['minutes']:.0f} min")  # fmt: skip
    for label, key in (("due now", "today"), ("due tomorrow", "tomorrow")):
        q = data["queue"][key]
        say(f"{label}: {q['new']} new, {q['learning']} learning, {q['review']} review")
    m = data["last_30_days"]
    retention = "-" if m["true_retention"] is None else f"{m['true_retention']:.1%}"
    answers = "answer" if m["reviews"] == 1 else "answers"
    say(f"last 30 days: {m['reviews']} {answers}, true retention {retention}")
    say("cards: " + ", ".join(f"{k} {v}" for k, v in data["cards"].items()))
    forecast = data["forecast"][:7]
    say("due next 7 days: " + ", ".join(f"{d['date'][5:]}: {d['due']}" for d in forecast))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    make_clock()  # a bad FLASHCORE_NOW is refused before the app takes the terminal
    from flashcore.tui.run import run_review_lazy

    def opener() -> Flashcore:
        fc = open_collection(args)  # opened after the first paint; a large file is checked
        # in the background
        try:
            fc.ensure_starter_decks()
            resolve_scope(args, fc)  # the app takes the full names (a unique end is enough)
            if args.extra_new is not None:
                from flashcore.services.study import raise_new_limit

                raise_new_limit(fc, deck=args.deck, topic=args.topic, extra=args.extra_new)
        except BaseException:
            fc.close()
            raise
        return fc

    # The app paints first and opens the collection in a worker thread.
    return run_review_lazy(opener, deck=args.deck, topic=args.topic, minutes=args.minutes)


def add_review(add: AddCommand) -> None:
    """`review`."""
    p = add("review", "open the review app (loads the starter decks into an empty collection)",
            "flashcore review --deck 'Step 1::Immunology'", cmd_review)  # fmt: skip
    scope_flags(p)
    p.add_argument("--minutes", type=whole(1, 1440), metavar="M",
                   help="a session of M minutes: its queue is cut to fit (default: what is left "
                   "of the exam's daily budget, when an exam is set)")  # fmt: skip
    extra_new_flag(p)


def add_commands(add: AddCommand) -> None:
    """`due`, `answer`, `undo`, `check`, `stats`."""
    p = add("due", "today's queue, in order, with the reason for each card",
            "flashcore due --limit 20 --json\n"
            "flashcore due --topic 'Type I' --extra-new 10   # raises today's new-card limit "
            "for that topic by 10", cmd_due)  # fmt: skip
    scope_flags(p)
    p.add_argument("--limit", type=whole(1, 1_000_000), metavar="N",
                   help="list at most N cards (N >= 1); the counts are the whole queue's")  # fmt: skip
    p.add_argument("--minutes", type=whole(1, 1440), metavar="M",
                   help="cut today's queue to M minutes (your answer times); the overflow is "
                   "postponed, lowest exam points at risk first, each with its reason")  # fmt: skip
    extra_new_flag(p)
    json_flag(p)

    p = add("answer", "grade a card: again|hard|good|easy (or 1-4)",
            "flashcore answer 101 good --duration 6.5   # records an answer for card 101 (an "
            "example id: take one from `flashcore due`)", cmd_answer)  # fmt: skip
    p.add_argument("card_id", type=whole(1, MAX_ID, "a card id"), metavar="CARD_ID",
                   help="the card's id (from `flashcore due` or `flashcore cards`)")  # fmt: skip
    p.add_argument("rating", metavar="again|hard|good|easy",
                   help="the grade: again, hard, good or easy (or 1 to 4)")  # fmt: skip
    p.add_argument("--duration", type=seconds, metavar="SECONDS",
                   help="time taken to answer (0 to 86400)")  # fmt: skip
    p.add_argument("--expect-reps", type=whole(0, 2**31 - 1), metavar="N",
                   help="refuse unless the card has exactly N reviews")  # fmt: skip
    json_flag(p)

    p = add("undo", "undo the last answer(s): card state and review-log row",
            "flashcore undo   # takes back your latest answer (today's only, unless --yes)",
            cmd_undo)  # fmt: skip
    p.add_argument("--steps", type=whole(1, 1_000_000), default=1, help="answers to undo (N >= 1)")
    p.add_argument("--yes", action="store_true",
                   help="undo answers of an earlier study day too, without asking (by default "
                   "only today's answers are undone; at a terminal you are asked)")  # fmt: skip
    json_flag(p)

    p = add("check", "replay every card's review log through FSRS and report cards whose "
            "stored state differs (exit 1 when it finds one)",
            "flashcore check\nflashcore check --repair   # rewrites the cards that differ",
            cmd_check)  # fmt: skip
    p.add_argument("--repair", action="store_true", help="rewrite differing cards from their log")
    json_flag(p)

    p = add("stats", "today, last 30 days, true retention, forecast", "flashcore stats --json",
            cmd_stats)  # fmt: skip
    json_flag(p)
