"""The reviewer's order after an import that lands while a new card is on screen, some answers
into the day (both backends). The session rebuilds its ranking while the student reads
(`StudySession.prepare`); with topics big enough to have probes (core.introduction), the day's
places of probes count the new cards studied so far. Found by hand (tmux, starter decks, the
fifth new card of the day): the rebuild counted the card on screen as not yet studied, so once
it was answered every later place was off by one and the reviewer showed a probe where `due` in
the other terminal listed the weak topic's cards. Here, after the answer, every next card of
the session is the head of a queue built afresh on another connection, card after card."""

from __future__ import annotations

import pytest

from flashcore.core.model import Rating
from flashcore.services import Flashcore
from flashcore.services.qbank_import import import_log
from flashcore.services.queue import build_queue
from flashcore.services.study import StudySession
from tests.conftest import write_deck
from tests.weak_week import ACID_BASE, NEISSERIA, NEPHRON, TYPE_I, paste

TOPICS = {"t1": TYPE_I, "ab": ACID_BASE, "ne": NEPHRON, "ns": NEISSERIA}


def _deck() -> str:
    cards = []
    for short, topic in TOPICS.items():
        for n in range(10):  # 10 cards: each topic has a probe (core.introduction.probe_quota)
            cards.append(
                f'[[cards]]\nid = "{short}-{n}"\nfront = "{short} question {n}"\n'
                f'back = "{short} answer {n}"\ntopics = ["{topic}"]\n'
            )
    return "\n".join(cards)


@pytest.fixture
def pg_looks_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StudySession, "PG_LOOK_SECONDS", 0.0)


def _answer_head(session: StudySession) -> int:
    card = session.queue(details=False).items[0]
    view = session.show(card.card_id)
    session.answer(card.card_id, Rating.GOOD, expect_version=view.version)
    return card.card_id


@pytest.mark.parametrize("answered_before", [0, 1, 2, 3, 4, 5])
def test_after_an_import_read_on_screen_the_session_offers_what_a_fresh_queue_does(
    fc, db_url, clock, tmp_path, pg_looks_at_once, answered_before
):
    (report,) = fc.add_decks([write_deck(tmp_path / "topics.toml", _deck(), key="topics")])
    assert report.ok, report.problems
    other = Flashcore.open(db_url, clock=clock, timezone="UTC")  # the second terminal
    session = StudySession(fc)
    try:
        for _ in range(answered_before):
            _answer_head(session)
        shown = session.queue(details=False).items[0]
        view = session.show(shown.card_id)

        row = ("Allergy & Immunology", "Hypersensitivity reactions", "Type I hypersensitivity")
        import_log(other, paste(*[(str(700 + n), *row) for n in range(6)]), origin="paste")
        assert session.prepare(), "the session did not notice the import while the card showed"
        session.answer(shown.card_id, Rating.GOOD, expect_version=view.version)

        offered, fresh_heads = [], []
        for _ in range(8):
            fresh = build_queue(other, details=False, limit=1)
            fresh_heads.append(fresh.items[0].card_id)
            offered.append(_answer_head(session))
        assert offered == fresh_heads
        topics = {c["card_id"]: c["note_key"].split(":")[1][:2] for c in fc.cards()}
        # the weak topic's cards lead, with the day's probes in their places
        assert [topics[c] for c in offered].count("t1") >= 5, [topics[c] for c in offered]
    finally:
        session.close()
        other.close()


def _answer_read_ahead(session: StudySession, card: int, view) -> tuple[int, object]:
    """As the reviewer answers (tui.screens.review_writes): the next card read ahead while
    `card` is on screen, taken at the key, `card` answered, the next one shown from memory
    (no `queue()` between: the reviewer reads the held queue only)."""
    ahead = session.ahead(card)
    assert ahead is not None and session.take_ahead(ahead)
    session.answer(card, Rating.GOOD, expect_version=view.version)
    return ahead.item.card_id, ahead.view


@pytest.mark.parametrize("answered_before", [1, 3])
def test_the_card_read_ahead_after_an_import_comes_from_the_new_ranking(
    fc, db_url, clock, tmp_path, pg_looks_at_once, answered_before
):
    # Found in tmux with the reviewer's read-ahead: the answer before the import had seen no
    # other commit, so the quiet moments' `prepare` trusted that look and never noticed the
    # import; the card read ahead before it was shown, where `due` listed the weak topic's.
    fc.config_set("bury_siblings", "false")
    (report,) = fc.add_decks([write_deck(tmp_path / "topics.toml", _deck(), key="topics")])
    assert report.ok, report.problems
    other = Flashcore.open(db_url, clock=clock, timezone="UTC")  # the second terminal
    session = StudySession(fc)
    try:
        card = session.queue(details=False).items[0].card_id
        view = session.show(card)
        for _ in range(answered_before):
            card, view = _answer_read_ahead(session, card, view)
        session.prepare()  # a quiet moment: nothing new yet

        row = ("Allergy & Immunology", "Hypersensitivity reactions", "Type I hypersensitivity")
        import_log(other, paste(*[(str(700 + n), *row) for n in range(6)]), origin="paste")
        assert session.prepare(), "the session did not notice the import while the card showed"
        shown, _view = _answer_read_ahead(session, card, view)
        fresh = build_queue(other, details=False, limit=1)
        assert shown == fresh.items[0].card_id
        topics = {c["card_id"]: c["note_key"].split(":")[1][:2] for c in fc.cards()}
        assert topics[shown] == "t1"
    finally:
        session.close()
        other.close()
