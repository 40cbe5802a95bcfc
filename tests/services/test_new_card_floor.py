"""New cards over twelve days while some topics collect misses every evening (moving clock, both
backends): weak topics go first, yet no topic is starved of introductions, a deck added midway
included. Every day the queue empties and every new card's reason says why it came when it did.

The property the weighting relies on (core.introduction.FLOOR_SHARE): while weighted new cards
wait, a floor share of each day's new cards goes to the cards no signal weights, in introduction
order; the rest go weakest first."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

from flashcore.core import introduction, reasons
from flashcore.core.model import CardState, Rating
from flashcore.services import qbank, study
from tests.conftest import write_deck
from tests.weak_week import paste

NEW_PER_DAY = 8
CARDS_PER_TOPIC = 12
FIRST = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"]  # the first deck's topics
MISSED = {"Alpha", "Beta"}  # asked and missed every evening
LATER = ["Eta", "Theta"]  # a second deck, added on the third evening


def topic_path(name: str) -> str:
    return f"Sim::System {name}::{name} disease"


def deck_text(names: list[str]) -> str:
    return "\n".join(
        f'[[cards]]\nid = "{name.lower()}-{n}"\nfront = "Fact {n} of {name}?"\n'
        f'back = "Answer {n}"\ntopics = ["{topic_path(name)}"]\n'
        for name in names
        for n in range(CARDS_PER_TOPIC)
    )


def evening_paste(day: int) -> bytes:
    """Three misses on each missed topic, new question ids every day."""
    rows = [
        (
            str(500000 + 100 * day + 10 * i + k),
            f"System {name}",
            f"System {name}",
            f"{name} disease",
        )
        for i, name in enumerate(sorted(MISSED))
        for k in range(3)
    ]
    return paste(*rows)


def study_day(fc, day: int) -> list[tuple[str, str]]:
    """Answer the queue until it is empty (Good); the new cards introduced, in order, as (topic
    name, reason)."""
    introduced: list[tuple[str, str]] = []
    for _ in range(400):
        q = study.build_queue(fc, limit=1)
        if not q.items:
            break
        item = q.items[0]
        if item.state is CardState.NEW:
            name = item.topics[0].split("::")[-1].removesuffix(" disease")
            introduced.append((name, item.reason))
        study.answer(fc, item.card_id, Rating.GOOD)
    else:
        raise AssertionError(f"day {day}: the queue did not empty in 400 answers")
    return introduced


def test_weak_topics_go_first_but_no_topic_is_starved_of_new_cards(fc, clock, tmp_path):
    fc.config_set("new_per_day", str(NEW_PER_DAY))
    fc.config_set("pull_forward_per_topic", "0")  # this follows new cards only
    (report,) = fc.add_decks([write_deck(tmp_path / "first.toml", deck_text(FIRST), key="first")])
    assert report.ok, report.problems
    floor = math.floor(NEW_PER_DAY * introduction.FLOOR_SHARE)
    assert floor >= 1
    seen: Counter[str] = Counter()
    start = clock.now()
    days = (len(FIRST) + len(LATER)) * CARDS_PER_TOPIC // NEW_PER_DAY  # 12
    for day in range(days):
        clock.set(start + timedelta(days=day))
        weak_left = 2 * CARDS_PER_TOPIC - seen["Alpha"] - seen["Beta"]
        today = study_day(fc, day)
        seen.update(name for name, _ in today)
        assert len(today) == NEW_PER_DAY, (day, today)
        if day >= 1 and weak_left >= NEW_PER_DAY - floor:
            # Weak topics first, yet the floor share went to the others, each saying why.
            weak = [r for name, r in today if name in MISSED]
            others = [r for name, r in today if name not in MISSED]
            assert len(weak) == NEW_PER_DAY - floor and len(others) == floor, (day, today)
            assert all(r.startswith("new; weak topic: ") for r in weak), weak
            assert all(r == reasons.NEW_TURN.text() for r in others), others
        # The evening's block: the same two topics missed again.
        clock.set(start + timedelta(days=day, hours=12))
        log = qbank.import_log(fc, evening_paste(day), origin=f"day{day}.tsv", again=True)
        assert log.matched_topic == 3 * len(MISSED)
        if day == 2:
            (later,) = fc.add_decks(
                [write_deck(tmp_path / "later.toml", deck_text(LATER), key="later")]
            )
            assert later.ok, later.problems
        if day == 4:
            # Five days in: every topic, the later deck's too, has had new cards.
            assert all(seen[name] >= 1 for name in FIRST + LATER), seen
    # Every new card came, none twice.
    assert all(seen[name] == CARDS_PER_TOPIC for name in FIRST + LATER), seen
    assert not study.build_queue(fc, limit=0).new_held
