"""The bundled decks: load cleanly, ids unique, topics listed, samples match their cards."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from flashcore.core import topics as topic_keys
from flashcore.importers.deck_toml import parse_deck_file

DECKS = Path(__file__).resolve().parents[2] / "decks"
FILES = sorted(DECKS.glob("*.toml"))


def test_there_are_at_least_300_cards_and_a_third_are_cloze():
    notes = [n for f in FILES for n in parse_deck_file(f).notes]
    cloze = [n for n in notes if n.kind.value == "cloze"]
    assert len(notes) >= 300
    assert len(cloze) >= len(notes) / 3
    assert any(len(re.findall(r"\{\{c(\d+)::", n.fields["text"])) >= 2 for n in cloze)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_deck_file_loads_with_no_errors_and_no_warnings(path):
    spec = parse_deck_file(path)
    assert spec.warnings == ()
    assert len({n.local_id for n in spec.notes}) == len(spec.notes)
    for note in spec.notes:
        assert note.topics, f"{path.name}:{note.line}: card {note.local_id} has no topic"
        for topic in note.topics:
            assert len(topic_keys.split_path(topic)) == 3, topic


def test_deck_keys_are_unique_across_files():
    keys = [parse_deck_file(f).key for f in FILES]
    assert len(keys) == len(set(keys))


def test_classic_high_yield_topics_are_covered():
    leaves = {topic_keys.split_path(t)[-1] for f in FILES for n in parse_deck_file(f).notes
              for t in n.topics}  # fmt: skip
    for wanted in ("Type I", "Type II", "Type III", "Type IV", "Hemochromatosis",
                   "Cardiac tamponade", "Sickle cell disease", "Emphysema"):  # fmt: skip
        assert wanted in leaves


def test_every_topic_in_the_decks_is_in_the_topic_list_and_back():
    listed = set(re.findall(r"^\s*- `([^`]+)`", (DECKS / "topics.md").read_text(), re.M))
    used = {t for f in FILES for n in parse_deck_file(f).notes for t in n.topics}
    assert used <= listed
    assert listed <= used


def test_qids_are_unique_across_cards():
    seen: dict[str, str] = {}
    for f in FILES:
        for card in tomllib.loads(f.read_text())["cards"]:
            for q in card.get("qids", []):
                assert q not in seen, f"{q} on {seen.get(q)} and {card['id']}"
                seen[q] = card["id"]
