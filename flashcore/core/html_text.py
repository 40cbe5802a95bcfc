"""Card HTML (Anki fields, TOML decks with `html = true`) as text for a terminal. Pure.

What a terminal can show is kept: bold, italics and underline (as styles), line breaks,
paragraphs and blocks, bulleted and numbered lists, sub- and superscripts (as Unicode
sub/superscript characters where all exist, else `_(...)` and `^(...)`), simple tables (one
line per row, cells split by ` | `), horizontal rules, and the character entities. Images become
a visible `[image: name]`. Scripts, styles and every other tag disappear with their markup
only, never run: the result is plain characters, which the edges still pass through `inert` or
the reviewer's cleaning, so hostile HTML stays inert.

Styles cross the cloze renderer inside the text as private-use characters (`MARK_BASE` plus
the style's bits, each mark giving the whole style from there on), so a deletion that starts
inside `<b>` keeps its bold; `split_marks` turns marked text into styled runs and
`strip_marks` drops them for plain output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntFlag
from html.parser import HTMLParser
from urllib.parse import unquote


class Style(IntFlag):
    PLAIN = 0
    BOLD = 1
    ITALIC = 2
    UNDERLINE = 4
    IMAGE = 8  # the `[image: name]` placeholder


MARK_BASE = 0xE000
_MARKS = re.compile("[\ue000-\ue00f]")
_SPACE = re.compile(r"[ \t\r\n\f]+")
_STYLE_TAGS = {
    "b": Style.BOLD,
    "strong": Style.BOLD,
    "i": Style.ITALIC,
    "em": Style.ITALIC,
    "u": Style.UNDERLINE,
    "ins": Style.UNDERLINE,
}
_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "blockquote", "pre", "center",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "dt", "dd", "table", "figure",
}  # fmt: skip
_HIDDEN = {"script", "style", "head", "title", "template", "noscript", "iframe", "object"}
_VOID = {"br", "img", "hr", "wbr", "input", "meta", "link", "area", "source", "col", "embed"}
_SUPER = dict(zip("0123456789+-=()niaeoxhklmnpst", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵃᵉᵒˣʰᵏˡᵐⁿᵖˢᵗ", strict=True))
_SUB = dict(zip("0123456789+-=()aeoxhklmnpst", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ", strict=True))
_TAG_HINT = re.compile(r"<[A-Za-z/!]|&[#A-Za-z0-9]+;")


def looks_like_html(text: str) -> bool:
    """Whether `text` holds a tag or an entity (plain text is shown as it is)."""
    return _TAG_HINT.search(text) is not None


def mark(style: Style) -> str:
    return chr(MARK_BASE + int(style))


def strip_marks(text: str) -> str:
    return _MARKS.sub("", text)


def split_marks(text: str, start: Style = Style.PLAIN) -> list[tuple[str, Style]]:
    """Marked text as (text, style) runs; `start` is the style before the first mark."""
    runs: list[tuple[str, Style]] = []
    style = start
    pos = 0
    for found in _MARKS.finditer(text):
        if found.start() > pos:
            runs.append((text[pos : found.start()], style))
        style = Style(ord(found.group()) - MARK_BASE)
        pos = found.end()
    if pos < len(text):
        runs.append((text[pos:], style))
    return runs


def last_style(text: str, start: Style = Style.PLAIN) -> Style:
    """The style in force at the end of marked text."""
    found = None
    for found in _MARKS.finditer(text):  # noqa: B007 (the last one counts)
        pass
    return start if found is None else Style(ord(found.group()) - MARK_BASE)


def _script(text: str, table: dict[str, str], plain: str) -> str:
    body = text.strip()
    if body and all(ch in table for ch in body):
        return "".join(table[ch] for ch in body)
    return f"{plain}({body})" if body else ""


@dataclass(slots=True)
class _List:
    ordered: bool
    count: int = 0


class _Converter(HTMLParser):
    def __init__(self, *, marks: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.marks = marks
        self.out: list[str] = []
        self.style_counts: dict[Style, int] = {s: 0 for s in _STYLE_TAGS.values()}
        self.current = Style.PLAIN
        self.hidden = 0
        self.lists: list[_List] = []
        self.script: list[tuple[str, list[str]]] = []  # open <sub>/<sup>: tag, collected text
        self.cells = 0  # cells written on the current table row
        self.space = False  # a space is pending
        self.line_start = True
        self.images: list[str] = []

    # -- writing

    def _style(self) -> Style:
        style = Style.PLAIN
        for flag, count in self.style_counts.items():
            if count > 0:
                style |= flag
        return style

    def _emit(self, text: str, style: Style | None = None) -> None:
        if not text:
            return
        if self.script:
            self.script[-1][1].append(text)
            return
        wanted = self._style() if style is None else style
        if self.marks and wanted != self.current:
            self.out.append(mark(wanted))
            self.current = wanted
        self.out.append(text)
        self.line_start = text.endswith("\n")

    def _text(self, text: str) -> None:
        if self.hidden:
            return
        text = _SPACE.sub(" ", text)
        if text.startswith(" "):
            self.space = True
            text = text[1:]
        if not text:
            return
        trailing = text.endswith(" ")
        text = text.rstrip(" ")
        if self.space and not self.line_start:
            # The space between two runs is styled only as both sides are.
            self._emit(" ", (self.current & self._style()) if self.marks else None)
        self.space = trailing
        self._emit(text)

    def _newline(self, blank: bool = False) -> None:
        self.space = False
        if self.script:
            self.script[-1][1].append(" ")
            return
        if not self.out:
            return
        tail = strip_marks("".join(self.out[-4:]))
        have = len(tail) - len(tail.rstrip("\n"))
        want = 2 if blank else 1
        if have < want:
            self._emit("\n" * (want - have))
        self.line_start = True

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
            return
        if self.hidden:
            return
        if tag in _STYLE_TAGS:
            self.style_counts[_STYLE_TAGS[tag]] += 1
        elif tag == "br":
            self.space = False
            self._emit("\n")
            self.line_start = True
        elif tag == "img":
            src = next((v for k, v in attrs if k == "src" and v), "")
            name = unquote(src.strip())
            self.images.append(name)
            self._text(" ")
            if self.space and not self.line_start:
                self._emit(" ")
            self.space = False
            self._emit(f"[image: {name or '?'}]", Style.IMAGE)
            self.space = True
        elif tag == "hr":
            self._newline()
            self._emit("――――――――――")
            self._newline()
        elif tag in ("sub", "sup"):
            self.script.append((tag, []))
        elif tag in ("ul", "ol"):
            self._newline()
            self.lists.append(_List(ordered=tag == "ol"))
        elif tag == "li":
            self._newline()
            indent = "  " * max(0, len(self.lists) - 1)
            if self.lists and self.lists[-1].ordered:
                self.lists[-1].count += 1
                bullet = f"{self.lists[-1].count}. "
            else:
                bullet = "• "
            self._emit(indent + bullet, self._style())
            self.line_start = True  # no space before the item's text
        elif tag == "tr":
            self._newline()
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.space = False
                self._emit(" | ")
                self.line_start = True
            self.cells += 1
            if tag == "th":
                self.style_counts[Style.BOLD] += 1
        elif tag == "p":
            self._newline(blank=True)
        elif tag in _BLOCKS:
            self._newline()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
            return
        if self.hidden:
            return
        if tag in _STYLE_TAGS:
            flag = _STYLE_TAGS[tag]
            self.style_counts[flag] = max(0, self.style_counts[flag] - 1)
        elif tag in ("sub", "sup") and self.script and self.script[-1][0] == tag:
            _tag, parts = self.script.pop()
            body = _SPACE.sub(" ", "".join(parts))
            if tag == "sup":
                self._emit(_script(body, _SUPER, "^"))
            else:
                self._emit(_script(body, _SUB, "_"))
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newline()
        elif tag == "th":
            self.style_counts[Style.BOLD] = max(0, self.style_counts[Style.BOLD] - 1)
        elif tag == "table" or tag in _BLOCKS or tag == "li":
            self._newline()

    def handle_data(self, data: str) -> None:
        self._text(data)

    def result(self) -> str:
        while self.script:  # an unclosed <sub>/<sup>: its text as written
            _tag, parts = self.script.pop()
            self._emit("".join(parts))
        text = "".join(self.out)
        lines = [line.rstrip(" ") for line in text.split("\n")]
        text = "\n".join(lines)
        text = re.sub("\n{3,}", "\n\n", text)
        return text.strip("\n ")


def to_terminal(html: str, *, marks: bool = False) -> str:
    """`html` as terminal text; with `marks`, style changes are marked (see the module)."""
    converter = _Converter(marks=marks)
    converter.feed(_MARKS.sub("", html))
    converter.close()
    text = converter.result()
    if marks and converter.current != Style.PLAIN:
        text += mark(Style.PLAIN)
    return text


_IMG_SRC = re.compile(
    r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE
)
_ANY_TAG = re.compile(r"<[^>]*>")
_LEADING_BLANK = re.compile(r"(?:\s|<[^>]*>)*")


def image_names(html: str) -> list[str]:
    """The `src` of every `<img>` in `html`, in order, unquoted (entities decoded)."""
    if "<" not in html:
        return []
    if html.isascii():
        # Case-insensitively, `<img` is then where the lowered text holds it: the pattern is
        # tried there alone (its scan tries every `<`, and an import asks of 70,000 fields).
        low = html.lower()
        at = low.find("<img")
        if at < 0:
            return []
        found = []
        match = _IMG_SRC.match
        while at >= 0:
            m = match(html, at)
            if m is None:
                at = low.find("<img", at + 4)
            else:
                found.append(_image_name(m.group(m.lastindex or 1)))
                at = low.find("<img", m.end())
        return found
    if not _may_hold_img(html):
        return []
    return [_image_name(m.group(m.lastindex or 1)) for m in _IMG_SRC.finditer(html)]


def _may_hold_img(html: str) -> bool:
    """Whether `html` may hold `<img` as `_IMG_SRC` reads it (case-insensitive: the `i` may be
    `İ` or `ı` too), without the pattern's scan of every `<` (an import asks of 70,000
    fields)."""
    low = html.lower()
    return "<img" in low or "<\u0131mg" in low or "\u0130" in html


def _image_name(src: str) -> str:
    if "&" in src:
        import html as html_lib

        src = html_lib.unescape(src)
    src = src.strip()
    return unquote(src) if "%" in src else src


def is_blank(html: str) -> bool:
    """Whether `html` shows nothing: only whitespace, tags and blank entities (an image shows
    something). Cheap: no parse (an AnKing import asks it of 420,000 fields)."""
    if not html.strip():
        return True
    first = html[0]
    if first != "<" and first != "&" and not first.isspace():
        return False  # a character that shows, first (most fields): what follows says so too
    if "<" not in html and "&" not in html:
        return False
    leading = _LEADING_BLANK.match(html)  # whitespace and tags, from the start (always)
    shown = leading.end() if leading is not None else 0
    if shown < len(html) and html[shown] != "&":
        return False  # a character that shows, before any entity: no need to read further
    text = _ANY_TAG.sub("", html) if "<" in html else html
    if "&" in text:
        import html as html_lib

        text = html_lib.unescape(text)
    if text.strip():
        return False
    return _IMG_SRC.search(html) is None
