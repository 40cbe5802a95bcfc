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
from flashcore.cli.output import emit_json, info, say
from flashcore.cli.parser import (
    AddCommand,
    Parser,
    add_verb,
    json_flag,
    needs_verb,
    scope_flags,
)

if TYPE_CHECKING:
    pass


WITH_SCHEDULING_NOTE = (
    "note: Anki keeps the FSRS memory states (stability, difficulty) but uses them only once "
    "FSRS is switched on in the target profile (the FSRS switch in its deck options); until "
    "then it schedules these cards by their due dates and intervals with its older algorithm"
)


FROM_PACKAGES_NOTE = (
    "note: {n} of these notes came from Anki packages and go out in flashcore's note types: a "
    "new phone or a fresh Anki profile takes them whole, but the Anki collection they came "
    "from keeps its own notes and scheduling (its import lists them as conflicting: another "
    "note type); to bring that collection's reviews here, export it from Anki and run "
    "`flashcore decks add THAT.apkg --with-scheduling`"
)


def cmd_export_anki(args: argparse.Namespace) -> int:
    from flashcore.services.export import export_anki

    with open_collection(args) as fc:
        resolve_scope(args, fc)
        summary = export_anki(fc, Path(args.output), deck=args.deck, topic=args.topic,
                              with_scheduling=args.with_scheduling,
                              show_progress=not args.json and sys.stderr.isatty())  # fmt: skip
    if args.json:
        emit_json({"path": str(summary.path), "notes": summary.notes, "cards": summary.cards,
                   "bytes": summary.bytes, "from_packages": summary.from_packages})  # fmt: skip
    else:
        say(f"wrote {summary.path}: {summary.notes} notes, {summary.cards} cards, "
              f"{summary.bytes / 1_000_000:.1f} MB")  # fmt: skip
    if args.with_scheduling:
        info(WITH_SCHEDULING_NOTE)
    if summary.from_packages:
        info(FROM_PACKAGES_NOTE.format(n=summary.from_packages))
    return 0


def add_commands(add: AddCommand, common: Parser) -> None:
    """`export`."""
    export = add("export", "export cards: anki", "flashcore export anki -o step1.apkg", needs_verb)
    esub = export.add_subparsers(dest="verb", metavar="FORMAT", title="formats")
    p = add_verb(esub, common, "anki",
                 "an Anki package (.apkg) that real Anki imports and updates (notes matched by "
                 "GUID);\ntopics become tags under flashcore:: and question ids stay tags of their "
                 "own",
                 "flashcore export anki -o step1.apkg --deck Immunology\n"
                 "flashcore export anki -o step1.apkg --with-scheduling   # with your FSRS "
                 "progress", cmd_export_anki)  # fmt: skip
    p.add_argument("-o", "--output", required=True, metavar="FILE.apkg",
                   help="the package to write (replaced when it exists)")  # fmt: skip
    scope_flags(p)
    p.add_argument("--with-scheduling", action="store_true",
                   help="carry FSRS state and review history (for a new phone or profile); "
                   "Anki uses the memory states only once FSRS is switched on in the target "
                   "profile's deck options")  # fmt: skip
    json_flag(p)
