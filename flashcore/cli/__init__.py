"""The command line. Heavy imports happen inside the commands that need them, so `--help` is
instant. Errors are one line on stderr: exit 1 for errors, 2 for usage; `--debug` shows the
traceback.

The package: `parser` (argparse with one-line errors, shared flags), `output` (JSON, tables,
inert text), `context` (clock, time zone, opening the collection), `errors` (one-line
messages), and one module per command group (`collection`, `decks`, `study`, `qbank`,
`weakness`, `export`, `safety`, `plan`), each with its commands and their parser."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flashcore import __version__
from flashcore.cli import collection, decks, export, plan, qbank, safety, study, weakness
from flashcore.cli.context import (
    after_commands,
    pause_collector,
    resume_collector,
    system_timezone,
)
from flashcore.cli.errors import describe
from flashcore.cli.output import info
from flashcore.cli.parser import (
    PROG,
    CliUsageError,
    Handler,
    Parser,
    common_options,
    example_epilog,
)

__all__ = ["build_parser", "main", "system_timezone"]


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
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
            epilog=example_epilog(example),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )
        p.set_defaults(handler=handler)
        return p

    collection.add_init(add)
    study.add_review(add)
    decks.add_commands(add, common)
    collection.add_settings(add, common)
    study.add_commands(add)
    qbank.add_commands(add, common)
    weakness.add_commands(add)
    export.add_commands(add, common)
    safety.add_commands(add, common)
    plan.add_commands(add, common)
    return parser


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
    pause_collector()
    try:
        return _main(argv)
    finally:
        resume_collector()


def _main(argv: Sequence[str] | None) -> int:
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
        after_commands()
        health = sys.modules.get("flashcore.services.health")  # imported once a collection
        if health is not None:  # was opened (never for --help): remove this process's marker
            health.end_session()
