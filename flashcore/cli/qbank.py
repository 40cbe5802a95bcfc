"""Question-bank commands: `qbank import|list|batches|remove`, `topics`."""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from flashcore.cli.context import (
    open_collection,
)
from flashcore.cli.output import emit_json, info, say, table
from flashcore.cli.parser import (
    MAX_ID,
    PROG,
    AddCommand,
    CliUsageError,
    Handler,
    Parser,
    add_verb,
    add_verbs,
    json_flag,
    needs_verb,
    whole,
)
from flashcore.cli.priority import yield_cpu
from flashcore.core.clipboard import CLIPBOARD_COMMANDS, paste_lines
from flashcore.core.text import shown

if TYPE_CHECKING:
    import threading
    from collections.abc import Iterator

    from flashcore.core.errors import QbankFormatError
    from flashcore.services.qbank import ImportReport


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
    yield_cpu()  # bulk work: a reviewer open beside it gets the CPU first
    with open_collection(args) as fc:
        try:
            report = import_log(fc, data, origin=origin, fmt=args.fmt, source=args.source,
                                on_date=on_date, outcome=args.outcome, dry_run=args.dry_run,
                                skip_invalid=args.skip_invalid, again=args.again,
                                progress=progress, cancel=cancel)  # fmt: skip
        except QbankFormatError as exc:
            if progress is not None:
                progress.clear()
            _say_bad_rows(exc, origin)
            return 1
        finally:
            if progress is not None:
                progress.clear()
    for warning in report.warnings:
        info(f"{PROG}: warning: {warning}")
    if cancel.is_set() and not report.dry_run and report.batch_id is not None:
        info(f"{PROG}: Ctrl-C came after the import was saved; undo it with "
             f"`flashcore qbank remove {report.batch_id}`")  # fmt: skip
    if args.json:
        emit_json(report.to_json())
    else:
        _say_report(report)
    return 0


def _say_bad_rows(exc: QbankFormatError, origin: str) -> None:
    """The rows a log was refused for (the first 200), and that nothing was imported."""
    if len(exc.problems) == 1:  # one line says it all
        fix = "" if exc.whole_file else " (fix the row, or use --skip-invalid)"
        info(f"{exc.problems[0]}; nothing was imported{fix}")
        return
    for problem in exc.problems[:200]:
        info(str(problem))
    more = len(exc.problems) - 200
    if more > 0:
        info(f"... and {more} more problems")
    info(f"{PROG}: error: {origin}: {len(exc.problems)} bad rows; nothing was imported "
         "(fix them, or use --skip-invalid)")  # fmt: skip


def _cards(n: int) -> str:
    return f"{n} card" if n == 1 else f"{n} cards"


def _say_report(report: ImportReport) -> None:
    prefix = "dry run: " if report.dry_run else ""
    say(f"{prefix}{report.rows_read} rows read ({report.format}), {report.added} attempts "
          f"added, {report.duplicates} duplicates skipped")  # fmt: skip
    say(f"misses: {report.misses} — {report.matched_card} matched cards, "
          f"{report.matched_topic} matched only a topic, {report.matched_none} matched nothing")  # fmt: skip
    if report.unmatched_topics:
        say("unmatched topics (gaps in your decks): " + "; ".join(report.unmatched_topics[:20]))
        if not report.dry_run:
            say("  `flashcore weakness` names the closest topic for each, and the "
                "`flashcore topics alias TEXT TOPIC` that counts them there")  # fmt: skip
    if report.unmatched_qids:
        say("unmatched question ids: " + ", ".join(report.unmatched_qids[:30]))
    if report.skipped_invalid:
        say(f"skipped {len(report.skipped_invalid)} bad rows:")
        for skipped in report.skipped_invalid[:50]:
            say(f"  {skipped}")
    if report.pulled_forward_new:
        more = report.pulled_forward - report.pulled_forward_new
        say(f"{_cards(report.pulled_forward_new)} of weak topics pulled into today's queue"
            + (f" (beside {more} pulled before today's import)" if more else ""))  # fmt: skip
    elif report.pulled_forward:
        were = "was" if report.pulled_forward == 1 else "were"
        say(f"no more cards pulled into today's queue: its {_cards(report.pulled_forward)} of "
            f"weak topics {were} pulled before")  # fmt: skip
    if report.unsuspended:
        n = report.unsuspended
        say(f"{n} suspended {'card' if n == 1 else 'cards'} of the missed questions unsuspended "
            "(they come first; config set unsuspend_on_miss false to keep them suspended)")  # fmt: skip
    if report.batch_id is not None:
        say(f"batch {report.batch_id} (undo with: flashcore qbank remove {report.batch_id})")
    elif not report.dry_run:
        say("no batch made: every row was imported before (nothing to undo)")


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
        settings = fc.settings
    if args.json:
        emit_json(rows)
    else:
        zone = settings.zone  # the student's own clock; --json keeps UTC (ISO, with offset)
        say(table([(r["batch_id"], datetime.fromisoformat(r["imported_at"]).astimezone(zone)
                    .strftime("%Y-%m-%d %H:%M"), r["source"], r["format"], r["attempts"],
                    r["origin"]) for r in rows],
                  ["batch", f"imported ({settings.timezone})", "source", "format", "attempts",
                   "from"]))  # fmt: skip
    return 0


def cmd_qbank_remove(args: argparse.Namespace) -> int:
    from flashcore.services.qbank import remove_qbank_batch

    with open_collection(args) as fc:
        removed = remove_qbank_batch(fc, args.batch_id)
    if args.json:
        emit_json({"batch_id": args.batch_id, "attempts_removed": removed.attempts,
                   "cards_resuspended": removed.resuspended})  # fmt: skip
    else:
        n = removed.attempts
        say(f"removed batch {args.batch_id} ({n} attempt{'' if n == 1 else 's'})")
        if removed.resuspended == 1:
            say("1 card its misses had unsuspended is suspended again")
        elif removed.resuspended:
            say(f"{removed.resuspended} cards its misses had unsuspended are suspended again")
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


def add_commands(add: AddCommand, common: Parser) -> None:
    """`qbank` and `topics`."""
    _add_qbank(add, common)
    _add_topics(add, common)


def _add_qbank(add: AddCommand, common: Parser) -> None:
    qbank = add("qbank", "missed-question logs: import | list | batches | remove",
                "flashcore qbank import decks/samples/uworld-paste.tsv", needs_verb)  # fmt: skip
    qsub = qbank.add_subparsers(dest="verb", metavar="VERB")

    def verb(name: str, help_text: str, example: str, handler: Handler) -> argparse.ArgumentParser:
        return add_verb(qsub, common, name, help_text, example, handler)

    p = verb("import", "import a missed-question log (a file, or - to paste on stdin); the "
             "topics you miss\nare then reviewed first. Paste today's incorrect questions from "
             "the clipboard:\n" + "\n".join(paste_lines()),
             "flashcore qbank import decks/samples/uworld-paste.tsv --dry-run   # changes nothing\n"
             + "\n".join(f"{cmd} | flashcore qbank import -   # {name}: adds the pasted rows "
                         "as one batch" for name, cmd in CLIPBOARD_COMMANDS),
             cmd_qbank_import)  # fmt: skip
    p.add_argument("path", metavar="PATH|-",
                   help="the log file (UWorld/AMBOSS copy, CSV, or question ids), or - for "
                   "standard input (a paste)")  # fmt: skip
    p.add_argument(
        "--format",
        dest="fmt",
        default="auto",
        choices=["auto", "uworld", "csv", "qids"],
        help="the log's format (default auto: recognised from its content)",
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
    json_flag(p)
    p = verb("list", "imported attempts, newest first", "flashcore qbank list --json",
             cmd_qbank_list)  # fmt: skip
    json_flag(p)
    p = verb("batches", "import batches", "flashcore qbank batches", cmd_qbank_batches)
    json_flag(p)
    p = verb("remove", "undo a mistaken import batch: its attempts go, and the weights they set",
             "flashcore qbank batches   # find the batch's id first\n"
             "flashcore qbank remove 3   # deletes batch 3's attempts (an example id)",
             cmd_qbank_remove)  # fmt: skip
    p.add_argument("batch_id", type=whole(1, MAX_ID, "a batch id"), metavar="BATCH_ID",
                   help="the batch's id, from `flashcore qbank batches`")  # fmt: skip
    json_flag(p)


def _add_topics(add: AddCommand, common: Parser) -> None:
    topics = add("topics", "topic tree and aliases: list | alias TEXT TOPIC",
                 "flashcore topics list", needs_verb)  # fmt: skip
    verb = add_verbs(topics, common)
    p = verb("list", "every topic with its notes, weight and aliases", "flashcore topics list --json",
             cmd_topics)  # fmt: skip
    p.set_defaults(alias=None, topic=None)
    json_flag(p)
    p = verb("alias", "count a question bank's topic text as one of your topics (a gap of "
             "`flashcore weakness` names the alias to run)",
             "flashcore topics alias 'Type I hypersensitivity' "
             "'Immunology::Hypersensitivity::Type I'   # adds the alias; past misses recount",
             cmd_topics)  # fmt: skip
    p.add_argument("alias", nargs="?", metavar="TEXT",
                   help="the topic text as the question bank writes it")  # fmt: skip
    p.add_argument("topic", nargs="?", metavar="TOPIC",
                   help="your topic's path (see `flashcore topics list`)")  # fmt: skip
    json_flag(p)
