"""Two processes answering at once lose no review (`BEGIN IMMEDIATE` on SQLite, row locks and
a version check on PostgreSQL), and a double answer is refused with the stale-card error."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flashcore.storage.models import Card, ReviewLog

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TIMEOUT = 120


_BARRIER: Any = None


def _init_worker(barrier):
    """Runs once in each spawned worker: keep the barrier, pay the imports up front."""
    global _BARRIER
    _BARRIER = barrier
    import flashcore.services.study  # noqa: F401


def _answer_own_cards(url, card_ids, rounds):
    """Answer `card_ids` round after round as fast as possible, each answer its own transaction."""
    from flashcore.core.clock import FixedClock
    from flashcore.core.model import Rating
    from flashcore.services import Flashcore
    from flashcore.services.study import answer

    clock = FixedClock(START)
    done = 0
    with Flashcore.open(url, clock=clock) as fc:
        _BARRIER.wait(TIMEOUT)
        for _ in range(rounds):
            for card_id in card_ids:
                answer(fc, card_id, Rating.GOOD)
                done += 1
            clock.advance(timedelta(minutes=1))
    return done


def _race_for_the_same_card(url, card_id, rounds):
    """Each round both processes read the card, then both answer it expecting that state."""
    from flashcore.core.clock import FixedClock
    from flashcore.core.errors import StaleCardError
    from flashcore.core.model import Rating
    from flashcore.services import Flashcore
    from flashcore.services.study import answer, show

    won = stale = 0
    with Flashcore.open(url, clock=FixedClock(START)) as fc:
        for _ in range(rounds):
            _BARRIER.wait(TIMEOUT)
            reps = show(fc, card_id).reps
            _BARRIER.wait(TIMEOUT)
            try:
                answer(fc, card_id, Rating.AGAIN, expect_reps=reps)
                won += 1
            except StaleCardError:
                stale += 1
    return won, stale


@pytest.fixture(scope="module")
def workers() -> Iterator[Any]:
    """Two spawned worker processes, shared by the tests of this module (spawning is slow)."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    with ctx.Pool(2, initializer=_init_worker, initargs=(barrier,)) as pool:
        yield pool


def _run(pool, target, args_per_process):
    """Run `target` once per argument tuple, all at once, one per worker process."""
    assert len(args_per_process) == 2
    pending = [pool.apply_async(target, args) for args in args_per_process]
    return [p.get(TIMEOUT) for p in pending]


def _totals(fc):
    with Session(fc.engine) as session:
        reps = session.execute(select(func.sum(Card.reps))).scalar_one()
        logs = session.execute(select(func.count()).select_from(ReviewLog)).scalar_one()
    return reps, logs


def test_two_processes_answering_different_cards_lose_no_review(workers, loaded_sqlite_fc):
    fc = loaded_sqlite_fc
    ids = sorted(c["card_id"] for c in fc.cards())
    rounds = 15  # 2 processes x 2 cards x 15 rounds = 30 answers each
    done = _run(workers, _answer_own_cards, [(fc.url, ids[:2], rounds), (fc.url, ids[2:], rounds)])
    assert done == [30, 30]
    assert _totals(fc) == (60, 60)
    assert all(c["reps"] == rounds for c in fc.cards())


def test_two_processes_answering_the_same_card_answer_it_once_per_round(workers, loaded_fc):
    fc = loaded_fc
    card_id = min(c["card_id"] for c in fc.cards())
    rounds = 5
    outcomes = _run(workers, _race_for_the_same_card, [(fc.url, card_id, rounds)] * 2)
    won = sum(w for w, _ in outcomes)
    stale = sum(s for _, s in outcomes)
    assert won == rounds  # exactly one answer per round is recorded...
    assert stale == rounds  # ...and the other process is told, not silently double-counted
    assert _totals(fc) == (rounds, rounds)
