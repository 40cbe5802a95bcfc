"""A topic's explanation (core.reasons.Explanation: why its weight refresh found it weak) as
the JSON of `topics.explanation`, and back. One object, by `kind`:

- `misses` (TopicEvidence): `misses`, `recent_misses`, `half_life_days`, `last_miss_days`,
  `ratio`, `forgetting`, `first` ([failed, answered, ratio]: core.first_answers; the last four
  may be null or absent), `others` (the others' share of right answers on its misses,
  core.difficulty; written only when known);
- `assessment` (AssessedArea): `area_kind` ("system" or "discipline"), `area`, `band`,
  `assessment` (its name), `taken_on` (an ISO date);
- `text`: `text`, an explanation an older version recorded as text only (see migration 0014).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flashcore.core.reasons import AssessedArea, Explanation, TopicEvidence


def to_json(why: Explanation | None) -> dict[str, Any] | None:
    if why is None:
        return None
    if isinstance(why, str):
        return {"kind": "text", "text": why}
    if isinstance(why, TopicEvidence):
        found: dict[str, Any] = {
            "kind": "misses",
            "misses": why.misses,
            "recent_misses": why.recent_misses,
            "half_life_days": why.half_life_days,
            "last_miss_days": why.last_miss_days,
            "ratio": why.ratio,
            "forgetting": why.forgetting,
            "first": list(why.first) if why.first is not None else None,
        }
        if why.others is not None:
            found["others"] = why.others
        return found
    return {
        "kind": "assessment",
        "area_kind": why.kind.value,
        "area": why.area,
        "band": why.band.value,
        "assessment": why.assessment,
        "taken_on": why.taken_on.isoformat(),
    }


def from_json(data: dict[str, Any] | None) -> Explanation | None:
    """The explanation `to_json` wrote; None for none (or a kind this version does not know:
    a newer version's, shown as no explanation until the next weight refresh)."""
    if not data:
        return None
    kind = data.get("kind")
    if kind == "misses":
        return TopicEvidence(
            misses=int(data["misses"]),
            recent_misses=int(data["recent_misses"]),
            half_life_days=float(data["half_life_days"]),
            last_miss_days=_optional_int(data.get("last_miss_days")),
            ratio=_optional_float(data.get("ratio")),
            forgetting=_optional_float(data.get("forgetting")),
            first=_first(data.get("first")),
            others=_optional_float(data.get("others")),
        )
    if kind == "assessment":
        from flashcore.core.assessment import AreaKind, Band  # only where an assessment weighs

        return AssessedArea(
            kind=AreaKind(data["area_kind"]),
            area=str(data["area"]),
            band=Band(data["band"]),
            assessment=str(data["assessment"]),
            taken_on=date.fromisoformat(data["taken_on"]),
        )
    if kind == "text":
        return str(data["text"])
    return None


def _first(value: Any) -> tuple[int, int, float] | None:
    if not value:
        return None
    failed, answered, times = value
    return int(failed), int(answered), float(times)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
