"""The Anki "Notes in Plain Text" importer: files written by the real `anki` package, golden
files for each kind of damage, and the headers Anki's importer understands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from anki.collection import (
    Collection,
    DeckIdLimit,
    ExportAnkiPackageOptions,
    ExportLimit,
    NoteIdsLimit,
)

from flashcore.core.errors import DeckFormatError, Problem
from flashcore.core.model import DeckSpec, NoteKind, NoteSpec
from flashcore.importers.anki_text import parse_anki_text, qids_from_tags

DATA = Path(__file__).parent / "data" / "anki_text"


def problems_of(path: Path, data: bytes | None = None, **kwargs: str) -> list[Problem]:
    with pytest.raises(DeckFormatError) as info:
        parse_anki_text(path, data, **kwargs)
    return info.value.problems


def only_notes(decks: list[DeckSpec]) -> list[NoteSpec]:
    return [note for deck in decks for note in deck.notes]


def as_plain(decks: list[DeckSpec]) -> list[dict[str, object]]:
    return [
        {
            "name": deck.name,
            "key": deck.key,
            "html": deck.html,
            "warnings": list(deck.warnings),
            "notes": [
                {
                    "local_id": note.local_id,
                    "kind": note.kind.value,
                    "fields": note.fields,
                    "tags": list(note.tags),
                    "qids": list(note.qids),
                    "line": note.line,
                }
                for note in deck.notes
            ],
        }
        for deck in decks
    ]


# --- files written by the real Anki --------------------------------------------------------

TRICKY_FRONT = 'Tab\there, "quoted" and\na <b>newline</b>'
TRICKY_BACK = "Café — µg, 日本語"


@dataclass
class AnkiCollection:
    col: Collection
    deck_id: int
    other_deck_id: int
    note_guids: dict[str, str]
    note_ids: dict[str, int]


@pytest.fixture
def anki_col(tmp_path: Path) -> Iterator[AnkiCollection]:
    col = Collection(str(tmp_path / "c.anki2"))
    try:
        immuno = col.decks.id("Step 1::Immunology")
        patho = col.decks.id("Step 1::Pathology")
        guids: dict[str, str] = {}
        ids: dict[str, int] = {}

        def add(name: str, notetype: str, deck: int, fields: dict[str, str], tags: list[str]):
            note = col.new_note(col.models.by_name(notetype))
            for field, value in fields.items():
                note[field] = value
            note.tags = tags
            col.add_note(note, deck)
            guids[name], ids[name] = note.guid, note.id

        add(
            "basic",
            "Basic",
            immuno,
            {"Front": "Which antibody mediates type I hypersensitivity?", "Back": "IgE"},
            ["#AK_Step1_v12::#UWorld::Step::118154", "high-yield"],
        )
        add("tricky", "Basic", immuno, {"Front": TRICKY_FRONT, "Back": TRICKY_BACK}, [])
        add(
            "cloze",
            "Cloze",
            immuno,
            {"Text": "{{c1::IgA}} guards mucosa; {{c2::IgM}} comes first", "Back Extra": "x; y"},
            ["immuno"],
        )
        add(
            "reversed",
            "Basic (and reversed card)",
            patho,
            {"Front": "#1 cause of death", "Back": "Heart disease"},
            [],
        )
        yield AnkiCollection(col, immuno, patho, guids, ids)
    finally:
        col.close()


def export(
    anki: AnkiCollection, out: Path, *, limit: ExportLimit = None, full: bool, html: bool
) -> Path:
    anki.col.export_note_csv(
        out_path=str(out),
        limit=limit,
        with_html=html,
        with_tags=True,
        with_deck=full,
        with_notetype=full,
        with_guid=full,
    )
    return out


def test_full_real_anki_export_gives_one_deck_per_anki_deck_keyed_by_guid(anki_col, tmp_path):
    out = export(anki_col, tmp_path / "all.txt", full=True, html=True)

    decks = parse_anki_text(out)

    assert [deck.name for deck in decks] == ["Step 1::Immunology", "Step 1::Pathology"]
    assert [deck.key for deck in decks] == [deck.name for deck in decks]
    assert all(deck.html and deck.path == str(out) for deck in decks)
    assert [len(deck.notes) for deck in decks] == [3, 1]
    keys = {note.local_id for note in only_notes(decks)}
    assert keys == set(anki_col.note_guids.values())


def test_cloze_row_from_real_anki_export_becomes_cloze_note(anki_col, tmp_path):
    limit = DeckIdLimit(anki_col.deck_id)
    out = export(anki_col, tmp_path / "immuno.txt", limit=limit, full=True, html=True)

    notes = {note.local_id: note for note in only_notes(parse_anki_text(out))}

    note = notes[anki_col.note_guids["cloze"]]
    assert note.kind is NoteKind.CLOZE
    assert note.fields == {
        "text": "{{c1::IgA}} guards mucosa; {{c2::IgM}} comes first",
        "extra": "x; y",
    }
    assert note.tags == ("immuno",)


def test_field_with_tab_quotes_newline_html_and_non_ascii_survives_real_anki_export(
    anki_col, tmp_path
):
    limit = NoteIdsLimit([anki_col.note_ids["cloze"], anki_col.note_ids["tricky"]])
    out = export(anki_col, tmp_path / "two.txt", limit=limit, full=True, html=True)

    notes = {note.local_id: note for note in only_notes(parse_anki_text(out))}

    tricky = notes[anki_col.note_guids["tricky"]]
    assert tricky.kind is NoteKind.BASIC
    assert tricky.fields == {"front": TRICKY_FRONT, "back": TRICKY_BACK}
    # Six header lines; the quoted newline makes the tricky record two physical lines.
    assert tricky.line == 7
    assert notes[anki_col.note_guids["cloze"]].line == 9


def test_anking_uworld_tag_from_real_anki_export_yields_a_qid(anki_col, tmp_path):
    out = export(anki_col, tmp_path / "all.txt", full=True, html=True)

    notes = {note.local_id: note for note in only_notes(parse_anki_text(out))}

    basic = notes[anki_col.note_guids["basic"]]
    assert basic.tags == ("#AK_Step1_v12::#UWorld::Step::118154", "high-yield")
    assert basic.qids == ("uworld:118154",)


def test_reversed_notetype_from_real_anki_export_is_read_as_basic(anki_col, tmp_path):
    limit = DeckIdLimit(anki_col.other_deck_id)
    out = export(anki_col, tmp_path / "patho.txt", limit=limit, full=True, html=True)

    (deck,) = parse_anki_text(out)

    assert deck.name == "Step 1::Pathology"
    (note,) = deck.notes
    assert note.local_id == anki_col.note_guids["reversed"]
    assert note.kind is NoteKind.BASIC
    assert note.fields == {"front": "#1 cause of death", "back": "Heart disease"}


def test_plain_real_anki_export_uses_hash_keys_and_the_default_deck(anki_col, tmp_path):
    out = export(anki_col, tmp_path / "plain.txt", full=False, html=False)

    decks = parse_anki_text(out, default_deck="Imported::Anki")

    assert [deck.name for deck in decks] == ["Imported::Anki"]
    assert not decks[0].html
    notes = decks[0].notes
    assert [note.kind for note in notes].count(NoteKind.CLOZE) == 1
    assert len(notes) == 4
    assert all(note.local_id.startswith("h") and len(note.local_id) == 17 for note in notes)
    tricky = next(note for note in notes if note.fields.get("front", "").startswith("Tab"))
    # Anki strips HTML and newlines when it exports without HTML.
    assert tricky.fields == {"front": 'Tab\there, "quoted" and a newline', "back": TRICKY_BACK}


def test_plain_real_anki_export_without_default_deck_is_named_after_the_file(anki_col, tmp_path):
    out = export(anki_col, tmp_path / "my notes.txt", full=False, html=True)

    decks = parse_anki_text(out)

    assert [deck.name for deck in decks] == ["my notes"]
    assert decks[0].html


def test_hash_keys_are_stable_across_two_plain_exports(anki_col, tmp_path):
    first = export(anki_col, tmp_path / "a.txt", full=False, html=True)
    second = export(anki_col, tmp_path / "b.txt", full=False, html=True)

    keys = [[n.local_id for n in only_notes(parse_anki_text(p))] for p in (first, second)]

    assert keys[0] == keys[1]


def test_real_anki_collection_file_is_rejected_as_a_sqlite_database(anki_col, tmp_path):
    anki_col.col.close()
    try:
        problems = problems_of(tmp_path / "c.anki2")
    finally:
        anki_col.col.reopen()

    assert [p.message for p in problems] == ["not a text file: looks like a SQLite database"]


def test_real_anki_package_is_rejected_as_a_zip_archive(anki_col, tmp_path):
    apkg = tmp_path / "deck.apkg"
    options = ExportAnkiPackageOptions(with_scheduling=False, with_media=False)
    anki_col.col.export_anki_package(out_path=str(apkg), options=options, limit=None)

    problems = problems_of(apkg)

    assert [p.message for p in problems] == ["not a text file: looks like a ZIP archive"]


# --- golden files -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["good_full", "good_plain"])
def test_good_golden_file_written_by_anki_matches_its_expected_notes(name):
    expected = json.loads((DATA / f"{name}.expected.json").read_text(encoding="utf-8"))

    decks = parse_anki_text(DATA / f"{name}.txt")

    assert as_plain(decks) == expected


def test_bom_file_is_read_like_the_same_file_without_bom():
    raw = (DATA / "bom.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")

    with_bom = parse_anki_text(DATA / "bom.txt")
    without_bom = parse_anki_text(DATA / "bom.txt", raw[3:])

    assert as_plain(with_bom) == as_plain(without_bom)
    assert [n.fields["front"] for n in only_notes(with_bom)] == [
        "Capital of France?",
        "Big, round",
        "Naïve?",
    ]
    assert only_notes(with_bom)[1].tags == ("geo", "space")


def test_crlf_file_is_read_like_lf_and_keeps_line_numbers():
    raw = (DATA / "crlf.txt").read_bytes()
    assert b"\r\n" in raw

    crlf = parse_anki_text(DATA / "crlf.txt")
    lf = parse_anki_text(DATA / "crlf.txt", raw.replace(b"\r\n", b"\n"))

    assert as_plain(crlf) == as_plain(lf)
    notes = only_notes(crlf)
    assert notes[0].fields == {"front": "front 1", "back": "back 1\nsecond line"}
    assert [n.line for n in notes] == [4, 6]


def test_cp1252_file_is_decoded_and_says_so_in_a_warning():
    decks = parse_anki_text(DATA / "cp1252.txt")

    notes = only_notes(decks)
    assert [n.fields for n in notes] == [
        {"front": "Prix en €?", "back": "“Cinq” euros"},
        {"front": "Café", "back": "Kaffee"},
    ]
    assert notes[1].tags == ()  # the third column is not a field, and no header names it tags
    assert any("read as cp1252" in w for w in decks[0].warnings)


def test_quoted_newlines_stay_in_the_field_and_later_lines_are_counted():
    notes = only_notes(parse_anki_text(DATA / "quoted_newlines.txt"))

    assert notes[0].fields["front"] == "line one\nline two\n\nline four"
    assert notes[1].fields["back"] == 'a "quoted"\tback\nwith newline'
    assert [n.line for n in notes] == [4, 8, 10]


def test_missing_and_extra_columns_are_errors_not_padding():
    problems = problems_of(DATA / "missing_columns.txt")

    assert [(p.line, p.message) for p in problems] == [
        (5, "row has 2 columns, expected 3 (as on line 4)"),
        (6, "row has 4 columns, expected 3 (as on line 4)"),
    ]


def test_binary_junk_is_not_a_text_file():
    problems = problems_of(DATA / "binary_junk.bin")

    assert problems == [
        Problem(str(DATA / "binary_junk.bin"), None, "not a text file: contains NUL bytes")
    ]


def test_renamed_zip_is_not_a_text_file():
    problems = problems_of(DATA / "renamed_zip.txt")

    assert [p.message for p in problems] == ["not a text file: looks like a ZIP archive"]


def test_unterminated_quote_is_reported_where_it_opened_and_swallows_nothing_silently():
    problems = problems_of(DATA / "unterminated_quote.txt")

    assert len(problems) == 1
    assert problems[0].line == 5
    assert problems[0].message.startswith("unterminated quote")
    assert "5-7" in problems[0].message


def test_duplicate_guid_is_reported_with_both_line_numbers():
    problems = problems_of(DATA / "duplicate_guid.txt")

    assert [(p.line, p.message) for p in problems] == [
        (9, "duplicate key 'AbC123' on lines 7 and 9")
    ]


def test_cloze_without_a_complete_deletion_is_reported_for_each_row():
    problems = problems_of(DATA / "cloze_without_deletion.txt")

    assert [p.line for p in problems] == [6, 7]
    assert "no deletion" in problems[0].message
    assert problems[1].message.startswith("unclosed cloze deletion '{{c1::'")


def test_columns_deck_notetype_and_tags_headers_are_honoured():
    decks = parse_anki_text(DATA / "import_headers.txt", default_deck="ignored")

    assert [deck.name for deck in decks] == ["Step 1::Microbiology"]
    assert not decks[0].html
    notes = decks[0].notes
    # `#columns:Back;Front;Tags` puts the back first.
    assert [n.fields for n in notes] == [
        {"front": "Staphylococcus aureus", "back": "Gram-positive"},
        {"front": "Pseudomonas", "back": "Gram-negative; oxidase +"},
    ]
    assert [n.tags for n in notes] == [("micro", "bugs", "imported"), ("micro", "imported")]
    assert all(n.kind is NoteKind.BASIC for n in notes)


# --- headers, separators and sniffing ------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "separator"),
    [
        ("tab", "\t"),
        ("Comma", ","),
        ("Semicolon", ";"),
        ("Pipe", "|"),
        ("Space", " "),
        ("Colon", ":"),
        ("SEMICOLON", ";"),
        ("~", "~"),
        ("\t", "\t"),
    ],
)
def test_every_separator_anki_names_is_understood(header, separator):
    body = f'front{separator}back{separator}"has{separator}sep"\n'
    data = f"#separator:{header}\n#tags column:3\n{body}".encode()

    (note,) = only_notes(parse_anki_text(Path("s.txt"), data))

    assert note.fields == {"front": "front", "back": "back"}
    assert note.tags == tuple(f"has{separator}sep".split())


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ("a\tb, c; d\n", {"front": "a", "back": "b, c; d"}),
        ("a,b;c,d\n", {"front": "a", "back": "b;c"}),
        ('a;"b,c,d";e\n', {"front": "a", "back": "b,c,d"}),
    ],
)
def test_without_separator_header_tab_comma_or_semicolon_is_sniffed(body, fields):
    notes = only_notes(parse_anki_text(Path("s.txt"), body.encode()))

    assert notes[0].fields == fields


def test_notetype_column_named_cloze_in_any_case_makes_a_cloze_note():
    data = b"#notetype column:1\nMy CLOZE type\t{{c1::x}} y\textra\nBasic\t{{c1::x}} z\tback\n"

    notes = only_notes(parse_anki_text(Path("n.txt"), data))

    assert [n.kind for n in notes] == [NoteKind.CLOZE, NoteKind.BASIC]
    assert notes[0].fields == {"text": "{{c1::x}} y", "extra": "extra"}
    assert notes[1].fields == {"front": "{{c1::x}} z", "back": "back"}


def test_without_notetype_a_first_field_with_a_deletion_makes_a_cloze_note():
    data = b"{{c2::Vitamin K}} activates factors II, VII, IX, X\t\nplain\tback\n"

    notes = only_notes(parse_anki_text(Path("n.txt"), data))

    assert [n.kind for n in notes] == [NoteKind.CLOZE, NoteKind.BASIC]
    assert "extra" not in notes[0].fields


def test_notetype_header_cloze_applies_to_every_row():
    data = b"#notetype:Cloze\n#columns:Text\tExtra\n{{c1::a}}\tb\n{{c1::c}}\t\n"

    notes = only_notes(parse_anki_text(Path("n.txt"), data))

    assert [n.kind for n in notes] == [NoteKind.CLOZE, NoteKind.CLOZE]


def test_deck_header_wins_over_default_deck_and_deck_column_wins_over_both():
    data = b"#deck:Header Deck\n#deck column:3\nf1\tb1\tA:: B\nf2\tb2\t\n"

    decks = parse_anki_text(Path("d.txt"), data, default_deck="Default")

    assert [(d.name, len(d.notes)) for d in decks] == [("A::B", 1), ("Header Deck", 1)]


def test_header_problems_are_all_reported_with_their_lines():
    data = b"#separator:weird\n#html:maybe\n#tags column:0\n#html:true\nf\tb\n"

    problems = problems_of(Path("h.txt"), data)

    assert [p.line for p in problems] == [1, 2, 3, 4]
    assert "unknown separator" in problems[0].message
    assert "true or false" in problems[1].message
    assert "column number" in problems[2].message
    assert "twice" in problems[3].message


def test_special_column_beyond_the_rows_is_reported_at_its_header():
    problems = problems_of(Path("h.txt"), b"#tags column:5\nf\tb\tt\n")

    assert [(p.line, p.message) for p in problems] == [
        (1, "#tags column is 5 but rows have 3 columns")
    ]


def test_unknown_header_and_a_comment_line_after_the_notes_give_warnings():
    data = b"#if matches:update current\n#colour:blue\nf\tb\n#not a note\tx\n"

    (deck,) = parse_anki_text(Path("w.txt"), data)

    assert len(deck.notes) == 1
    assert any("unknown header #colour" in w for w in deck.warnings)
    assert any("w.txt:4:" in w and "comment" in w for w in deck.warnings)
    assert not any("if matches" in w for w in deck.warnings)


# --- problems in rows ----------------------------------------------------------------------


def test_every_row_problem_in_a_file_is_collected_before_failing():
    data = b'#tags column:3\ngood\tback\t\n\tno front\t\nshort\n"bad" quote\tb\t\ngood\tagain\t\n'

    problems = problems_of(Path("p.txt"), data)

    assert [p.line for p in problems] == [3, 4, 5, 6]
    assert "first field is empty" in problems[0].message
    assert "row has 1 columns" in problems[1].message
    assert "after the closing quote" in problems[2].message
    assert "duplicate key" in problems[3].message and "same first field" in problems[3].message
    assert all(p.path == "p.txt" for p in problems)


def test_text_after_a_closing_quote_names_the_line_the_quote_opened():
    data = b'a\tb\n"open\tb\nc\t"d"e\n'

    problems = problems_of(Path("q.txt"), data)

    assert problems[0].line == 3
    assert "opened on line 2" in problems[0].message


def test_a_file_with_only_one_column_has_no_back_for_basic_notes():
    problems = problems_of(Path("one.txt"), b"just a front\nanother\n")

    assert [(p.line, p.message) for p in problems] == [
        (1, "basic note has no back: the row has only one field"),
        (2, "basic note has no back: the row has only one field"),
    ]


def test_an_empty_back_is_kept_with_a_warning():
    (deck,) = parse_anki_text(Path("e.txt"), b"front\t \n")

    assert deck.notes[0].fields == {"front": "front", "back": " "}
    assert deck.warnings == ("e.txt:1: basic note has an empty back",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no notes found"),
        (b"#separator:tab\n#html:true\n", "no notes found"),
        (b"\xff\xfef\x00\tb\x00", "not a text file: contains NUL bytes (it looks like UTF-16"),
        (b"SQLite format 3\x00rest", "not a text file: looks like a SQLite database"),
    ],
)
def test_files_without_notes_are_rejected_with_one_problem(data, message):
    problems = problems_of(Path("x.txt"), data)

    assert len(problems) == 1
    assert problems[0].message.startswith(message)


def test_control_characters_are_rejected_with_their_lines():
    data = b"ok\tfine\nbell\x07\tb\nc1\tb\x81\n"  # 0x81 is undefined in cp1252

    problems = problems_of(Path("c.txt"), data)

    assert [p.line for p in problems] == [3]
    assert "neither UTF-8 nor cp1252" in problems[0].message

    problems = problems_of(Path("c.txt"), "ok\tfine\nbell\x07\tb\nc1\tb\x85\n".encode())

    assert [(p.line, p.message[:30]) for p in problems] == [
        (2, "control character U+0007 in te"),
        (3, "control character U+0085 in te"),
    ]


def test_invalid_utf8_after_a_bom_is_not_guessed_as_cp1252():
    problems = problems_of(Path("b.txt"), b"\xef\xbb\xbff\tb\nbad\t\xe9t\xe9\n")

    assert [p.line for p in problems] == [2]
    assert "byte order mark" in problems[0].message


def test_a_missing_file_is_a_deck_format_error(tmp_path):
    problems = problems_of(tmp_path / "nope.txt")

    assert len(problems) == 1
    assert problems[0].message.startswith("cannot read")


def test_data_argument_is_used_instead_of_reading_the_path(tmp_path):
    decks = parse_anki_text(tmp_path / "never-created.txt", b"f\tb\n")

    assert decks[0].name == "never-created"
    assert not (tmp_path / "never-created.txt").exists()


# --- qids from tags ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "qids"),
    [
        (("#AK_Step1_v12::#UWorld::Step::118154",), ("uworld:118154",)),
        (("#AK_Step1_v11::#UWorld::12345",), ("uworld:12345",)),
        (("#AK_Step2_v12::#AMBOSS::Cardio::Valves::77",), ("amboss:77",)),
        (
            ("#AK_Step1_v12::#NBME::Form_25::400",),
            ("nbme:form25-400",),
        ),  # the form is part of the id
        (("#AK_Step1_v12::#UWorld::COMLEX::118154",), ("uworld-comlex:118154",)),
        (("#AK_Step1_v12::#UWorld::Step::118154", "uworld::118154"), ("uworld:118154",)),
        (("#AK_Step1_v12::#B&B::Immunology::12",), ()),
        (("#AK_Step1_v12::#UWorld::Step::not-a-number",), ()),
        (("UWorld", "118154"), ()),
        (("#AK_Step1_v12::#UWorld::Step::١٢٣",), ()),
    ],
)
def test_qbank_tags_give_qids_only_with_a_known_source_and_a_numeric_leaf(tags, qids):
    assert qids_from_tags(tags) == qids


def test_a_short_first_row_is_reported_alone_against_the_usual_width():
    data = b"#tags column:3\nshort\tno tags\nf1\tb1\tt\nf2\tb2\tt\n"

    problems = problems_of(Path("w.txt"), data)

    assert [(p.line, p.message) for p in problems] == [
        (2, "row has 2 columns, expected 3 (as on line 3)")
    ]


def test_columns_header_names_fields_so_a_later_text_column_is_found_and_detected_as_cloze():
    data = b"#columns:Extra\tText\tTags\nsee Robbins\tThe {{c1::liver}} makes albumin\tgi\n"

    (note,) = only_notes(parse_anki_text(Path("c.txt"), data))

    assert note.kind is NoteKind.CLOZE
    assert note.fields == {"text": "The {{c1::liver}} makes albumin", "extra": "see Robbins"}
    assert note.tags == ("gi",)
