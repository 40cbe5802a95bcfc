"""The Anki notes' conversion's shortcuts for the common case (issue 16: a first AnKing import's
conversion is its biggest share of Python) give what the general way gives: each is checked
against that way, kept here as the reference, on any text."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from flashcore.core.html_text import _IMG_SRC, _image_name, image_names
from flashcore.importers.anki_package.notes import MAX_FIELD_CHARS, _clean, _cleaned

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _cleaned_by_pattern(values: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """`_cleaned` as it read every note: one pattern search over the fields joined."""
    whole = "\n".join(values)
    too_long = len(whole) > MAX_FIELD_CHARS and max(map(len, values)) > MAX_FIELD_CHARS
    if "\r" not in whole and _CONTROL.search(whole) is None:
        return values, too_long
    cleaned = tuple(_clean(v) for v in values)
    return cleaned, max(map(len, cleaned), default=0) > MAX_FIELD_CHARS


_CHARS = st.sampled_from(
    ["a", " ", "<b>", "\n", "\t", "\r", "\r\n", "\x00", "\x07", "\x0b", "\x1b", "\x1f", "\x7f",
     "\x80", "\x85", "\x9f", "\xa0", "é", "\u0130", "\u2028", "&nbsp;"]
)  # fmt: skip
_FIELD = st.lists(_CHARS, max_size=6).map("".join)


@given(st.lists(_FIELD, min_size=1, max_size=4).map(tuple))
@example(("plain", "<b>ascii</b>"))
@example(("bell\x07", "x"))
@example(("line\r\nend", ""))
@example(("del\x7f",))
@example(("c1 control \x85 is not ASCII",))
@example(("café", "tab\tand\nnewline"))
def test_fields_are_cleaned_as_the_pattern_cleans_them(values):
    assert _cleaned(values) == _cleaned_by_pattern(values)


def test_a_long_field_is_found_by_either_way():
    long = ("x" * (MAX_FIELD_CHARS + 1), "y")
    assert _cleaned(long) == _cleaned_by_pattern(long) == (long, True)


def _image_names_by_scan(html: str) -> list[str]:
    """`image_names` as it read every field: the pattern's scan of the whole text."""
    return [_image_name(m.group(m.lastindex or 1)) for m in _IMG_SRC.finditer(html)]


_HTML_PARTS = st.sampled_from(
    ['<img src="a.png">', "<IMG SRC=b.jpg>", "<iMg alt=x src='c d.gif'>", "<img", "<imgx src=e>",
     "<img src=", 'src="f.png"', "src=g", '"', "'", ">", "<", " ", "x", "<br>", "%20", "&amp;",
     'alt="<img src=h>"', "\u0130", "\u0131", "<\u0130MG src=i>", "<\u0131mg src=j>", "é"]
)  # fmt: skip


@given(st.lists(_HTML_PARTS, max_size=8).map("".join))
@example('<img alt="<img src=x>" src=y>')
@example("<img src='<img src=a>'><img src=b>")
@example('<IMG\tSRC = "a%20b.png">')
@example("<img src=\"unclosed><img src='c.png'>")
@example("<\u0130MG src=x.png>")
def test_image_names_are_those_the_patterns_scan_finds(html):
    assert image_names(html) == _image_names_by_scan(html)
