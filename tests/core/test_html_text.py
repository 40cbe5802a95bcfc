"""Card HTML as terminal text (core.html_text) and card sides (core.card_sides)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from flashcore.core.card_sides import card_sides, front_preview
from flashcore.core.html_text import (
    Style,
    image_names,
    is_blank,
    split_marks,
    strip_marks,
    to_terminal,
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("What does <b>IgE</b> bind?", "What does IgE bind?"),
        ("Mast cells &amp; basophils<br>(FcεRI) &lt;3 &#x3B1;", "Mast cells & basophils\n(FcεRI) <3 α"),
        ("<div>one</div><div>two</div>", "one\ntwo"),
        ("<p>para</p><p>next</p>", "para\n\nnext"),
        ("<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>", "• a\n• b\n  • c"),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        ("H<sub>2</sub>O, Ca<sup>2+</sup>, x<sup>n</sup>", "H₂O, Ca²⁺, xⁿ"),
        ("CO<sub>2,g</sub>", "CO_(2,g)"),
        ("<table><tr><th>Drug</th><th>Target</th></tr><tr><td>Aspirin</td><td>COX</td></tr></table>",
         "Drug | Target\nAspirin | COX"),
        ('see <img src="heart%20beat.png"> here', "see [image: heart beat.png] here"),
        ("a<script>alert(1)</script>b<style>p{}</style>c", "abc"),
        ("  lots   of\n\n space  ", "lots of space"),
        ("{{c1::<b>Warfarin</b>}} inhibits", "{{c1::Warfarin}} inhibits"),
    ],
)  # fmt: skip
def test_html_becomes_terminal_text(html, text):
    assert to_terminal(html) == text


def test_styles_cross_a_cloze_deletion_as_marks():
    runs = split_marks(to_terminal("a <b>bold <i>both</i></b> <u>under</u>", marks=True))
    assert [(t.strip(), s) for t, s in runs if t.strip()] == [
        ("a", Style.PLAIN),
        ("bold", Style.BOLD),
        ("both", Style.BOLD | Style.ITALIC),
        ("under", Style.UNDERLINE),
    ]


def test_image_names_are_read_from_img_tags():
    assert image_names("<img src=\"a.png\"><IMG SRC='b c.jpg'>") == ["a.png", "b c.jpg"]


@given(st.text())
def test_any_text_converts_without_error_and_without_tags_of_its_own(text):
    out = to_terminal(text)
    assert strip_marks(out) == out
    assert "<script" not in out.lower() or "<script" in text.lower()


def test_card_sides_of_an_html_cloze_and_a_reversed_template():
    cloze = card_sides("cloze", {"text": "{{c1::<b>A</b>}} and {{c2::B}}"}, 2, html=True)
    assert strip_marks("".join(s.text for s in cloze.front)) == "A and [...]"
    basic = {"front": "Q", "back": "A<br>more", "front@1": "A", "back@1": "Q"}
    assert front_preview("basic", basic, 1, html=True) == "A"
    assert strip_marks(card_sides("basic", basic, 0, html=True).back[0].text) == "A\nmore"
    plain = card_sides("basic", {"front": "<b>x</b>", "back": "y"}, 0, html=False)
    assert plain.front[0].text == "<b>x</b>"  # a deck without html = true shows text as written


@pytest.mark.parametrize(
    ("html", "blank"),
    [("", True), ("  <br> &nbsp; <div></div>", True), ('<img src="">', False),
     ("<b></b>x", False), ("&amp;", False), ("plain", False), ('<IMG SRC=a.png>', False),
     ("<span> </span>", True), ("&nbsp;", True)],
)  # fmt: skip
def test_a_field_is_blank_when_it_shows_no_text_and_no_image(html, blank):
    assert is_blank(html) is blank


def _blank_read_whole(html: str) -> bool:
    """`is_blank` without its shortcut for a field whose first character shows: the leading
    whitespace and tags read by pattern, then the rest (the test's reference)."""
    import html as html_lib
    import re

    if not html.strip():
        return True
    leading = re.match(r"(?:\s|<[^>]*>)*", html)
    shown = leading.end() if leading is not None else 0
    if shown < len(html) and html[shown] != "&":
        return False
    text = html_lib.unescape(re.sub(r"<[^>]*>", "", html))
    if text.strip():
        return False
    return not image_names(html)


_FIELD_PARTS = st.sampled_from(
    ["x", " ", "\u00a0", "\u2003", "\x1c", "\n", "<br>", "<b>", "</b>", "&nbsp;", "&amp;",
     "&", "<", ">", '<img src="a.png">', "<IMG SRC=b>", "<img>", "\u0130", "{{c1::", "}}"]
)  # fmt: skip


@given(st.lists(_FIELD_PARTS, max_size=8).map("".join))
@example("\u00a0&nbsp;")
@example("\u2003<br>")
@example("\x1c<b></b>")
@example("x<br>")
def test_a_field_whose_first_character_shows_is_not_blank_as_a_whole_read_says(html):
    # an import asks it of every filled field: most start with a character that shows
    assert is_blank(html) is _blank_read_whole(html)
