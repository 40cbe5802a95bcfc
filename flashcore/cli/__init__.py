"""The command line. Heavy imports happen inside the commands that need them, so `--help` is
instant. Errors are one line on stderr: exit 1 for errors, 2 for usage; `--debug` shows the
traceback.

The package: `parser` (argparse with one-line errors, shared flags), `output` (JSON, tables,
inert text), `context` (clock, time zone, opening the collection), `errors` (one-line
messages), and one module per command group (`collection`, `decks`, `study`, `qbank`,
`weakness`, `export`, `safety`, `plan`), each with its commands and their parser."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from flashcore import __version__
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

__all__ = ["GROUPS", "build_parser", "command_named", "main", "system_timezone"]


# The commands in the order `--help` lists them: (the module, its function adding them, whether
# that function takes the shared options, the commands it adds). A command's run builds the
# parser of its own group only (`build_parser(command)`): the other groups' modules (and what
# they import) and their parsers are never made. tests/cli/test_help.py checks each group adds
# exactly the commands named here.
GROUPS: tuple[tuple[str, str, bool, tuple[str, ...]], ...] = (
    ("collection", "add_init", False, ("init",)),
    ("study", "add_review", False, ("review",)),
    ("decks", "add_commands", True, ("decks", "cards")),
    ("collection", "add_settings", True, ("config", "profiles")),
    ("study", "add_commands", False, ("due", "answer", "undo", "check", "stats")),
    ("qbank", "add_commands", True, ("qbank", "topics")),
    ("weakness", "add_commands", False, ("weakness",)),
    ("export", "add_commands", True, ("export",)),
    ("safety", "add_commands", True, ("backup", "doctor")),
    ("plan", "add_commands", True, ("exam", "plan", "assess", "optimize")),
)
# The shared options that take a value (`--db URL`, `--profile NAME`): skipped when looking
# for the command's name among the arguments.
_VALUED = ("--db", "--profile")


def command_named(argv: Sequence[str]) -> str | None:
    """The command `argv` runs, when it is certain before parsing: the first word that is
    not a shared option or its value, if it names a command; else None (help, a version, an
    unknown word or option: the whole parser answers)."""
    known = {name for *_, names in GROUPS for name in names}
    words = iter(argv)
    for word in words:
        if word in _VALUED:
            next(words, None)
        elif word == "--debug" or word.startswith(tuple(f"{v}=" for v in _VALUED)):
            continue
        else:
            return word if word in known else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command's, or only the group holding `command` (the
    same parser for that command's arguments)."""
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

    for module, function, shared, names in GROUPS:
        if command is not None and command not in names:
            continue
        adder = getattr(importlib.import_module(f"flashcore.cli.{module}"), function)
        if shared:
            adder(add, common)
        else:
            adder(add)
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
    parser = build_parser(command_named(sys.argv[1:] if argv is None else argv))
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
