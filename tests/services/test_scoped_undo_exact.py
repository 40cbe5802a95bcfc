"""A scoped change undone puts each card back exactly as it was before it, on SQLite and
PostgreSQL: a card the change touched only for a mark it held (an unsuspended card whose
missed question had unsuspended it) stays unsuspended, its mark back; and a card deleted since
(`decks add --prune`) is never confused with a card made later under the same id (SQLite
gives a deleted row's id to the next row inserted)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update

from flashcore.core.scoped_changes import Left
from flashcore.services import card_changes
from flashcore.services.card_changes import undo_scoped
from flashcore.services.qbank import import_log, remove_qbank_batch
from flashcore.services.study import change_cards_in_scope, set_cards
from flashcore.storage.tables import cards
from tests.conftest import write_deck


def _cards(n: int, prefix: str, qid: int | None = None) -> str:
    return "".join(
        f'\n[[cards]]\nid = "{prefix}{i}"\nfront = "{prefix} question {i}?"\nback = "{i}"\n'
        + (f'qids = ["uworld:{qid}"]\n' if qid is not None and i == 0 else "")
        for i in range(n)
    )


def _ids(fc) -> dict[str, int]:
    return {c["note_key"].rpartition(":")[2]: c["card_id"] for c in fc.cards()}


def _suspended(fc) -> set[int]:
    return {c["card_id"] for c in fc.cards() if c["suspended"]}


def test_undoing_a_deck_unsuspend_leaves_unsuspended_a_card_a_missed_question_had_unsuspended(
    fc, tmp_path
):
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", _cards(3, "c", qid=7001),
                                         name="Step 1::Cardio", key="cardio")])  # fmt: skip
    assert report.ok, report.problems
    ids = _ids(fc)
    set_cards(fc, "suspend", [ids["c0"], ids["c1"]])  # c0 waits for its question, as AnKing's
    batch = import_log(fc, b"7001\n", origin="block.txt", fmt="qids")
    assert batch.unsuspended == 1  # c0: unsuspended by the miss, its mark on it
    fc.clock.advance(timedelta(hours=1))
    change = change_cards_in_scope(fc, "unsuspend", deck="Step 1::Cardio")
    assert set(change.cards) >= {ids["c1"]}
    fc.clock.advance(timedelta(hours=1))

    undo_scoped(fc, "suspend")

    # c1 was suspended before the change; c0 was not (its miss had brought it back).
    assert _suspended(fc) == {ids["c1"]}
    # ... and c0 holds its miss's mark again: removing that batch suspends it, as before.
    assert remove_qbank_batch(fc, batch.batch_id).resuspended == 1
    assert _suspended(fc) == {ids["c0"], ids["c1"]}


def test_undoing_a_change_after_its_cards_were_deleted_leaves_the_cards_made_since(fc, tmp_path):
    path = tmp_path / "x.toml"
    (report,) = fc.add_decks([write_deck(path, _cards(3, "x"), name="X", key="x")])
    assert report.ok, report.problems
    ids = _ids(fc)
    deleted = sorted([ids["x1"], ids["x2"]])  # the highest ids of the collection
    set_cards(fc, "suspend", deleted)
    change = change_cards_in_scope(fc, "unsuspend", deck="X")
    assert change.cards == deleted
    fc.clock.advance(timedelta(hours=1))
    (report,) = fc.add_decks([write_deck(path, _cards(1, "x"), name="X", key="x")], prune=True)
    assert report.ok and report.deleted == 2
    fc.clock.advance(timedelta(hours=1))
    (report,) = fc.add_decks([write_deck(tmp_path / "y.toml", _cards(2, "y"), name="Y", key="y")])
    assert report.ok, report.problems

    undone = undo_scoped(fc, "suspend")

    assert undone.cards == []
    assert undone.left == {Left.GONE: deleted}
    assert _suspended(fc) == set()  # Y's cards (on SQLite: the deleted cards' ids) untouched


def _leech_beside(fc, other: int, monkeypatch, owner, name: str) -> threading.Event:
    """Wrap `owner.name` (a step between a change's read of the cards and its write) so that,
    when it runs, another connection makes card `other` a leech (suspended) and commits: at
    once when nothing holds the row, else once the change's transaction ends. The event is set
    when that write is done."""
    original = getattr(owner, name)
    done = threading.Event()

    def leech_beside(*args, **kwargs):
        def answer_elsewhere() -> None:
            with fc.engine.begin() as conn:
                conn.execute(
                    update(cards)
                    .where(cards.c.id == other)
                    .values(leech=True, suspended=True, version=cards.c.version + 1)
                )
            done.set()

        threading.Thread(target=answer_elsewhere, daemon=True).start()
        done.wait(1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, leech_beside)
    return done


def test_a_card_suspended_as_a_leech_while_an_undo_runs_is_not_unsuspended_by_it(
    fc, tmp_path, monkeypatch
):
    """Another process's write to a card of the change (an answer that makes it a leech)
    between the undo's read of the card and its write either waits for the undo or is seen by
    it: never overwritten (PostgreSQL: the undo holds the cards' rows from its read on)."""
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", _cards(2, "c"), name="D", key="d")])
    assert report.ok, report.problems
    other = _ids(fc)["c1"]
    change_cards_in_scope(fc, "suspend", deck="D")
    done = _leech_beside(fc, other, monkeypatch, card_changes, "plan_undo")
    undo_scoped(fc, "unsuspend")
    assert done.wait(15)
    [card] = [c for c in fc.cards() if c["card_id"] == other]
    assert card["suspended"], "the leech's suspension was overwritten by the undo"


def test_a_card_made_a_leech_while_a_deck_unsuspend_runs_is_not_unsuspended_by_it(
    fc, tmp_path, monkeypatch
):
    """The scoped change itself, as its undo above: another process's write to a card of the
    scope between the change's read of the cards and its write (an answer that makes it a
    leech) waits for the change or is seen by it, never overwritten (PostgreSQL: the change
    holds the rows it read)."""
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", _cards(2, "c"), name="D", key="d")])
    assert report.ok, report.problems
    other = _ids(fc)["c1"]
    set_cards(fc, "suspend", list(_ids(fc).values()))
    done = _leech_beside(fc, other, monkeypatch, card_changes.repos, "earlier_values")
    change_cards_in_scope(fc, "unsuspend", deck="D")
    assert done.wait(15)
    [card] = [c for c in fc.cards() if c["card_id"] == other]
    assert card["suspended"] and card["leech"], "the leech was overwritten by the deck change"
