"""Commands on decks and cards: `decks add|list`, `cards`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, cast

from flashcore.cli.context import (
    open_collection,
    resolve_scope,
)
from flashcore.cli.output import emit_json, info, say, table
from flashcore.cli.parser import (
    MAX_ID,
    PROG,
    AddCommand,
    CliUsageError,
    Parser,
    add_verb,
    add_verbs,
    json_flag,
    needs_verb,
    scope_flags,
    whole,
)
from flashcore.cli.priority import yield_cpu
from flashcore.core.errors import PartlyLoadedError
from flashcore.core.scoped_changes import OPPOSITE
from flashcore.core.text import clip

if TYPE_CHECKING:
    from flashcore.services.decks import FileReport


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
    yield_cpu()  # bulk work: a reviewer open beside it gets the CPU first
    partly = None
    with open_collection(args) as fc:
        try:
            reports = fc.add_decks(
                args.paths, prune=args.prune, with_scheduling=args.with_scheduling,
                show_progress=not args.json and sys.stderr.isatty(),
            )  # fmt: skip
        except PartlyLoadedError as exc:
            partly, reports = exc, cast("list[FileReport]", exc.reports)
    failed = [r for r in reports if not r.ok]
    said = set() if partly is None else {partly.path, *partly.not_tried}  # in the last line
    if args.json:
        emit_json([r.to_json() for r in reports])
    else:
        for r in reports:
            if r.path in said and not r.ok:
                continue
            if r.ok:
                _say_loaded(r)
            elif len(reports) == 1 and len(r.problems) == 1:  # one line says it all
                info(f"{r.problems[0]}; nothing was loaded")
                return 1
            else:
                for problem in r.problems:
                    info(problem)
        loaded = len(reports) - len(failed)
        if partly is None and (len(reports) > 1 or failed):
            summary = f"{loaded} of {len(reports)} files loaded"
            if failed:
                summary += "; not loaded (nothing changed): " + ", ".join(r.path for r in failed)
            (info if failed else print)(summary)
    if partly is not None:  # some files loaded, then one failed: said last, as an error
        info(f"{PROG}: error: {_partly_line(partly, reports)}")
    return 1 if failed else 0


def _say_loaded(r: FileReport) -> None:
    """A loaded file's lines: its counts, what was skipped, its warnings."""
    if r.path.lower().endswith((".apkg", ".colpkg")):
        say(_package_line(r))
    else:
        line = f"{r.path}: {r.added} added, {r.updated} updated"
        if r.removed:
            line += f", {r.removed} missing from the file (suspended, kept)"
        if r.deleted:
            line += f", {r.deleted} deleted"
        say(line)
    for kind, count in sorted(r.unsupported.items()):
        say(f"  skipped {count} {kind} note{'s' if count != 1 else ''}: "
            "flashcore cannot show this kind")  # fmt: skip
    for reason, count in sorted(r.skipped.items()):
        say(f"  skipped {count} note{'s' if count != 1 else ''}: {reason}")
    if r.kept_older:
        say(f"  {r.kept_older:,} note{'s' if r.kept_older != 1 else ''} kept: the package's "
            "copy is older than the one flashcore took")  # fmt: skip
    for warning in r.warnings[:10]:
        say(f"  {warning}")
    if r.scheduling is not None:
        say(f"  {r.scheduling.line()}")
        for key, value in r.scheduling.settings.items():
            say(f"  setting {key} = {value} (from the Anki preset)")
        for warning in r.scheduling.warnings:
            say(f"  {warning}")
    for key in r.removed_keys[:20]:
        say(f"  suspended (no longer in the file): {key}")


def _partly_line(exc: PartlyLoadedError, reports: list[FileReport]) -> str:
    """`1 of 2 files loaded; b.apkg: <problem>`: files were loaded, then one failed."""
    from flashcore.cli.errors import describe

    why = describe(exc.cause).removeprefix(f"{exc.path}: ")
    line = f"{sum(r.ok for r in reports)} of {len(reports)} files loaded; {exc.path}: {why}"
    if exc.not_tried:
        line += "; not tried after it: " + ", ".join(exc.not_tried)
    return line


def _package_line(r: FileReport) -> str:
    """An Anki package's notes and media in plain words, naming only what happened:
    `notes: 35,000 unchanged; media: nothing new`, `notes: 7 added, 1 skipped; media: 1 file
    written`."""
    skipped = sum(r.skipped.values()) + sum(r.unsupported.values())
    counts = [
        (r.added, "added"), (r.updated, "updated"), (r.unchanged, "unchanged"),
        (skipped, "skipped"), (r.removed, "no longer in the package (suspended, kept)"),
        (r.deleted, "deleted"),
        (r.own_notes, "already here (flashcore's own, exported earlier)"),
        (r.kept_older, "kept (older in the package)"),
    ]  # fmt: skip
    notes = ", ".join(f"{n:,} {what}" for n, what in counts if n) or "none"
    media = "nothing new"
    if r.media_added:
        media = f"{r.media_added:,} file{'s' if r.media_added != 1 else ''} written"
    return f"{r.path}: notes: {notes}; media: {media}"


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
        return _change_cards(args)
    if args.card_ids:
        raise CliUsageError("card ids go after an action: flashcore cards suspend 12 13")
    with open_collection(args) as fc:
        resolve_scope(args, fc)
        cards = fc.cards(deck=args.deck, topic=args.topic)
        zone = fc.settings.zone
    if args.json:
        emit_json(cards)
        return 0

    def local(due: str | None) -> str:  # JSON keeps UTC ISO; the table is the student's zone
        return (
            "" if due is None else f"{datetime.fromisoformat(due).astimezone(zone):%Y-%m-%d %H:%M}"
        )

    rows = [
        (c["card_id"], c["note_key"], c["state"], local(c["due"]),
         f"{c['stability']:.1f}" if c["stability"] is not None else "-", c["reps"], c["lapses"],
         "S" if c["suspended"] else ("B" if c["buried"] else ""), clip(c["front"], 40))
        for c in cards
    ]  # fmt: skip
    headers = [
        "card_id",
        "note_key",
        "state",
        f"due ({zone.key})",
        "stab",
        "reps",
        "lapses",
        "",
        "front",
    ]
    if any(c["weakness"] for c in cards):  # why a card is weighted, when any is
        rows = [(*row, c["weakness"]) for row, c in zip(rows, cards, strict=True)]
        headers.append("weakness")
    say(table(rows, headers))
    return 0


def _change_cards(args: argparse.Namespace) -> int:
    """A verb on the listed cards, on every card of a deck and/or topic, or undoing a scoped
    change (`--last`, `--undo N`)."""
    scoped = args.deck is not None or args.topic is not None
    undo = args.last or args.undo is not None
    if undo:
        if scoped or args.card_ids or args.new or (args.last and args.undo is not None):
            raise CliUsageError(
                f"cards {args.action}: --last or --undo N goes alone (no CARD_ID, --deck, "
                "--topic or --new)"
            )
        return _undo_scoped(args)
    if scoped == bool(args.card_ids):
        raise CliUsageError(
            f"cards {args.action}: name CARD_IDs or a scope (--deck D, --topic T), not "
            + ("both" if scoped else "neither")
        )
    if args.new and not scoped:
        raise CliUsageError(f"cards {args.action}: --new goes with --deck or --topic")
    from flashcore.services.study import change_cards_in_scope, set_cards

    change = None
    marks_only: list[int] = []
    with open_collection(args) as fc:
        if scoped:
            resolve_scope(args, fc)
            result = change_cards_in_scope(
                fc, args.action, deck=args.deck, topic=args.topic, new_only=args.new
            )
            ids, change, marks_only = result.cards, result.change_id, result.marks_only
        else:
            set_cards(fc, args.action, args.card_ids)
            ids = args.card_ids
    if args.json:
        emit_json({"action": args.action, "cards": ids}
                  | ({"change": change, "marks_only": marks_only} if scoped else {}))  # fmt: skip
    elif scoped:
        scope = " and ".join(
            f"{k} {v}" for k, v in (("deck", args.deck), ("topic", args.topic)) if v
        )
        changed = len(ids) - len(marks_only)
        kind = ("new card" if args.new else "card") + ("s" if changed != 1 else "")
        n = len(marks_only)
        if changed or not ids:
            say(f"{args.action}: {changed:,} {kind} of {scope}"
                if ids else f"{args.action}: nothing to change in {scope}")  # fmt: skip
        if marks_only:
            say(f"{'  and ' if changed else f'{args.action}: '}{n:,} card{'s' if n != 1 else ''}"
                f" {'' if changed else f'of {scope} '}already {args.action}ed: "
                + _MARKS[args.action])  # fmt: skip
        if change is not None:
            say(f"  change {change}: `flashcore cards {OPPOSITE[args.action]} --last` undoes "
                "exactly these cards")  # fmt: skip
    else:
        say(f"{args.action}: {len(ids)} card{'s' if len(ids) != 1 else ''}")
    return 0


# What a scoped (un)suspend did to cards already so: it cleared their marks.
_MARKS = {
    "unsuspend": "a missed question's or a leech's mark cleared (removing that question's "
    "batch no longer suspends them)",
    "suspend": "a missed question's mark or their note's leaving's cleared (the note's return "
    "no longer unsuspends them)",
}

# Why an undo left a card, in words (core.scoped_changes.Left's values).
_LEFT = {
    "gone": "deleted since",
    "by_hand": "set by hand since",
    "later_change": "changed since by a later `--deck/--topic` change",
    "missed_question": "unsuspended since by a missed question",
    "changed": "changed since by something else (an import, a leech, a burial)",
    "leech": "suspended since as leeches",
    "note_removed": "their notes are no longer in their deck files",
    "ended": "nothing to put back: the burial is over",
}


def _undo_scoped(args: argparse.Namespace) -> int:
    from flashcore.services.card_changes import undo_scoped

    with open_collection(args) as fc:
        report = undo_scoped(fc, args.action, args.undo)
        settings = fc.settings
    if args.json:
        emit_json(report.to_json())
        return 0
    change = report.change
    n = len(report.cards)
    say(f"{args.action}: {n:,} card{'s' if n != 1 else ''} put back as before change "
        f"{change.change_id} ({change.action} of {change.scope_text()} on "
        f"{settings.local_minute(change.at)}, {len(change.cards):,} cards)")  # fmt: skip
    for why, ids in report.left.items():
        shown = " ".join(str(i) for i in ids[:10]) + (" ..." if len(ids) > 10 else "")
        say(f"  left as they are: {len(ids):,} {_LEFT[why.value]} ({shown})")
    return 0


CARD_VERBS = {
    "suspend": "keep cards out of every queue until unsuspended",
    "unsuspend": "bring suspended cards back (a leech mark goes too)",
    "bury": "keep cards out of today's queue; they come back tomorrow",
    "unbury": "bring buried cards back today",
    "flag": "mark cards to look at later (the reviewer shows the flag)",
    "unflag": "remove the mark",
}


def add_commands(add: AddCommand, common: Parser) -> None:
    """`decks` and `cards`."""
    decks = add("decks", "load deck files and list decks: add PATH... | list",
                "flashcore decks list", needs_verb)  # fmt: skip
    verb = add_verbs(decks, common)
    p = verb("add", "load deck files (.toml, Anki .txt/.csv/.tsv, or an Anki package "
             ".apkg/.colpkg); loading\nthe same files again changes nothing, and an edited file "
             "updates its notes (history kept)",
             "flashcore decks add decks/*.toml   # loads the starter decks (again: no change)\n"
             "flashcore decks add ~/Downloads/AnKing_Step1.apkg   # adds an Anki package's notes\n"
             "flashcore decks add ~/Downloads/phone.colpkg --with-scheduling   # and its history",
             cmd_decks_add)  # fmt: skip
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="deck files; decks/README.md describes the format")  # fmt: skip
    p.add_argument("--prune", action="store_true",
                   help="delete notes missing from the files, with their history (asks first)")  # fmt: skip
    p.add_argument(
        "--with-scheduling", action="store_true",
        help="Anki packages: also their card states, due dates, FSRS memory, flags, review "
        "history and preset; a package brought back again adds only the reviews since",
    )  # fmt: skip
    p.add_argument("--yes", action="store_true", help="confirm --prune without a prompt")
    json_flag(p)
    p = verb("list", "decks with today's new / learning / due counts (what `due --deck` holds)",
             "flashcore decks list --json", cmd_decks_list)  # fmt: skip
    json_flag(p)

    p = add("cards", "browse cards and their scheduling state; or change cards: "
            + " | ".join(f"{v} CARD_ID..." for v in CARD_VERBS),
            "flashcore cards --topic 'Type I' --json", cmd_cards)  # fmt: skip
    scope_flags(p)
    json_flag(p)
    p.set_defaults(action=None, card_ids=[])
    sub = p.add_subparsers(dest="action", metavar="VERB", title="verbs")
    for name, what in CARD_VERBS.items():
        v = add_verb(sub, common, name, what + "; the listed cards, or every card of a deck/topic",
                     f"flashcore cards {name} 101 102   # {name[:-1] + 'ies' if name.endswith('ry') else name + 's'} cards 101 and 102 "
                     "(ids from `flashcore cards` or `due`)\n"
                     f"flashcore cards {name} --deck Microbiology --new   # every card of the "
                     "deck never studied\n"
                     f"flashcore cards {name} --last   # undoes the newest `cards "
                     f"{OPPOSITE[name]} --deck/--topic`", cmd_cards)  # fmt: skip
        v.add_argument("card_ids", nargs="*", type=whole(1, MAX_ID, "a card id"),
                       metavar="CARD_ID", help="the cards' ids (see `flashcore cards`)")  # fmt: skip
        scope_flags(v, default=argparse.SUPPRESS)
        v.add_argument("--new", action="store_true",
                       help="with --deck/--topic: only the cards never studied")  # fmt: skip
        undone = OPPOSITE[name]
        v.add_argument("--last", action="store_true",
                       help=f"undo the newest `cards {undone} --deck/--topic`: exactly the cards "
                       "it changed, but those changed since by hand, by a later scoped change "
                       "or otherwise (they are listed)")  # fmt: skip
        v.add_argument("--undo", type=whole(1, MAX_ID, "a change number"), metavar="N",
                       help=f"undo scoped change N (the number `cards {undone} --deck D` "
                       "printed) as --last does")  # fmt: skip
        json_flag(v)
