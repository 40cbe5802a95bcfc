"""The weakness side through the services, on SQLite and PostgreSQL: a missed question id ranks
and names its card; the most specific text decides where a miss lands; gaps stay visible with
the alias that counts them; the report ranks leaves and rolls up systems and subjects."""

from __future__ import annotations

from datetime import date, timedelta

from flashcore.core.model import Rating
from flashcore.services import qbank, study, weakness
from tests.weak_week import (
    ACID_BASE,
    NEISSERIA,
    QID,
    TOPIC_QID,
    TYPE_I,
    csv_log,
    load_deck,
    paste,
)

MISSED_TODAY = f"missed uworld:{QID} on 2026-11-25"


def reasons(fc) -> dict[int, str]:
    return {i.card_id: i.reason for i in study.build_queue(fc).items}


def test_a_missed_question_s_card_without_topics_is_introduced_first_and_names_it(fc, tmp_path):
    ids = load_deck(fc, tmp_path)
    before = study.build_queue(fc).items
    assert before[0].card_id != ids["qid-alone"] and before[0].reason == "new"
    report = qbank.import_log(fc, f"{QID}\n".encode(), origin="ids.txt", fmt="qids")
    assert report.matched_card == 1
    first = study.build_queue(fc).items[0]
    assert first.card_id == ids["qid-alone"]
    assert first.reason == f"new; {MISSED_TODAY}"
    card = next(c for c in fc.cards() if c["card_id"] == ids["qid-alone"])
    assert card["weakness"] == MISSED_TODAY
    answered = study.answer(fc, ids["qid-alone"], Rating.GOOD)
    assert answered.retention == fc.settings.desired_retention  # first, but not at the cap


def test_a_missed_question_s_card_is_first_among_due_reviews_above_a_weaker_topic(
    fc, clock, tmp_path
):
    ids = load_deck(fc, tmp_path)
    for card_id in ids.values():
        study.answer(fc, card_id, Rating.EASY)
    clock.advance(timedelta(days=40))  # every card is due, all as overdue as each other
    qbank.import_log(
        fc,
        paste(*[(f"7{n}", "Allergy", "Hypersensitivity", "Type I hypersensitivity")
                for n in range(6)]) + paste((TOPIC_QID, "Renal", "Acid-base", "Anion gap")),
        origin="paste",
    )  # fmt: skip
    items = [i for i in study.build_queue(fc).items if i.kind == "review"]
    assert items[0].card_id == ids["acid-qid"]
    assert items[0].reason.startswith("missed uworld:118200 on 2027-01-04; due ")
    weak = {i.card_id: i.reason for i in items}
    assert "weak topic: " + TYPE_I in weak[ids["type1-a"]]
    assert items[0].priority > max(i.priority for i in items[1:])


def test_a_correct_answer_on_a_later_day_closes_the_miss(fc, clock, tmp_path):
    ids = load_deck(fc, tmp_path)
    qbank.import_log(fc, f"{QID}\n".encode(), origin="a.txt", fmt="qids")
    assert reasons(fc)[ids["qid-alone"]] == f"new; {MISSED_TODAY}"
    clock.advance(timedelta(days=1))
    qbank.import_log(
        fc, f"{QID}\n".encode(), origin="b.txt", fmt="qids", outcome="correct", again=True
    )
    assert reasons(fc).get(ids["qid-alone"], "new") == "new"
    card = next(c for c in fc.cards() if c["card_id"] == ids["qid-alone"])
    assert card["weakness"] == ""


def test_the_same_topic_lands_on_the_same_leaf_from_a_paste_and_from_a_csv(fc, clock, tmp_path):
    load_deck(fc, tmp_path)
    qbank.import_log(
        fc, paste(("9001", "Renal", "Acid-base disorders", "Metabolic acidosis")), origin="p"
    )
    csv = qbank.import_log(
        fc,
        csv_log(("9002", "incorrect", "2026-11-25", "Renal", "Metabolic acidosis")),
        origin="c.csv",
    )
    assert csv.matched_topic == 1 and csv.unmatched_topics == []
    assert [a["matched"] for a in qbank.list_attempts(fc)] == ["topic", "topic"]
    rows = {r["topic"]: r for r in weakness.report_rows(fc)}
    assert rows[ACID_BASE]["misses"] == 2
    assert rows["Physiology::Renal"]["level"] == "system"  # reached through its topic only
    start = rows[ACID_BASE]["score"]
    clock.advance(timedelta(days=1))
    qbank.import_log(
        fc,
        csv_log(*[(f"93{n}", "correct", "2026-11-26", "Renal", "Metabolic acidosis")
                  for n in range(8)]),
        origin="right.csv",
    )  # fmt: skip
    after = {r["topic"]: r for r in weakness.report_rows(fc)}[ACID_BASE]
    assert after["attempts"] == 10 and after["score"] < start


def test_a_species_reaches_its_genus_and_a_system_alone_does_not_absorb_a_topic(fc, tmp_path):
    load_deck(fc, tmp_path)
    report = qbank.import_log(
        fc,
        csv_log(
            ("9101", "incorrect", "2026-11-25", "Infectious diseases", "Neisseria gonorrhoeae"),
            ("9102", "incorrect", "2026-11-25", "Renal", "Renal tubular acidosis type 4"),
        ),
        origin="c.csv",
    )
    assert report.matched_topic == 1 and report.unmatched_topics == [
        "Renal tubular acidosis type 4"
    ]
    found = weakness.report(fc)
    topics = {r["topic"]: r for r in found["topics"]}
    assert topics[NEISSERIA]["misses"] == 1
    assert "Physiology::Renal" not in topics
    (gap,) = found["gaps"]
    assert gap["text"] == "Renal tubular acidosis type 4" and gap["misses"] == 1


def test_a_gap_suggests_the_closest_topic_and_the_alias_that_counts_it(fc, tmp_path):
    load_deck(fc, tmp_path)
    qbank.import_log(
        fc,
        csv_log(*[(f"92{n}", "incorrect", f"2026-11-2{n}", "Renal", "Respiratory acidosis")
                  for n in range(3)]),
        origin="c.csv",
    )  # fmt: skip
    (gap,) = weakness.report(fc)["gaps"]
    assert gap == {
        "text": "Respiratory acidosis",
        "misses": 3,
        "last_miss": "2026-11-22",
        "suggestion": {
            "topic": ACID_BASE,
            "command": f"flashcore topics alias 'Respiratory acidosis' '{ACID_BASE}'",
        },
    }
    qbank.add_alias(fc, "Respiratory acidosis", gap["suggestion"]["topic"])
    found = weakness.report(fc)
    assert found["gaps"] == []
    assert {r["topic"]: r["misses"] for r in found["topics"]}[ACID_BASE] == 3


def test_the_report_ranks_leaves_then_systems_then_subjects_and_counts_minutes_once(fc, tmp_path):
    load_deck(fc, tmp_path)
    qbank.import_log(
        fc,
        paste(*[(f"7{n}", "Allergy", "Hypersensitivity", "Type I hypersensitivity")
                for n in range(6)],
              ("8001", "Renal", "Acid-base disorders", "Metabolic acidosis"),
              ("8002", "Bacteria", "", "")),
        origin="paste",
    )  # fmt: skip
    rows = weakness.report_rows(fc)
    levels = [r["level"] for r in rows]
    assert levels == sorted(levels, key=["topic", "system", "subject"].index)
    assert [r["topic"] for r in rows if r["level"] == "topic"] == [TYPE_I, ACID_BASE]
    by_topic = {r["topic"]: r for r in rows}
    assert by_topic[TYPE_I]["suggested_minutes"] == 60
    assert by_topic["Immunology::Hypersensitivity"]["suggested_minutes"] == 0
    assert by_topic["Immunology"]["suggested_minutes"] == 0
    # The system-only row counts for the system itself: its minutes are its own.
    assert by_topic["Microbiology::Bacteria"]["suggested_minutes"] == 10
    assert sum(r["suggested_minutes"] for r in rows) == 80  # eight misses, ten minutes each
    assert by_topic[TYPE_I]["reason"].startswith("6 misses in the last 14 days")
    assert by_topic["Immunology"]["reason"].endswith("across its topics")
    every_key = {"topic", "level", "score", "misses", "attempts", "recent_misses",
                 "recent_attempts", "cards", "due", "desired_retention", "vs_average",
                 "forgetting_vs_average", "others_correct", "suggested_minutes",
                 "reason"}  # fmt: skip
    assert all(set(r) == every_key for r in rows)


def test_a_long_paste_of_incorrects_warns_and_a_short_one_does_not(fc, tmp_path):
    load_deck(fc, tmp_path)
    rows = [
        (str(9500 + n), "Renal", "Acid-base disorders", "Metabolic acidosis") for n in range(41)
    ]
    long = qbank.import_log(fc, paste(*rows), origin="p", dry_run=True)
    assert len(long.warnings) == 1 and "paste only the questions you missed" in long.warnings[0]
    assert long.to_json()["warnings"] == long.warnings
    assert qbank.import_log(fc, paste(*rows[:40]), origin="p", dry_run=True).warnings == []
    graded = b"qid\tresult\ttopic\n" + b"".join(
        f"{9600 + n}\tincorrect\tMetabolic acidosis\n".encode() for n in range(45)
    )
    assert qbank.import_log(fc, graded, origin="g.tsv", fmt="csv").warnings == []


def test_qid_weights_survive_a_refresh_on_a_new_day_and_lapse_after_four_half_lives(
    fc, clock, tmp_path
):
    ids = load_deck(fc, tmp_path)
    qbank.import_log(fc, f"{QID}\n".encode(), origin="a.txt", fmt="qids")
    clock.advance(timedelta(days=20))
    assert reasons(fc)[ids["qid-alone"]] == f"new; {MISSED_TODAY}"
    clock.advance(timedelta(days=40))  # 60 days: past 4 x 14
    assert weakness.today_for(fc) == date(2027, 1, 24)
    assert reasons(fc).get(ids["qid-alone"], "new") == "new"
