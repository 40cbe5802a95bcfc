"""The card on the review screen: one widget that draws the card's lines (its deck line, the
front, the answer under a rule, the extra, or a notice instead), and scrolls when they do not
fit.

Its size never depends on its text. A new card or the answer shown repaints this widget and
nothing else: the screen's layout is not computed again. (Five widgets shown, hidden and
resized with each card made every card and every reveal a layout of the whole screen, most of
the reviewer's CPU per key; issue 19.) Only a card longer than the pane changes its scrolling
height, which lays the screen out once.

The lines are drawn as the widgets drew them: a card side wraps (folding a long word) at the
pane's width; the deck line is one line followed by a blank one; the answer follows a blank
line, a rule (`$primary-darken-1`) and a blank line; the extra follows a blank line, muted.
Texts come from `widgets.card_text` (never markup).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual, visualize

from flashcore.tui.widgets.card_text import same_text

FITS = 1  # the scrolling height of a card that fits (see CardPane._rebuild)
RULE = "─"  # the answer's rule: a solid top border, as the answer's widget had


@dataclass(frozen=True, slots=True)
class CardLines:
    """What the pane shows: a card (`meta` and `front`, with `back` under a rule and `extra`
    once revealed), or a `notice` alone. None: that part is not shown."""

    meta: Text | None = None
    front: Text | None = None
    back: Text | None = None
    extra: Text | None = None
    notice: Text | None = None


def same_lines(a: CardLines | None, b: CardLines) -> bool:
    """Whether `a` draws exactly what `b` draws."""
    if a is None:
        return False
    for mine, theirs in zip(
        (a.meta, a.front, a.back, a.extra, a.notice),
        (b.meta, b.front, b.back, b.extra, b.notice),
        strict=True,
    ):
        if (mine is None) != (theirs is None):
            return False
        if mine is not None and theirs is not None and not same_text(mine, theirs):
            return False
    return True


class CardPane(ScrollView, can_focus=True):
    """The card's lines in one scrolling widget of a fixed size (see the module's doc)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"card-pane--extra", "card-pane--rule"}

    DEFAULT_CSS = """
    CardPane {
        overflow-x: hidden;
        overflow-y: auto;
        text-wrap: wrap;
        text-overflow: fold;
    }
    CardPane > .card-pane--extra {
        color: $text-muted;
    }
    CardPane > .card-pane--rule {
        color: $primary-darken-1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown = CardLines()
        self._strips: list[Strip] = []
        self._wrapped: dict[int, list[Strip]] = {}  # the lines at each width, for `_shown`
        # each text's lines at a width in a role, kept while the card shows it (the front's
        # lines serve again when the answer is shown)
        self._sections: dict[tuple[int, int, str], tuple[Text, list[Strip], int]] = {}
        self._wrapped_at = 0  # the width the strips were wrapped at

    @property
    def lines(self) -> CardLines:
        """What the pane shows."""
        return self._shown

    @property
    def line_count(self) -> int:
        """How many lines the card takes at the pane's width (more than its height: it scrolls)."""
        return len(self._strips)

    @property
    def drawn(self) -> list[str]:
        """Each line as drawn at the pane's width, as plain characters (what the reader sees)."""
        return [strip.text for strip in self._strips]

    def show(self, lines: CardLines) -> None:
        """Show `lines` (their texts already safe). The same lines again change nothing."""
        if same_lines(self._shown, lines):
            return
        self._shown = lines
        self._wrapped = {}
        self._rebuild()

    def on_resize(self) -> None:
        self._rebuild()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._wrapped, self._sections = {}, {}  # a theme's colours: drawn again at next paint

    def _rebuild(self) -> None:
        """The strips at the pane's size, and the scrolling size they take: while the card
        fits, one line (any height up to the pane's would do: one that depends neither on the
        card nor on the pane's height keeps the screen's layout as it is), else the card's
        lines beside a scrollbar."""
        if not self.is_mounted:
            return
        width, height = self.content_region.size  # without a scrollbar
        if width <= 0 or height <= 0:
            return
        strips = self._wrap(width)  # a new height alone (the why line's) wraps nothing again
        virtual = Size(width, FITS)
        if len(strips) > height:
            narrower = max(1, width - self.styles.scrollbar_size_vertical)
            strips = self._wrap(narrower)
            virtual = Size(narrower, len(strips))
        if strips is self._strips and self.virtual_size == virtual:
            return
        previous, wrapped_at = self._strips, self._wrapped_at
        self._strips, self._wrapped_at = strips, virtual.width
        if self.virtual_size != virtual:
            self.virtual_size = virtual  # a long card: its scrolling height (one layout)
            self.refresh()
        elif wrapped_at != virtual.width:
            self.refresh()
        else:
            self._refresh_changed(previous, height)

    def _refresh_changed(self, previous: list[Strip], height: int) -> None:
        """Repaint only the rows on screen that changed (the front stays when the answer is
        shown; the blank rows under a card stay blank)."""
        top = self.scroll_offset.y
        width = self.scrollable_content_region.width
        strips = self._strips
        start: int | None = None
        for y in range(height + 1):
            index = top + y
            old = previous[index] if index < len(previous) else None
            new = strips[index] if index < len(strips) else None
            if y < height and old != new:
                if start is None:
                    start = y
            elif start is not None:
                self.refresh(Region(0, start, width, y - start))
                start = None

    def _inner(self) -> RichStyle:
        """The style Textual gives the blank cells of a widget's content (its background)."""
        base_background, background = self.background_colors
        return Style(background=base_background + background).rich_style

    def _wrap(self, width: int) -> list[Strip]:
        strips = self._wrapped.get(width)
        if strips is None:
            strips = self._wrapped[width] = self._build(width)
        return strips

    def _build(self, width: int) -> list[Strip]:
        base = self.visual_style
        blank = Strip.blank(width, self._inner())
        strips: list[Strip] = []
        shown = self._shown
        sections, kept = self._sections, {}

        def add(text: Text, style: Style = base, limit: int | None = None) -> None:
            key = (id(text), width, "meta" if limit else "extra" if style is not base else "")
            hit = sections.get(key)
            if hit is not None and hit[0] is text:
                _, drawn, count = hit
            else:
                visual = visualize(self, text, markup=False)
                count = visual.get_height(self.styles, width)
                if limit is not None:
                    count = min(count, limit)
                drawn = Visual.to_strips(self, visual, width, count, style)[:count]
            kept[key] = (text, drawn, count)
            # Text selection counts in the lines drawn: (column, line), as `drawn` reads them.
            top = len(strips)
            strips.extend(strip.apply_offsets(0, top + y) for y, strip in enumerate(drawn))
            strips.extend([blank] * (count - len(drawn)))

        if shown.notice is not None:
            add(shown.notice)
        if shown.meta is not None:
            add(shown.meta, limit=1)
            strips.append(blank)  # the deck line's margin
        if shown.front is not None:
            add(shown.front)
        if shown.back is not None:
            rule = self.get_visual_style("card-pane--rule")
            strips.append(blank)  # the answer's margin, its rule and the padding under it
            strips.append(Strip([Segment(RULE * width, rule.rich_style)], width))
            strips.append(blank)
            add(shown.back)
        if shown.extra is not None:
            strips.append(blank)  # the extra's margin
            add(shown.extra, self.get_visual_style("card-pane--extra"))
        self._sections = {**self._sections, **kept} if len(self._sections) < 16 else kept
        return strips

    def render_line(self, y: int) -> Strip:
        self._rebuild()
        index = self.scroll_offset.y + y
        if 0 <= index < len(self._strips):
            strip = self._strips[index]  # cut or filled to the width by Textual, as a Static's
            selection = self.text_selection
            if selection is not None and (span := selection.get_span(index)) is not None:
                strip = self._selected(strip, *span)
            return strip
        return Strip.blank(self.scrollable_content_region.width, self._inner())

    # Text selection (the mouse, then copy): what the card's widgets gave, over its lines.

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        # the rule is a border, not text: it copies as an empty line
        lines = ["" if set(line) == {RULE} else line.rstrip() for line in self.drawn]
        return selection.extract("\n".join(lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def _selected(self, strip: Strip, start: int, end: int) -> Strip:
        length = strip.cell_length
        end = length if end == -1 else min(end, length)
        if start >= end:
            return strip
        style = self.screen.get_component_rich_style("screen--selection")
        middle = Strip(
            [
                Segment(text, base + style if base else style)
                for text, base, _ in strip.crop(start, end)
            ]
        )
        return Strip.join([strip.crop(0, start), middle, strip.crop(end, length)])
