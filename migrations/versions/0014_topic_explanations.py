"""topic explanations as data: topics.explanation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 22:30:00

A topic's weight refresh recorded why the topic is weak as text (`topics.reason`, e.g. `weak
topic: Cardiology::Heart failure — 6 misses in 14 days`), which the queue read back and showed.
`topics.explanation` holds the data instead (core.reasons.TopicEvidence or AssessedArea, as the
JSON storage.explanations reads), and the text is made where it is shown. The upgrade reads each
stored text into that data where the data gives back exactly the same text; a text it cannot
read so (cut at 300 characters, or worded by another version) is kept whole as `{"kind":
"text"}`, shown as before until the next refresh. `reason` is left as it is: a refresh still
writes the text there, beside the data, for older versions' readers (flashcore no longer reads
it). Downgrading writes every explanation into `reason` as the text it stands for (in case a
later version stopped writing it), then drops the column: nothing an older version shows is
lost.

The texts are read and written here with this revision's own copy of the wording, so that later
changes to core.reasons cannot change what this revision did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASON_CHARS = 300
DEFAULT_HALF_LIFE = 14.0
_FORGETS = r"cards forgotten (?P<forgetting>\d+\.\d)× as often as predicted"
_RELATIVE = r"(?: \((?P<ratio>\d+\.\d)× your average per card\))?"
_TAIL = _RELATIVE + f"(?:; {_FORGETS})?"
RECENT = re.compile(r"(?P<recent>\d+) miss(?:es)? in (?P<days>\d+) days" + _TAIL + r"\Z")
OLDER = re.compile(
    r"(?P<misses>\d+) older miss(?:es)?(?:, the last (?P<ago>\d+) days ago)?" + _TAIL + r"\Z"
)
NO_MISSES = re.compile(f"(?:no misses|{_FORGETS})" + r"\Z")
AREA = re.compile(
    r"weak (?P<kind>system|discipline): (?P<area>.+) — (?P<band>lower|borderline|higher)"
    r" on (?P<name>.+) \((?P<on>\d{4}-\d\d-\d\d)\)\Z",
    re.DOTALL,
)

topics = sa.table(
    "topics",
    sa.column("id", sa.Integer()),
    sa.column("profile_id", sa.Integer()),
    sa.column("path", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("explanation", sa.JSON(none_as_null=True)),
)
profiles = sa.table("profiles", sa.column("id", sa.Integer()), sa.column("settings", sa.JSON()))


def upgrade() -> None:
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("explanation", sa.JSON(none_as_null=True), nullable=True))
    conn = op.get_bind()
    half_lives = {
        profile_id: _half_life(settings)
        for profile_id, settings in conn.execute(sa.select(profiles.c.id, profiles.c.settings))
    }
    rows = conn.execute(
        sa.select(topics.c.id, topics.c.profile_id, topics.c.path, topics.c.reason).where(
            topics.c.reason != ""
        )
    ).all()
    changes = [
        {"tid": topic_id, "e": data(path, reason, half_lives.get(profile_id, DEFAULT_HALF_LIFE))}
        for topic_id, profile_id, path, reason in rows
    ]
    if changes:
        conn.execute(
            sa.update(topics)
            .where(topics.c.id == sa.bindparam("tid"))
            .values(explanation=sa.bindparam("e")),
            changes,
        )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(topics.c.id, topics.c.path, topics.c.explanation, topics.c.reason)
    ).all()
    changes = [
        {"tid": topic_id, "r": text}
        for topic_id, path, explanation, reason in rows
        if (text := _clip(render(path, explanation))) != reason
    ]
    if changes:
        conn.execute(
            sa.update(topics)
            .where(topics.c.id == sa.bindparam("tid"))
            .values(reason=sa.bindparam("r")),
            changes,
        )
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_column("explanation")


def data(path: str, reason: str, half_life: float) -> dict[str, Any]:
    """The explanation behind `reason`, checked: it renders back to exactly `reason`."""
    found = _read(path, reason, half_life)
    if found is None or _clip(render(path, found)) != reason:
        return {"kind": "text", "text": reason}
    return found


def _read(path: str, reason: str, half_life: float) -> dict[str, Any] | None:
    area = AREA.match(reason)
    if area:
        return {
            "kind": "assessment",
            "area_kind": area["kind"],
            "area": area["area"],
            "band": area["band"],
            "assessment": area["name"],
            "taken_on": date.fromisoformat(area["on"]).isoformat(),
        }
    prefix = f"weak topic: {path} — "
    if not reason.startswith(prefix):
        return None
    rest = reason[len(prefix) :]
    evidence: dict[str, Any] = {
        "kind": "misses",
        "half_life_days": half_life,
        "last_miss_days": None,
    }
    if m := NO_MISSES.match(rest):
        return evidence | {
            "misses": 0,
            "recent_misses": 0,
            "ratio": None,
            "forgetting": _float(m["forgetting"]),
        }
    if m := RECENT.match(rest):
        days = int(m["days"])
        recent = int(m["recent"])
        evidence["half_life_days"] = half_life if round(half_life) == days else float(days)
        # The text names only the recent misses: the older ones, if any, are not known.
        return evidence | {
            "misses": recent,
            "recent_misses": recent,
            "ratio": _float(m["ratio"]),
            "forgetting": _float(m["forgetting"]),
        }
    if m := OLDER.match(rest):
        ago = int(m["ago"]) if m["ago"] is not None else None
        return evidence | {
            "misses": int(m["misses"]),
            "recent_misses": 0,
            "last_miss_days": ago,
            "ratio": _float(m["ratio"]),
            "forgetting": _float(m["forgetting"]),
        }
    return None


def render(path: str, explanation: dict[str, Any] | None) -> str:
    """The text an explanation stands for, worded as schema 0013's `reason` held it."""
    if not explanation:
        return ""
    kind = explanation.get("kind")
    if kind == "text":
        return str(explanation["text"])
    if kind == "assessment":
        e = explanation
        return f"weak {e['area_kind']}: {e['area']} — {e['band']} on {e['assessment']} ({e['taken_on']})"
    if kind != "misses":
        return ""
    e = explanation
    forgetting, ratio = e.get("forgetting"), e.get("ratio")
    forgets = (
        f"cards forgotten {forgetting:.1f}× as often as predicted"
        if forgetting is not None and forgetting > 1.0
        else ""
    )
    if not e["misses"]:
        return f"weak topic: {path} — {forgets or 'no misses'}"
    extra = f"; {forgets}" if forgets else ""
    relative = f" ({ratio:.1f}× your average per card)" if ratio is not None else ""
    if e["recent_misses"]:
        n = e["recent_misses"]
        plural = "miss" if n == 1 else "misses"
        days = round(e["half_life_days"])
        return f"weak topic: {path} — {n} {plural} in {days} days{relative}{extra}"
    plural = "miss" if e["misses"] == 1 else "misses"
    ago = (
        f", the last {e['last_miss_days']} days ago" if e.get("last_miss_days") is not None else ""
    )
    return f"weak topic: {path} — {e['misses']} older {plural}{ago}{relative}{extra}"


def _half_life(settings: Any) -> float:
    value = settings.get("weakness_half_life_days") if isinstance(settings, dict) else None
    return float(value) if isinstance(value, (int, float)) else DEFAULT_HALF_LIFE


def _float(text: str | None) -> float | None:
    return float(text) if text is not None else None


def _clip(text: str) -> str:
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"
