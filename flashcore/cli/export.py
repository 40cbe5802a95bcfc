"""`export anki`: an Anki package that real Anki imports and updates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from flashcore.cli.context import (
    open_collection,
    resolve_scope,
)
from flashcore.cli.output import emit_json, say
from flashcore.cli.parser import (
    AddCommand,
    Parser,
    json_flag,
    needs_verb,
)

if TYPE_CHECKING:
    pass


def cmd_export_anki(args: argparse.Namespace) -> int:
    from flashcore.services.export import export_anki

    with open_collection(args) as fc:
        resolve_scope(args, fc)
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


def add_commands(add: AddCommand, common: Parser) -> None:
    """`export`."""
    export = add("export", "export cards: anki", "flashcore export anki -o step1.apkg", needs_verb)
    esub = export.add_subparsers(dest="verb", metavar="FORMAT")
    p = esub.add_parser("anki", help="an Anki package (.apkg) that real Anki imports and updates",
                        parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="example:\n  flashcore export anki -o step1.apkg --with-scheduling")  # fmt: skip
    p.add_argument("-o", "--output", required=True, metavar="FILE.apkg")
    p.add_argument("--deck")
    p.add_argument("--topic")
    p.add_argument("--with-scheduling", action="store_true",
                   help="carry FSRS state and review history (for a new phone or profile)")  # fmt: skip
    json_flag(p)
    p.set_defaults(handler=cmd_export_anki)
