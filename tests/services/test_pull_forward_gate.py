"""Which topics' misses pull their cards forward, day after day (moving clock, evening imports,
both backends): every topic is missed alike every evening, but only the one whose flashcards
lapse more often than FSRS predicts (against the student's own average) has its cards pulled
into the next morning's queue, and its reason says so (core.weakness.PULL_FORWARD_WHERE,
"forgetting"). Every day the queue empties.

The simulated hard-question students (`python -m tools.simulate`) are why: with a daily block
every topic collects misses, and pulling every missed topic's cards forward spent answers where
the misses measured the questions, not the memory (their weakest quarter of topics lost up to
1.8 points against plain FSRS; gated, -0.1 to +0.4)."""

from __future__ import annotations

import re
from datetime import timedelta

from flashcore.core.model import CardState, Rating
from flashcore.core.reasons import PullKind
from flashcore.services import qbank, study
from tests.conftest import write_deck
from tests.weak_week import paste

TOPICS = ["Alpha", "Beta", "Gamma", "Delta"]
CARDS = 6
FORGOTTEN = "Alpha"  # half its cards lapse at every review; every other answer is Good
DAYS = 8


def topic_path(name: str) -> str:
    return f"Sim::System {name}::{name} disease"


def deck_text(cards: int = CARDS) -> str:
    """`cards` cards in each of the TOPICS, one topic each."""
    return "\n".join(
        f'[[cards]]\nid = "{name.lower()}-{n}"\nfront = "Fact {n} of {name}?"\n'
        f'back = "Answer {n}"\ntopics = ["{topic_path(name)}"]\n'
        for name in TOPICS
        for n in range(cards)
    )


def evening_paste(day: int) -> bytes:
    """Two misses on every topic: by the misses alone, no topic stands out."""
    rows = []
    for i, name in enumerate(TOPICS):
        for k in range(2):
            qid = str(700000 + 100 * day + 10 * i + k)
            rows.append((qid, f"System {name}", f"System {name}", f"{name} disease"))
    return paste(*rows)


def study_day(fc, day: int) -> list[str]:
    """Answer the queue until it is empty: Again on the reviews of half the forgotten topic's
    cards (the other half stays in review, not due: what a pull takes), Good on everything
    else. The reasons of the cards that topics' misses pulled in."""
    pulled: list[str] = []
    for _ in range(400):
        q = study.build_queue(fc, limit=1)
        if not q.items:
            return pulled
        item = q.items[0]
        if item.why.pulled is not None and item.why.pulled.kind is PullKind.TOPIC:
            pulled.append(item.reason)
        forgotten = (
            item.note_key in {f"deck:{FORGOTTEN.lower()}-{n}" for n in range(CARDS // 2)}
            and item.state is CardState.REVIEW
        )
        study.answer(fc, item.card_id, Rating.AGAIN if forgotten else Rating.GOOD)
    raise AssertionError(f"day {day}: the queue did not empty in 400 answers")


def test_only_the_topic_whose_cards_are_forgotten_more_than_predicted_pulls_forward(
    fc, clock, tmp_path
):
    fc.config_set("new_per_day", str(len(TOPICS) * CARDS))
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", deck_text(), key="deck")])
    assert report.ok, report.problems
    start = clock.now()
    pulled: list[str] = []
    for day in range(DAYS):
        clock.set(start + timedelta(days=day))
        pulled += study_day(fc, day)
        clock.set(start + timedelta(days=day, hours=12))
        log = qbank.import_log(fc, evening_paste(day), origin=f"day{day}.tsv")
        assert log.matched_topic == 2 * len(TOPICS)
    assert pulled, "the forgotten topic's misses pulled nothing"
    # Only the forgotten topic's (its fresh misses: the last two days'), saying why.
    expected = re.compile(
        rf"pulled forward after \d+ misses on {re.escape(topic_path(FORGOTTEN))}, "
        "whose cards you forget more than predicted"
    )
    assert all(expected.fullmatch(reason) for reason in pulled), set(pulled)
