"""The reviewer open in one terminal while the other changes what its answers are computed
with: `config set`, `exam set`, `backup restore`. Found by hand in tmux: after a restore of a
backup taken before the day's first answer, every answer in the open reviewer failed ("your
answer was not saved ... (sqlite3.IntegrityError) FOREIGN KEY constraint failed") until the
student quit: the session kept the id of a scheduler row the restore had removed. A settings
change made in the other terminal was never seen either: the open reviewer kept scheduling
with the old desired retention until it was restarted.

Both are seen in the session's quiet moment (`StudySession.prepare`, every second in the
reviewer), as an import is."""

from __future__ import annotations

import json

import pytest

from flashcore.core.model import Rating
from flashcore.services.study import StudySession
from tests.scenarios.test_import_while_reading import _cli
from tests.weak_week import load_deck


@pytest.fixture
def pg_looks_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StudySession, "PG_LOOK_SECONDS", 0.0)


def _answer_next(session: StudySession) -> int:
    card = session.queue(details=False).items[0].card_id
    view = session.show(card)
    session.prepare()  # the student reads it
    session.answer(card, Rating.GOOD, expect_version=view.version)
    return card


def _answers(fc, card_id: int) -> list[float]:
    """The desired retention of each of the card's answers, oldest first."""
    from sqlalchemy import select

    from flashcore.storage.tables import review_logs as r

    with fc.engine.connect() as conn:
        rows = conn.execute(
            select(r.c.desired_retention).where(r.c.card_id == card_id).order_by(r.c.id)
        )
        return [float(x) for (x,) in rows]


def test_a_setting_changed_in_the_other_terminal_reaches_the_open_reviewer(
    fc, db_url, clock, tmp_path, pg_looks_at_once
):
    load_deck(fc, tmp_path)
    now, home = clock.now().isoformat(), tmp_path / "home"
    session = StudySession(fc)
    try:
        first = _answer_next(session)
        assert _answers(fc, first) == [pytest.approx(0.9)]
        _cli(db_url, now, home, "config", "set", "desired_retention", "0.95")
        nxt = session.queue(details=False).items[0].card_id
        view = session.show(nxt)
        session.prepare()  # the quiet moment while the card is read
        session.answer(nxt, Rating.GOOD, expect_version=view.version)
        assert _answers(fc, nxt) == [pytest.approx(0.95)], "answered with the old setting"
        _cli(db_url, now, home, "check")  # exits 1 on a mismatch
    finally:
        session.close()


def test_a_restore_in_the_other_terminal_leaves_the_open_reviewer_answering(
    fc_sqlite, sqlite_url, clock, tmp_path
):
    fc, db_url = fc_sqlite, sqlite_url
    load_deck(fc, tmp_path)
    now, home = clock.now().isoformat(), tmp_path / "home"
    taken = json.loads(_cli(db_url, now, home, "backup", "create", "--json").stdout)
    ident = taken.get("id") or taken["backup"]["id"]
    _cli(db_url, now, home, "exam", "set", "2027-02-15", "--minutes-per-day", "120")
    session = StudySession(fc)
    try:
        # the first answer records the exam's scheduler: a row the backup does not hold
        _answer_next(session)
        _answer_next(session)  # (the row's id is kept once it was seen committed)
        _cli(db_url, now, home, "backup", "restore", ident, "--yes")
        card = _answer_next(session)  # failed: the scheduler's row was gone
        stats = json.loads(_cli(db_url, now, home, "stats", "--json").stdout)
        assert stats["today"]["reviews"] == 1, "the answer after the restore was not saved"
        assert len(_answers(fc, card)) == 1
        _cli(db_url, now, home, "check")
    finally:
        session.close()


def test_a_setting_changed_elsewhere_reaches_a_rebuild_made_for_another_reason(
    fc, db_url, clock, tmp_path, pg_looks_at_once
):
    """A rebuild the session makes for a reason of its own (the reviewer invalidated its queue
    after a bury, a suspend or a refused answer; the study day rolled over; the queue ran out)
    took the other terminal's commit as seen without reading the profile again: the new
    setting was never used (the next look found nothing new)."""
    from flashcore.services.study import set_cards

    load_deck(fc, tmp_path)
    now, home = clock.now().isoformat(), tmp_path / "home"
    session = StudySession(fc)
    try:
        first = _answer_next(session)
        _cli(db_url, now, home, "config", "set", "desired_retention", "0.95")
        buried = session.queue(details=False).items[0].card_id
        set_cards(fc, "bury", [buried])  # the reviewer's `b` key: then it invalidates
        session.invalidate()
        nxt = _answer_next(session)
        assert nxt not in (first, buried)
        assert _answers(fc, nxt) == [pytest.approx(0.95)], "answered with the old setting"
        _cli(db_url, now, home, "check")
    finally:
        session.close()
