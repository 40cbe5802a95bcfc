"""Card weights read through topics (schema 0019) order the queue as the weights copied onto
every card did (before 0019): on the README's weakness story with a deck that lists question
ids, a qbank log, missed question ids and an NBME report whose weak systems tie many topics,
each card's weight is the one worked out the old way from the topics' weights (the highest
among its note's topics and their ancestors, ties to the lowest topic id, or its note's missed
question's), with the same weak topic; and new cards come in that weight's order, then the
introduction order (the queue's three-part read, the deck counts' window and the forecast's
list, against one sort of every new card by the old per-card weight). Both backends."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from flashcore.core.model import Rating
from flashcore.services import answering, assess, matching, qbank, study
from flashcore.services.decks import bundled_decks_dir
from flashcore.storage import planning, repos
from flashcore.storage.repos import queue as queue_repo
from flashcore.storage.tables import cards
from flashcore.storage.uow import reading
from tests.conftest import write_deck
from tests.weak_week import DECK, paste

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "decks" / "samples"
STARTER = ("immunology", "renal", "cardiovascular", "biostatistics")


def _old_weights(fc) -> dict[int, tuple[float, int | None]]:
    """Each card's weight and weak topic as the refresh copied them onto cards before schema
    0019, worked out from the topics' own weights and the tree."""
    with reading(fc.engine) as session:
        index = matching.load_index(session, fc.profile_id, every_note=True)
        weight = dict(
            session.execute(
                sa.text("SELECT id, weight FROM topics WHERE profile_id = :p"),
                {"p": fc.profile_id},
            ).all()
        )
        rows = session.execute(
            sa.text("SELECT id, note_id, weight FROM cards WHERE profile_id = :p"),
            {"p": fc.profile_id},
        ).all()
    out = {}
    for card_id, note_id, missed in rows:
        best: tuple[float, int | None] = (0.0, None)
        for t in sorted(index.note_topics.get(note_id, [])):
            top: tuple[float, int | None] = (0.0, None)
            for node in (t, *index.ancestors(t)):
                if weight.get(node, 0.0) > top[0]:
                    top = (weight[node], node)
            if top[0] > best[0]:
                best = top
        out[card_id] = (float(missed), best[1]) if missed > 0 else best
    return out


def _new_weights(fc) -> dict[int, tuple[float, int | None]]:
    with reading(fc.engine) as session:
        ids = [r[0] for r in session.execute(sa.select(cards.c.id))]
        weights = planning.card_weights(session, fc.profile_id, ids)
        weak = {card_id: w.topic for card_id, w in repos.weak_topics(session, ids).items()}
        paths = dict(
            session.execute(
                sa.text("SELECT path, id FROM topics WHERE profile_id = :p"),
                {"p": fc.profile_id},
            ).all()
        )
    return {i: (weights[i], paths.get(weak[i]) if i in weak else None) for i in ids}


def _old_new_card_order(fc, old: dict[int, tuple[float, int | None]]) -> list[int]:
    with reading(fc.engine) as session:
        rows = session.execute(
            sa.text(
                "SELECT id, new_position, note_id, ord FROM cards WHERE profile_id = :p"
                " AND state = 0 AND suspended = :f"
            ),
            {"p": fc.profile_id, "f": False},
        ).all()
    return [r[0] for r in sorted(rows, key=lambda r: (-old[r[0]][0], r[1], r[2], r[3]))]


def _check(fc) -> dict[str, int]:
    old = _old_weights(fc)
    new = _new_weights(fc)
    assert new == old
    expected = _old_new_card_order(fc, old)
    c = cards.c
    mine = sa.and_(c.profile_id == fc.profile_id, c.suspended.is_(False))
    with reading(fc.engine) as session:
        for fetch in (1, 20, 130, None):
            got = [r[0] for r in queue_repo.new_in_order(session, fc.profile_id, mine, fetch)]
            assert got == expected[:fetch], fetch
            assert [r[6] for r in queue_repo.new_in_order(session, fc.profile_id, mine, fetch)] == [
                old[i][0] for i in expected[:fetch]
            ]
        _studied, fresh = planning.scope_ids(session, fc.profile_id)
        assert fresh == expected
        by_deck = queue_repo.new_rows_by_deck(session, fc.profile_id, fc.now(), 10_000)
    for rows in by_deck.values():
        ids = [r[0] for r in rows]
        assert ids == [i for i in expected if i in set(ids)]
    weights = [w for w, _t in old.values()]
    return {
        "topic": sum(1 for w in weights if 0 < w < 1),
        "missed": sum(1 for w in weights if w >= 1),
        "tied": len(weights) - len(set(weights)),
        "new": len(expected),
    }


def test_weights_read_through_topics_rank_as_the_weights_copied_onto_cards(fc, clock, tmp_path):
    decks = [bundled_decks_dir() / f"{name}.toml" for name in STARTER]
    fc.add_decks([d for d in decks if d.exists()])
    fc.add_decks([write_deck(tmp_path / "week.toml", DECK, key="week")])
    qbank.import_log(fc, (SAMPLES / "uworld-paste.tsv").read_bytes(), origin="paste")
    study.build_queue(fc)
    assert _check(fc)["topic"] > 0
    qbank.import_log(
        fc,
        paste(
            ("118200", "Renal", "Acid-base", "Acid-base disorders"),
            ("118154", "Renal", "Acid base", "Metabolic acidosis"),
        ),
        origin="qids",
    )
    qbank.import_log(fc, (SAMPLES / "missed.csv").read_bytes(), origin="missed.csv")
    with reading(fc.engine) as session:
        weighted = session.execute(
            sa.text("SELECT COUNT(*) FROM cards WHERE weight >= 1")
        ).scalar_one()
    assert weighted > 0  # missed questions' cards
    assert _check(fc)["missed"] > 0
    for item in study.build_queue(fc, limit=12).items:
        answering.answer(fc, item.card_id, Rating.GOOD)
    clock.advance(timedelta(days=3))
    assess.add(fc, "NBME 30", 62.0, report=SAMPLES / "nbme-report.csv")
    study.build_queue(fc)
    found = _check(fc)
    assert found["topic"] > 100 and found["missed"] > 0, found  # weak systems: many ties
