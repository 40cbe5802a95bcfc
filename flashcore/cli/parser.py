"""Building blocks of the command line's parser: argparse with one-line usage errors, the value types, the
global options and flags every command shares."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, NoReturn

from flashcore.core.text import inert, shown

if TYPE_CHECKING:
    pass


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


def common_options() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    g = common.add_argument_group("global options")
    g.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                   help="database: SQLAlchemy URL or SQLite file (env FLASHCORE_DB)")  # fmt: skip
    g.add_argument("--profile", default=argparse.SUPPRESS, metavar="NAME",
                   help="profile (env FLASHCORE_PROFILE, default 'default')")  # fmt: skip
    g.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback on errors")  # fmt: skip
    return common


def extra_new_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--extra-new",
        type=whole(0, 9999),
        metavar="N",
        help="raise today's new-card limit for this deck/topic (or the whole collection) by N; "
        "kept until the study day ends (0 takes it back)",
    )


def json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document")


Handler = Callable[[argparse.Namespace], int]


def add_verb(
    subparsers: Any, common: Any, name: str, help_text: str, example: str, handler: Handler
) -> argparse.ArgumentParser:
    """A sub-command's verb (`qbank import`, `backup list`, ...) with help and an example."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help_text,
        description=help_text,
        parents=[common],
        epilog=example_epilog(example),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=handler)
    return p


def example_epilog(example: str) -> str:
    """`example:` and the example (one per line, indented)."""
    return "example:\n  " + example.replace("\n", "\n  ")


def needs_verb(args: argparse.Namespace) -> int:
    raise CliUsageError(f"{args.command} needs a verb; see flashcore {args.command} --help")


AddCommand = Callable[[str, str, str, Handler], argparse.ArgumentParser]


def scope_flags(p: argparse.ArgumentParser, default: Any = None) -> None:
    """`--deck D` and `--topic T`, described alike everywhere (`default=argparse.SUPPRESS` on
    a verb keeps what its command's own flags set: `cards --deck D suspend`)."""
    p.add_argument("--deck", metavar="D", default=default,
                   help="only this deck and its sub-decks: the full name, a parent (Step 1) or "
                   "a unique end of it (Immunology)")  # fmt: skip
    p.add_argument("--topic", metavar="T", default=default,
                   help="only this topic and its sub-topics: the path, a parent or a unique "
                   "end of it ('Type I')")  # fmt: skip


def add_verbs(parent: argparse.ArgumentParser, common: Any, metavar: str = "VERB") -> Any:
    """Verbs of `parent`, each with a help of its own (`flashcore config set --help`)."""
    sub = parent.add_subparsers(dest="verb", metavar=metavar, title="verbs")

    def verb(name: str, help_text: str, example: str, handler: Handler) -> argparse.ArgumentParser:
        return add_verb(sub, common, name, help_text, example, handler)

    return verb
