"""A card buried here goes to Anki buried (`export anki --with-scheduling`): Anki's "buried by
hand" queue (-3), which Anki's importer keeps and its scheduler leaves out of the day's queues
until its next day, when it unburies it. Before, found living with it, a buried card was
exported as due today (new or review queue), so the phone showed it the same day. Checked with
the real Anki: the package imported into a collection already used today (Anki unburies at the
first queue of a new day, so a collection first opened after the import would unbury at once,
as it does its own burials), then the collection's day moved on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.cli import main
from flashcore.core.model import Rating
from flashcore.services import study
from tests.conftest import SMALL_DECK, write_deck

anki_collection = pytest.importorskip("anki.collection")
from anki.import_export_pb2 import ImportAnkiPackageOptions  # noqa: E402

DAY = 86_400


def _queued(col) -> set[int]:
    """The note ids (by first field) of the cards Anki's queue holds today."""
    queued = col.sched.get_queued_cards(fetch_limit=100)
    return {col.get_card(q.card.id).note().fields[0] for q in queued.cards}


def _phone(path: Path, apkg: Path):
    """An Anki collection already studied today (its day's unburial done), the export added."""
    col = anki_collection.Collection(str(path))
    col.sched.deck_due_tree()  # the deck list shown today: Anki's unburial of the day done
    col.decks.select(col.decks.id("Test::Deck"))  # the deck the export makes, studied from
    request = anki_collection.ImportAnkiPackageRequest(
        package_path=str(apkg), options=ImportAnkiPackageOptions(with_scheduling=True)
    )
    col.import_anki_package(request)
    return col


def _next_day(col, path: Path):
    """The collection a day later (its creation moved back a day, as tests/anki_history)."""
    col.db.execute("update col set crt = crt - ?", DAY)
    col.close()
    col = anki_collection.Collection(str(path))
    col.sched.deck_due_tree()  # the deck list of the new day: Anki unburies first
    col.decks.select(col.decks.id("Test::Deck"))
    return col


def test_a_card_buried_here_is_buried_in_anki_until_its_next_day(fc, clock, tmp_path,
                                                                 monkeypatch, capsys):  # fmt: skip
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    by_front = {c["front"]: c["card_id"] for c in fc.cards()}
    review = by_front["Which antibody mediates type I hypersensitivity?"]
    new = by_front["Which cells mediate type IV hypersensitivity?"]
    # Anki reads the package's days against its own (real) clock: flashcore's is set to it
    real_now = datetime.now(UTC).replace(microsecond=0)
    clock.set(real_now - timedelta(days=60))
    study.answer(fc, review, Rating.GOOD)
    clock.advance(timedelta(minutes=10))
    study.answer(fc, review, Rating.GOOD)  # a review card now
    clock.set(real_now)  # due again
    study.set_cards(fc, "bury", [review, new])
    assert {c["card_id"] for c in fc.cards() if c["buried"]} == {review, new}
    monkeypatch.setenv("FLASHCORE_NOW", clock.now().isoformat())
    out = tmp_path / "buried.apkg"
    assert main(["--db", fc.url, "export", "anki", "-o", str(out), "--with-scheduling"]) == 0
    capsys.readouterr()

    path = tmp_path / "phone.anki2"
    col = _phone(path, out)
    try:
        queues = dict(col.db.all("select n.flds, c.queue from cards c join notes n on n.id = c.nid"
                                 " where c.ord = 0"))  # fmt: skip
        buried = {f.split("\x1f")[0]: q for f, q in queues.items()}
        assert buried["Which antibody mediates type I hypersensitivity?"] == -3  # before: 2
        assert buried["Which cells mediate type IV hypersensitivity?"] == -3  # before: 0
        today = _queued(col)
        assert "Which antibody mediates type I hypersensitivity?" not in today
        assert "Which cells mediate type IV hypersensitivity?" not in today
        col = _next_day(col, path)
        tomorrow = _queued(col)
        assert "Which antibody mediates type I hypersensitivity?" in tomorrow
        assert "Which cells mediate type IV hypersensitivity?" in tomorrow
    finally:
        col.close()


def test_a_burial_over_at_the_export_is_not_carried(fc, clock, tmp_path, monkeypatch, capsys):
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    clock.set(datetime.now(UTC).replace(microsecond=0))
    card = fc.cards()[0]["card_id"]
    study.set_cards(fc, "bury", [card])
    clock.advance(timedelta(days=1))  # the next study day: the burial is over
    monkeypatch.setenv("FLASHCORE_NOW", clock.now().isoformat())
    out = tmp_path / "later.apkg"
    assert main(["--db", fc.url, "export", "anki", "-o", str(out), "--with-scheduling"]) == 0
    capsys.readouterr()
    col = _phone(tmp_path / "phone.anki2", out)
    try:
        assert col.db.scalar("select count() from cards where queue < 0") == 0
    finally:
        col.close()
