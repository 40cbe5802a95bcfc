"""The weakness side of a study week, day by day through the services (moving clock, both
backends): misses logged by question id and by text on day 1, correct answers from a CSV
without categories later, a gap aliased mid-week, the missed question's card followed across
days. Every day: the queue is studied to empty, a missed question's card leads its kind and
names its miss, suggested minutes add up once, gaps are exactly the unmatched misses, `check`
finds nothing.

Pull-forwards are off here (`pull_forward_per_topic 0`): how often a pulled card comes back is
the queue side's scenario; this one follows weights, reasons and matching."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from flashcore.core.model import Rating
from flashcore.services import qbank, study, weakness
from flashcore.services.check import check
from tests.weak_week import (
    ACID_BASE,
    NEISSERIA,
    QID,
    TOPIC_QID,
    csv_log,
    load_deck,
    paste,
)

DAY_1_PASTE = paste(
    (QID, "Renal", "Renal tubular disorders", "Something the deck does not name"),
    (TOPIC_QID, "Renal", "Acid-base disorders", "Anion gap metabolic acidosis"),
    ("201", "Renal", "Acid-base disorders", "Metabolic acidosis"),
    ("202", "Renal", "Acid-base disorders", "Metabolic acidosis"),
    ("203", "Infectious diseases", "Gram-negative cocci", "Neisseria gonorrhoeae"),
    ("204", "Renal", "Tubular disorders", "Respiratory acidosis"),
)


def study_today(fc, rng: random.Random, day: int) -> list[study.QueueItem]:
    """Answer whatever the queue offers until it is empty; returns the first queue's items."""
    first = list(study.build_queue(fc).items)
    answered_today: dict[int, int] = {}
    for _ in range(500):
        queue = study.build_queue(fc, limit=1)
        if not queue.items:
            break
        item = queue.items[0]
        if item.kind == "review":
            assert item.card_id not in answered_today, f"day {day}: review card shown twice"
        answered_today[item.card_id] = answered_today.get(item.card_id, 0) + 1
        rating = rng.choice([Rating.GOOD, Rating.GOOD, Rating.GOOD, Rating.HARD, Rating.EASY])
        study.answer(fc, item.card_id, rating)
    else:
        raise AssertionError(f"day {day}: the queue did not empty in 500 answers")
    return first


def check_report(fc, day: int) -> dict:
    found = weakness.report(fc)
    rows = found["topics"]
    levels = [r["level"] for r in rows]
    assert levels == sorted(levels, key=["topic", "system", "subject"].index), day
    leaves = [r for r in rows if r["level"] == "topic"]
    assert [r["score"] for r in leaves] == sorted((r["score"] for r in leaves), reverse=True)
    # Minutes add up once: no miss here names a system, so the rollups suggest none of
    # their own (their topics' minutes are on the topics' rows).
    assert all(r["suggested_minutes"] == 0 for r in rows if r["level"] != "topic"), day
    return found


def test_a_week_of_misses_by_id_and_by_text(fc, clock, tmp_path):
    rng = random.Random(14)
    fc.config_set("pull_forward_per_topic", "0")
    ids = load_deck(fc, tmp_path)
    reason_of_qid_card: list[tuple[int, str]] = []

    # Day 1 (2026-11-25): learn everything, then log the day's block.
    study_today(fc, rng, 1)
    day1 = qbank.import_log(fc, DAY_1_PASTE, origin="day1.tsv")
    assert (day1.matched_card, day1.matched_topic, day1.matched_none) == (2, 3, 1)
    found = check_report(fc, 1)
    assert [g["text"] for g in found["gaps"]] == ["Respiratory acidosis"]
    topics = {r["topic"]: r for r in found["topics"]}
    assert topics[ACID_BASE]["misses"] == 3  # two by text, one by the card's question id
    assert topics[NEISSERIA]["misses"] == 1  # the species reached its genus
    acid_day1 = topics[ACID_BASE]["score"]

    for day in range(2, 11):
        clock.advance(timedelta(days=1))
        if day == 3:  # a CSV without categories: correct answers on the same topic text
            log = csv_log(*[(f"30{n}", "correct", "2026-11-27", "Renal", "Metabolic acidosis")
                            for n in range(6)])  # fmt: skip
            report = qbank.import_log(fc, log, origin="day3.csv")
            assert report.matched_none == 0
            acid = {r["topic"]: r for r in weakness.report_rows(fc)}[ACID_BASE]
            assert acid["attempts"] == 9 and acid["score"] < acid_day1
        if day == 4:  # the student runs the alias the gap suggests
            (gap,) = weakness.report(fc)["gaps"]
            assert gap["suggestion"]["topic"] == ACID_BASE
            qbank.add_alias(fc, gap["text"], gap["suggestion"]["topic"])
        if day == 6:  # the missed question, answered right in a later block
            qbank.import_log(
                fc, f"{QID}\n".encode(), origin="day6.txt", fmt="qids", outcome="correct"
            )
        first = study_today(fc, rng, day)
        for kind in ("review", "new"):
            of_kind = [i for i in first if i.kind == kind]
            missed = [i for i in of_kind if i.reason.count("missed uworld:")]
            # A missed question's cards lead their kind.
            assert of_kind[: len(missed)] == missed, (day, kind)
        named = next((i.reason for i in first if i.card_id == ids["qid-alone"]), None)
        if named is not None:
            reason_of_qid_card.append((day, named))
            if day < 6:
                assert f"missed uworld:{QID} on 2026-11-25" in named, day
            else:
                assert "missed uworld:" not in named, day
        found = check_report(fc, day)
        if day >= 4:
            assert found["gaps"] == [], day
        assert check(fc).problems == [], day

    # The card came back before and after the correct answer: naming its miss, then not (if
    # its interval outlasts the week, on the day it is due).
    if not any(day > 6 for day, _ in reason_of_qid_card):
        due = next(c for c in fc.cards() if c["card_id"] == ids["qid-alone"])["due"]
        clock.set(datetime.fromisoformat(due))
        later = {i.card_id: i.reason for i in study.build_queue(fc).items}
        reason_of_qid_card.append((11, later[ids["qid-alone"]]))
        assert "missed uworld:" not in later[ids["qid-alone"]]
    assert any(day < 6 for day, _ in reason_of_qid_card), reason_of_qid_card
    assert any(day > 6 for day, _ in reason_of_qid_card), reason_of_qid_card
    card = next(c for c in fc.cards() if c["card_id"] == ids["qid-alone"])
    assert card["weakness"] == ""
    acid_card = next(c for c in fc.cards() if c["card_id"] == ids["acid-qid"])
    assert acid_card["weakness"] == f"missed uworld:{TOPIC_QID} on 2026-11-25"
