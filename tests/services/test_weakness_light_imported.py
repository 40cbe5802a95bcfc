"""The driver-only weakness report reads the answers a first Anki import kept narrow
(`imported_answers`, schema 0027) as the full path reads them through `storage.answer_rows`:
it gave way to the full path whenever one was in the lapses' window (56 days at the default
half-life: after a first Anki import with its history, every report for two months). Over a
student's days with a moving clock (flashcard answers here, imported answers of every Anki
revlog type before the window, in it, before and after answers given here, and today), the
light report is taken and is the full report, byte for byte, every day."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from flashcore.core.model import Rating
from flashcore.services import weakness
from flashcore.services import weakness_light as light
from flashcore.storage.tables import cards, review_logs
from flashcore.storage.tables_imported import imported_answers
from tests.services.test_weakness_light import _answer, _compare, _student, kept_for_small

__all__ = ["kept_for_small"]  # the fixture, used by name


def _anki_answers(fc, rng: random.Random, times: list[datetime]) -> int:
    """Imported answers (as a first Anki import writes them) of cards answered here and of
    others, one at each of `times`, of random revlog types and ratings; how many."""
    with fc.engine.begin() as conn:
        answered = sorted(set(conn.execute(select(review_logs.c.card_id)).scalars()))
        every = sorted(conn.execute(select(cards.c.id)).scalars())
        rows = []
        for n, when in enumerate(times):
            card_id = rng.choice(answered if n % 3 else every)
            revlog_id = int(when.timestamp() * 1000) + n
            rows.append({
                "card_id": card_id, "anki_revlog_id": revlog_id, "profile_id": fc.profile_id,
                "rating": rng.choice([1, 1, 2, 3, 3, 4]), "duration_ms": 3000,
                "kind": rng.choice([0, 1, 1, 2, 3]), "interval": rng.choice([-600, 1, 4, 12]),
                "factor": 2500, "day": when.toordinal(), "due_after": when + timedelta(days=3),
                "desired_retention": 0.9,
            })  # fmt: skip
        conn.execute(insert(imported_answers), rows)
    return len(rows)


def _same_reads(fc, path, day: int) -> None:
    """The light reader's answers are the repositories' (`answer_rows`), read from the lapses'
    window and from the study day's start."""
    from flashcore.core import studyday
    from flashcore.services.weakness_parts import lapses_since
    from flashcore.storage import repos
    from flashcore.storage.light_read import LightReader
    from flashcore.storage.uow import reading

    s = fc.settings
    today = studyday.study_date(fc.now(), s.zone, s.day_start_hour)
    starts = [lapses_since(today, s), studyday.day_start_of(today, s.zone, s.day_start_hour)]
    reader = LightReader(path)
    try:
        with reading(fc.engine) as session:
            for since in starts:
                assert reader.review_outcomes(fc.profile_id, since) == repos.review_outcomes(
                    session, fc.profile_id, since
                ), day
                counts = repos.review_counts_since(session, fc.profile_id, since)
                assert reader.review_counts_since(fc.profile_id, since) == counts, day
    finally:
        reader.close()


def test_imported_answers_in_the_window_are_read_by_the_light_report(
    kept_for_small, tmp_path, sqlite_url
):
    rng = random.Random(31)
    with _student(sqlite_url, tmp_path, 8, half_life="2") as (fc, clock, path):  # an 8-day window
        taken = 0
        for day in range(12):
            _answer(fc, clock, [Rating.GOOD, Rating.AGAIN, Rating.GOOD, Rating.EASY], 10)
            now = clock.now()
            times = [now - timedelta(days=d, hours=rng.randint(0, 20)) for d in (12, 9, 5, 2, 1)]
            times += [now - timedelta(minutes=rng.randint(1, 90)) for _ in range(3)]  # today
            assert _anki_answers(fc, rng, times) == 8
            _answer(fc, clock, [Rating.AGAIN, Rating.GOOD, Rating.HARD], 6)  # after them
            weakness.report(fc)  # the day's scores kept
            taken += _compare(fc, path, f"day {day}")
            _same_reads(fc, path, day)
            clock.advance(timedelta(days=1))
        assert taken == 12, "the light report gave way with imported answers in the window"
        found = light.report(path, fc.profile, clock.now())
        assert found is None or found == weakness.report(fc)
