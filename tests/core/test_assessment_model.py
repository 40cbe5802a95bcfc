"""Self-assessments: bands from percents, the projection to exam day, reports as weakness."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from flashcore.core.assessment import (
    MAX_TREND,
    AreaKind,
    AreaResult,
    Assessment,
    Band,
    area_scores,
    project,
)

CARDIO = "Cardiovascular System"


def assessment(n: int, day: date, score: float, *areas: AreaResult) -> Assessment:
    return Assessment(n, f"NBME {n}", day, score, 60.0, tuple(areas))


@pytest.mark.parametrize(
    ("percent", "band"), [(40, Band.LOWER), (54.9, Band.LOWER), (55, Band.BORDERLINE),
                          (65, Band.BORDERLINE), (65.1, Band.HIGHER)],
)  # fmt: skip
def test_a_percent_reads_as_a_band_around_the_pass_line(percent, band):
    assert AreaResult(AreaKind.SYSTEM, CARDIO, percent=percent).band_for(60) is band


def test_one_assessment_projects_flat():
    p = project([assessment(1, date(2026, 12, 1), 58)], date(2027, 2, 15))
    assert p is not None and p.score == 58 and p.per_week == 0 and not p.to_json()["passes"]


def test_two_assessments_keep_a_third_of_their_trend_within_the_cap():
    day = date(2026, 12, 1)
    scores = [assessment(1, day, 57), assessment(2, day + timedelta(days=14), 60)]
    p = project(scores, day + timedelta(days=14 + 70))
    assert p is not None
    assert p.per_week == pytest.approx(1.5 / 3)  # 3 points in 2 weeks, a third kept
    assert p.score == pytest.approx(60 + 10 * 0.5)
    steep = [assessment(1, day, 40), assessment(2, day + timedelta(days=7), 70)]
    q = project(steep, day + timedelta(days=7 + 70))
    assert q is not None and q.per_week == pytest.approx(MAX_TREND)


def test_the_latest_report_naming_an_area_sets_its_weakness_and_it_fades():
    day = date(2026, 12, 1)
    old = assessment(1, day, 55, AreaResult(AreaKind.SYSTEM, CARDIO, Band.LOWER))
    new = assessment(2, day + timedelta(days=14), 62,
                     AreaResult(AreaKind.SYSTEM, CARDIO, Band.BORDERLINE))  # fmt: skip
    today = day + timedelta(days=14)
    assert area_scores([old, new], today, 14.0) == {(AreaKind.SYSTEM, CARDIO): 0.25}
    later = area_scores([old, new], today + timedelta(days=28), 14.0)
    assert later[(AreaKind.SYSTEM, CARDIO)] == pytest.approx(0.125)
    assert area_scores([old], day - timedelta(days=1), 14.0) == {}  # not taken yet


def test_a_higher_band_is_no_weakness():
    day = date(2026, 12, 1)
    good = assessment(1, day, 70, AreaResult(AreaKind.DISCIPLINE, "Pathology", Band.HIGHER))
    assert area_scores([good], day, 14.0) == {}
