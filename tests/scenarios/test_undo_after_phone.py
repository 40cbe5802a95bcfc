"""`undo` of an answer the phone answered after (found living with it, issue rv7): a card
answered in flashcore, then on the phone (which had not seen that answer), comes back merged
(both answers, replayed from its anchor). `flashcore undo` then restored the card's state from
before the flashcore answer, as if the phone's later answer had not been given: the phone's
answer stayed in the log, the card's state did not follow it, and `check` reported the card.
An answer followed by one given in Anki is not undone, as one followed by a newer state from
Anki is not: one line says why, nothing changes, `check` stays clean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flashcore.core.clock import FixedClock
from flashcore.core.errors import FlashcoreError
from flashcore.core.model import Rating
from flashcore.services import Flashcore, answering, study
from flashcore.services.check import check
from tests import anki_history as ah
from tests.scenarios.test_anki_both_sides import phone_with_history
from tests.scenarios.test_anki_round_trip import added
from tests.services.test_anki_scheduling import flashcore_cards, review_rows


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_an_answer_the_phone_answered_after_is_not_undone(request, url_fixture, tmp_path):
    url = request.getfixturevalue(url_fixture)
    phone = phone_with_history(tmp_path)
    first = ah.export(phone, tmp_path / "phone-1.colpkg")
    wall = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(wall - timedelta(hours=2))
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        added(fc, first)
        # Studied here two hours ago: the first card the queue has (or any card at all).
        queue = study.build_queue(fc, limit=1).items
        card_id = queue[0].card_id if queue else min(flashcore_cards(fc))
        study.answer(fc, card_id, Rating.GOOD, duration_ms=3000)
        # Now, on the phone (it never saw that answer): the same card, Again.
        anki_card = _anki_card_of(fc, phone, card_id)
        ah.answer_card(phone, anki_card, 1)
        second = ah.export(phone, tmp_path / "phone-2.colpkg")
        clock.set(datetime.now(UTC) + timedelta(minutes=5))
        assert added(fc, second)["cards_merged"] == 1
        assert check(fc).problems == []
        before = flashcore_cards(fc)[card_id]
        rows = len(review_rows(fc)[card_id])

        with pytest.raises(FlashcoreError, match="followed by an answer given in Anki"):
            answering.undo(fc, earlier_days=True)

        after = flashcore_cards(fc)[card_id]
        assert (after.state, after.due, after.reps, after.version) == (
            before.state, before.due, before.reps, before.version
        )  # fmt: skip
        assert len(review_rows(fc)[card_id]) == rows
        assert check(fc).problems == []


def _anki_card_of(fc: Flashcore, phone: ah.Student, card_id: int) -> int:
    """The phone's card that is flashcore's `card_id` (by the link the import keeps)."""
    from sqlalchemy import select

    from flashcore.storage.tables import anki_cards
    from flashcore.storage.uow import reading

    with reading(fc.engine) as session:
        query = select(anki_cards.c.anki_card_id).where(anki_cards.c.card_id == card_id)
        return int(session.execute(query).scalar_one())
