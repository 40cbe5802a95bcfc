"""`unsuspend_on_miss`: a missed question unsuspends the cards that list it, their reason says
"unsuspended", and `qbank remove` of that batch suspends them again unless another batch's
miss keeps them out; a suspension by hand is the student's and a removal leaves it alone. On
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from flashcore.services.qbank import import_log, remove_qbank_batch
from flashcore.services.study import build_queue, set_cards
from tests.conftest import write_deck

DECK = """
[[cards]]
id = "amio"
front = "Amiodarone lung toxicity?"
back = "Pulmonary fibrosis"
qids = ["uworld:5678"]

[[cards]]
id = "other"
front = "Other"
back = "Card"
"""


def _load(fc, tmp_path) -> dict[str, int]:
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", DECK)])
    assert report.ok, report.problems
    return {c["note_key"].rpartition(":")[2]: c["card_id"] for c in fc.cards()}


def _suspended(fc) -> set[int]:
    return {c["card_id"] for c in fc.cards() if c["suspended"]}


def test_a_card_a_miss_unsuspended_says_so_and_removing_the_batch_suspends_it_again(fc, tmp_path):
    ids = _load(fc, tmp_path)
    set_cards(fc, "suspend", [ids["amio"]])
    batch = import_log(fc, b"5678\n", origin="block.txt", fmt="qids")
    assert batch.unsuspended == 1 and _suspended(fc) == set()
    [item] = [i for i in build_queue(fc).items if i.card_id == ids["amio"]]
    assert item.reason.startswith("new; unsuspended: missed uworld:5678 on ")
    [listed] = [c for c in fc.cards() if c["card_id"] == ids["amio"]]
    assert listed["weakness"].startswith("unsuspended: missed uworld:5678 on ")

    removed = remove_qbank_batch(fc, batch.batch_id)
    assert (removed.attempts, removed.resuspended) == (1, 1)
    assert _suspended(fc) == {ids["amio"]}
    assert ids["amio"] not in {i.card_id for i in build_queue(fc).items}


def test_a_card_another_batch_also_unsuspends_stays_out_when_the_first_is_removed(fc, tmp_path):
    ids = _load(fc, tmp_path)
    set_cards(fc, "suspend", [ids["amio"]])
    first = import_log(fc, b"5678\n", origin="block1.txt", fmt="qids")
    yesterday = fc.now().date() - timedelta(days=1)
    second = import_log(fc, b"5678\n", origin="block2.txt", fmt="qids", again=True,
                        on_date=yesterday)  # fmt: skip
    assert (first.unsuspended, second.unsuspended) == (1, 0)
    assert remove_qbank_batch(fc, first.batch_id).resuspended == 0
    assert _suspended(fc) == set()  # the second block's miss keeps it out
    [item] = [i for i in build_queue(fc).items if i.card_id == ids["amio"]]
    assert "unsuspended: missed uworld:5678" in item.reason
    assert remove_qbank_batch(fc, second.batch_id).resuspended == 1
    assert _suspended(fc) == {ids["amio"]}


def test_a_card_unsuspended_by_hand_is_not_suspended_again_by_a_removal(fc, tmp_path):
    ids = _load(fc, tmp_path)
    set_cards(fc, "suspend", [ids["amio"]])
    batch = import_log(fc, b"5678\n", origin="block.txt", fmt="qids")
    set_cards(fc, "suspend", [ids["amio"]])
    set_cards(fc, "unsuspend", [ids["amio"]])  # the student's own decision
    [item] = [i for i in build_queue(fc).items if i.card_id == ids["amio"]]
    assert item.reason.startswith("new; missed uworld:5678 on ")
    assert remove_qbank_batch(fc, batch.batch_id).resuspended == 0
    assert _suspended(fc) == set()
