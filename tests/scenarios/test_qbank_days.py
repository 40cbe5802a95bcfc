"""A week of question-bank logs through the services, the clock moving a day at a time (both
backends): a log most days (misses and correct answers, by question id and by text, texts the
matcher learns from fuller rows, gaps), one imported twice, one removed. Every day the tallies
by text equal the attempts counted afresh (`check` agrees), and the weakness report equals the
report of a new profile that imports, that day, the attempts still stored, all at once: what is
kept up to date import by import is what a recomputation from scratch gives. The removal takes
its batch's attempts and nothing else."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, qbank, weakness
from flashcore.services.check import check
from flashcore.storage import repos
from flashcore.storage.uow import reading
from tests.weak_week import QID, TOPIC_QID, load_deck

TEXTS = [
    ("Renal", "Acid-base disorders", "Anion gap metabolic acidosis"),
    ("Renal", "", "Anion gap metabolic acidosis"),  # learned from the fuller rows
    ("Renal", "Acid-base disorders", "Metabolic acidosis"),
    ("Infectious diseases", "Gram-negative cocci", "Neisseria gonorrhoeae"),
    ("Allergy & Immunology", "Hypersensitivity reactions", "Type I hypersensitivity"),
    ("Renal", "Tubular disorders", "Something the deck does not name"),  # a gap
    ("Biostatistics", "", "Type I error"),
]


def day_log(rng: random.Random, day: date, rows: int) -> bytes:
    lines = ["question_id,result,date,subject,system,category,topic,source"]
    for i in range(rows):
        qid = rng.choice([QID, TOPIC_QID, str(rng.randint(300, 340)), str(500 + i)])
        outcome = rng.choice(["correct", "incorrect", "incorrect", "omitted"])
        on = day - timedelta(days=rng.choice([0, 0, 1, 3]))
        system, category, topic = rng.choice(TEXTS)
        lines.append(f"{qid},{outcome},{on.isoformat()},Step 1,{system},{category},{topic},uworld")
    return ("\n".join(lines) + "\n").encode()


def as_log(attempts: list[dict]) -> bytes:
    """The stored attempts as one CSV log."""
    lines = ["question_id,result,date,subject,system,category,topic,source"]
    lines += [
        f"{a['qid']},{a['outcome']},{a['date']},{a['subject']},{a['system']},{a['category']},"
        f"{a['topic']},{a['source']}"
        for a in attempts
    ]
    return ("\n".join(lines) + "\n").encode()


def from_scratch(
    url: str, profile: str, folder: Path, clock: FixedClock, logs: list[bytes]
) -> dict:
    """The weakness report of a new profile (beside the student's, in the same database) that
    imports these logs now."""
    with Flashcore.open(
        url, clock=FixedClock(clock.now()), profile=profile, timezone="UTC"
    ) as fresh:
        load_deck(fresh, folder / profile)
        for n, log in enumerate(logs):
            qbank.import_log(fresh, log, origin=f"kept-{n}.csv", again=True)
        found = weakness.report(fresh)
    for gap in found["gaps"]:  # the alias command names the other profile
        if gap["suggestion"]:
            command = gap["suggestion"]["command"]
            gap["suggestion"]["command"] = command.replace(f" --profile {profile}", "")
    return found


def assert_in_agreement(fc: Flashcore) -> None:
    with reading(fc.engine) as session:
        kept = repos.text_tallies(session, fc.profile_id)
        counted = repos.attempt_tallies(session, fc.profile_id)
    assert kept == counted
    assert check(fc).tally_problems == []


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_week_of_logs_keeps_the_tallies_and_the_report_equal_to_a_recomputation(
    backend, tmp_path, request
):
    rng = random.Random(19)
    clock = FixedClock(datetime(2026, 11, 2, 14, tzinfo=UTC))
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'week.sqlite3'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    kept: dict[int, bytes] = {}  # batch id -> log
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        for day in range(7):
            today = clock.now().date()
            if day != 4:  # a day without a log: only the clock moves
                log = day_log(rng, today, 25 + 5 * day)
                report = qbank.import_log(fc, log, origin=f"day-{day}.csv")
                assert report.batch_id is not None
                kept[report.batch_id] = log
            if day == 2:  # yesterday's log once more: nothing added
                again = qbank.import_log(fc, kept[min(kept)], origin="again.csv", again=True)
                assert again.added == 0
            if day == 5:  # a mistaken import undone: its attempts go, and only they
                mistaken = sorted(kept)[1]
                before = qbank.list_attempts(fc)
                qbank.remove_batch(fc, mistaken)
                del kept[mistaken]
                assert qbank.list_attempts(fc) == [a for a in before if a["batch_id"] != mistaken]
            assert_in_agreement(fc)
            batches = qbank.list_batches(fc)
            assert {b["batch_id"] for b in batches if b["added"]} == set(kept)
            assert sum(b["attempts"] for b in batches) == len(qbank.list_attempts(fc))
            assert all(b["attempts"] == b["added"] for b in batches)
            (tmp_path / f"scratch-{day}").mkdir()
            fc.create_profile(f"scratch-{day}", timezone="UTC")
            stored = as_log(qbank.list_attempts(fc))
            fresh = from_scratch(url, f"scratch-{day}", tmp_path, clock, [stored])
            assert weakness.report(fc) == fresh, f"day {day}"
            clock.advance(timedelta(days=1))
