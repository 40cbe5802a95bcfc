"""`qbank remove` takes misses away: it may drop pull-forwards those misses made, never add
any. Found living with it (issue rv7): a student finished the day, then removed a mistaken
import of COMLEX ids; the removal recomputed the day's pull-forwards, and since the morning
her answers had made a topic missed the day before "forgotten more than predicted", so 19 cards
of it joined the finished day's queue, pulled by a miss the removal did not touch."""

from __future__ import annotations

from datetime import timedelta

from flashcore.core.model import CardState, Rating
from flashcore.services import decks, qbank, study
from tests.conftest import write_deck
from tests.weak_week import paste

CARDS = 6


def deck_text() -> str:
    return "\n".join(
        f'[[cards]]\nid = "{name}-{n}"\nfront = "Fact {n} of {name}?"\nback = "Answer {n}"\n'
        f'topics = ["Sim::System {name}::{name} disease"]\n'
        for name in ("alpha", "beta")
        for n in range(2 * CARDS)
    )


def ids(fc, prefix: str, numbers: range) -> list[int]:
    keys = {f"deck:{prefix}-{n}" for n in numbers}
    return [
        c["card_id"] for c in decks.list_cards(fc, deck=None, topic=None) if c["note_key"] in keys
    ]


def study_all(fc, clock, again: set[int]) -> int:
    """Answer the queue until it is empty: Again on the reviews of `again`, Good otherwise."""
    for n in range(400):
        q = study.build_queue(fc, limit=1)
        if not q.items:
            return n
        item = q.items[0]
        if item.due > clock.now():
            clock.set(item.due)
        lapse = item.card_id in again and item.state is CardState.REVIEW
        study.answer(fc, item.card_id, Rating.AGAIN if lapse else Rating.GOOD)
        clock.advance(timedelta(seconds=20))
    raise AssertionError("the queue did not empty")


def test_removing_an_unrelated_batch_pulls_no_card_into_a_finished_day(fc, clock, tmp_path):
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", deck_text(), key="deck")])
    assert report.ok, report.problems
    start = clock.now()
    early = ids(fc, "alpha", range(CARDS)) + ids(fc, "beta", range(2 * CARDS))
    late = ids(fc, "alpha", range(CARDS, 2 * CARDS))
    for cid in early:  # day 0: half of alpha and all of beta; day 2: the rest of alpha
        study.answer(fc, cid, Rating.EASY)
    clock.set(start + timedelta(days=2))
    for cid in late:
        study.answer(fc, cid, Rating.EASY)
    # The first morning the early cards are due and the late ones are not.
    for day in range(3, 40):
        clock.set(start + timedelta(days=day))
        due = {i.card_id for i in study.build_queue(fc).items}
        if due & set(early) and not due & set(late):
            break
    else:
        raise AssertionError("no day with only the early cards due")
    # The morning: a block's misses on alpha, and a mistaken import (misses on beta).
    block = paste(("810001", "System alpha", "alpha", "alpha disease"))
    qbank.import_log(fc, block, origin="block.tsv")
    oops = paste(("820001", "System beta", "beta", "beta disease"))
    mistaken = qbank.import_log(fc, oops, origin="oops.tsv")
    # Alpha's due cards all lapse today: its cards are now forgotten more than predicted.
    assert study_all(fc, clock, again=set(ids(fc, "alpha", range(CARDS)))) > 0
    assert not study.build_queue(fc).items
    qbank.remove_batch(fc, mistaken.batch_id)
    after = study.build_queue(fc).items
    assert [(i.card_id, i.reason) for i in after] == []
