"""Readiness by USMLE system and discipline: how much of each area's share of the exam is at
risk on exam day. Pure.

For an area (an outline system or discipline, weighted by its share of the exam, see
core.outline), three kinds of evidence are combined into `performance`, the expected share of
its exam questions answered right:

- its cards: `knowledge = (1 - unseen) × recall`, where `unseen` is the share of its cards the
  forecast leaves new on exam day and `recall` the forecast's mean recall of the others on
  exam day (no card: knowledge 0, the area is unprepared);
- the qbank questions of the last 28 days matched to it (of imports that logged right answers
  too: a paste of misses alone says nothing of a rate): their correct rate, weighing
  `n / (n + 20)` for n questions (20 questions weigh as much as the cards);
- the most recent self-assessment report naming it: its percent, or its band read as the pass
  line minus 10 (lower), the pass line (borderline) or plus 10 (higher), weighing 0.5, halved
  every 28 days of its age.

`performance = (knowledge + w_q × qbank + w_a × report) / (1 + w_q + w_a)`, and
`points at risk = 100 × share × (1 - performance)`: percent points of the exam. The trend is
the qbank correct rate of the last 14 days minus that of the 14 before, per week (shown when
both fortnights have 5 questions or more).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from flashcore.core.assessment import AreaKind, Assessment, Band
from flashcore.core.weakness import decay

QBANK_PRIOR = 20.0
QBANK_DAYS = 28
REPORT_WEIGHT = 0.5
REPORT_HALF_LIFE = 28.0
BAND_OFFSET = {Band.LOWER: -10.0, Band.BORDERLINE: 0.0, Band.HIGHER: 10.0}
TREND_MIN = 5


@dataclass(frozen=True, slots=True)
class QbankDay:
    on_date: date
    correct: int
    total: int


@dataclass(frozen=True, slots=True)
class AreaReadiness:
    kind: AreaKind
    area: str
    short: str
    share: float  # of the exam, 0-1
    cards: int
    unseen: float  # share of its cards still new on exam day
    recall: float | None  # mean exam-day recall of its cards seen by then
    qbank_questions: int
    qbank_correct: float | None
    qbank_trend: float | None  # change of the correct rate per week
    report: str | None  # the latest report's band or percent
    performance: float
    points_at_risk: float

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "area": self.area,
            "short": self.short,
            "share": round(self.share, 4),
            "cards": self.cards,
            "unseen": round(self.unseen, 4),
            "recall": None if self.recall is None else round(self.recall, 4),
            "qbank_questions": self.qbank_questions,
            "qbank_correct": None if self.qbank_correct is None else round(self.qbank_correct, 4),
            "qbank_trend": None if self.qbank_trend is None else round(self.qbank_trend, 4),
            "report": self.report,
            "performance": round(self.performance, 4),
            "points_at_risk": round(self.points_at_risk, 2),
        }


@dataclass(frozen=True, slots=True)
class CardsOfArea:
    cards: float  # in the collection (a sampled forecast's cards scaled up)
    unseen: float
    recall_sum: float  # over the seen cards (scaled)
    seen: float


def _qbank(days: Iterable[QbankDay], today: date) -> tuple[int, float | None, float | None]:
    recent = [d for d in days if 0 <= (today - d.on_date).days < QBANK_DAYS]
    total = sum(d.total for d in recent)
    correct = sum(d.correct for d in recent)
    rate = correct / total if total else None
    late = [d for d in recent if (today - d.on_date).days < 14]
    early = [d for d in recent if (today - d.on_date).days >= 14]
    n_late, n_early = sum(d.total for d in late), sum(d.total for d in early)
    trend = None
    if n_late >= TREND_MIN and n_early >= TREND_MIN:
        late_rate = sum(d.correct for d in late) / n_late
        early_rate = sum(d.correct for d in early) / n_early
        trend = (late_rate - early_rate) / 2.0
    return total, rate, trend


def _report(
    assessments: Iterable[Assessment], kind: AreaKind, area: str, today: date
) -> tuple[str | None, float | None, float]:
    """(shown, fraction correct, weight) of the latest report naming the area."""
    best = None
    for a in assessments:
        if a.taken_on > today:
            continue
        for line in a.areas:
            if (
                line.kind is kind
                and line.area == area
                and (best is None or (a.taken_on, a.assessment_id) > best[0])
            ):
                best = ((a.taken_on, a.assessment_id), a, line)
    if best is None:
        return None, None, 0.0
    _key, a, line = best
    if line.percent is not None:
        percent, shown = line.percent, f"{line.percent:g}%"
    else:
        band = line.band_for(a.pass_line)
        percent, shown = a.pass_line + BAND_OFFSET[band], band.value
    weight = REPORT_WEIGHT * decay((today - a.taken_on).days, REPORT_HALF_LIFE)
    return f"{shown} on {a.name}", max(0.0, min(100.0, percent)) / 100.0, weight


def area_readiness(
    kind: AreaKind,
    shares: Mapping[str, float],
    short: Mapping[str, str],
    cards: Mapping[str, CardsOfArea],
    qbank: Mapping[str, list[QbankDay]],
    assessments: list[Assessment],
    today: date,
) -> list[AreaReadiness]:
    """Every area of one dimension (systems or disciplines), most points at risk first."""
    out = []
    for area, share in shares.items():
        c = cards.get(area)
        if c is None or c.cards <= 0:
            unseen, recall, knowledge, count = 1.0, None, 0.0, 0
        else:
            unseen = c.unseen / c.cards
            recall = c.recall_sum / c.seen if c.seen > 0 else None
            knowledge = (1.0 - unseen) * (recall or 0.0)
            count = round(c.cards)
        n, rate, trend = _qbank(qbank.get(area, []), today)
        w_q = n / (n + QBANK_PRIOR) if rate is not None else 0.0
        shown, report, w_a = _report(assessments, kind, area, today)
        performance = (knowledge + w_q * (rate or 0.0) + w_a * (report or 0.0)) / (1 + w_q + w_a)
        out.append(
            AreaReadiness(
                kind=kind, area=area, short=short.get(area, area), share=share, cards=count,
                unseen=unseen, recall=recall, qbank_questions=n, qbank_correct=rate,
                qbank_trend=trend, report=shown, performance=performance,
                points_at_risk=100.0 * share * (1.0 - performance),
            )
        )  # fmt: skip
    out.sort(key=lambda r: (-r.points_at_risk, r.area))
    return out
