"""What each screen and command shows, read through the code behind it: the scenario compares
these numbers with one another every day. Counts are (new, learning, review) triples."""

from __future__ import annotations

from typing import Any

Counts = tuple[int, int, int]


def due(fc: Any, *, deck: str | None = None, topic: str | None = None) -> Counts:
    """`flashcore due [--deck D] [--topic T]` (and the reviewer's header at its start)."""
    from flashcore.services.study import build_queue

    q = build_queue(fc, deck=deck, topic=topic, limit=0, details=False)
    return (q.new, q.learning, q.review)


def home(fc: Any) -> tuple[Counts, dict[str | None, Counts]]:
    """Home: the Today panel's counts and every deck-tree node's (None: the root), as the
    tree widget labels them."""
    from flashcore.tui.context import Context
    from flashcore.tui.screens.home import load_home
    from flashcore.tui.widgets.deck_tree import deck_hierarchy

    data = load_home(Context(fc))
    out: dict[str | None, Counts] = {}
    stack = [deck_hierarchy(data.decks, counts=data.tree)]
    while stack:
        node = stack.pop()
        out[node.path] = (node.new, node.learning, node.due)
        stack.extend(node.children.values())
    return (data.new, data.learning, data.review), out


def decks_list(fc: Any) -> dict[str, Counts]:
    """`flashcore decks list --json`."""
    return {d.name: (d.new, d.learning, d.due) for d in fc.list_decks()}


def stats_today(fc: Any) -> Counts:
    """`flashcore stats --json`: what is left to study today."""
    from flashcore.services.stats import stats

    q = stats(fc)["queue"]["today"]
    return (q["new"], q["learning"], q["review"])


def stats_tomorrow(fc: Any) -> Counts:
    from flashcore.services.stats import stats

    q = stats(fc)["queue"]["tomorrow"]
    return (q["new"], q["learning"], q["review"])


def session_end(fc: Any, *, deck: str | None = None, topic: str | None = None) -> Counts:
    """The session end's "Due tomorrow" (and the reviewer's "All done" line)."""
    from flashcore.tui.context import Context
    from flashcore.tui.screens.session_end import load_outlook

    t = load_outlook(Context(fc), deck=deck, topic=topic)["tomorrow"]
    return (t.new, t.learning, t.review)


def weakness_due(fc: Any) -> dict[str, int]:
    """`flashcore weakness --json`: each weak topic's due cards."""
    from flashcore.services.weakness import report_rows

    return {row["topic"]: row["due"] for row in report_rows(fc)}
