"""UWorld's "% correct others" is kept per attempt (schema 0025) and weighs a topic's misses
(core.difficulty), on SQLite and PostgreSQL: misses on questions others get right make a topic
weak where the same number of misses on questions others miss do not, and the reason says
so; a paste without the column, or with the same share on every row, schedules exactly as
before; the share of a question listed on a card counts for that card's topics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.core import difficulty
from flashcore.services import qbank, study, weakness
from tests.conftest import write_deck

TOPICS = ("Alpha", "Beta", "Gamma")


def _deck() -> str:
    cards = []
    for topic in TOPICS:
        for n in range(10):
            qids = '\nqids = ["uworld:9100"]' if (topic, n) == ("Gamma", 0) else ""
            cards.append(
                f'[[cards]]\nid = "{topic}{n}"\nfront = "{topic} fact {n}"\nback = "x"\n'
                f'topics = ["Pathology::Cardio::{topic} disease"]{qids}\n'
            )
    return "\n".join(cards)


@pytest.fixture
def deck_fc(fc: Any, tmp_path: Path) -> Any:
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", _deck())])
    assert report.ok, report.problems
    return fc


def paste(shares: dict[str, str], counts: dict[str, int] | None = None) -> bytes:
    """Misses on each topic (`counts`, 4 each by default), each with the topic's share of
    right answers among others (`shares`; a topic not in it: a row without that column)."""
    rows, n = [], 1
    for topic in TOPICS:
        for _ in range((counts or {}).get(topic, 4)):
            cells = [f"{n} - {5000 + n}", "Pathology", "Cardio", "Cardio", f"{topic} disease"]
            if topic in shares:
                cells += [shares[topic], "80 sec"]
            rows.append("\t".join(cells))
            n += 1
    return ("\n".join(rows) + "\n").encode()


def standing(fc: Any) -> dict[str, tuple[float | None, str]]:
    """(vs_average, reason) of each reported topic by its leaf name."""
    return {
        r["topic"].split("::")[-1].removesuffix(" disease"): (r["vs_average"], r["reason"])
        for r in weakness.report(fc)["topics"]
        if r["topic"].split("::")[-1].removesuffix(" disease") in TOPICS
    }


def weights(fc: Any) -> dict[str, float]:
    with fc.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT path, weight FROM topics")).all()
    return {p.split("::")[-1].removesuffix(" disease"): float(w) for p, w in rows if "::" in p}


def shares_stored(fc: Any) -> list[Any]:
    with fc.engine.connect() as conn:
        return [
            r[0] for r in conn.execute(sa.text("SELECT others FROM qbank_attempts ORDER BY qid"))
        ]


def test_misses_on_questions_others_get_right_make_a_topic_weak(deck_fc):
    report = qbank.import_log(
        deck_fc, paste({"Alpha": "85%", "Beta": "35%", "Gamma": "35 %"}), origin="uworld"
    )
    assert report.misses == 12
    assert shares_stored(deck_fc) == [85] * 4 + [35] * 8
    found = weights(deck_fc)
    assert found["Alpha"] > 0.0 == found["Beta"] == found["Gamma"]
    ratio, _reason = standing(deck_fc)["Alpha"]
    assert ratio is not None and ratio > 1.0
    (first, *_rest) = study.build_queue(deck_fc).items  # Alpha's new cards come first
    assert first.reason.startswith(
        "new; weak topic: Pathology::Cardio::Alpha disease — 4 misses in 14 days, on questions "
        "85% of others get right ("
    ), first.reason


def test_the_same_share_on_every_row_schedules_as_a_paste_without_the_column(deck_fc):
    counts = {"Alpha": 7, "Beta": 2, "Gamma": 3}
    batch = qbank.import_log(deck_fc, paste(dict.fromkeys(TOPICS, "55%"), counts), origin="a")
    assert shares_stored(deck_fc) == [55] * 12
    with_share = weights(deck_fc), {t: v for t, (v, _r) in standing(deck_fc).items()}
    assert with_share[0]["Alpha"] > 0.0  # missed more than the average: weak either way
    qbank.remove_batch(deck_fc, batch.batch_id)
    qbank.import_log(deck_fc, paste({}, counts), origin="b")  # an older paste: no such column
    assert shares_stored(deck_fc) == [None] * 12
    assert (weights(deck_fc), {t: v for t, (v, _r) in standing(deck_fc).items()}) == with_share
    assert all("others" not in item.reason for item in study.build_queue(deck_fc).items)


def test_one_topic_alone_with_shares_is_not_said_to_be_weighed_by_them(deck_fc):
    """Found in review: the shares weigh a topic's misses against the student's average miss
    that has one, so where one topic alone has shares (the others' rows came without the
    column) they move nothing; the reasons and the report said the topic's questions were
    ones "85% of others get right" as if that had weighed it."""
    counts = {"Alpha": 7, "Beta": 2, "Gamma": 3}
    qbank.import_log(deck_fc, paste({"Alpha": "85%"}, counts), origin="a")
    assert shares_stored(deck_fc) == [85] * 7 + [None] * 5
    alone = weights(deck_fc), standing(deck_fc)
    assert alone[0]["Alpha"] > 0.0
    assert all("others" not in reason for _v, reason in alone[1].values())
    assert all("others" not in item.reason for item in study.build_queue(deck_fc).items)
    assert {r["others_correct"] for r in weakness.report(deck_fc)["topics"]} == {None}
    beta = "".join(
        f"{n} - {8000 + n}\tPathology\tCardio\tCardio\tBeta disease\t30%\t1 min\n" for n in (1, 2)
    )
    qbank.import_log(deck_fc, beta.encode(), origin="uworld")
    _ratio, reason = standing(deck_fc)["Alpha"]  # a second topic's shares: now they weigh
    assert "on questions 85% of others get right" in reason


def test_without_the_column_the_weighing_is_not_consulted(deck_fc, monkeypatch):
    def fail(*_: object) -> float:
        raise AssertionError("a miss without a share was weighed")

    monkeypatch.setattr(difficulty, "surprise", fail)
    qbank.import_log(deck_fc, paste({}, {"Alpha": 7}), origin="b")
    assert weights(deck_fc)["Alpha"] > 0.0


def test_a_listed_question_s_share_counts_for_its_card_s_topic(deck_fc):
    rows = [
        "1 - 9100\tPathology\tCardio\tCardio\tAlpha disease\t90%\t80 sec",  # listed on Gamma0
        *(f"{n} - {6000 + n}\tPathology\tCardio\tCardio\tBeta disease\t30%\t1 min"
          for n in range(2, 5)),
    ]  # fmt: skip
    qbank.import_log(deck_fc, ("\n".join(rows) + "\n").encode(), origin="uworld")
    gamma = [i for i in study.build_queue(deck_fc).items if "Gamma disease —" in i.reason]
    assert gamma and all("on questions 90% of others get right" in i.reason for i in gamma)


def test_a_dash_or_a_share_above_100_is_no_share(deck_fc):
    rows = [
        "1 - 7001\tPathology\tCardio\tCardio\tAlpha disease\t--\t80 sec",
        "2 - 7002\tPathology\tCardio\tCardio\tAlpha disease\t150%\t80 sec",
        "3 - 7003\tPathology\tCardio\tCardio\tAlpha disease\t61.5%\t80 sec",
    ]
    qbank.import_log(deck_fc, ("\n".join(rows) + "\n").encode(), origin="uworld")
    assert shares_stored(deck_fc) == [None, None, 62]
