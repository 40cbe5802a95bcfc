"""The exam's pure rules: new cards a day to the buffer, the last stretch, retention steps, and
the outline's shares and topic placement."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flashcore.core import outline
from flashcore.core.errors import UsageError
from flashcore.core.exam import (
    Exam,
    check_exam,
    exam_retention,
    new_per_day_needed,
    retention_toward,
    stretch_due,
    window,
)

TODAY = date(2026, 11, 25)
EXAM = Exam(date(2027, 2, 15), 120, 7)


def test_new_cards_a_day_see_every_card_before_the_buffer():
    # 82 days left, a 7-day buffer: 75 days to introduce 750 cards
    assert EXAM.new_days_left(TODAY) == 75
    assert new_per_day_needed(750, TODAY, EXAM) == 10
    assert new_per_day_needed(751, TODAY, EXAM) == 11
    assert new_per_day_needed(0, TODAY, EXAM) == 0


def test_inside_the_buffer_every_card_left_is_due_today():
    assert new_per_day_needed(40, date(2027, 2, 10), EXAM) == 40


@pytest.mark.parametrize(
    ("day", "minutes", "buffer", "words"),
    [
        (date(2026, 11, 1), 60, 7, "in the past"),
        (TODAY, 60, 7, "is today"),
        (date(2027, 2, 15), 0, 7, "--minutes-per-day 0"),
        (date(2027, 2, 15), 60, 61, "--buffer-days 61"),
    ],
)
def test_an_exam_that_cannot_be_planned_is_refused_in_one_line(day, minutes, buffer, words):
    with pytest.raises(UsageError) as caught:
        check_exam(day, minutes, buffer, TODAY)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_an_interval_past_the_exam_comes_back_into_the_last_stretch():
    w = window(EXAM, ZoneInfo("UTC"), 4)
    now = datetime(2027, 1, 10, 9, tzinfo=UTC)
    due = datetime(2027, 3, 30, 9, tzinfo=UTC)
    moved = stretch_due(42, 5, due, now, w)
    assert moved is not None
    assert w.stretch_start <= moved < w.exam_start
    assert moved == stretch_due(42, 5, due, now, w)  # the same history gives the same day
    days = {stretch_due(card, 5, due, now, w) for card in range(200)}
    assert len(days) == EXAM.stretch_days  # spread over the whole stretch


def test_due_before_the_exam_or_an_answer_inside_the_stretch_is_left_alone():
    w = window(EXAM, ZoneInfo("UTC"), 4)
    now = datetime(2027, 1, 10, 9, tzinfo=UTC)
    assert stretch_due(1, 1, datetime(2027, 2, 1, tzinfo=UTC), now, w) is None
    inside = datetime(2027, 2, 10, 9, tzinfo=UTC)
    assert stretch_due(1, 1, datetime(2027, 4, 1, tzinfo=UTC), inside, w) is None


def test_the_stretch_day_is_at_least_a_day_after_the_answer():
    w = window(EXAM, ZoneInfo("UTC"), 4)
    now = w.stretch_start - timedelta(hours=2)
    for card in range(50):
        moved = stretch_due(card, 0, datetime(2027, 5, 1, tzinfo=UTC), now, w)
        assert moved is not None and moved >= now + timedelta(days=1) - timedelta(hours=2)
        assert moved >= w.stretch_start + timedelta(days=1)


def test_retention_rises_to_the_step_for_the_days_left_and_never_falls():
    steps = ((7, 0.95), (28, 0.93))
    assert retention_toward(0.90, 5, steps) == 0.95
    assert retention_toward(0.90, 20, steps) == 0.93
    assert retention_toward(0.90, 40, steps) == 0.90
    assert retention_toward(0.97, 5, steps) == 0.97  # a weak topic's higher target stays


def test_outline_shares_add_up_to_one_per_dimension():
    assert sum(outline.SYSTEM_SHARES.values()) == pytest.approx(1.0)
    assert sum(outline.DISCIPLINE_SHARES.values()) == pytest.approx(1.0)
    biggest = max(outline.SYSTEM_SHARES, key=outline.SYSTEM_SHARES.get)
    assert biggest == "Reproductive & Endocrine Systems"  # 12-16 %


@pytest.mark.parametrize(
    ("path", "system", "discipline"),
    [
        ("Physiology::Renal::Acid-base disorders", "Respiratory & Renal/Urinary Systems",
         "Physiology"),
        ("Immunology::Hypersensitivity::Type I", "Blood & Lymphoreticular/Immune Systems",
         "Immunology"),
        ("Microbiology::Viruses::Herpesviruses", "Multisystem Processes & Disorders",
         "Microbiology"),
        ("Behavioral science::Ethics::Capacity",
         "Social Sciences: Communication and Interpersonal Skills", "Behavioral Sciences"),
        ("Anatomy::Musculoskeletal::Brachial plexus",
         "Musculoskeletal, Skin & Subcutaneous Tissue", "Gross Anatomy & Embryology"),
        ("Own::Topic", None, None),
    ],
)  # fmt: skip
def test_a_topic_belongs_to_its_areas_system_and_its_roots_discipline(path, system, discipline):
    assert outline.system_of(path) == system
    assert outline.discipline_of(path) == discipline


def test_outline_figures_agree_with_the_content_tests_outline_file():
    """The content helper keeps the outline's system ranges and the area mapping in
    tests/decks/data/step1_outline.toml (issue 18); the product uses the same figures."""
    data = Path(__file__).resolve().parents[1] / "decks" / "data" / "step1_outline.toml"
    if not data.exists():
        pytest.skip("tests/decks/data/step1_outline.toml is not here yet")
    raw = tomllib.loads(data.read_text(encoding="utf-8"))
    ours = {a.name: [a.low, a.high] for a in outline.SYSTEMS}
    assert {k: [float(x) for x in v] for k, v in raw["systems"].items()} == {
        k: [float(x) for x in v] for k, v in ours.items()
    }
    for area, system in raw.get("areas", {}).items():
        assert outline.AREA_SYSTEMS.get(area) == system, area
    for root, system in raw.get("disciplines", {}).items():
        assert outline.DISCIPLINE_SYSTEMS.get(root) == system, root


def test_the_adapter_brings_an_interval_past_the_exam_into_the_stretch_in_grade_order():
    from flashcore.core.fsrs_adapter import Policy, preview
    from flashcore.core.model import CardState, Memory, Rating, Schedule
    from flashcore.core.settings import Settings

    w = window(EXAM, ZoneInfo("UTC"), 4)
    now = datetime(2027, 1, 20, 9, tzinfo=UTC)  # 26 days before the exam
    card = Schedule(CardState.REVIEW, now, None, Memory(60.0, 5.0), now - timedelta(days=50),
                    5, 0)  # fmt: skip
    plain = Policy.from_settings(Settings())
    free = preview(7, card, now, 0.9, plain, elapsed_days=50)
    assert all(free[r].due.date() > EXAM.exam_date for r in (Rating.GOOD, Rating.EASY))
    held = preview(7, card, now, 0.9, Policy.from_settings(Settings(), w), elapsed_days=50)
    dues = [held[r].due for r in (Rating.HARD, Rating.GOOD, Rating.EASY)]
    assert all(w.stretch_start <= d < w.exam_start for d in dues)
    assert dues == sorted(dues) and len(set(dues)) == 3
    assert held[Rating.GOOD].memory == free[Rating.GOOD].memory  # only the day moves


def test_once_the_exam_day_is_behind_the_exam_changes_nothing():
    """Found living with it (a clock past the exam): the solver's nearest step raised every
    card's retention for good, and `plan_mode auto` asked for every new card left each day."""
    steps = ((7, 0.95), (28, 0.92))
    day = EXAM.exam_date
    assert EXAM.passed(day + timedelta(days=1)) and not EXAM.passed(day)
    assert exam_retention(0, steps) == 0.95  # the exam day itself still counts
    assert exam_retention(-1, steps) is None and exam_retention(-30, steps) is None
    assert retention_toward(0.9, -1, steps) == 0.9
    assert new_per_day_needed(40, day, EXAM) == 40
    assert new_per_day_needed(40, day + timedelta(days=1), EXAM) == 0
