"""The bundled decks: load cleanly, ids unique, topics listed, samples tell a true story."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flashcore.core import topics as topic_keys
from flashcore.importers.deck_toml import parse_deck_file
from tests.decks import topics_md
from tests.decks.content import DECKS, deck_files, load_all, topic_counts

FILES = deck_files()
SAMPLES = DECKS / "samples"


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


def test_decks_readme_lists_every_deck_file_with_its_deck_name():
    readme = (DECKS / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([a-z-]+\.toml)` \| ([^|]+?) \|$", readme, flags=re.M))
    assert listed == {f.name: parse_deck_file(f).name for f in FILES}


def test_classic_high_yield_topics_are_covered():
    leaves = {topic_keys.split_path(t)[-1] for t in topic_counts(load_all())}
    for wanted in ("Type I", "Type II", "Type III", "Type IV", "Hemochromatosis",
                   "Cardiac tamponade", "Sickle cell disease", "Emphysema"):  # fmt: skip
        assert wanted in leaves


def test_the_review_findings_topics_are_leaves_a_miss_can_find():
    """Issue 18's review: each of these had no leaf of its own, so a qbank miss on it matched
    nothing (or only a broader topic)."""
    used = topic_counts(load_all())
    for path in (
        "Immunology::Immunodeficiency::Hyper-IgM syndrome",
        "Pathology::Gastrointestinal::Alpha-1 antitrypsin deficiency",
        "Pharmacology::Immunosuppressants::Calcineurin inhibitors",
        "Pathology::Hematology and oncology::Thrombosis",
        "Biostatistics::Bias::Lead-time bias",
        "Biostatistics::Bias::Length-time bias",
        "Biostatistics::Bias::Recall bias",
        "Biostatistics::Bias::Selection bias",
        "Biostatistics::Bias::Hawthorne effect",
        "Biostatistics::Bias::Confounding",
    ):
        assert used[path] >= 1, path


def test_every_topic_in_the_decks_is_in_the_topic_list_and_back():
    listed = set(re.findall(r"^\s*- `([^`]+)`", (DECKS / "topics.md").read_text(), re.M))
    used = {t for f in FILES for n in parse_deck_file(f).notes for t in n.topics}
    assert used <= listed
    assert listed <= used


def test_the_topic_list_is_the_one_made_from_the_decks():
    assert (DECKS / "topics.md").read_text(encoding="utf-8") == topics_md.render(), (
        "decks/topics.md is out of date: python -m tests.decks.topics_md"
    )


# ---------------------------------------------------------------- the samples' story


@pytest.fixture
def shipped(tmp_path: Path):
    from flashcore.core.clock import FixedClock
    from flashcore.services import Flashcore

    clock = FixedClock(datetime(2026, 11, 25, 9, tzinfo=UTC))
    with Flashcore.open(f"sqlite:///{tmp_path / 'fc.sqlite3'}", clock=clock, create=True) as fc:
        assert all(r.ok for r in fc.add_decks(FILES))
        yield fc


def test_the_readme_weakness_story_holds_with_the_shipped_decks_and_no_question_ids(shipped):
    """README, "The weakness story in three steps": six type I misses, matched by their topic
    text now that shipped cards list no question ids, put that topic first."""
    from flashcore.services import qbank, study, weakness

    paste = qbank.import_log(shipped, (SAMPLES / "uworld-paste.tsv").read_bytes(), origin="p")
    assert paste.matched_card == 0 and paste.matched_topic == 11
    assert paste.unmatched_topics == ["Kikuchi disease"]
    top = weakness.report_rows(shipped)[0]
    assert top["topic"] == "Immunology::Hypersensitivity::Type I"
    assert "6 misses" in study.build_queue(shipped, limit=1).items[0].reason


def test_a_plain_list_of_sample_ids_matches_nothing_in_the_shipped_decks(shipped):
    from flashcore.services import qbank

    qids = (SAMPLES / "incorrect-qids.txt").read_bytes()
    report = qbank.import_log(shipped, qids, origin="incorrect-qids.txt")
    assert report.misses == 8 and report.matched_none == 8
