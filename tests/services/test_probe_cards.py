"""New cards over ten days while two topics collect misses every evening (moving clock, both
backends): every topic's first cards (core.introduction's probes) come before the weak topics'
other new cards, each saying why; then weak topics go first, and nothing is lost or repeated.

The property the weighting relies on: a topic nothing has been asked about yet is still seen
early, so its flashcards can show it weak."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flashcore.core import introduction, reasons
from flashcore.core.model import CardState, Rating
from flashcore.services import answering, qbank, study
from tests.conftest import write_deck
from tests.weak_week import paste

NEW_PER_DAY = 8
CARDS_PER_TOPIC = 10
TOPICS = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"]
MISSED = {"Alpha", "Beta"}  # asked and missed every evening
PROBES = 3


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
        (str(500000 + 100 * day + 10 * i + k), f"System {n}", f"System {n}", f"{n} disease")
        for i, n in enumerate(sorted(MISSED))
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


def test_every_topics_first_cards_come_before_weak_topics_new_cards(
    fc, clock, tmp_path, monkeypatch
):
    monkeypatch.setattr(introduction, "PROBE_CARDS", PROBES)
    monkeypatch.setattr(introduction, "PROBE_EVERY", 3)  # 10 cards: 3 probes each
    fc.config_set("new_per_day", str(NEW_PER_DAY))
    fc.config_set("pull_forward_per_topic", "0")  # this follows new cards only
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", deck_text(TOPICS), key="deck")])
    assert report.ok, report.problems
    probe_reason = reasons.NEW_PROBE.text()
    seen: Counter[str] = Counter()
    start = clock.now()
    days = len(TOPICS) * CARDS_PER_TOPIC // NEW_PER_DAY + 1  # the last 4 on day 7
    for day in range(days):
        clock.set(start + timedelta(days=day))
        for name, reason in study_day(fc, day):
            if day >= 1:  # weak topics reorder the new cards from the first evening's misses
                if seen[name] >= PROBES:
                    # Beyond its first cards only once every topic has had its first cards.
                    assert all(seen[n] >= PROBES for n in TOPICS), (day, name, seen)
                if name in MISSED:
                    assert reason.startswith("new; weak topic: "), (day, name, reason)
                elif seen[name] < PROBES:
                    assert reason == probe_reason, (day, name, reason)
                else:  # the weak topics are done: the rest in introduction order
                    assert reason == "new", (day, name, reason)
                    assert all(seen[n] == CARDS_PER_TOPIC for n in MISSED), (day, seen)
            seen[name] += 1
        clock.set(start + timedelta(days=day, hours=12))
        log = qbank.import_log(fc, evening_paste(day), origin=f"day{day}.tsv", again=True)
        assert log.matched_topic == 3 * len(MISSED)
    # Every new card came, none twice.
    assert all(seen[n] == CARDS_PER_TOPIC for n in TOPICS), seen
    assert not study.build_queue(fc, limit=0).new_held


def _probes(fc) -> list[str]:
    """The probe cards as `repos.queue.first_of_topics` finds them (note keys, in order)."""
    from flashcore.storage import repos
    from flashcore.storage.repos import queue as queue_repo

    keys = {c["card_id"]: c["note_key"] for c in fc.cards()}
    with fc.engine.connect() as conn:
        scope = repos.card_scope(conn, fc.profile_id, None, None)
        rows = queue_repo.first_of_topics(
            conn, fc.profile_id, scope, fc.now(), introduction.probe_quota,
            introduction.probe_count_needed(), 100,
        )  # fmt: skip
    return [keys[r[0]].split(":")[1] for r in rows]


def test_a_topics_probes_count_its_studied_cards_and_not_its_suspended_ones(fc, tmp_path):
    sizes = {"Alpha": 16, "Beta": 7, "Gamma": 9}  # quotas 2, none (under 8), 1
    body = "\n".join(
        f'[[cards]]\nid = "{name.lower()}-{n:02d}"\nfront = "Fact {n} of {name}?"\n'
        f'back = "Answer {n}"\ntopics = ["{topic_path(name)}"]\n'
        for name, size in sizes.items()
        for n in range(size)
    )
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", body, key="deck")])
    assert report.ok, report.problems
    assert sorted(_probes(fc)) == ["alpha-00", "alpha-01", "gamma-00"]
    ids = {c["note_key"].split(":")[1]: c["card_id"] for c in fc.cards()}
    # Gamma's first card suspended: 8 cards left, still one probe, the next in order.
    answering.set_cards(fc, "suspend", [ids["gamma-00"]])
    # Alpha's first card studied: it counts as one of Alpha's first two.
    study.answer(fc, ids["alpha-00"], Rating.GOOD)
    assert sorted(_probes(fc)) == ["alpha-01", "gamma-01"]
    # A second Gamma card suspended: 7 left, no probe.
    answering.set_cards(fc, "suspend", [ids["gamma-01"]])
    assert _probes(fc) == ["alpha-01"]
