"""Deck files (`decks/*.toml`): golden good and malformed files. Every problem is reported at
once as `path:line: message`; a file with any problem yields nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flashcore.core import cloze
from flashcore.core.errors import DeckFormatError, InputFileError, Problem
from flashcore.core.model import DeckSpec, NoteKind
from flashcore.importers.deck_toml import parse_deck_file

DATA = Path(__file__).parent / "data" / "deck_toml"
HEADER = b'[deck]\nname = "Inline"\nkey = "inline"\n\n'


def as_plain(spec: DeckSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "key": spec.key,
        "description": spec.description,
        "html": spec.html,
        "notes": [
            {
                "local_id": n.local_id,
                "kind": n.kind.value,
                "line": n.line,
                "fields": n.fields,
                "topics": list(n.topics),
                "qids": list(n.qids),
                "tags": list(n.tags),
            }
            for n in spec.notes
        ],
    }


def problems_of(path: Path, data: bytes | None = None) -> list[Problem]:
    with pytest.raises(DeckFormatError) as info:
        parse_deck_file(path, data)
    assert info.value.problems, "a DeckFormatError names at least one problem"
    return info.value.problems


def inline(body: str) -> bytes:
    return HEADER + body.encode("utf-8")


# ---------------------------------------------------------------- good files


def test_the_golden_good_file_parses_to_the_expected_deck():
    path = DATA / "good.toml"
    spec = parse_deck_file(path)
    expected = json.loads((DATA / "good.expected.json").read_text(encoding="utf-8"))
    assert as_plain(spec) == expected
    assert spec.path == str(path)


def test_note_keys_are_the_deck_key_and_the_card_id():
    spec = parse_deck_file(DATA / "good.toml")
    assert [n.key(spec.key) for n in spec.notes] == [
        "step1-immunology:t1hs-mediator",
        "step1-immunology:t1hs-cells",
        "step1-immunology:t4.cells_v2",
    ]


def test_cloze_ordinals_are_the_distinct_deletion_numbers():
    spec = parse_deck_file(DATA / "good.toml")
    (note,) = [n for n in spec.notes if n.kind is NoteKind.CLOZE]
    assert cloze.ordinals(note.fields["text"]) == [1, 2]
    assert cloze.ordinals("{{c3::a}} {{c1::b}} {{c10::c::hint}} {{c3::d}}") == [1, 3, 10]


def test_a_utf8_bom_and_crlf_line_ends_are_accepted():
    spec = parse_deck_file(DATA / "bom_crlf.toml")
    assert spec.name == "BOM and CRLF"
    assert [n.local_id for n in spec.notes] == ["a", "b"]
    assert spec.notes[0].fields == {"front": "café?", "back": "naïve"}
    assert spec.notes[1].fields["text"] == "{{c1::one}}\nand {{c2::two}}"
    assert [n.line for n in spec.notes] == [4, 9]


def test_the_same_bytes_parse_the_same_from_disk_and_from_memory():
    path = DATA / "good.toml"
    assert parse_deck_file(path) == parse_deck_file(path, path.read_bytes())


def test_the_deck_key_defaults_to_the_name():
    spec = parse_deck_file(Path("k.toml"), b'[deck]\nname = "Step 1::Pharm"\n')
    assert spec.key == "Step 1::Pharm"
    assert spec.notes == ()


def test_html_decks_are_flagged():
    spec = parse_deck_file(Path("h.toml"), b'[deck]\nname = "H"\nhtml = true\n')
    assert spec.html is True


def test_a_cloze_deletion_may_carry_a_hint():
    spec = parse_deck_file(
        Path("h.toml"), inline('[[cards]]\nid = "h"\ncloze = "{{c1::IgE::Ig?}}"\n')
    )
    assert spec.notes[0].kind is NoteKind.CLOZE


# ---------------------------------------------------------------- malformed files


def test_every_problem_in_a_file_is_reported_with_its_line():
    path = DATA / "every_problem.toml"
    problems = problems_of(path)
    expected = json.loads((DATA / "every_problem.expected.json").read_text(encoding="utf-8"))
    assert len(problems) == len(expected), [str(p) for p in problems]
    for problem, want in zip(problems, expected, strict=True):
        assert problem.path == str(path)
        assert want["contains"] in problem.message, (str(problem), want)
        if "line" in want:
            assert problem.line == want["line"], (str(problem), want)
        else:
            low, high = want["within"]
            assert problem.line is not None and low <= problem.line <= high, (str(problem), want)
        assert str(problem) == f"{path}:{problem.line}: {problem.message}"


def test_the_error_message_names_the_first_problem_and_counts_the_rest():
    with pytest.raises(InputFileError) as info:
        parse_deck_file(DATA / "every_problem.toml")
    text = str(info.value)
    assert text.startswith(f"{DATA / 'every_problem.toml'}:4: ")
    assert "and 9 more problems" in text


def test_nul_bytes_are_refused_as_not_text():
    (problem,) = problems_of(DATA / "nul_bytes.toml")
    assert "NUL" in problem.message


def test_binary_junk_is_refused():
    (problem,) = problems_of(Path("junk.toml"), bytes(range(256)) * 4)
    assert problem.path == "junk.toml"


def test_a_file_that_is_not_utf8_names_the_line():
    (problem,) = problems_of(DATA / "cp1252.toml")
    assert problem.line == 6
    assert "UTF-8" in problem.message


def test_invalid_toml_reports_its_line():
    (problem,) = problems_of(DATA / "invalid_syntax.toml")
    assert problem.line == 6
    assert "invalid TOML" in problem.message
    assert "line" not in problem.message.split("invalid TOML", 1)[1]  # the line is in the place


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ('[[cards]]\nid = "a"\nfront = "f"\nback = "b"\nqids = ["uworld"]\n', 9, "uworld"),
        ('[[cards]]\nid = "a"\nfront = "f"\nback = "b"\nqids = ["uworld:"]\n', 9, "uworld:"),
        ('[[cards]]\nid = "a"\nfront = "f"\nback = "b"\nqids = [":12"]\n', 9, ":12"),
        ('[[cards]]\nid = "a"\nfront = "f"\nback = "b"\nqids = ["uworld:1 2"]\n', 9, "1 2"),
        ('[[cards]]\nid = "a"\nfront = "f"\nback = "b"\ntags = ["high yield"]\n', 9, "high yield"),
        ('[[cards]]\nid = "a"\nfront = "f"\nback = "b"\ntags = ["tab\\there"]\n', 9, "tab"),
        ('[[cards]]\nid = "a"\nfront = "f"\nback = "b"\ntopics = [1]\n', 9, "topics"),
        ('[[cards]]\nid = "a"\nfront = 3\nback = "b"\n', 7, "front"),
        ('[[cards]]\nid = 7\nfront = "f"\nback = "b"\n', 6, "7"),
        ('[[cards]]\nid = ""\nfront = "f"\nback = "b"\n', 6, "id"),
        ('[[cards]]\nid = "a/b"\nfront = "f"\nback = "b"\n', 6, "a/b"),
        ('[[cards]]\nid = "a"\ncloze = "{{c0::zero}}"\n', 7, "deletion"),
        ('[[cards]]\nid = "a"\ncloze = "{{c1:one}}"\n', 7, "deletion"),
        ('[[cards]]\nid = "a"\nback = "only a back"\n', 5, "front"),
        ('[[cards]]\nid = "a"\nfront = "   "\nback = "b"\n', 5, "front"),
    ],
)
def test_a_single_bad_card_is_reported_at_its_line(body, line, words):
    problems = problems_of(Path("one.toml"), inline(body))
    assert any(p.line == line and words in p.message for p in problems), [str(p) for p in problems]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[deck]\nname = "x"\nkey = "a:b"\n', "key"),
        ('[deck]\nname = "x"\nhtml = "yes"\n', "html"),
        ('[deck]\nname = ""\n', "name"),
        ('[deck]\nname = "x"\nowner = "me"\n', "owner"),
        ('title = "x"\n[deck]\nname = "x"\n', "title"),
        ('[[cards]]\nid = "a"\nfront = "f"\nback = "b"\n', "[deck]"),
        ('[deck]\nname = "x"\ncards = "none"\n', "cards"),
    ],
)
def test_bad_deck_tables_are_refused(text, words):
    problems = problems_of(Path("deck.toml"), text.encode())
    assert any(words in p.message for p in problems), [str(p) for p in problems]


def test_an_unknown_deck_key_is_reported_at_its_line():
    (problem,) = problems_of(Path("d.toml"), b'[deck]\nname = "x"\n\n\nsubject = "immuno"\n')
    assert problem.line == 5
    assert "subject" in problem.message


def test_a_duplicate_id_names_both_lines():
    body = '[[cards]]\nid = "x"\nfront = "1"\nback = "1"\n\n[[cards]]\nid = "x"\nfront = "2"\nback = "2"\n'
    (problem,) = problems_of(Path("dup.toml"), inline(body))
    assert problem.line == 10
    assert "line 5" in problem.message


def test_several_problems_in_one_card_are_all_reported():
    body = (
        '[[cards]]\nid = "a"\nfront = "f"\nback = "b"\ntags = ["x y"]\nqids = ["nope"]\nmood = 1\n'
    )
    problems = problems_of(Path("many.toml"), inline(body))
    assert sorted(p.line for p in problems) == [9, 10, 11]
