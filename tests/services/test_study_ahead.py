"""The card after the one on screen, read ahead (services.study_ahead): it is the card the
session shows once the answer is in, it is answered from the row read ahead, and it is never
taken once the ranking was rebuilt or invalidated, nor when the answer would bury it."""

from __future__ import annotations

from flashcore.core.model import Rating
from flashcore.services import study
from tests.conftest import SMALL_DECK, write_deck


def _count(fc) -> int:
    from flashcore.services.stats import stats

    return int(stats(fc, queues=False)["today"]["reviews"])


def test_the_card_read_ahead_is_the_one_shown_once_the_answer_is_in(fc, tmp_path):
    fc.config_set("bury_siblings", "false")  # every card may follow any other
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    answered = []
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        view = session.show(card)
        while True:
            ahead = session.ahead(card)
            if ahead is None:  # the last card due now: the answer goes the usual way
                session.answer(card, Rating.EASY, expect_version=view.version)
                answered.append(card)
                break
            assert session.ahead(card) is ahead  # asked again: the same, nothing read again
            assert ahead.after == card and ahead.item.card_id != card
            assert session.take_ahead(ahead)
            session.answer(card, Rating.EASY, expect_version=view.version)
            answered.append(card)
            after = session.queue(details=False)
            assert after.items[0].card_id == ahead.item.card_id
            assert (after.new, after.review) == (ahead.queue.new, ahead.queue.review)
            card, view = ahead.item.card_id, ahead.view  # shown from memory, never read
        assert session.queue(details=False).items == ()
    assert len(answered) == len(set(answered)) == 4  # each card once
    assert _count(fc) == 4


def test_a_card_read_ahead_is_not_taken_after_an_invalidation_and_is_read_again_after_a_rebuild(
    fc, tmp_path
):
    fc.config_set("bury_siblings", "false")
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        session.show(card)
        ahead = session.ahead(card)
        assert ahead is not None
        session.invalidate()  # undo, bury, suspend...
        assert not session.take_ahead(ahead)
        session.queue(details=False)  # rebuilt
        again = session.ahead(card)
        assert again is not None and again is not ahead
        session._rebuild(fc.now())  # another process's import, picked up while reading
        assert session.ahead(card) is not again  # read again from the new ranking
        # a rebuild while the key comes (the answer waits for it): the card is still due
        found = session.ahead(card)
        session._rebuild(fc.now())
        assert session.take_ahead(found)


def test_nothing_is_read_ahead_for_another_card_than_the_one_shown(fc, tmp_path):
    # While an answer is being written the card shown is none: a card read ahead then could
    # be the very card being answered.
    fc.config_set("bury_siblings", "false")
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        first, second = (i.card_id for i in study.build_queue(fc).items[:2])
        session.queue(details=False)
        session.show(first)
        assert session.ahead(second) is None
        assert session.ahead(first) is not None


def test_a_sibling_the_answer_buries_is_not_read_ahead(fc, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    cloze = [c["card_id"] for c in fc.cards() if c["kind"] == "cloze"]
    assert len(cloze) == 2
    study.set_cards(fc, "suspend", [c["card_id"] for c in fc.cards() if c["kind"] != "cloze"])
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        session.show(card)
        assert session.ahead(card) is None  # its sibling is next, and the answer buries it
    fc.config_set("bury_siblings", "false")
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        session.show(card)
        ahead = session.ahead(card)
        assert ahead is not None and ahead.item.card_id in cloze


def test_the_queue_held_after_an_answer_is_the_queue_without_a_rebuild(fc, tmp_path):
    fc.config_set("bury_siblings", "false")
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        view = session.show(card)
        session.answer(card, Rating.EASY, expect_version=view.version)
        held = session.queue_held()
        builds = session._builds
        study.set_cards(fc, "flag", [card])  # another window commits: the next queue() looks
        assert session.queue_held() == held and session._builds == builds  # not here
        fresh = session.queue(details=False)
        assert held is not None
        assert (held.new, held.learning, held.review) == (fresh.new, fresh.learning, fresh.review)
        assert held.items[0].card_id == fresh.items[0].card_id
        session.invalidate()
        assert session.queue_held() is None


def test_a_key_while_the_card_ahead_is_read_again_takes_the_card_read_before(
    fc, tmp_path, monkeypatch
):
    # After a rebuild (another process's import) the quiet worker reads the next card again
    # from the new ranking; a key that comes during that read takes the card read before
    # at once (it found nothing and waited for the queue: ~20 ms beside an import).
    from flashcore.services import study_ahead

    fc.config_set("bury_siblings", "false")
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    with study.StudySession(fc) as session:
        card = session.queue(details=False).items[0].card_id
        view = session.show(card)
        before = session.ahead(card)
        assert before is not None
        session._rebuild(fc.now())  # an import picked up while the student reads
        taken: list[bool] = []
        reading = study_ahead.show_on

        def key_during_the_read(*args, **kwargs):
            if not taken:
                taken.append(session.take_ahead(before))  # the screen's thread, no lock
            return reading(*args, **kwargs)

        monkeypatch.setattr(study_ahead, "show_on", key_during_the_read)
        session.ahead(card)
        assert taken == [True]
        session.answer(card, Rating.EASY, expect_version=view.version)
        assert session.queue(details=False).items[0].card_id != card
    assert _count(fc) == 1
