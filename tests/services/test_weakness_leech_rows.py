"""`weakness_parts.leech_topics` and `leech_rows` (issue 21e): which topics' leeches the report
lists, each leech once under its first-ranked topic, the most lapses first, the command that
brings it back named for the profile."""

from __future__ import annotations

from types import SimpleNamespace

from flashcore.services import weakness_parts as parts

PATHS = {1: "A::x", 2: "A::y", 3: "A", 4: "B::z"}


def _row(path: str, level: str = "topic") -> dict[str, str]:
    return {"topic": path, "level": level}


def test_the_first_leaf_topics_in_the_report_s_order_are_the_ones_read(monkeypatch):
    index = SimpleNamespace(paths=PATHS)
    rows = [_row("B::z"), _row("A::x"), _row("A", "system"), _row("A::y")]
    assert parts.leech_topics(index, rows) == [4, 1, 2]  # leaves only, ranked
    monkeypatch.setattr(parts, "LEECH_TOPICS", 2)
    assert parts.leech_topics(index, rows) == [4, 1]


def test_each_leech_once_under_its_first_topic_then_most_lapses_first():
    index = SimpleNamespace(paths=PATHS)
    leeches = [(10, 8, True, 1), (10, 8, True, 4),  # one card of two topics: under B::z
               (11, 12, False, 1), (12, 8, False, 1), (13, 9, True, 2)]  # fmt: skip
    found = parts.leech_rows("default", index, [4, 1], leeches)
    assert [(x["card_id"], x["topic"]) for x in found] == [(10, "B::z"), (11, "A::x"), (12, "A::x")]
    assert found[0] == {"card_id": 10, "topic": "B::z", "lapses": 8, "suspended": True,
                        "command": "flashcore cards unsuspend 10"}  # fmt: skip
    other = parts.leech_rows("Ana B", index, [4, 1], leeches)
    assert other[1]["command"] == "flashcore --profile 'Ana B' cards unsuspend 11"
