"""Nested cloze deletions, rendered as Anki (2.1.56+) renders them: card cN hides only its own
deletion (with whatever is inside it) and shows the text of every other deletion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashcore.core import cloze

OUTER = "Outer {{c1::inner {{c2::nested}} text}} end."
HINTED = "foo {{c1::bar {{c2::baz}}::qux}}"


@pytest.mark.parametrize(
    ("text", "ordinal", "front", "back"),
    [
        (OUTER, 1, "Outer [...] end.", "Outer inner nested text end."),
        (OUTER, 2, "Outer inner [...] text end.", "Outer inner nested text end."),
        # Anki's own expectations for nested deletions with a hint on the outer one
        (HINTED, 1, "foo [qux]", "foo bar baz"),
        (HINTED, 2, "foo bar [...]", "foo bar baz"),
        ("foo {{c1::bar {{c2::baz}}}}", 1, "foo [...]", "foo bar baz"),
        ("{{c2::te{{c1::s}}}}t", 1, "te[...]t", "test"),
        ("{{c2::te{{c1::s}}}}t", 2, "[...]t", "test"),
        ("{{c1::a {{c1::b}} c}}", 1, "[...]", "a b c"),  # the same number inside: one blank
    ],
)
def test_each_card_hides_only_its_own_deletion(text, ordinal, front, back):
    assert cloze.render_plain(text, ordinal, reveal=False) == front
    assert cloze.render_plain(text, ordinal, reveal=True) == back


def test_nested_deletions_each_make_a_card():
    assert cloze.ordinals(OUTER) == [1, 2]
    assert cloze.ordinals("{{c2::te{{c1::s}}}}t{{") == [1, 2]


def test_the_back_highlights_the_whole_deletion_of_the_card():
    back = cloze.render(OUTER, 1, reveal=True)
    assert [(s.text, s.role) for s in back] == [
        ("Outer ", "text"),
        ("inner nested text", "answer"),
        (" end.", "text"),
    ]
    back = cloze.render(OUTER, 2, reveal=True)
    assert [s.role for s in back] == ["text", "answer", "text"]
    assert back[1].text == "nested"


def test_flat_deletions_render_as_before():
    text = "IgE on {{c1::mast cells}} and {{c2::basophils::cell type}}; {{c1::again}}."
    assert cloze.render_plain(text, 1, reveal=False) == "IgE on [...] and basophils; [...]."
    assert cloze.render_plain(text, 2, reveal=False) == "IgE on mast cells and [cell type]; again."
    assert cloze.render_plain("a {{c1::b::x::y}}", 1, reveal=False) == "a [x::y]"
    assert cloze.render_plain("a }} b {{c1::c}}", 1, reveal=False) == "a }} b [...]"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a {{c1::b", "unclosed cloze deletion '{{c1::'"),
        ("{{c1::a}} {{c2::b", "unclosed cloze deletion '{{c2::'"),
        ("a {{c1000::b}}", "cloze number c1000 out of range: use c1 to c999"),
        ("a {{c" + "9" * 40 + "::b}}", "cloze number c999999999999… out of range"),
        ("{{c1::" * 11 + "x" + "}}" * 11, "cloze deletions nested more than 10 deep"),
    ],
)
def test_what_anki_would_drop_or_misread_is_a_problem_for_the_loader(text, problem):
    assert any(p.startswith(problem) for p in cloze.problems(text)), cloze.problems(text)


def test_ten_levels_and_stray_closings_are_fine():
    assert cloze.problems("{{c1::" * 10 + "x" + "}}" * 10) == []
    assert cloze.problems("LaTeX \\frac{a}{b}}} and {{c1::x}}") == []


def test_text_stored_before_the_checks_still_renders_without_losing_anything():
    text = "kept {{c1::open and {{c2::closed}}"
    assert cloze.ordinals(text) == [2]
    assert cloze.render_plain(text, 2, reveal=True) == "kept {{c1::open and closed"


NUMBERS = st.integers(1, 5)
TEXT = st.text(st.sampled_from("ab {c:"), max_size=6).filter(
    lambda t: "{{" not in t and "::" not in t and not t.endswith(("{", ":"))
)


@st.composite
def cloze_text(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        if depth < 3 and draw(st.booleans()):
            inner = draw(cloze_text(depth + 1))
            parts.append(f"{{{{c{draw(NUMBERS)}::{inner}}}}}")
        else:
            parts.append(draw(TEXT))
    return "".join(parts)


@given(cloze_text())
def test_the_back_shows_every_word_of_the_text_whatever_the_nesting(text):
    """Without hints or stray `}}`, the answer side is the text without its markers, on every
    card, and the front has a blank."""
    plain = text
    for number in range(1, 6):
        plain = plain.replace(f"{{{{c{number}::", "")
    plain = plain.replace("}}", "")
    for ordinal in cloze.ordinals(text):
        assert cloze.render_plain(text, ordinal, reveal=True) == plain
        front = cloze.render(text, ordinal, reveal=False)
        assert any(s.role == "blank" for s in front)


PIECES = st.sampled_from(["{{c1::", "{{c2::", "{{c0::", "{{c1000::", "{{c12345678::", "}}",
                          "::", "x", " ", "{{", "}", "c1::"])  # fmt: skip


@given(st.lists(PIECES, max_size=16).map("".join))
def test_read_finds_the_deletions_parse_makes_and_the_first_number_out_of_range(text):
    """`read` (an import's fast path: no tree) agrees with the parse tree, for any text."""
    deletions = cloze._deletions(cloze.parse(text))
    ordinals, problems = cloze.read(text)
    assert ordinals == sorted({d.number for d in deletions if 0 < d.number <= cloze.MAX_ORDINAL})
    wrong = [d for d in deletions if not 0 <= d.number <= cloze.MAX_ORDINAL]
    assert sum("out of range" in p for p in problems) == (1 if wrong else 0)
