"""`weakness`: topics ranked by exam points at risk, with why."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from flashcore.cli.context import (
    checked_file,
    make_clock,
    open_collection,
    read_light,
    selected_profile,
)
from flashcore.cli.output import emit_json, say, table
from flashcore.cli.parser import (
    AddCommand,
    json_flag,
    whole,
)

if TYPE_CHECKING:
    from typing import Any


def cmd_weakness(args: argparse.Namespace) -> int:
    from flashcore.core.leech import listed
    from flashcore.core.weakness import misses_text

    found = _report(args)
    rows, gaps = found["topics"], found["gaps"]
    if args.limit is not None:
        rows = rows[: args.limit]
    shown = {r["topic"] for r in rows}
    leeches = [x for x in found["leeches"] if x["topic"] in shown]
    if args.json:
        emit_json({"topics": rows, "gaps": gaps, "leeches": leeches})
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
    if leeches:
        say("")
        say("leeches in your weakest topics: rewrite each (split it, add a mnemonic), then run "
            "the command (a suspended one comes back, the mark goes)")  # fmt: skip
        for x in leeches:
            say(f"  {listed(x['card_id'], x['lapses'], x['suspended'])} — {x['topic']}")
            say(f"    {x['command']}")
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


def _report(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """The report: read with the SQLite driver alone where the kept scores answer it
    (`services.weakness_light`: no SQLAlchemy loaded), else through the opened collection."""
    path = checked_file(args)
    if path is not None:
        from flashcore.services import weakness_light

        found = weakness_light.report(path, selected_profile(args), make_clock().now())
        if found is not None:
            read_light(path)
            return found
    from flashcore.services.weakness import report

    with open_collection(args, checked=path is not None) as fc:
        return report(fc)


def add_commands(add: AddCommand) -> None:
    """`weakness`."""
    p = add("weakness", "topics ranked by exam points at risk, with why",
            "flashcore weakness --limit 10", cmd_weakness)  # fmt: skip
    p.add_argument("--limit", type=whole(1, 1_000_000), metavar="N",
                   help="at most N topics (N >= 1)")  # fmt: skip
    json_flag(p)
