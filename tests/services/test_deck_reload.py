"""A note that leaves its deck file and comes back."""

from __future__ import annotations

from flashcore.services import study
from tests.conftest import SMALL_DECK, write_deck


def test_a_returning_note_is_unsuspended_but_a_leech_stays_suspended(fc_sqlite, tmp_path):
    fc = fc_sqlite
    deck = write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")
    fc.add_decks([deck])
    cards = {c["note_key"] + f"#{c['ord']}": c["card_id"] for c in fc.cards()}
    leech = cards["imm:t1-cells#1"]
    from sqlalchemy import update

    from flashcore.storage.models import Card
    from flashcore.storage.uow import run_write

    run_write(fc.engine, lambda s: s.execute(update(Card).where(Card.id == leech).values(
        leech=True, suspended=True)))  # fmt: skip
    without = SMALL_DECK.split("[[cards]]")
    deck.write_text(deck.read_text().replace("[[cards]]" + without[2], ""))
    report = fc.add_decks([deck])[0]
    assert report.removed == 1 and report.removed_keys == ["imm:t1-cells"]
    assert all(c["suspended"] for c in fc.cards() if c["note_key"] == "imm:t1-cells")
    write_deck(deck, SMALL_DECK, key="imm")
    fc.add_decks([deck])
    state = {c["card_id"]: c for c in fc.cards()}
    assert state[leech]["suspended"] and state[leech]["leech"]
    assert not state[cards["imm:t1-cells#2"]]["suspended"]
    assert study.build_queue(fc).items


def test_a_reload_that_changes_nothing_recomputes_no_weights_nor_new_card_places(
    fc_sqlite, tmp_path, monkeypatch
):
    """Weights are recomputed by a load that changed something (or once a study day); the
    new cards' places only when cards came or changed."""
    from flashcore.services import weights
    from flashcore.storage import repos

    fc = fc_sqlite
    deck = write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")
    forced: list[bool] = []
    renumbered: list[int] = []
    real_refresh, real_renumber = weights.refresh_weights, repos.renumber_new_cards

    def refresh(fc_, *, force=True):
        forced.append(force)
        return real_refresh(fc_, force=force)

    def renumber(*args):
        renumbered.append(1)
        return real_renumber(*args)

    monkeypatch.setattr(weights, "refresh_weights", refresh)
    monkeypatch.setattr(repos, "renumber_new_cards", renumber)
    fc.add_decks([deck])
    fc.add_decks([deck])
    assert forced == [True, False] and renumbered == [1]
    write_deck(deck, SMALL_DECK.replace("T cells", "T lymphocytes", 1), key="imm")
    fc.add_decks([deck])
    assert forced == [True, False, True] and renumbered == [1, 1]


def test_loading_pauses_the_cycle_collector_and_leaves_it_as_it_was(
    fc_sqlite, tmp_path, monkeypatch
):
    import gc

    from flashcore.services import decks

    seen: list[bool] = []
    original = decks._read_all

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(decks, "_read_all", spy)
    deck = write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")
    assert gc.isenabled()
    fc_sqlite.add_decks([deck])
    assert gc.isenabled() and seen == [False]
    gc.disable()
    try:
        fc_sqlite.add_decks([deck])
        assert not gc.isenabled()
    finally:
        gc.enable()
