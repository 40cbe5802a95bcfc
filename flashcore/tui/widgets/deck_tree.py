"""Decks as a tree: `Step 1::Immunology` nests under `Step 1`; the root is every deck.

Each node carries the deck name to study (`None` at the root: all decks) and the counts of its
study queue (new, learning, reviews due: what `flashcore due --deck NAME` holds, so the root
equals Home's Today panel). Labels are `Text`, so deck names are never markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from flashcore.tui.widgets.card_text import clean

NAME_COLUMN = 16  # where the counts start at the least (guides and icon included)
MAX_NAME_COLUMN = 56
CELLS = (5, 6, 5)  # new, learn, due: right-aligned, a space before each name in the header
COUNTS = sum(CELLS)
SCROLLBAR = 2  # kept free on the right: the counts never sit under the scrollbar
GUIDE = 4
ICON = 2
COUNT_STYLES = ("blue", "red", "green")


class DeckCounts(Protocol):
    """What the tree needs of a deck (`services.decks.DeckSummary` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def new(self) -> int: ...
    @property
    def learning(self) -> int: ...
    @property
    def due(self) -> int: ...


@dataclass(slots=True)
class DeckNode:
    name: str
    path: str | None
    new: int = 0
    learning: int = 0
    due: int = 0
    children: dict[str, DeckNode] = field(default_factory=dict)


NodeCounts = Mapping[str | None, tuple[int, int, int]]


def _parts(name: str) -> list[str]:
    return [p.strip() for p in name.split("::") if p.strip()] or [name]


def node_paths(names: Iterable[str]) -> list[str]:
    """The path of every node under the root of the decks named `names`, in tree order."""
    paths: dict[str, None] = {}
    for name in names:
        parts = _parts(name)
        for depth in range(len(parts)):
            paths.setdefault("::".join(parts[: depth + 1]), None)
    return list(paths)


def deck_hierarchy(
    decks: Iterable[DeckCounts], root_name: str = "All decks", counts: NodeCounts | None = None
) -> DeckNode:
    """Nest decks by `::`. With `counts` (new, learning, due by node path, None for the root:
    the numbers of each node's own study queue, limits applied) every node shows those; without,
    every node sums the counts below it."""
    root = DeckNode(root_name, None)
    nodes = [root]
    for deck in decks:
        parts = _parts(deck.name)
        node = root
        node.new += deck.new
        node.learning += deck.learning
        node.due += deck.due
        for depth, part in enumerate(parts):
            path = "::".join(parts[: depth + 1])
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = DeckNode(part, path)
                nodes.append(child)
            child.new += deck.new
            child.learning += deck.learning
            child.due += deck.due
            node = child
    if counts is not None:
        for node in nodes:
            node.new, node.learning, node.due = counts.get(node.path, (0, 0, 0))
    return root


def node_label(
    node: DeckNode, depth: int, cap_new: int | None = None, column: int = NAME_COLUMN
) -> Text:
    """Name padded so the counts line up whatever the depth (a branch's icon takes 2 cells)."""
    width = max(6, column - GUIDE * depth - (ICON if node.children else 0))
    name = clean(node.name).replace("\n", " ")
    if len(name) > width:
        name = name[: width - 1] + "…"
    label = Text(name.ljust(width), style="bold" if node.path is None else "")
    new = node.new if cap_new is None else min(node.new, cap_new)
    values = (new, node.learning, node.due)
    for value, cells, style in zip(values, CELLS, COUNT_STYLES, strict=True):
        label.append(f"{value:>{cells}}", style=style if value else "dim")
    return label


class DeckTree(Tree[str | None]):
    """The deck tree; a node's data is the deck name to study (None at the root: all decks).
    `show_decks` replaces its contents. New counts are capped at the new cards still allowed today."""

    DEFAULT_CSS = """
    DeckTree {
        width: 1fr;
        height: 1fr;
    }
    """

    class ColumnsMoved(Message):
        """The counts moved (the tree was resized): `header` lines up with them."""

        def __init__(self, header: str) -> None:
            self.header = header
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("All decks"), data=None, id=id)
        self.guide_depth = GUIDE
        self._cap: int | None = None
        self._column = NAME_COLUMN
        self._labelled: list[tuple[TreeNode[str | None], DeckNode, int]] = []

    def show_decks(
        self,
        decks: Iterable[DeckCounts],
        *,
        new_limit: int | None = None,
        counts: NodeCounts | None = None,
    ) -> None:
        """With `counts` (each node's own queue: see `deck_hierarchy`) the tree shows them as
        they are; without, sums capped at `new_limit` new cards."""
        self._cap = None if counts is not None else new_limit
        hierarchy = deck_hierarchy(decks, counts=counts)
        self.clear()
        self.root.data = None
        self._labelled = [(self.root, hierarchy, 0)]
        self._add_deck_nodes(self.root, hierarchy, 1)
        self._relabel()
        self.root.expand()

    def _add_deck_nodes(self, parent: TreeNode[str | None], node: DeckNode, depth: int) -> None:
        for child in node.children.values():
            if child.children:
                branch = parent.add(Text(child.name), data=child.path, expand=True)
                self._labelled.append((branch, child, depth))
                self._add_deck_nodes(branch, child, depth + 1)
            else:
                leaf = parent.add_leaf(Text(child.name), data=child.path)
                self._labelled.append((leaf, child, depth))

    def _relabel(self) -> None:
        for tree_node, deck_node, depth in self._labelled:
            tree_node.set_label(node_label(deck_node, depth, self._cap, self._column))

    def header(self, indent: int = 1) -> str:
        """`Decks` and the counts' names, each above its column, for a title that starts
        `indent` cells right of the tree's first cell (a panel's border title: 1)."""
        names = ("new", "learn", "due")
        return "Decks".ljust(self._column - indent) + "".join(
            f"{name:>{cells}}" for name, cells in zip(names, CELLS, strict=True)
        )

    def on_resize(self) -> None:
        """Wider panel, longer names: the counts column moves with the width."""
        column = max(NAME_COLUMN, min(MAX_NAME_COLUMN, self.size.width - COUNTS - SCROLLBAR))
        if column != self._column:
            self._column = column
            self._relabel()
            self.post_message(self.ColumnsMoved(self.header()))
