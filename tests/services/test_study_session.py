"""StudySession keeps today's queue between answers and agrees with a fresh rebuild."""

from __future__ import annotations

from datetime import timedelta

from flashcore.core.model import Rating
from flashcore.services import study
from tests.conftest import SMALL_DECK, write_deck


def test_session_queue_matches_a_rebuild_after_each_answer(fc_sqlite, clock, tmp_path):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    session = study.StudySession(fc)
    seen = []
    for _ in range(3):
        q = session.queue()
        fresh = study.build_queue(fc, limit=1)
        assert [i.card_id for i in q.items] == [i.card_id for i in fresh.items]
        assert (q.new, q.review) == (fresh.new, fresh.review)
        card = q.items[0]
        seen.append(card.card_id)
        session.answered(study.answer(fc, card.card_id, Rating.GOOD))
    # The cloze sibling was buried with the first answer: three notes, three cards shown.
    assert len(set(seen)) == 3
    # Nothing else is left: learning cards due within 20 minutes are shown early (Anki's rule),
    # the same card a full rebuild picks.
    q = session.queue()
    assert q.items[0].card_id == seen[0] == study.build_queue(fc, limit=1).items[0].card_id
    clock.advance(timedelta(minutes=11))
    again = session.queue()
    assert again.items[0].kind == "learning" and again.items[0].card_id == seen[0]
    assert again.learning == 3


def test_invalidate_picks_up_changes_made_elsewhere(fc_sqlite, tmp_path):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    session = study.StudySession(fc)
    first = session.queue().items[0].card_id
    study.set_cards(fc, "suspend", [first])
    session.invalidate()
    assert session.queue().items[0].card_id != first
