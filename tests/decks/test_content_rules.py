"""The card rules of issue 18 that a program can check, on every deck file: no question ids on
shipped cards, no cloze answer visible on its own card, a hint on every binary deletion, ids
unique, topics shaped `Discipline::System or area::Leaf`, at least a third of the notes cloze.

The rules that need a reader (correct, one right answer, original wording) are in
/work/notes/CONTENT.md; `python -m tests.decks.report` lists every violation per file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flashcore.core.model import NoteKind, NoteSpec
from tests.decks import content
from tests.decks.content import deck_files, load, load_all

FILES = deck_files()


def _rule(path: Path, *rules: str) -> list[str]:
    return [str(v) for v in content.violations([load(path)]) if v.rule in rules]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_shipped_card_carries_question_ids(path):
    assert _rule(path, "qids") == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_cloze_answer_shows_elsewhere_on_its_own_card(path):
    assert _rule(path, "answer shown") == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_binary_deletion_has_a_hint(path):
    assert _rule(path, "binary without hint") == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_loads_with_unique_ids_and_well_formed_topics(path):
    assert _rule(path, "does not load", "id", "topics") == []


def test_deck_keys_and_note_keys_are_unique_across_files():
    decks = load_all()
    assert [str(v) for v in content.violations(decks) if v.rule == "deck key"] == []
    keys = [n.key(d.spec.key) for d in decks if d.spec is not None for n in d.notes]
    assert len(keys) == len(set(keys))


def test_at_least_a_third_of_all_notes_are_cloze():
    assert content.cloze_share(content.all_notes(load_all())) >= 1 / 3


# ---------------------------------------------------------------- the checker itself


def _cloze(text: str) -> NoteSpec:
    return NoteSpec("n", NoteKind.CLOZE, {"text": text}, topics=("Pathology::Renal::Gout",))


def _found(note: NoteSpec) -> list[str]:
    return [v.rule for v in content.note_violations(Path("x.toml"), note)]


@pytest.mark.parametrize(
    "text",
    [
        "Hereditary breast cancer: {{c1::BRCA1}} mutation (BRCA1 is a tumor suppressor)",
        "{{c1::Bruton tyrosine kinase (BTK)}} is mutated in Bruton tyrosine kinase deficiency",
        "Hemochromatosis: {{c1::cirrhosis}}, {{c2::diabetes}} and 'bronze diabetes'",
        "Levels are {{c1::decreased::increased/decreased}} as complement is decreased",
    ],
)
def test_the_checker_finds_an_answer_shown_on_its_own_card(text):
    assert "answer shown" in _found(_cloze(text))


@pytest.mark.parametrize(
    "text",
    [
        "C3 and C4 are {{c1::decreased::increased/decreased}} in serum sickness",
        "All staphylococci are {{c1::catalase}}-positive; S. aureus is {{c2::coagulase}}-positive",
        "{{c1::IgE}} binds mast cells; IgE-mediated",  # answers under 4 characters are skipped
    ],
)
def test_the_checker_accepts_a_hint_that_names_the_answer_and_short_answers(text):
    assert "answer shown" not in _found(_cloze(text))


def test_the_checker_wants_a_hint_on_a_binary_deletion_only():
    assert "binary without hint" in _found(_cloze("Renin is {{c1::increased}} in shock"))
    assert "binary without hint" not in _found(_cloze("Renin is {{c1::up::up/down}} in shock"))
    assert "binary without hint" not in _found(_cloze("Renin comes from {{c1::JG cells}}"))


def test_the_checker_finds_qids_and_misshapen_topics():
    note = NoteSpec(
        "n", NoteKind.BASIC, {"front": "Q?", "back": "A"}, ("Renal::Gout",), ("uworld:1",)
    )
    assert _found(note) == ["qids", "topics"]
    odd = NoteSpec("n", NoteKind.BASIC, {"front": "Q?", "back": "A"}, ("Medicine::Renal::Gout",))
    assert _found(odd) == ["topics"]
