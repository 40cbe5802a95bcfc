"""Self-assessments (NBME-style practice exams): scores against the pass line, their trend to
the exam day, and the per-system and per-discipline bands of a score report as weakness.

A report's area is either a band (`lower`, `borderline`, `higher`, as NBME's performance
profiles and a failing Step 1 score report show them) or a percent correct. A percent is read
as a band against the assessment's pass line: more than 5 points under it is `lower`, within 5
points `borderline`, above that `higher`.

As weakness: the most recent report that names an area sets it; `lower` counts as a topic
score of 0.5 (about what four recent qbank misses give), `borderline` 0.25, `higher` nothing,
fading with the report's age at twice the weakness half-life. Every topic of the area's system
(or discipline) takes that score when it is higher than its own, so a weak system's cards come
first before a single qbank miss is logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flashcore.core.weakness import decay

SCORE_RANGE = (0.0, 100.0)
DEFAULT_PASS_LINE = 60.0
BAND_MARGIN = 5.0  # percent points around the pass line that read as borderline
BAND_SCORES = {"lower": 0.5, "borderline": 0.25, "higher": 0.0}
BAND_HALF_LIFE_FACTOR = 2.0  # reports fade at twice the weakness half-life
MAX_TREND = 2.0  # points a week a projection may rise or fall


class Band(StrEnum):
    LOWER = "lower"
    BORDERLINE = "borderline"
    HIGHER = "higher"


class AreaKind(StrEnum):
    SYSTEM = "system"
    DISCIPLINE = "discipline"


@dataclass(frozen=True, slots=True)
class AreaResult:
    """One line of a score report: an outline system or discipline and how it went."""

    kind: AreaKind
    area: str  # the outline's name
    band: Band | None = None
    percent: float | None = None
    given: str = ""  # the area as the report wrote it
    line: int | None = None

    def band_for(self, pass_line: float) -> Band:
        if self.band is not None:
            return self.band
        assert self.percent is not None
        if self.percent < pass_line - BAND_MARGIN:
            return Band.LOWER
        if self.percent <= pass_line + BAND_MARGIN:
            return Band.BORDERLINE
        return Band.HIGHER

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "area": self.area,
            "band": self.band.value if self.band else None,
            "percent": self.percent,
        }


@dataclass(frozen=True, slots=True)
class Assessment:
    assessment_id: int
    name: str
    taken_on: date
    score: float
    pass_line: float
    areas: tuple[AreaResult, ...] = ()

    @property
    def margin(self) -> float:
        return self.score - self.pass_line

    def to_json(self) -> dict[str, object]:
        return {
            "assessment_id": self.assessment_id,
            "name": self.name,
            "date": self.taken_on.isoformat(),
            "score": self.score,
            "pass_line": self.pass_line,
            "margin": round(self.margin, 2),
            "passed": self.score >= self.pass_line,
            "areas": [a.to_json() | {"band": a.band_for(self.pass_line).value} for a in self.areas],
        }


@dataclass(frozen=True, slots=True)
class Projection:
    """Scores over time, projected to a day by a least-squares line (one score: flat)."""

    on: date
    score: float
    per_week: float  # the trend, points a week (0 with one assessment)
    based_on: int
    pass_line: float

    def to_json(self) -> dict[str, object]:
        return {
            "date": self.on.isoformat(),
            "score": round(self.score, 1),
            "per_week": round(self.per_week, 2),
            "based_on": self.based_on,
            "pass_line": self.pass_line,
            "passes": self.score >= self.pass_line,
        }


def project(assessments: Sequence[Assessment], on: date) -> Projection | None:
    """Where the scores are heading on `on` (None without assessments). A least-squares line
    over the assessments taken within 120 days of the latest, its slope shrunk toward flat with
    few of them (× (n - 1) / (n + 1): two assessments keep a third of their slope) and held to
    MAX_TREND points a week either way; the projection starts from the line at the latest
    assessment. Scores are kept within 0-100."""
    if not assessments:
        return None
    latest = max(a.taken_on for a in assessments)
    used = [a for a in assessments if (latest - a.taken_on).days <= 120]
    pass_line = max(used, key=lambda a: (a.taken_on, a.assessment_id)).pass_line
    xs = [float((a.taken_on - latest).days) for a in used]
    ys = [a.score for a in used]
    n = len(used)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = (
        0.0
        if spread == 0
        else sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    )
    fitted_now = mean_y + slope * (0.0 - mean_x)  # the line at the latest assessment
    per_day = slope * (n - 1) / (n + 1)
    per_day = max(-MAX_TREND / 7, min(MAX_TREND / 7, per_day))
    at = float((on - latest).days)
    score = min(100.0, max(0.0, fitted_now + per_day * at))
    return Projection(on, score, per_day * 7, n, pass_line)


def area_scores(
    assessments: Iterable[Assessment], today: date, half_life: float
) -> dict[tuple[AreaKind, str], float]:
    """The weakness score of each reported area: its band in the most recent report naming
    it, faded by that report's age."""
    latest: dict[tuple[AreaKind, str], tuple[date, int, float]] = {}
    for a in assessments:
        if a.taken_on > today:
            continue
        for area in a.areas:
            key = (area.kind, area.area)
            seen = latest.get(key)
            if seen is None or (a.taken_on, a.assessment_id) > seen[:2]:
                score = BAND_SCORES[area.band_for(a.pass_line).value]
                latest[key] = (a.taken_on, a.assessment_id, score)
    out = {}
    for key, (taken, _id, score) in latest.items():
        faded = score * decay((today - taken).days, half_life * BAND_HALF_LIFE_FACTOR)
        if faded > 0:
            out[key] = round(faded, 6)
    return out


def reason_text(area: str, band: Band, name: str, taken_on: date) -> str:
    """`weak system: Cardiovascular System — lower on NBME 31 (2026-12-20)`."""
    return f"weak system: {area} — {band.value} on {name} ({taken_on.isoformat()})"
