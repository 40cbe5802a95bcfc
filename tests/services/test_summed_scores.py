"""A large history is summed by the database (per text and per listed question, each miss
weighed there) instead of being handed over per day: the weakness report, the topic and card
weights and the gaps come out the same both ways, on SQLite and PostgreSQL (misses and correct
answers by question id, by text, texts learned from fuller rows, another bank's same id, rows
dated tomorrow, gaps)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, matching, qbank, weakness
from tests.weak_week import QID, TOPIC_QID, load_deck

TEXTS = [
    ("Renal", "Acid-base disorders", "Anion gap metabolic acidosis"),
    ("Renal", "", "Anion gap metabolic acidosis"),
    ("Renal", "Acid-base disorders", "Metabolic acidosis"),
    ("Infectious diseases", "Gram-negative cocci", "Neisseria gonorrhoeae"),
    ("Allergy & Immunology", "Hypersensitivity reactions", "Type I hypersensitivity"),
    ("Renal", "Tubular disorders", "Something the deck does not name"),
    ("Renal", "Tubular disorders", "something the deck does NOT name"),
    ("Biostatistics", "", "Type I error"),
    ("", "", ""),
]


def history(rng: random.Random, today: date, rows: int) -> bytes:
    lines = ["question_id,result,date,subject,system,category,topic,source"]
    for i in range(rows):
        qid = rng.choice([QID, TOPIC_QID, str(rng.randint(300, 340)), str(500 + i)])
        source = rng.choice(["uworld", "uworld", "uworld", "amboss"])
        outcome = rng.choice(["correct", "incorrect", "incorrect", "omitted"])
        on = today - timedelta(days=rng.choice([-1, 0, 1, 3, 9, 20, 45, 120, 400]))
        system, category, topic = rng.choice(TEXTS)
        lines.append(
            f"{qid},{outcome},{on.isoformat()},Step 1,{system},{category},{topic},{source}"
        )
    return ("\n".join(lines) + "\n").encode()


EXTRA = b"question_id,result,date,topic\n999999,incorrect,2026-11-25,Emphysema\n"


def weights(fc: Flashcore) -> tuple[list, list]:
    """Each topic's weight; each card's reason (its weight is not shown: the weakness report's
    desired retentions and the queue follow it)."""
    topics = [(t["topic"], t["weight"]) for t in qbank.list_topics(fc)]
    cards = [(c["card_id"], c["weakness"]) for c in fc.cards()]
    return topics, cards


def test_a_history_summed_by_the_database_scores_as_one_counted_per_day(
    db_url, tmp_path, monkeypatch
):
    clock = FixedClock(datetime(2026, 11, 25, 15, tzinfo=UTC))
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        rng = random.Random(7)
        for n in range(3):
            qbank.import_log(fc, history(rng, clock.now().date(), 400), origin=f"h{n}.csv")
        by_day, summed = {}, {}
        for limit, out in ((10**9, by_day), (0, summed)):
            monkeypatch.setattr(matching, "SUM_IN_DATABASE_FROM", limit)
            out["report"] = weakness.report(fc)
            qbank.remove_batch(fc, qbank.import_log(fc, EXTRA, origin="x.csv").batch_id)
            out["weights"] = weights(fc)  # refreshed by the removal, summed or by day
    assert by_day["report"]["topics"] and by_day["report"]["gaps"]
    assert any(w for _t, w in by_day["weights"][0]) and any(r for _c, r in by_day["weights"][1])
    assert summed == by_day


def test_scores_without_the_questions_outcomes_are_the_same_scores_and_gaps(
    db_url, tmp_path, monkeypatch
):
    """A report asks for no question's outcome (no card's weight): the topics' scores and the
    gaps are the ones the weights see, summed by the database or counted per day."""
    from flashcore.services.context import today_for
    from flashcore.storage.uow import reading_core

    clock = FixedClock(datetime(2026, 11, 25, 15, tzinfo=UTC))
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        rng = random.Random(11)
        for n in range(2):
            qbank.import_log(fc, history(rng, clock.now().date(), 300), origin=f"h{n}.csv")
        half_life = fc.settings.weakness_half_life_days
        for limit in (10**9, 0):
            monkeypatch.setattr(matching, "SUM_IN_DATABASE_FROM", limit)
            with reading_core(fc.engine) as session:
                index = matching.load_index(session, fc.profile_id)
                args = (session, fc.profile_id, index, today_for(fc), half_life)
                full = matching.score_all(*args)
                light = matching.score_all(*args, questions=False)
            assert full.outcomes and light.outcomes == {}
            assert full.direct and full.gaps
            assert (light.direct, light.report, light.gaps) == (full.direct, full.report, full.gaps)
