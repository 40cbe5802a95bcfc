"""Fields over the size limit (decks/README.md, "Limits") in Anki text exports: refused as
`path:line: problem` (the line where the row starts), the whole file changing nothing."""

from __future__ import annotations

import pytest

from flashcore.core.errors import DeckFormatError
from flashcore.importers.anki_text import parse_anki_text
from flashcore.importers.deck_toml import MAX_FIELD_CHARS

TEN_MB = 10 * 1024 * 1024
LIMIT = f"a field may hold at most {MAX_FIELD_CHARS:,} (see decks/README.md)"


def test_a_10_mb_field_is_refused_with_the_line_of_its_row(tmp_path):
    path = tmp_path / "export.txt"
    quoted = '"' + "line\n" * (TEN_MB // 5) + '"'  # a quoted field spanning 2 million lines
    path.write_text(
        "#separator:tab\n#html:true\n"
        "front 1\tback 1\n"
        f"front 2\t{'x' * TEN_MB}\n"
        f"{quoted}\tback 3\n"
        "front 4\tback 4\n",
        encoding="utf-8",
    )
    with pytest.raises(DeckFormatError) as caught:
        parse_anki_text(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:4: column 2 is {TEN_MB:,} characters; {LIMIT}",
        f"{path}:5: column 1 is {TEN_MB:,} characters; {LIMIT}",
    ]


def test_a_field_at_the_limit_loads(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(f"#separator:comma\nfront,{'b' * MAX_FIELD_CHARS}\n", encoding="utf-8")
    (spec,) = parse_anki_text(path)
    assert len(spec.notes[0].fields["back"]) == MAX_FIELD_CHARS
    path.write_text(f"#separator:comma\nfront,{'b' * (MAX_FIELD_CHARS + 1)}\n", encoding="utf-8")
    with pytest.raises(DeckFormatError, match=":2: column 2 is 100,001 characters"):
        parse_anki_text(path)
