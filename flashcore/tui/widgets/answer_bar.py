"""The line under the card: a prompt ("Space / Enter  show answer", "saving…") or the four
answer buttons, each with the interval it leads to (`Good · 4d`).

One widget of one line whose content changes, never its size: the prompt and the buttons take
turns without a layout of the screen (issue 19: showing and hiding a prompt widget and a bar of
four `Button`s made every card and every reveal a layout). The buttons are drawn as Textual's
compact buttons of the same variants were (Again red, Hard amber, Good green, Easy blue; their
hover colours too), sharing the line in equal parts with a column between them.

Attributes down, messages up: the screen calls `show_prompt` / `show_outcomes`; a click on a
button posts `AnswerBar.Chosen`. The bar never takes focus, so Space and Enter stay with the
screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.content import Content
from textual.message import Message
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual, visualize
from textual.widget import Widget

from flashcore.core.model import Rating
from flashcore.tui.widgets.card_text import same_text

NAMES = {
    Rating.AGAIN: "again",
    Rating.HARD: "hard",
    Rating.GOOD: "good",
    Rating.EASY: "easy",
}
MIN_BUTTON = 6  # cells: a button is never narrower
GAP = 1  # cells after each button
LINE_PAD = 1  # cells each side of a label
BUTTON_RULES = {
    "text_align": "center",
    "line_pad": LINE_PAD,
    "text_wrap": "wrap",
    "text_overflow": "fold",
}


def button_label(rating: Rating, interval: str | None) -> Text:
    label = Text(f"{int(rating)} ", style="dim")
    label.append(rating.label)
    if interval:
        label.append(f" · {interval}")
    return label


def fit_labels(intervals: Mapping[Rating, str | None], cells: int) -> dict[Rating, Text]:
    """The four labels in buttons `cells` wide, in one form: `3 Good · 10m`, or, where one
    does not fit, the first shorter form in which all do, keeping the key and the interval
    (what the answer does) over the name: `3 Good 10m`, `3 · 10m`, `3 10m`, `10m`. (A label
    that wrapped lost its second line: the interval.)"""
    forms = (
        lambda r, i: (f"{int(r)} ", f"{r.label} · {i}"),
        lambda r, i: (f"{int(r)} ", f"{r.label} {i}"),
        lambda r, i: (f"{int(r)} ", f"· {i}"),
        lambda r, i: (f"{int(r)} ", i),
        lambda r, i: ("", i),
    )
    labels: dict[Rating, Text] = {}
    for form in forms:
        labels = {}
        for rating in Rating:
            interval = intervals.get(rating)
            if not interval:
                labels[rating] = button_label(rating, None)
                continue
            key, text = form(rating, interval)
            labels[rating] = Text(key, style="dim")
            labels[rating].append(text)
        if all(label.cell_len <= cells for label in labels.values()):
            break
    return labels


def button_spans(width: int, count: int = len(NAMES)) -> list[tuple[int, int]]:
    """(start, width) of each button across `width` cells: equal shares of the line less a gap
    after each, rounded as Textual lays out `1fr` widths."""
    share = max(Fraction(MIN_BUTTON), Fraction(width - GAP * count, count))
    spans = []
    x = Fraction(0)
    for _ in range(count):
        start, end = int(x), int(x + share)
        spans.append((start, end - start))
        x += share + GAP
    return spans


class AnswerBar(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"answer-bar--{name}" for name in NAMES.values()),
        *(f"answer-bar--{name}-hover" for name in NAMES.values()),
    }

    DEFAULT_CSS = """
    AnswerBar {
        height: 1;
        width: 1fr;
        content-align: center middle;
    }
    AnswerBar > .answer-bar--again, AnswerBar > .answer-bar--hard,
    AnswerBar > .answer-bar--good, AnswerBar > .answer-bar--easy {
        color: $button-color-foreground;
        text-style: bold;
    }
    AnswerBar > .answer-bar--again { background: $error; }
    AnswerBar > .answer-bar--hard { background: $warning; }
    AnswerBar > .answer-bar--good { background: $success; }
    AnswerBar > .answer-bar--easy { background: $primary; }
    AnswerBar > .answer-bar--again-hover { background: $error-darken-1; }
    AnswerBar > .answer-bar--hard-hover { background: $warning-darken-2; }
    AnswerBar > .answer-bar--good-hover { background: $success-darken-2; }
    AnswerBar > .answer-bar--easy-hover { background: $primary-darken-2; }
    """

    class Chosen(Message):
        """The student clicked a button."""

        def __init__(self, rating: Rating) -> None:
            self.rating = rating
            super().__init__()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.can_focus = False
        self._prompt: Text | None = Text()  # None: the buttons are shown
        self._labels: dict[Rating, Text] = {r: button_label(r, None) for r in Rating}
        self._intervals: dict[Rating, str | None] = {}
        self._hover: Rating | None = None
        self._strip: Strip | None = None
        self._strip_key: tuple[int, Rating | None] | None = None

    # ------------------------------------------------------------ what the screen sets

    @property
    def buttons_shown(self) -> bool:
        return self._prompt is None

    @property
    def prompt(self) -> Text | None:
        """The prompt shown, or None while the buttons are."""
        return self._prompt

    @property
    def labels(self) -> dict[Rating, Text]:
        """Each button's label (what it shows once the buttons are shown)."""
        return dict(self._labels)

    def show_prompt(self, text: Text) -> None:
        """One line of `text`, centred, in place of the buttons (an empty Text: nothing)."""
        if self._prompt is not None and same_text(self._prompt, text):
            return
        self._prompt = text
        self._changed()

    def show_outcomes(self, intervals: Mapping[Rating, str]) -> None:
        """The four buttons, labelled with the intervals each answer leads to."""
        labels = {r: button_label(r, intervals.get(r)) for r in Rating}
        if self._prompt is None and all(same_text(self._labels[r], labels[r]) for r in Rating):
            return
        self._labels = labels
        self._intervals = {r: intervals.get(r) for r in Rating}
        self._prompt = None
        self._changed()

    def _changed(self) -> None:
        self._strip = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strip = None

    # ------------------------------------------------------------ mouse

    def _button_at(self, x: int) -> Rating | None:
        if self._prompt is not None:
            return None
        x -= self.styles.gutter.left
        for rating, (start, width) in zip(
            Rating, button_spans(self.content_region.width), strict=True
        ):
            if start <= x < start + width:
                return rating
        return None

    def button_span(self, rating: Rating) -> tuple[int, int]:
        """(start, width) of `rating`'s button in the bar's content."""
        return button_spans(self.content_region.width)[list(Rating).index(rating)]

    def button_offset(self, rating: Rating) -> int:
        """The column of `rating`'s button's middle, from the bar's left edge (a click there
        chooses it)."""
        start, width = button_spans(self.content_region.width)[list(Rating).index(rating)]
        return self.styles.gutter.left + start + width // 2

    def on_click(self, event: events.Click) -> None:
        event.stop()
        rating = self._button_at(event.x)
        if rating is not None:
            self.post_message(self.Chosen(rating))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._button_at(event.x))

    def on_leave(self) -> None:
        self._set_hover(None)

    def _set_hover(self, rating: Rating | None) -> None:
        if rating != self._hover:
            self._hover = rating
            if self._prompt is None:
                self._changed()

    # ------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        width = self.content_region.width
        style = self.visual_style
        if y != 0 or width <= 0:
            return Strip.blank(width, style.rich_style)
        key = (width, self._hover)
        if self._strip is None or self._strip_key != key:
            self._strip = self._draw(width)
            self._strip_key = key
        return self._strip

    def _draw(self, width: int) -> Strip:
        if self._prompt is not None:
            visual = visualize(self, self._prompt, markup=False)
            strips = Visual.to_strips(self, visual, width, 1, self.visual_style)
            return strips[0] if strips else Strip.blank(width, self.visual_style.rich_style)
        base_background, background = self.background_colors
        gap = Style(background=base_background + background).rich_style  # as a container's
        parts: list[Strip] = []
        x = 0
        spans = button_spans(width)
        labels = fit_labels(self._intervals, min(cells for _, cells in spans) - 2 * LINE_PAD)
        for rating, (start, cells) in zip(Rating, spans, strict=True):
            if start > x:
                parts.append(Strip.blank(start - x, gap))
            parts.append(self._button(rating, cells, labels[rating]))
            x = start + cells
        if x < width:
            parts.append(Strip.blank(width - x, gap))
        return Strip.join(parts).crop(0, width)

    def _button(self, rating: Rating, width: int, text: Text) -> Strip:
        name = NAMES[rating]
        classes = [f"answer-bar--{name}"]
        if rating == self._hover:
            classes.append(f"answer-bar--{name}-hover")
        style = self.get_visual_style(*classes)
        label = Content.from_rich_text(text, console=self.app.console)
        rendered = label.render_strips(
            width, 1, style, RenderOptions(self._get_style, BUTTON_RULES)
        )
        rich_style = (style + Style(reverse=False)).rich_style  # as Visual.to_strips pads
        line = rendered[0] if rendered else Strip.blank(0, rich_style)
        return next(iter(Strip.align([line], rich_style, width, 1, "center", "middle")))
