"""What each screen and command shows, read through the code behind it: the scenario compares
these numbers with one another every day. Counts are (new, learning, review) triples; a surface
that shows only a total of due cards gives (None, None, total)."""

from __future__ import annotations

from typing import Any

Counts = tuple[int | None, int | None, int]


def due(fc: Any, *, deck: str | None = None, topic: str | None = None) -> Counts:
    """`flashcore due [--deck D] [--topic T]` (and the reviewer's header at its start)."""
    from flashcore.services.study import build_queue

    q = build_queue(fc, deck=deck, topic=topic, limit=0, details=False)
    return (q.new, q.learning, q.review)


def home(fc: Any) -> tuple[Counts, dict[str | None, Counts]]:
    """Home: the Today panel's counts and every deck-tree node's (None: the root)."""
    from flashcore.tui.context import Context
    from flashcore.tui.screens.home import load_home
    from flashcore.tui.widgets.deck_tree import deck_hierarchy

    data = load_home(Context(fc))
    cap = max(0, fc.settings.new_per_day - int(data.today["new"]))
    out: dict[str | None, Counts] = {}
    stack = [deck_hierarchy(data.decks)]
    while stack:
        node = stack.pop()
        out[node.path] = (min(node.new, cap), node.learning, node.due)
        stack.extend(node.children.values())
    return (data.new, data.learning, data.review), out


def decks_list(fc: Any) -> dict[str, Counts]:
    """`flashcore decks list --json`."""
    return {d.name: (d.new, d.learning, d.due) for d in fc.list_decks()}


def stats_today(fc: Any) -> Counts:
    """`flashcore stats --json`: what is due today."""
    from flashcore.services.stats import stats

    return (None, None, stats(fc)["forecast"][0]["due"])


def session_end(fc: Any, *, deck: str | None = None, topic: str | None = None) -> Counts:
    """The session end's "Due tomorrow" (and the reviewer's "All done" line)."""
    from flashcore.tui.context import Context
    from flashcore.tui.screens.session_end import load_outlook

    return (None, None, load_outlook(Context(fc))["tomorrow"])


def weakness_due(fc: Any) -> dict[str, int]:
    """`flashcore weakness --json`: each weak topic's due cards."""
    from flashcore.services.weakness import report_rows

    return {row["topic"]: row["due"] for row in report_rows(fc)}
