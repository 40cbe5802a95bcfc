"""The command line. Heavy imports happen inside the commands that need them, so `--help` is
instant. Errors are one line on stderr: exit 1 for errors, 2 for usage; `--debug` shows the
traceback."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

from flashcore import __version__
from flashcore.core.text import inert, shown

if TYPE_CHECKING:
    import threading
    from collections.abc import Iterator

    from flashcore.core.clock import Clock
    from flashcore.services.collection import Flashcore

PROG = "flashcore"


class CliUsageError(Exception):
    """A usage error found after parsing (exit code 2)."""


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one inert line (exit 2) like every other error, and
    help that may be completed when it is shown (`more_help`)."""

    more_help: Callable[[], str] | None = None

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: usage error: {message} (see `{self.prog} --help`)\n")

    def _print_message(self, message: str, file: IO[str] | None = None) -> None:
        super()._print_message(inert(message) if message else message, file)

    def format_help(self) -> str:
        if self.more_help is not None:  # built when asked for: other --help stays quick
            self.description = f"{self.description}\n\n{self.more_help()}"
            self.more_help = None
        return super().format_help()


def _settings_help() -> str:
    from flashcore.core.settings import RULES

    lines = [f"  {key}: {rule.accepts}" for key, rule in RULES.items()]
    return "settings and the values each accepts:\n" + "\n".join(lines)


MAX_ID = 2**63 - 1  # the largest id SQLite (and a PostgreSQL bigint) can hold


def whole(lo: int, hi: int, what: str = "a whole number") -> Callable[[str], int]:
    """An argparse type: a whole number from `lo` to `hi`, else a one-line usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text) if len(text.strip()) <= 20 else None
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            span = f"{lo} or more" if hi == MAX_ID else f"from {lo} to {hi:,}"
            raise argparse.ArgumentTypeError(f"{shown(text)} is not {what} ({span})")
        return value

    return parse


def seconds(text: str) -> float:
    """An argparse type: an answer's duration, 0 to 86,400 seconds (a day)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 86_400:  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"{shown(text)} is not a number of seconds from 0 to 86400"
        )
    return value


# ---------------------------------------------------------------- environment


def make_clock() -> Clock:
    """The wall clock, or the instant in FLASHCORE_NOW (ISO 8601 with offset) for the process."""
    from flashcore.core.clock import FixedClock, SystemClock, parse_instant

    frozen = os.environ.get("FLASHCORE_NOW")
    if frozen:
        try:
            return FixedClock(parse_instant(frozen))
        except ValueError as exc:
            raise CliUsageError(f"FLASHCORE_NOW: {exc}") from None
    return SystemClock()


def system_timezone() -> str:
    """The machine's IANA timezone name (TZ, /etc/timezone or /etc/localtime), else UTC."""
    from zoneinfo import ZoneInfo

    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if not name:
            continue
        try:
            ZoneInfo(name)
            return name
        except (ValueError, KeyError, OSError):
            continue
    return "UTC"


def open_collection(
    args: argparse.Namespace,
    *,
    create: bool = False,
    profile: str | None = None,
    daily_check: bool = True,
) -> Flashcore:
    from flashcore.services.collection import Flashcore, resolve_url
    from flashcore.services.health import startup_check
    from flashcore.storage.db import sqlite_path

    given = args.db or os.environ.get("FLASHCORE_DB") or None
    clock = make_clock()
    path = sqlite_path(resolve_url(given)[0])
    if path is not None:  # after a crash, or once a day: PRAGMA quick_check, read-only
        startup_check(path, clock.now(), daily=daily_check)
    fc = Flashcore.open(
        given,
        clock=clock,
        profile=profile or selected_profile(args),
        create=create,
        timezone=system_timezone(),
    )
    for warning in fc.warnings:
        info(f"{PROG}: warning: {warning}")
    # A one-shot command: what is loaded by now (SQLAlchemy, fsrs, the engine) lives until the
    # process ends, so keep the cyclic collector from walking it again and again.
    gc.freeze()
    _OPENED.append(fc)
    return fc


_OPENED: list[Flashcore] = []  # collections this process opened, for `_after_commands`


def _after_commands() -> None:
    """When a command is done (its output written): start the automatic backup in the
    background if one is due (something changed since the newest backup, which is over 30
    minutes old), so that every day with a change gets one whichever commands the student
    runs. The check costs a few ms; the backup runs on after this process ends."""
    from sqlalchemy.exc import SQLAlchemyError  # loaded with the collection

    from flashcore.core.errors import FlashcoreError
    from flashcore.services.backup import schedule_backup

    while _OPENED:
        fc = _OPENED.pop()
        try:
            schedule_backup(fc, "automatic")
        except (FlashcoreError, OSError, SQLAlchemyError):
            pass  # the command is done; the next one tries again
        finally:
            fc.engine.dispose()


def selected_profile(args: argparse.Namespace) -> str:
    return (args.profile or os.environ.get("FLASHCORE_PROFILE") or "default").strip()


def emit_json(data: Any) -> None:
    """One JSON document: indented for a person at a terminal, compact for a program (json's C
    encoder only runs without indent: 2,500 queued cards encode in ~8 ms instead of ~45)."""
    indent = 2 if sys.stdout.isatty() else None
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=_json_default)
    if _JSON_UNSAFE.search(text):
        text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    sys.stdout.write(text + "\n")


# json.dumps escapes C0 controls; C1 controls (U+009B is CSI to some terminals), the line
# separators and the bidi overrides it writes raw, so they are escaped here (still valid JSON).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "to_json"):
        return value.to_json()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """Rows in aligned columns; each cell made inert and kept on one line."""
    cells = [[str(h) for h in headers]] + [[inert(str(c), newlines=False) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def say(text: str) -> None:
    """Plain text on stdout. Every plain-text line flashcore prints goes through `inert`, so a
    name holding terminal escapes shows them as `\\x1b...` instead of obeying them."""
    sys.stdout.write(inert(text) + "\n")


def info(message: str) -> None:
    """A message on stderr (errors, warnings, problems), made inert as `say` does."""
    sys.stderr.write(inert(message) + "\n")


# ---------------------------------------------------------------- commands


def cmd_init(args: argparse.Namespace) -> int:
    fc = open_collection(args, create=True)
    with fc:
        from flashcore.storage.migrate import HEAD

        if args.json:
            emit_json({"database": fc.location, "schema": HEAD, "profile": fc.profile,
                       "backup": fc.backup})  # fmt: skip
        else:
            say(f"database: {fc.location}")
            say(f"schema: {HEAD} (up to date)")
            say(f"profile: {fc.profile}")
            if fc.backup:
                say(f"backup before upgrade: {fc.backup}")
    return 0


def cmd_decks_add(args: argparse.Namespace) -> int:
    if args.prune and not args.yes:
        if not sys.stdin.isatty():
            raise CliUsageError("--prune deletes cards and their history: add --yes to confirm")
        answer = input(
            "--prune deletes notes missing from the files, with their history. Go on? [y/N] "
        )
        if answer.strip().lower() not in {"y", "yes"}:
            info("nothing was changed")
            return 1
    with open_collection(args) as fc:
        reports = fc.add_decks(args.paths, prune=args.prune)
    failed = [r for r in reports if not r.ok]
    if args.json:
        emit_json([r.to_json() for r in reports])
    else:
        for r in reports:
            if r.ok:
                line = f"{r.path}: {r.added} added, {r.updated} updated"
                if r.removed:
                    line += f", {r.removed} missing from the file (suspended, kept)"
                if r.deleted:
                    line += f", {r.deleted} deleted"
                if r.unchanged and (r.skipped or r.unsupported or r.media_added):
                    line += f", {r.unchanged} unchanged"
                skipped = sum(r.skipped.values()) + sum(r.unsupported.values())
                if r.path.lower().endswith((".apkg", ".colpkg")):
                    line += f", {skipped} skipped; {r.media_added} media files written"
                say(line)
                for kind, count in sorted(r.unsupported.items()):
                    say(f"  skipped {count} {kind} note{'s' if count != 1 else ''}: "
                        "flashcore cannot show this kind")  # fmt: skip
                for reason, count in sorted(r.skipped.items()):
                    say(f"  skipped {count} note{'s' if count != 1 else ''}: {reason}")
                for warning in r.warnings[:10]:
                    say(f"  {warning}")
                for key in r.removed_keys[:20]:
                    say(f"  suspended (no longer in the file): {key}")
            elif len(reports) == 1 and len(r.problems) == 1:  # one line says it all
                info(f"{r.problems[0]}; nothing was loaded")
                return 1
            else:
                for problem in r.problems:
                    info(problem)
        loaded = len(reports) - len(failed)
        if len(reports) > 1 or failed:
            summary = f"{loaded} of {len(reports)} files loaded"
            if failed:
                summary += "; not loaded (nothing changed): " + ", ".join(r.path for r in failed)
            (info if failed else print)(summary)
    return 1 if failed else 0


def cmd_decks_list(args: argparse.Namespace) -> int:
    with open_collection(args) as fc:
        decks = fc.list_decks()
    if args.json:
        emit_json([d.to_json() for d in decks])
        return 0
    if not decks:
        say("no decks yet: flashcore decks add decks/*.toml")
        return 0
    rows = [(d.name, d.new, d.learning, d.due, d.cards, d.suspended) for d in decks]
    say(table(rows, ["deck", "new", "learning", "due", "cards", "suspended"]))
    return 0


def cmd_cards(args: argparse.Namespace) -> int:
    if args.action:
        if not args.card_ids:
            raise CliUsageError(f"cards {args.action}: name at least one CARD_ID")
        from flashcore.services.study import set_cards

        with open_collection(args) as fc:
            n = set_cards(fc, args.action, args.card_ids)
        if args.json:
            emit_json({"action": args.action, "cards": args.card_ids})
        else:
            say(f"{args.action}: {n} card{'s' if n != 1 else ''}")
        return 0
    if args.card_ids:
        raise CliUsageError("card ids go after an action: flashcore cards suspend 12 13")
    with open_collection(args) as fc:
        cards = fc.cards(deck=args.deck, topic=args.topic)
    if args.json:
        emit_json(cards)
        return 0
    rows = [
        (c["card_id"], c["note_key"], c["state"], (c["due"] or "")[:16],
         f"{c['stability']:.1f}" if c["stability"] is not None else "-", c["reps"], c["lapses"],
         "S" if c["suspended"] else ("B" if c["buried"] else ""))
        for c in cards
    ]  # fmt: skip
    headers = ["card_id", "note_key", "state", "due (UTC)", "stab", "reps", "lapses", ""]
    if any(c["weakness"] for c in cards):  # why a card is weighted, when any is
        rows = [(*row, c["weakness"]) for row, c in zip(rows, cards, strict=True)]
        headers.append("weakness")
    say(table(rows, headers))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    with open_collection(args) as fc:
        if args.verb == "get":
            if args.key is None:
                items = fc.config_items()
                if args.json:
                    emit_json(items)
                else:
                    for k, v in sorted(items.items()):
                        say(f"{k} = {v}")
                return 0
            value = fc.config_get(args.key)
        else:
            if args.key is None or args.value is None:
                raise CliUsageError(
                    "config set needs KEY and VALUE: flashcore config set new_per_day 30"
                )
            value = fc.config_set(args.key, args.value)
    if args.json:
        emit_json({"key": args.key, "value": value})
    else:
        say(value)
    return 0


def cmd_profiles(args: argparse.Namespace) -> int:
    # Managing profiles must work while the selected one does not exist yet.
    with open_collection(args, profile="default") as fc:
        if args.verb == "create":
            if not args.name:
                raise CliUsageError("profiles create needs a NAME")
            name = args.name.strip()
            fc.create_profile(name, timezone=system_timezone())
            if args.json:
                emit_json({"created": name})
            else:
                say(f"created profile {name}; use it with --profile {name}")
            return 0
        profiles = fc.list_profiles()
        selected = selected_profile(args)
        for p in profiles:
            p["current"] = p["name"] == selected
    if args.json:
        emit_json(profiles)
    else:
        rows = [
            ("*" if p["current"] else "", p["name"], p["decks"], p["created_at"].date())
            for p in profiles
        ]
        say(table(rows, ["", "profile", "decks", "created"]))
    return 0


def cmd_due(args: argparse.Namespace) -> int:
    from flashcore.services.study import build_queue, raise_new_limit

    with open_collection(args) as fc:
        if args.extra_new is not None:
            raise_new_limit(fc, deck=args.deck, topic=args.topic, extra=args.extra_new)
        if args.minutes is not None:
            return _due_within(args, fc)
        q = build_queue(fc, deck=args.deck, topic=args.topic, limit=args.limit)
    if args.json:
        emit_json([item.to_json() for item in q.items])
        return 0
    if not q.items:
        say("All done for today.")
    else:
        rows = [(i.card_id, i.state.label, i.note_key, i.reason) for i in q.items]
        say(table(rows, ["card_id", "state", "note_key", "reason"]))
        say(f"\n{q.new} new, {q.learning} learning, {q.review} review")
    for line in held_lines(q, args.deck, args.topic):
        say(line)
    return 0


def _due_within(args: argparse.Namespace, fc: Flashcore) -> int:
    """`due --minutes M`: today's queue cut to M minutes, the postponed cards listed after
    the kept ones with their reason (`postponed: true` in JSON)."""
    from flashcore.services.budget import cut_queue
    from flashcore.services.study import build_queue

    q = build_queue(fc, deck=args.deck, topic=args.topic)
    done = cut_queue(fc, q, args.minutes)
    kept = list(done.kept[: args.limit] if args.limit else done.kept)
    if args.json:
        emit_json(
            [i.to_json() | {"postponed": False, "seconds": round(done.seconds[i.card_id], 1)}
             for i in kept]
            + [i.to_json() | {"postponed": True, "seconds": round(done.seconds[i.card_id], 1)}
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
    if q.new_held:
        lines.append(
            f"{q.new_held} more new card{'s' if q.new_held != 1 else ''} wait beyond today's "
            f"limit of {q.new_limit} new: flashcore due{scope} --extra-new {q.new_held}"
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
    if args.json:
        emit_json(result.to_json())
    else:
        say(f"card {result.card_id}: {rating.label} -> {result.schedule.state.label}, "
              f"due {result.schedule.due.isoformat()}")  # fmt: skip
        if result.leech:
            say(f"card {result.card_id} is a leech (lapsed {result.schedule.lapses} times): "
                  "tagged leech and suspended")  # fmt: skip
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    from flashcore.services.study import undo

    with open_collection(args) as fc:
        done = undo(fc, args.steps)
    if args.json:
        emit_json([{"card_id": u.card_id, "rating": u.rating.name.lower(),
                    "reviewed_at": u.reviewed_at.isoformat()} for u in done])  # fmt: skip
    else:
        for u in done:
            say(f"undone: card {u.card_id} ({u.rating.label} at {u.reviewed_at.isoformat()})")
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
    return 1 if report.problems and not args.repair else 0


def cmd_stats(args: argparse.Namespace) -> int:
    from flashcore.services.stats import stats

    with open_collection(args) as fc:
        data = stats(fc)
    if args.json:
        emit_json(data)
        return 0
    t = data["today"]
    say(f"today: {t['reviews']} answers ({t['again']} again), {t['new']} new, "
          f"{t['minutes']:.0f} min")  # fmt: skip
    for label, key in (("due now", "today"), ("due tomorrow", "tomorrow")):
        q = data["queue"][key]
        say(f"{label}: {q['new']} new, {q['learning']} learning, {q['review']} review")
    m = data["last_30_days"]
    retention = "-" if m["true_retention"] is None else f"{m['true_retention']:.1%}"
    say(f"last 30 days: {m['reviews']} answers, true retention {retention}")
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
            if args.extra_new is not None:
                from flashcore.services.study import raise_new_limit

                raise_new_limit(fc, deck=args.deck, topic=args.topic, extra=args.extra_new)
        except BaseException:
            fc.close()
            raise
        return fc

    # The app paints first and opens the collection in a worker thread.
    return run_review_lazy(opener, deck=args.deck, topic=args.topic, minutes=args.minutes)


def _read_input(path: str) -> tuple[Path | IO[bytes], str]:
    """A log to import: a file's path, or stdin (`-`), which the import copies as it reads."""
    if path == "-":
        return sys.stdin.buffer, "<stdin>"
    p = Path(path)
    if not p.exists():
        from flashcore.core.errors import FlashcoreError

        raise FlashcoreError(f"{path}: no such file")
    if p.is_dir():
        from flashcore.core.errors import FlashcoreError

        raise FlashcoreError(f"{path}: is a folder, not a log file")
    return p, path


class _ImportProgress:
    """A one-line progress bar on stderr, redrawn at most ten times a second; only when stderr
    is a terminal (a script's stderr stays for errors)."""

    def __init__(self) -> None:
        self.shown = 0.0
        self.drawn = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if now - self.shown < 0.1 and done < total:
            return
        self.shown = now
        share = done / total if total else 1.0
        filled = int(share * 30)
        amount = (
            f"{done / 1e6:,.1f} of {total / 1e6:,.1f} MB"
            if phase == "reading"
            else f"{done:,} of {total:,} rows"
        )
        bar = "#" * filled + "-" * (30 - filled)
        sys.stderr.write(f"\r{phase:<8} [{bar}] {share:4.0%}  {amount}\x1b[K")
        sys.stderr.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.drawn = False


@contextlib.contextmanager
def _cancel_on_ctrl_c() -> Iterator[threading.Event]:
    """Ctrl-C sets the event (the import stops at its next step and saves nothing); a second
    Ctrl-C interrupts at once (the transaction still rolls back)."""
    import signal
    import threading

    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return

    def on_sigint(_signum: int, _frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_qbank_import(args: argparse.Namespace) -> int:
    with _cancel_on_ctrl_c() as cancel:
        try:
            return _qbank_import(args, cancel)
        except KeyboardInterrupt:
            info(f"{PROG}: interrupted: nothing imported")
            return 130


def _qbank_import(args: argparse.Namespace, cancel: threading.Event) -> int:
    from datetime import date

    from flashcore.core.errors import QbankFormatError
    from flashcore.services.qbank import import_log

    on_date = None
    if args.on_date:
        try:
            on_date = date.fromisoformat(args.on_date)
        except ValueError:
            raise CliUsageError(f"--date {shown(args.on_date)}: use YYYY-MM-DD") from None
    data, origin = _read_input(args.path)
    progress = _ImportProgress() if sys.stderr.isatty() else None
    with open_collection(args) as fc:
        try:
            report = import_log(fc, data, origin=origin, fmt=args.fmt, source=args.source,
                                on_date=on_date, outcome=args.outcome, dry_run=args.dry_run,
                                skip_invalid=args.skip_invalid, again=args.again,
                                progress=progress, cancel=cancel)  # fmt: skip
        except QbankFormatError as exc:
            if progress is not None:
                progress.clear()
            if len(exc.problems) == 1:  # one line says it all
                info(f"{exc.problems[0]}; nothing was imported (fix the row, or use "
                     "--skip-invalid)")  # fmt: skip
                return 1
            for problem in exc.problems[:200]:
                info(str(problem))
            more = len(exc.problems) - 200
            if more > 0:
                info(f"... and {more} more problems")
            info(f"{PROG}: error: {origin}: {len(exc.problems)} bad rows; nothing was imported "
                 "(fix them, or use --skip-invalid)")  # fmt: skip
            return 1
        finally:
            if progress is not None:
                progress.clear()
    for warning in report.warnings:
        info(f"{PROG}: warning: {warning}")
    if cancel.is_set() and not report.dry_run:
        info(f"{PROG}: Ctrl-C came after the import was saved; undo it with "
             f"`flashcore qbank remove {report.batch_id}`")  # fmt: skip
    if args.json:
        emit_json(report.to_json())
        return 0
    prefix = "dry run: " if report.dry_run else ""
    say(f"{prefix}{report.rows_read} rows read ({report.format}), {report.added} attempts "
          f"added, {report.duplicates} duplicates skipped")  # fmt: skip
    say(f"misses: {report.misses} — {report.matched_card} matched cards, "
          f"{report.matched_topic} matched only a topic, {report.matched_none} matched nothing")  # fmt: skip
    if report.unmatched_topics:
        say("unmatched topics (gaps in your decks): " + "; ".join(report.unmatched_topics[:20]))
    if report.unmatched_qids:
        say("unmatched question ids: " + ", ".join(report.unmatched_qids[:30]))
    if report.skipped_invalid:
        say(f"skipped {len(report.skipped_invalid)} bad rows:")
        for skipped in report.skipped_invalid[:50]:
            say(f"  {skipped}")
    if report.pulled_forward:
        say(f"{report.pulled_forward} cards of weak topics pulled into today's queue")
    if report.unsuspended:
        say(f"{report.unsuspended} suspended cards of the missed questions unsuspended "
            "(they come first; config set unsuspend_on_miss false to keep them suspended)")  # fmt: skip
    if report.batch_id is not None:
        say(f"batch {report.batch_id} (undo with: flashcore qbank remove {report.batch_id})")
    return 0


def cmd_qbank_list(args: argparse.Namespace) -> int:
    from flashcore.services.qbank import list_attempts

    with open_collection(args) as fc:
        rows = list_attempts(fc)
    if args.json:
        emit_json(rows)
    else:
        say(table([(r["date"], r["source"], r["qid"], r["outcome"], r["matched"],
                      r["topic"] or r["category"] or r["system"]) for r in rows],
                    ["date", "source", "qid", "outcome", "matched", "topic"]))  # fmt: skip
    return 0


def cmd_qbank_batches(args: argparse.Namespace) -> int:
    from flashcore.services.qbank import list_batches

    with open_collection(args) as fc:
        rows = list_batches(fc)
    if args.json:
        emit_json(rows)
    else:
        say(table([(r["batch_id"], r["imported_at"][:16], r["source"], r["format"],
                      r["attempts"], r["origin"]) for r in rows],
                    ["batch", "imported (UTC)", "source", "format", "attempts", "from"]))  # fmt: skip
    return 0


def cmd_qbank_remove(args: argparse.Namespace) -> int:
    from flashcore.services.qbank import remove_batch

    with open_collection(args) as fc:
        n = remove_batch(fc, args.batch_id)
    if args.json:
        emit_json({"batch_id": args.batch_id, "attempts_removed": n})
    else:
        say(f"removed batch {args.batch_id} ({n} attempts)")
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from flashcore.services.qbank import add_alias, list_topics

    with open_collection(args) as fc:
        if args.verb == "alias":
            if not args.alias or not args.topic:
                raise CliUsageError('topics alias needs TEXT and TOPIC: flashcore topics alias '
                                    '"Type I hypersensitivity" "Immunology::Hypersensitivity::Type I"')  # fmt: skip
            target = add_alias(fc, args.alias, args.topic)
            if args.json:
                emit_json({"alias": args.alias, "topic": target})
            else:
                say(f"{args.alias!r} now counts for {target}")
            return 0
        rows = list_topics(fc)
    if args.json:
        emit_json(rows)
    else:
        say(table([(r["topic"], r["notes"], f"{r['weight']:.2f}", ", ".join(r["aliases"]))
                     for r in rows], ["topic", "notes", "weight", "aliases"]))  # fmt: skip
    return 0


def cmd_weakness(args: argparse.Namespace) -> int:
    from flashcore.core.weakness import misses_text
    from flashcore.services.weakness import report

    with open_collection(args) as fc:
        found = report(fc)
    rows, gaps = found["topics"], found["gaps"]
    if args.limit is not None:
        rows = rows[: args.limit]
    if args.json:
        emit_json({"topics": rows, "gaps": gaps})
        return 0
    if not rows and not gaps:
        say("no weak topics yet: import missed questions with `flashcore qbank import`")
        return 0
    leaves = [r for r in rows if r["level"] == "topic"]
    rollups = [r for r in rows if r["level"] != "topic"]
    for title, part in (("topic", leaves), ("rollup", rollups)):
        if not part:
            continue
        if title == "rollup":
            say("")
        say(table([(r["topic"] if title == "topic" else f"{r['topic']} ({r['level']})",
                      f"{r['score']:.2f}",
                      misses_text(r["recent_misses"], r["recent_attempts"]),
                      misses_text(r["misses"], r["attempts"]), r["cards"], r["due"],
                      f"{r['desired_retention']:.2f}", r["suggested_minutes"]) for r in part],
                    [title, "score", "recent miss", "all miss", "cards", "due", "retention",
                     "min"]))  # fmt: skip
    if leaves:
        say("")
        for r in leaves[:5]:
            say(f"{r['topic']}: {r['reason']}")
    if gaps:
        say("")
        say("gaps: misses that matched no card or topic (map the text to a topic to count them)")
        for g in gaps:
            plural = "miss" if g["misses"] == 1 else "misses"
            say(f"  {g['text']} — {g['misses']} {plural}, the last on {g['last_miss']}")
            if g["suggestion"] is not None:
                say(f"    closest topic: {g['suggestion']['topic']}")
                say(f"    {g['suggestion']['command']}")
    return 0


def cmd_export_anki(args: argparse.Namespace) -> int:
    from flashcore.services.export import export_anki

    with open_collection(args) as fc:
        summary = export_anki(fc, Path(args.output), deck=args.deck, topic=args.topic,
                              with_scheduling=args.with_scheduling,
                              show_progress=not args.json and sys.stderr.isatty())  # fmt: skip
    if args.json:
        emit_json({"path": str(summary.path), "notes": summary.notes, "cards": summary.cards,
                   "bytes": summary.bytes})  # fmt: skip
    else:
        say(f"wrote {summary.path}: {summary.notes} notes, {summary.cards} cards, "
              f"{summary.bytes / 1_000_000:.1f} MB")  # fmt: skip
    return 0


# ---------------------------------------------------------------- parser


def _common() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    g = common.add_argument_group("global options")
    g.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                   help="database: SQLAlchemy URL or SQLite file (env FLASHCORE_DB)")  # fmt: skip
    g.add_argument("--profile", default=argparse.SUPPRESS, metavar="NAME",
                   help="profile (env FLASHCORE_PROFILE, default 'default')")  # fmt: skip
    g.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback on errors")  # fmt: skip
    return common


def _extra_new_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--extra-new",
        type=whole(0, 9999),
        metavar="N",
        help="raise today's new-card limit for this deck/topic (or the whole collection) by N; "
        "kept until the study day ends (0 takes it back)",
    )


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document")


Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = Parser(
        prog=PROG,
        description="Spaced-repetition flashcards for USMLE Step 1, weighted by the questions "
        "you miss.",
        epilog="examples:\n  flashcore review\n  flashcore decks add decks/*.toml\n"
        "  flashcore due --json\n\nenvironment: FLASHCORE_DB, FLASHCORE_PROFILE, "
        "FLASHCORE_NOW (freeze the clock: 2026-11-25T09:00:00+00:00), FLASHCORE_HOME",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"flashcore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str, example: str, handler: Handler) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )
        p.set_defaults(handler=handler)
        return p

    p = add("init", "create or upgrade the database (idempotent) and print where it is",
            "flashcore init --db ~/step1.sqlite3", cmd_init)  # fmt: skip
    _json_flag(p)

    p = add("review", "open the review app (loads the starter decks into an empty collection)",
            "flashcore review --deck 'Step 1::Immunology'", cmd_review)  # fmt: skip
    p.add_argument("--deck", help="start a session on this deck (and its sub-decks)")
    p.add_argument("--topic", help="start a session on this topic (and its sub-topics)")
    p.add_argument("--minutes", type=whole(1, 1440), metavar="M",
                   help="a session of M minutes: its queue is cut to fit (default: what is left "
                   "of the exam's daily budget, when an exam is set)")  # fmt: skip
    _extra_new_flag(p)

    decks = add("decks", "load deck files and list decks", "flashcore decks list", _needs_verb)
    dsub = decks.add_subparsers(dest="verb", metavar="VERB")
    p = dsub.add_parser("add", help="load deck files (.toml, Anki .txt/.csv/.tsv, .apkg/.colpkg); "
                        "running it again changes nothing", parents=[common],
                        epilog="example:\n  flashcore decks add decks/*.toml",
                        formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--prune", action="store_true", help="delete notes missing from the file")
    p.add_argument("--yes", action="store_true", help="confirm --prune without a prompt")
    _json_flag(p)
    p.set_defaults(handler=cmd_decks_add)
    p = dsub.add_parser("list", help="decks with new / learning / due counts", parents=[common],
                        epilog="example:\n  flashcore decks list --json",
                        formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    _json_flag(p)
    p.set_defaults(handler=cmd_decks_list)

    p = add("cards", "browse cards and their scheduling state, or suspend|unsuspend|bury|"
            "unbury|flag|unflag CARD_ID...", "flashcore cards --topic Immunology --json",
            cmd_cards)  # fmt: skip
    p.add_argument("action", nargs="?", choices=["suspend", "unsuspend", "bury", "unbury",
                                                  "flag", "unflag"])  # fmt: skip
    p.add_argument("card_ids", nargs="*", type=whole(1, MAX_ID, "a card id"), metavar="CARD_ID")
    p.add_argument("--deck")
    p.add_argument("--topic")
    _json_flag(p)

    p = add("config", "profile settings: get [KEY] | set KEY VALUE",
            "flashcore config set desired_retention 0.92", cmd_config)  # fmt: skip
    p.add_argument("verb", choices=["get", "set"])
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")
    _json_flag(p)
    p.more_help = _settings_help  # type: ignore[attr-defined]

    p = add("profiles", "list profiles or create one", "flashcore profiles create alice",
            cmd_profiles)  # fmt: skip
    p.add_argument("verb", choices=["list", "create"])
    p.add_argument("name", nargs="?")
    _json_flag(p)

    p = add("due", "today's queue, in order, with the reason for each card",
            "flashcore due --limit 20 --json\n  flashcore due --topic "
            "'Immunology::Hypersensitivity::Type I' --extra-new 10", cmd_due)  # fmt: skip
    p.add_argument("--deck")
    p.add_argument("--topic")
    p.add_argument("--limit", type=whole(1, 1_000_000), help="at most N cards (N >= 1)")
    p.add_argument("--minutes", type=whole(1, 1440), metavar="M",
                   help="cut today's queue to M minutes (your answer times); the overflow is "
                   "postponed, lowest exam points at risk first, each with its reason")  # fmt: skip
    _extra_new_flag(p)
    _json_flag(p)

    p = add("answer", "grade a card: again|hard|good|easy (or 1-4)",
            "flashcore answer 42 good --duration 6.5", cmd_answer)  # fmt: skip
    p.add_argument("card_id", type=whole(1, MAX_ID, "a card id"), metavar="CARD_ID")
    p.add_argument("rating", metavar="again|hard|good|easy")
    p.add_argument("--duration", type=seconds, metavar="SECONDS",
                   help="time taken to answer (0 to 86400)")  # fmt: skip
    p.add_argument("--expect-reps", type=whole(0, 2**31 - 1), metavar="N",
                   help="refuse unless the card has exactly N reviews")  # fmt: skip
    _json_flag(p)

    p = add("undo", "undo the last answer(s): card state and review-log row",
            "flashcore undo --steps 2", cmd_undo)  # fmt: skip
    p.add_argument("--steps", type=whole(1, 1_000_000), default=1, help="answers to undo (N >= 1)")
    _json_flag(p)

    p = add("check", "replay every card's review log through FSRS and report cards whose "
            "stored state differs (exit 1 when it finds one)", "flashcore check --repair",
            cmd_check)  # fmt: skip
    p.add_argument("--repair", action="store_true", help="rewrite differing cards from their log")
    _json_flag(p)

    p = add("stats", "today, last 30 days, true retention, forecast", "flashcore stats --json",
            cmd_stats)  # fmt: skip
    _json_flag(p)

    _add_weakness_commands(sub, add, common)
    _add_export_commands(sub, add, common)
    _add_safety_commands(sub, add, common)
    from flashcore.cli_plan import add_plan_commands  # argparse only: --help stays quick

    add_plan_commands(sub, add, common)
    return parser


def _add_weakness_commands(
    sub: Any, add: Callable[..., argparse.ArgumentParser], common: Any
) -> None:
    qbank = add("qbank", "missed-question logs: import | list | batches | remove",
                "flashcore qbank import decks/samples/uworld-paste.tsv", _needs_verb)  # fmt: skip
    qsub = qbank.add_subparsers(dest="verb", metavar="VERB")

    def verb(name: str, help_text: str, example: str, handler: Handler) -> argparse.ArgumentParser:
        return add_verb(qsub, common, name, help_text, example, handler)

    p = verb("import", "import a missed-question log (a file, or - to paste on stdin)",
             "pbpaste | flashcore qbank import - --source uworld", cmd_qbank_import)  # fmt: skip
    p.add_argument("path", metavar="PATH|-")
    p.add_argument(
        "--format", dest="fmt", default="auto", choices=["auto", "uworld", "csv", "qids"]
    )
    p.add_argument("--source", default="uworld", help="uworld, amboss, nbme or any name")
    p.add_argument("--date", dest="on_date", metavar="YYYY-MM-DD",
                   help="the day of the attempts (default: today)")  # fmt: skip
    p.add_argument("--outcome", choices=["correct", "incorrect", "omitted"],
                   help="outcome for rows that carry none (default: incorrect)")  # fmt: skip
    p.add_argument(
        "--dry-run", action="store_true", help="report what would happen; change nothing"
    )
    p.add_argument("--skip-invalid", action="store_true", help="import the good rows, list the bad")
    p.add_argument(
        "--again", action="store_true", help="import a paste identical to an earlier one"
    )
    _json_flag(p)
    p = verb("list", "imported attempts, newest first", "flashcore qbank list --json",
             cmd_qbank_list)  # fmt: skip
    _json_flag(p)
    p = verb("batches", "import batches", "flashcore qbank batches", cmd_qbank_batches)
    _json_flag(p)
    p = verb("remove", "undo a mistaken import batch", "flashcore qbank remove 3", cmd_qbank_remove)
    p.add_argument("batch_id", type=whole(1, MAX_ID, "a batch id"), metavar="BATCH_ID")
    _json_flag(p)

    topics = add("topics", "topic tree and aliases: list | alias TEXT TOPIC",
                 "flashcore topics alias 'Type I hypersensitivity' "
                 "'Immunology::Hypersensitivity::Type I'", cmd_topics)  # fmt: skip
    topics.add_argument("verb", choices=["list", "alias"])
    topics.add_argument("alias", nargs="?", metavar="TEXT")
    topics.add_argument("topic", nargs="?", metavar="TOPIC")
    _json_flag(topics)

    p = add("weakness", "topics ranked by exam points at risk, with why",
            "flashcore weakness --limit 10", cmd_weakness)  # fmt: skip
    p.add_argument("--limit", type=whole(1, 1_000_000), help="at most N topics (N >= 1)")
    _json_flag(p)


def _add_export_commands(
    sub: Any, add: Callable[..., argparse.ArgumentParser], common: Any
) -> None:
    export = add("export", "export cards: anki", "flashcore export anki -o step1.apkg", _needs_verb)
    esub = export.add_subparsers(dest="verb", metavar="FORMAT")
    p = esub.add_parser("anki", help="an Anki package (.apkg) that real Anki imports and updates",
                        parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="example:\n  flashcore export anki -o step1.apkg --with-scheduling")  # fmt: skip
    p.add_argument("-o", "--output", required=True, metavar="FILE.apkg")
    p.add_argument("--deck")
    p.add_argument("--topic")
    p.add_argument("--with-scheduling", action="store_true",
                   help="carry FSRS state and review history (for a new phone or profile)")  # fmt: skip
    _json_flag(p)
    p.set_defaults(handler=cmd_export_anki)


# ---------------------------------------------------------------- data safety


def _database_url(args: argparse.Namespace) -> str:
    """The database URL a command would open, without opening it (it may be damaged)."""
    from flashcore.services.collection import resolve_url

    return resolve_url(args.db or os.environ.get("FLASHCORE_DB") or None)[0]


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def cmd_backup_list(args: argparse.Namespace) -> int:
    from flashcore.services.backup import list_backups

    found = list_backups(_database_url(args))
    if args.json:
        emit_json([b.to_json() for b in found])
        return 0
    from flashcore.services.backup import automatic_status

    status = automatic_status(_database_url(args))
    if not found:
        say("no backups yet: flashcore backup create")
    else:
        rows = [(b.id, f"{b.taken_at:%Y-%m-%d %H:%M:%S}", b.kind, _megabytes(b.size))
                for b in found]  # fmt: skip
        say(table(rows, ["id", "taken (UTC)", "kind", "size"]))
        say(f"\nin {found[0].path.parent}; restore one with: flashcore backup restore ID")
        if status.store_bytes:
            say(f"the snapshots (automatic) share one store: {_megabytes(status.store_bytes)} "
                "on disk")  # fmt: skip
    if status.last_failure:
        info(f"the last automatic backup failed: {status.last_failure}")
    return 0


def cmd_backup_create(args: argparse.Namespace) -> int:
    from flashcore.services.backup import create

    made = create(_database_url(args), make_clock().now())
    if args.json:
        emit_json(made.to_json())
        return 0
    b = made.backup
    say(f"backup {b.id}: {b.path} ({_megabytes(b.size)}, quick_check ok)")
    if made.removed:
        say(f"pruned {len(made.removed)} old backups (kept: today, yesterday, 12 daily, "
              "10 weekly, 9 monthly)")  # fmt: skip
    return 0


def cmd_backup_restore(args: argparse.Namespace) -> int:
    from flashcore.services.backup import database_file, find, restore

    url = _database_url(args)
    chosen = find(url, args.backup_id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliUsageError("restore replaces the database: add --yes to confirm")
        answer = input(
            inert(
                f"Replace {database_file(url)} with backup {chosen.id} "
                f"({chosen.taken_at:%Y-%m-%d %H:%M} UTC)? Changes made since then are undone; "
                "the current state is backed up first. [y/N] "
            )
        )
        if answer.strip().lower() not in {"y", "yes"}:
            info("nothing was changed")
            return 1
    done = restore(url, args.backup_id, make_clock().now())
    if args.json:
        emit_json(done.to_json())
        return 0
    say(f"restored {done.database} from backup {done.restored.id}")
    if done.before is not None:
        say(f"the state before the restore is backup {done.before.id}")
    if done.set_aside is not None:
        say(f"the damaged file was copied, as it was, to {done.set_aside}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from flashcore.services import doctor

    report = doctor.examine(_database_url(args))
    if not report.damaged:
        with open_collection(args) as fc:
            doctor.repair(fc, report)
    if args.json:
        emit_json(report.to_json())
    elif report.damaged:
        count = len(report.integrity)
        say(f"integrity_check: {count} problem{'s' if count != 1 else ''} in {report.database}")
        for problem in report.integrity[:10]:
            say(f"  {problem}")
    else:
        checked = "ok" if report.checked else "not run (PostgreSQL checks its own pages)"
        say(f"integrity_check: {checked}")
        if report.backup is not None:
            say(f"backup before repairs: {report.backup.id}")
        for label, count in report.fixes.items():
            say(f"fixed: {count} {label}")
        for problem in report.unrepaired[:50]:
            say(f"not repaired: {problem}")
        if not report.fixes and not report.unrepaired:
            say("nothing to repair")
    if report.damaged:
        good = report.good_backup
        foreign = "not a SQLite" in report.integrity[0]
        if good is not None:
            hint = (f"restore the newest good backup ({good.taken_at:%Y-%m-%d %H:%M} UTC): "
                    f"{report.restore_command()}")  # fmt: skip
        elif foreign:
            hint = "check --db (a flashcore database is a SQLite file)"
        else:
            hint = "no good backup exists; copy the file somewhere safe before anything else"
        what = "is not a SQLite database" if foreign else "is damaged"
        info(f"{PROG}: error: {report.database} {what}; nothing was changed; {hint}")
        return 1
    return 0


def _add_safety_commands(
    sub: Any, add: Callable[..., argparse.ArgumentParser], common: Any
) -> None:
    backup = add("backup", "SQLite backups: list | create | restore ID (PostgreSQL: pg_dump)",
                 "flashcore backup restore 20261125-090000", _needs_verb)  # fmt: skip
    bsub = backup.add_subparsers(dest="verb", metavar="VERB")

    def verb(name: str, help_text: str, example: str, handler: Handler) -> argparse.ArgumentParser:
        p = add_verb(bsub, common, name, help_text, example, handler)
        _json_flag(p)
        return p

    verb("list", "backups of this database, newest first (in backups/ beside it)",
         "flashcore backup list --json", cmd_backup_list)  # fmt: skip
    verb("create", "back up now (checked with quick_check; old backups pruned)",
         "flashcore backup create", cmd_backup_create)  # fmt: skip
    p = verb("restore", "replace the database with a backup; the current state is backed up "
             "first", "flashcore backup restore 20261125-090000 --yes", cmd_backup_restore)  # fmt: skip
    p.add_argument("backup_id", metavar="ID", help="an id from `flashcore backup list`")
    p.add_argument("--yes", action="store_true", help="restore without asking")

    p = add("doctor", "check the database's integrity and repair what a crash can leave "
            "(orphan rows, impossible due dates, broken text, cards that disagree with their "
            "log); a damaged database is only reported", "flashcore doctor --json",
            cmd_doctor)  # fmt: skip
    _json_flag(p)


def add_verb(
    subparsers: Any, common: Any, name: str, help_text: str, example: str, handler: Handler
) -> argparse.ArgumentParser:
    """A sub-command's verb (`qbank import`, `backup list`, ...) with help and an example."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help_text,
        description=help_text,
        parents=[common],
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=handler)
    return p


def _needs_verb(args: argparse.Namespace) -> int:
    raise CliUsageError(f"{args.command} needs a verb; see flashcore {args.command} --help")


def _normalize(ns: argparse.Namespace) -> argparse.Namespace:
    for name in ("db", "profile"):
        if not hasattr(ns, name):
            setattr(ns, name, None)
    if not hasattr(ns, "debug"):
        ns.debug = False
    if not hasattr(ns, "json"):
        ns.json = False
    return ns


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = _normalize(parser.parse_args(argv))
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except CliUsageError as exc:
        info(f"{PROG}: usage error: {exc}")
        return 2
    except KeyboardInterrupt:
        info(f"{PROG}: interrupted; answers already given are saved")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        from flashcore.core.errors import UsageError  # loaded by then (not for --help)

        if isinstance(exc, UsageError):  # a bad value found below the command line
            info(f"{PROG}: usage error: {describe(exc)}")
            return 2
        if args.debug:
            raise
        info(f"{PROG}: error: {describe(exc)}")
        return 1
    finally:
        if _OPENED:
            _after_commands()
        health = sys.modules.get("flashcore.services.health")  # imported once a collection
        if health is not None:  # was opened (never for --help): remove this process's marker
            health.end_session()


# What a database error means for the user and what to do, by the words SQLite uses.
_DATABASE_ADVICE = (
    (("readonly", "read-only"), "the database file or its folder is read-only (flashcore also "
     "writes -wal and -shm files beside the file): make both writable; nothing was changed"),
    (("disk is full", "no space"), "the disk is full: free some space and try again; nothing "
     "was changed"),
    (("disk i/o error",), "the disk failed a read or write (full or failing?): check free space "
     "with `df -h`, then try again; nothing was changed"),
    (("malformed", "not a database", "not a usable sqlite"), "the file is damaged or not a "
     "flashcore database: check --db, then run `flashcore doctor` (it names the newest good "
     "backup); nothing was changed"),
    (("locked", "is busy"), "the database is busy: another flashcore held the write lock past "
     "the timeout; close the other window or wait for it, then try again; nothing was changed"),
)  # fmt: skip


def _database_advice(text: str) -> str | None:
    lowered = text.lower()
    for markers, advice in _DATABASE_ADVICE:
        if any(marker in lowered for marker in markers):
            return advice
    return None


def describe(exc: BaseException) -> str:
    from flashcore.core.errors import DatabaseError, FlashcoreError

    if isinstance(exc, FlashcoreError):
        text = str(exc)
        if type(exc) is DatabaseError:  # wraps SQLite's words (subclasses say it themselves)
            if text.startswith("the database is busy"):
                return _DATABASE_ADVICE[-1][1]
            advice = _database_advice(text)
            if advice is not None:
                return f"{text}: {advice}"
        return text
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    first = text[0] if text else ""
    lowered = first.lower()
    advice = _database_advice(first)
    if advice is not None:
        return f"{advice} ({first})"
    if "connection" in lowered and ("refused" in lowered or "failed" in lowered):
        return f"cannot connect to the database: {first}"
    return f"{type(exc).__name__}: {first} (run with --debug for details)"


if __name__ == "__main__":
    sys.exit(main())
