"""`topic_cards` (schema 0018): each topic's cards, kept by the database's triggers, equals the
count made from the cards themselves after every kind of write a collection sees: decks loaded,
notes whose topics or cloze deletions change, notes retired and pruned (cascades), a deck and a
topic deleted, a card moved to another note. SQLite and PostgreSQL, on random decks."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import delete, func, select, update

from flashcore.storage.tables import cards, decks, note_topics, notes, topic_cards, topics
from flashcore.storage.uow import reading, run_write
from tests.conftest import write_deck

PATHS = [
    "Immunology::Hypersensitivity::Type I",
    "Immunology::Hypersensitivity::Type II",
    "Immunology::Transplant",
    "Cardiology::Heart failure",
    "Cardiology::Valves::Aortic stenosis",
    "Renal::Acid-base",
]


def _deck_body(rng: random.Random, keys: list[str]) -> str:
    out = []
    for key in keys:
        linked = rng.sample(PATHS, rng.choice([0, 1, 1, 2, 3]))
        topics_line = "topics = [" + ", ".join(f'"{p}"' for p in linked) + "]"
        if rng.random() < 0.5:
            out.append(f'[[cards]]\nid = "{key}"\nfront = "front {key} {rng.random()}"\n'
                       f'back = "back"\n{topics_line}\n')  # fmt: skip
        else:
            deletions = " ".join(f"{{{{c{i}::part {i}}}}}" for i in range(1, rng.randint(2, 4)))
            out.append(f'[[cards]]\nid = "{key}"\ncloze = "{key} {deletions}"\n{topics_line}\n')
    return "\n".join(out)


def _kept_and_counted(fc) -> tuple[dict[int, int], dict[int, int]]:
    with reading(fc.engine) as s:
        kept = {
            int(t): int(n)
            for t, n in s.execute(select(topic_cards.c.topic_id, topic_cards.c.cards))
        }
        counted = {int(t): 0 for t in s.execute(select(topics.c.id)).scalars()}
        for t, n in s.execute(
            select(note_topics.c.topic_id, func.count())
            .join(cards, cards.c.note_id == note_topics.c.note_id)
            .group_by(note_topics.c.topic_id)
        ):
            counted[int(t)] = int(n)
    return kept, counted


def move_a_card(s) -> None:
    """A card moved to another note (no writer does it today; the kept sets must follow)."""
    card_id, note_id = s.execute(select(cards.c.id, cards.c.note_id).limit(1)).one()
    other = s.execute(select(notes.c.id).where(notes.c.id != note_id).limit(1)).scalar_one()
    s.execute(update(cards).where(cards.c.id == card_id).values(note_id=other, ord=999))


def relink(s) -> None:
    """A note's link moved to another topic."""
    note_id, topic_id = s.execute(
        select(note_topics.c.note_id, note_topics.c.topic_id).limit(1)
    ).one()
    taken = set(
        s.execute(select(note_topics.c.topic_id).where(note_topics.c.note_id == note_id)).scalars()
    )
    free = [t for t in s.execute(select(topics.c.id)).scalars() if t not in taken]
    s.execute(
        update(note_topics)
        .where(note_topics.c.note_id == note_id, note_topics.c.topic_id == topic_id)
        .values(topic_id=free[0])
    )


def _check(fc) -> None:
    kept, counted = _kept_and_counted(fc)
    assert kept == counted


def test_the_kept_counts_follow_every_write(fc, tmp_path: Path):
    rng = random.Random(19)
    keys = {d: [f"{d}-{i}" for i in range(12)] for d in ("a", "b")}
    files = {
        d: write_deck(tmp_path / f"{d}.toml", _deck_body(rng, keys[d]), name=f"T::{d}", key=d)
        for d in keys
    }
    fc.add_decks(list(files.values()))
    _check(fc)
    for round_ in range(4):  # topics and deletions change, notes leave and come back
        for d, path in files.items():
            kept = [k for k in keys[d] if rng.random() < 0.8] + [f"{d}-new{round_}"]
            write_deck(path, _deck_body(rng, kept), name=f"T::{d}", key=d)
            fc.add_decks([path], prune=round_ % 2 == 1)
            _check(fc)
    kept, _ = _kept_and_counted(fc)
    assert sum(kept.values()) > 0

    run_write(fc.engine, move_a_card)
    _check(fc)
    run_write(fc.engine, relink)
    _check(fc)
    run_write(
        fc.engine,
        lambda s: s.execute(delete(topics).where(topics.c.id == min(_kept_and_counted(fc)[0]))),
    )
    _check(fc)
    run_write(fc.engine, lambda s: s.execute(delete(decks).where(decks.c.key == "a")))
    _check(fc)
    run_write(fc.engine, lambda s: s.execute(delete(notes)))
    kept, counted = _kept_and_counted(fc)
    assert kept == counted and set(kept.values()) == {0}


def test_check_finds_a_wrong_count_and_repair_counts_afresh(fc, tmp_path: Path):
    from flashcore.services.check import check

    rng = random.Random(5)
    deck = write_deck(tmp_path / "d.toml", _deck_body(rng, [f"n{i}" for i in range(15)]), key="d")
    fc.add_decks([deck])
    assert check(fc).topic_card_problems == []
    kept, _ = _kept_and_counted(fc)
    some, other = sorted(t for t, n in kept.items() if n)[:2]
    run_write(
        fc.engine,
        lambda s: s.execute(
            update(topic_cards).where(topic_cards.c.topic_id == some).values(cards=999)
        ),
    )
    run_write(
        fc.engine, lambda s: s.execute(delete(topic_cards).where(topic_cards.c.topic_id == other))
    )
    found = check(fc)
    assert len(found.topic_card_problems) == 2
    assert any("kept 999 cards" in p for p in found.topic_card_problems)
    assert any("kept no count" in p for p in found.topic_card_problems)
    assert found.to_json()["topic_cards"]["problems"] == found.topic_card_problems
    assert check(fc, repair=True).topic_cards_repaired
    _check(fc)
    assert check(fc).topic_card_problems == []
