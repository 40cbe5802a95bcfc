"""Step 1 coverage of the bundled decks: notes per content-outline system, and the share of
question-bank topic names that a pasted miss would match (through flashcore's own qbank import).

The whole-collection checks (1,500 notes, each system's floor of 1,500 and its share of all
notes, the match share) assert once coverage.COVERAGE_COMPLETE is set (issue 18: set); before
that they print what they measure and skip. A system listed in coverage.KNOWN_SHORT_OF_SHARE is
an expected (strict) failure of the share test. `python -m tests.decks.report` prints it all.
"""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from flashcore.core import topics as topic_keys
from tests.decks import coverage
from tests.decks.content import deck_files, load_all

PLAN = coverage.outline()
NAMES = coverage.qbank_topics()


def _waiting(what: str) -> None:
    if not coverage.COVERAGE_COMPLETE:
        pytest.skip(f"issue 18 decks are still being written; {what}")


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory) -> coverage.MatchResult:
    names = [n for names in NAMES.values() for n in names]
    folder = tmp_path_factory.mktemp("coverage")
    return coverage.match_qbank_topics(deck_files(), names, folder)


def test_the_outline_data_names_its_source_and_ranges_that_fit_the_exam():
    assert "usmle.org" in PLAN.source
    assert len(PLAN.systems) == 11
    lows = sum(lo for lo, _hi in PLAN.systems.values())
    highs = sum(hi for _lo, hi in PLAN.systems.values())
    assert lows <= 100 <= highs
    for name, (lo, hi) in PLAN.systems.items():
        assert 0 < lo <= hi, name
    assert set(PLAN.areas.values()) | set(PLAN.disciplines.values()) <= set(PLAN.systems)
    assert not coverage.KNOWN_SHORT_OF_SHARE - set(PLAN.systems)


def test_every_deck_topic_belongs_to_a_content_outline_system():
    _counts, unmapped = coverage.notes_per_system(load_all(), PLAN)
    assert unmapped == [], (
        "topics whose Discipline::Area is not in tests/decks/data/step1_outline.toml "
        "(use the area names of notes/CONTENT.md, or add the area there): " + ", ".join(unmapped)
    )


@functools.cache
def _counts() -> tuple[Counter[str], int]:
    counts, _unmapped = coverage.notes_per_system(load_all(), PLAN)
    return counts, sum(counts.values())


def test_at_least_1500_notes_and_every_system_at_least_the_low_end_of_its_range_of_1500():
    counts, total = _counts()
    floors = {name: coverage.floor_of(low) for name, (low, _high) in PLAN.systems.items()}
    below = {name: (counts[name], need) for name, need in floors.items() if counts[name] < need}
    summary = f"{total} notes; below the floor: " + (
        "; ".join(f"{name} {have} < {need}" for name, (have, need) in below.items()) or "none"
    )
    print(summary)
    _waiting(summary)
    assert total >= coverage.MIN_NOTES, summary
    assert below == {}, summary


def _share_case(name: str) -> object:
    if name not in coverage.KNOWN_SHORT_OF_SHARE:
        return name
    reason = "known short of its share of all notes (coverage.KNOWN_SHORT_OF_SHARE)"
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason))


@pytest.mark.parametrize("system", [_share_case(name) for name in PLAN.systems])
def test_each_system_s_share_of_all_notes_reaches_the_low_end_of_its_outline_range(system):
    counts, total = _counts()
    low, _high = PLAN.systems[system]
    share = 100.0 * counts[system] / total
    summary = f"{system}: {counts[system]} of {total} notes = {share:.1f}% (outline from {low:g}%)"
    print(summary)
    _waiting(summary)
    assert share >= low, summary


def test_the_qbank_topic_list_has_several_hundred_distinct_names_under_outline_systems():
    assert set(NAMES) == set(PLAN.systems)
    names = [n for names in NAMES.values() for n in names]
    assert len(names) >= 300
    keys = [topic_keys.text_key(n) for n in names]
    assert len(set(keys)) == len(keys), "two names that the matcher cannot tell apart"
    assert all(n.strip() == n and "," not in n for n in names)


def test_qbank_topic_names_meet_deck_topics_through_the_qbank_import(matched):
    by_system = {
        system: [n for n in names if n in set(matched.unmatched)] for system, names in NAMES.items()
    }
    lines = [f"qbank topic names matched: {matched.share:.1%} of {len(matched.names)}"]
    lines += [f"  {system}: {', '.join(names)}" for system, names in by_system.items() if names]
    print("\n".join(lines))
    # The import's matcher is the one under test: what the decks already name must match.
    assert "Type I hypersensitivity" not in matched.unmatched
    assert "Selection bias" not in matched.unmatched
    assert "Kikuchi disease" not in matched.names
    _waiting(f"{matched.share:.1%} of the names match now (wanted {coverage.MATCH_SHARE:.0%})")
    assert matched.share >= coverage.MATCH_SHARE, lines[0]


def test_the_samples_uncovered_topic_stays_uncovered(tmp_path):
    """decks/samples/README.md promises one row on a topic no card covers (Kikuchi disease)."""
    result = coverage.match_qbank_topics(deck_files(), ["Kikuchi disease"], tmp_path)
    assert result.unmatched == ["Kikuchi disease"]
