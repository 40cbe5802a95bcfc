"""Fields over the size limit (decks/README.md, "Limits") in deck TOML files: refused as
`path:line: problem`, the whole file changing nothing; a field at the limit loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashcore.core.errors import DeckFormatError, Problem
from flashcore.importers.deck_toml import MAX_FIELD_CHARS, parse_deck_file

TEN_MB = 10 * 1024 * 1024


def deck(path: Path, *cards: str, description: str = "") -> Path:
    head = f'[deck]\nname = "Big"\nkey = "big"\ndescription = "{description}"\n'
    path.write_text(head + "".join(f"\n[[cards]]\n{card}\n" for card in cards), encoding="utf-8")
    return path


def test_a_10_mb_field_is_refused_with_its_line_and_nothing_loads(tmp_path):
    path = deck(
        tmp_path / "big.toml",
        'id = "fine"\nfront = "Q"\nback = "A"',
        f'id = "huge"\nfront = "Q"\nback = "{"x" * TEN_MB}"',
        f'id = "cl"\ncloze = """{"y " * (TEN_MB // 2)}{{{{c1::z}}}}"""\nextra = "e"',
    )
    with pytest.raises(DeckFormatError) as caught:
        parse_deck_file(path)
    assert caught.value.problems == [
        Problem(str(path), 14, f"card huge: back is {TEN_MB:,} characters; a field may hold "
                f"at most {MAX_FIELD_CHARS:,} (see decks/README.md)"),
        Problem(str(path), 18, f"card cl: cloze is {TEN_MB + 9:,} characters; a field may "
                f"hold at most {MAX_FIELD_CHARS:,} (see decks/README.md)"),
    ]  # fmt: skip


def test_a_field_at_the_limit_loads_and_one_character_more_is_refused(tmp_path):
    at_limit = "w" * MAX_FIELD_CHARS
    spec = parse_deck_file(
        deck(tmp_path / "ok.toml", f'id = "a"\nfront = "{at_limit}"\nback = "b"')
    )
    assert spec.notes[0].fields["front"] == at_limit
    over = deck(tmp_path / "over.toml", f'id = "a"\nfront = "Q"\nextra = "{at_limit}!"\nback = "b"')
    with pytest.raises(DeckFormatError) as caught:
        parse_deck_file(over)
    (problem,) = caught.value.problems
    assert (problem.line, problem.message.split(":")[0]) == (9, "card a")
    assert "extra is 100,001 characters" in problem.message


def test_a_huge_deck_description_is_refused(tmp_path):
    path = deck(tmp_path / "d.toml", 'id = "a"\nfront = "Q"\nback = "A"', description="d" * TEN_MB)
    with pytest.raises(DeckFormatError) as caught:
        parse_deck_file(path)
    (problem,) = caught.value.problems
    assert str(problem).startswith(f"{path}:4: description is {TEN_MB:,} characters")


def test_loading_a_file_with_a_10_mb_field_changes_nothing(fc_sqlite, tmp_path):
    path = deck(tmp_path / "big.toml", f'id = "huge"\nfront = "{"x" * TEN_MB}"\nback = "A"')
    (report,) = fc_sqlite.add_decks([path])
    assert not report.ok
    assert [str(p) for p in report.problems] == [
        f"{path}:8: card huge: front is {TEN_MB:,} characters; a field may hold at most "
        f"{MAX_FIELD_CHARS:,} (see decks/README.md)"
    ]
    assert fc_sqlite.cards() == []
