"""`weak_candidates` (schema 0031): the cards a weight refresh may change, kept by the
database's triggers, equals the set worked out from the cards and their notes' topics (every
card but those of weight 0 pointing at their note's only topic, or at none for a note without
topics) after every kind of write a collection sees: decks loaded and reloaded with other
topics, notes retired and pruned, qbank imports and the days' refreshes (weights reaching and
leaving 0, weak topics set), a card moved to another note, a link moved, a topic deleted (its
cards' weak topic set to NULL by the foreign key), a deck and every note deleted, a bulk load
that sets the triggers aside. SQLite and PostgreSQL, on random decks."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select, text, update

from flashcore.services import qbank, weakness
from flashcore.storage.tables import cards, decks, note_topics, notes, topics, weak_candidates
from flashcore.storage.uow import reading, run_write
from tests.conftest import write_deck
from tests.storage.test_topic_cards import move_a_card, relink

PATHS = [
    "Immunology::Hypersensitivity::Type I",
    "Immunology::Hypersensitivity::Type II",
    "Immunology::Transplant",
    "Cardiology::Heart failure",
    "Cardiology::Valves::Aortic stenosis",
    "Renal::Acid-base",
]
TEXTS = ("Type I hypersensitivity", "Heart failure", "Acid-base", "Transplant")


def _deck_body(rng: random.Random, keys: list[str]) -> str:
    out = []
    for key in keys:
        linked = rng.sample(PATHS, rng.choice([0, 1, 1, 1, 2, 3]))
        topics_line = "topics = [" + ", ".join(f'"{p}"' for p in linked) + "]"
        qids = f'qids = ["uworld:{rng.randint(1, 6)}"]\n' if rng.random() < 0.3 else ""
        out.append(f'[[cards]]\nid = "{key}"\nfront = "front {key} {rng.random()}"\n'
                   f'back = "back"\n{topics_line}\n{qids}')  # fmt: skip
    return "\n".join(out)


def _log(rng: random.Random, day, n: int) -> bytes:
    rows = ["question_id,result,date,source,topic"]
    for _ in range(n):
        outcome = rng.choice(("incorrect", "incorrect", "correct"))
        rows.append(f"{rng.randint(1, 9)},{outcome},{day},uworld,{rng.choice(TEXTS)}")
    return ("\n".join(rows) + "\n").encode()


def kept_and_counted(engine) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Every profile's candidates as kept, and as worked out in Python from the cards."""
    with reading(engine) as s:
        kept = {(int(p), int(c)) for p, c in s.execute(select(weak_candidates))}
        links: dict[int, set[int]] = {}
        for note_id, topic_id in s.execute(select(note_topics.c.note_id, note_topics.c.topic_id)):
            links.setdefault(int(note_id), set()).add(int(topic_id))
        counted = set()
        for card_id, profile_id, note_id, weight, weak in s.execute(
            select(cards.c.id, cards.c.profile_id, cards.c.note_id, cards.c.weight,
                   cards.c.weak_topic_id)
        ):  # fmt: skip
            linked = links.get(int(note_id), set())
            settled = weight == 0 and linked == (set() if weak is None else {int(weak)})
            if not settled:
                counted.add((int(profile_id), int(card_id)))
    return kept, counted


def _check(fc) -> set[tuple[int, int]]:
    kept, counted = kept_and_counted(fc.engine)
    assert kept == counted
    return kept


def test_the_kept_candidates_follow_every_write(fc, clock, tmp_path: Path):
    rng = random.Random(31)
    keys = {d: [f"{d}-{i}" for i in range(14)] for d in ("a", "b")}
    files = {
        d: write_deck(tmp_path / f"{d}.toml", _deck_body(rng, keys[d]), name=f"T::{d}", key=d)
        for d in keys
    }
    fc.add_decks(list(files.values()))
    _check(fc)
    weighed = set()
    for round_ in range(4):  # misses logged, days pass, topics change, notes leave and return
        qbank.import_log(fc, _log(rng, clock.now().date(), 40), origin=f"r{round_}.csv")
        weighed |= _check(fc)
        clock.advance(timedelta(days=3))
        weakness.ensure_fresh(fc)
        _check(fc)
        for d, path in files.items():
            kept = [k for k in keys[d] if rng.random() < 0.8] + [f"{d}-new{round_}"]
            write_deck(path, _deck_body(rng, kept), name=f"T::{d}", key=d)
            fc.add_decks([path], prune=round_ % 2 == 1)
            _check(fc)
    with reading(fc.engine) as s:  # the writes above moved weights and weak topics
        assert s.execute(select(cards.c.id).where(cards.c.weight > 0)).first() is not None
        assert s.execute(select(cards.c.id).where(cards.c.weak_topic_id.is_not(None))).first()
    assert len(weighed) > 3

    run_write(fc.engine, move_a_card)
    _check(fc)
    run_write(fc.engine, relink)
    _check(fc)

    def weigh_one(weight: float):  # a settled card's weight leaves 0, then comes back
        def work(s) -> None:
            card_id = s.execute(select(cards.c.id).order_by(cards.c.id.desc()).limit(1)).scalar()
            s.execute(update(cards).where(cards.c.id == card_id).values(weight=weight))

        return work

    run_write(fc.engine, weigh_one(2.5))
    _check(fc)
    run_write(fc.engine, weigh_one(0.0))
    _check(fc)

    def drop_a_weak_topic(s) -> None:  # the cards pointing at it: weak topic NULL (SET NULL)
        topic_id = s.execute(
            select(cards.c.weak_topic_id).where(cards.c.weak_topic_id.is_not(None)).limit(1)
        ).scalar_one()
        if s.get_bind().dialect.name == "postgresql":
            # The links first: there the links' cascade trips schema 0018's topic_cards
            # trigger (its UPDATE names the topic being deleted; with or without 0031).
            s.execute(delete(note_topics).where(note_topics.c.topic_id == topic_id))
        s.execute(delete(topics).where(topics.c.id == topic_id))

    run_write(fc.engine, drop_a_weak_topic)
    _check(fc)
    run_write(fc.engine, lambda s: s.execute(delete(decks).where(decks.c.key == "a")))
    _check(fc)
    run_write(fc.engine, lambda s: s.execute(delete(notes)))
    assert _check(fc) == set()


def test_a_bulk_load_fills_the_candidates_it_set_aside_the_triggers_for(fc_sqlite, tmp_path):
    """A first load of 1,000 cards or more into a profile (SQLite: `storage.bulk_cards`) writes
    without the triggers, then fills the profile's candidates once."""
    fc = fc_sqlite
    rng = random.Random(7)
    body = _deck_body(rng, [f"n{i}" for i in range(1_100)])
    fc.add_decks([write_deck(tmp_path / "big.toml", body, key="big")])
    with reading(fc.engine) as s:  # the load set them aside and made them again
        names = s.execute(
            text("SELECT name FROM sqlite_master WHERE name LIKE 'tr_weak_candidates_%'")
        ).scalars()
        assert len(list(names)) == 6
    kept = _check(fc)
    assert len(kept) > 100  # notes of two or three topics, and of none with a topic kept


def test_check_finds_wrong_candidates_and_repair_works_them_out_afresh(fc, tmp_path: Path):
    from flashcore.services.check import check

    rng = random.Random(5)
    deck = write_deck(tmp_path / "d.toml", _deck_body(rng, [f"n{i}" for i in range(20)]), key="d")
    fc.add_decks([deck])
    assert check(fc).weak_candidate_problems == []
    kept = _check(fc)
    profile_id, left_out = min(kept)

    def tamper(s) -> None:  # a candidate lost (a rebuild without the triggers), one too many
        s.execute(delete(weak_candidates).where(weak_candidates.c.card_id == left_out))
        other = s.execute(
            select(cards.c.id).where(cards.c.id.not_in([c for _p, c in kept])).limit(1)
        ).scalar_one()
        s.execute(weak_candidates.insert().values(profile_id=profile_id, card_id=other))

    run_write(fc.engine, tamper)
    found = check(fc)
    assert len(found.weak_candidate_problems) == 2, found.weak_candidate_problems
    assert f"card {left_out}: may move, not kept" in found.weak_candidate_problems
    assert found.to_json()["weak_candidates"] == {
        "problems": found.weak_candidate_problems,
        "repaired": False,
    }
    assert check(fc, repair=True).weak_candidates_repaired
    assert _check(fc) == kept
    assert check(fc).weak_candidate_problems == []
