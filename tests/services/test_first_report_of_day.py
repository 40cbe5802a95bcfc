"""The first weakness report of a study day scores the history once: the day's weight refresh
(which the report's `due` column runs anyway) runs before the report reads, and the report
reads the scores the refresh made and kept (`services.kept_scores`) instead of scoring the
history a second time. Over a student's days with a moving clock (imports, answers, an undo,
days without anything), every first report of a day is the report made from every attempt
with nothing kept, and scores the history once, on SQLite and PostgreSQL; on SQLite the
driver-only report that follows reads what it kept. The day's refresh reads only the cards the
database keeps as candidates (schema 0031): each day they are the cards worked out afresh, and
a refresh that reads every card, as it did before, finds no card it would change."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.services import Flashcore, kept_scores, matching, qbank, scored, weakness, weights
from flashcore.services import weakness_light as light
from flashcore.services.answering import undo
from flashcore.services.context import today_for
from flashcore.services.study import answer, build_queue
from flashcore.storage.db import sqlite_path
from flashcore.storage.repos import qbank_sums
from flashcore.storage.uow import writing
from tests.conftest import write_deck
from tests.services.test_summed_scores import history
from tests.storage.test_weak_candidates import kept_and_counted
from tests.weak_week import ACID_BASE, NEISSERIA, NEPHRON, TYPE_I, load_deck

START = datetime(2026, 11, 25, 15, tzinfo=UTC)
# Notes of two topics each that the logs weigh: their cards point at whichever weighs more,
# which moves with the days (a refresh that missed them would leave them behind).
PAIRS = [(ACID_BASE, NEPHRON), (NEISSERIA, TYPE_I), (TYPE_I, ACID_BASE), (NEPHRON, NEISSERIA)]
TWO_TOPICS = "\n".join(
    f'[[cards]]\nid = "pair-{n}"\nfront = "pair {n}"\nback = "both"\ntopics = ["{a}", "{b}"]\n'
    for n, (a, b) in enumerate(PAIRS)
)


def _from_scratch(fc: Flashcore, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The report with nothing kept or read kept: every attempt summed and matched."""
    with monkeypatch.context() as m:
        m.setattr(qbank_sums, "cached_groups", lambda *args, **kwargs: None)
        m.setattr(kept_scores, "stamp", lambda *args, **kwargs: None)
        return weakness.report(fc)


class _Undone(Exception):
    pass


def _refresh_changes(fc: Flashcore, every_card: bool) -> list:
    """The cards a refresh on today would change now (written nothing), reading only the kept
    candidates or, `every_card`, every card of the profile (the read before schema 0031)."""
    found: list = []
    with pytest.raises(_Undone), writing(fc.engine) as session:
        if every_card:
            session.execute(
                text(
                    "INSERT INTO weak_candidates (profile_id, card_id) SELECT profile_id, id"
                    " FROM cards WHERE profile_id = :p ON CONFLICT DO NOTHING"
                ),
                {"p": fc.profile_id},
            )
        found = weights.plan_refresh(session, fc, today_for(fc)).cards
        raise _Undone  # rolled back
    return found


def _answer(fc: Flashcore, clock: FixedClock, rng: random.Random, n: int) -> None:
    for item in build_queue(fc, limit=n).items:
        answer(fc, item.card_id, rng.choice(list(Rating)), duration_ms=4000)
        clock.advance(timedelta(seconds=30))


def test_the_first_report_of_each_day_scores_once_and_is_the_report_made_afresh(
    db_url, tmp_path, monkeypatch
):
    for module in (matching, weakness, scored):
        monkeypatch.setattr(module, "SUM_IN_DATABASE_FROM", 0)  # a large history's way
    passes: list[int] = []
    summed = matching._summed
    monkeypatch.setattr(matching, "_summed", lambda *a: passes.append(1) or summed(*a))
    clock = FixedClock(START)
    rng = random.Random(23)
    sqlite = db_url.startswith("sqlite")

    def import_(rows: int) -> None:
        log = history(rng, clock.now().date(), rows)
        assert qbank.import_log(fc, log, origin=f"day{clock.now().date()}.csv").added

    # What each day brings before its first report, and how many times that report scores
    # the history: once where it is the day's first command; not at all after the
    # day's first queue (answers) or an import, whose weight refresh kept the day's scores;
    # once on the day the report settles the kept sums (a week after the first), which the
    # queue's refresh before it does not do.
    days = [
        ("a quiet day", 1, lambda: None),
        ("answers", 0, lambda: _answer(fc, clock, rng, 8)),
        ("answers and an undo", 0, lambda: (_answer(fc, clock, rng, 6), undo(fc))),
        ("a quiet day", 1, lambda: None),
        ("an import", 0, lambda: import_(150)),
        ("a quiet day", 1, lambda: None),
        ("answers, then the sums settle", 1, lambda: _answer(fc, clock, rng, 10)),
        ("a quiet day", 1, lambda: None),
        ("answers", 0, lambda: _answer(fc, clock, rng, 10)),
        ("a quiet day", 1, lambda: None),
    ]
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        fc.add_decks([write_deck(tmp_path / "pairs.toml", TWO_TOPICS, key="pairs")])
        for n in range(2):
            import_(400 - 100 * n)
        weakness.report(fc)  # the history summed into the kept sums
        for day, (name, scores, step) in enumerate(days, start=1):
            clock.set(START + timedelta(days=day, hours=-6))  # the morning
            step()
            clock.set(START + timedelta(days=day))  # the afternoon's report
            del passes[:]
            first = weakness.report(fc)
            assert len(passes) == scores, f"{name}: scored the history {len(passes)} times"
            assert first == _from_scratch(fc, monkeypatch), name
            kept, counted = kept_and_counted(fc.engine)
            assert kept == counted, name
            assert _refresh_changes(fc, every_card=True) == [], name
            assert _refresh_changes(fc, every_card=False) == [], name
            if sqlite:  # the driver-only report reads what the first one kept
                path = sqlite_path(db_url)
                assert path is not None
                found = light.report(path, fc.profile, clock.now())
                assert found is not None, name
                assert json.dumps(found) == json.dumps(first), name
        assert first["topics"] and any(r["due"] for r in first["topics"])
