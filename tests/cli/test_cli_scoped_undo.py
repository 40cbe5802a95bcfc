"""`flashcore cards unsuspend --last` (and `suspend|bury|unbury|flag|unflag --last`, `--undo
N`): a scoped change undone exactly, across days, as a student meets it. Seen before: `cards
unsuspend --deck AnKing` brought back 704 cards where `suspend --deck AnKing` had suspended 637
(the others were AnKing's, waiting for a missed question)."""

from __future__ import annotations

import pytest

pytest.importorskip("anki.collection")

from tests.anki_packages import add_note, anking_notetype, export

ANKING = "AnKingOverhaul (AnKing / AnKingMed)"
DAY1, DAY2, DAY3 = (f"2026-12-0{d}T09:00:00+00:00" for d in (1, 2, 3))


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """AnKing's cards, two of them suspended as AnKing ships them (waiting for question 9001),
    and a deck of the student's own."""
    from anki.collection import Collection

    base = tmp_path_factory.mktemp("anking")
    col = Collection(str(base / "col.anki2"))
    anking_notetype(col)
    for n in range(6):
        add_note(col, ANKING, "AnKing::Cardio", {"Text": f"{{{{c1::Drug {n}}}}} treats {n}"},
                 [f"#AK_Step1_v12::#UWorld::Step::{4200 + n}"])  # fmt: skip
    qid = ["#AK_Step1_v12::#UWorld::Step::9001"]
    text = "{{c1::Waiting %d}} card"
    waiting = [add_note(col, ANKING, "AnKing::Cardio", {"Text": text % n}, qid) for n in range(2)]
    col.sched.suspend_cards([c for note in waiting for c in col.get_note(note).card_ids()])
    for n in range(3):
        add_note(col, "Basic", "Mine", {"Front": f"My question {n}?", "Back": f"{n}"})
    out = export(col, base / "AnKing.apkg", scheduling=True)
    col.close()
    return out


def _suspended(cli, deck: str = "AnKing") -> set[int]:
    return {c["card_id"] for c in cli.json("cards", "--deck", deck) if c["suspended"]}


def test_a_deck_suspended_for_focus_comes_back_exactly_after_a_miss_and_days(
    cli, package, tmp_path
):
    cli.at(DAY1).ok("init")
    cli.ok("decks", "add", package)
    waiting = _suspended(cli)
    assert len(waiting) == 2
    changed = cli.json("cards", "suspend", "--deck", "AnKing")
    assert changed["change"] == 1 and len(changed["cards"]) == 6
    assert not waiting & set(changed["cards"])
    for item in cli.json("due"):  # study the student's own deck
        cli.ok("answer", item["card_id"], "good")

    cli.at(DAY2)
    (tmp_path / "missed.txt").write_text("4203\n")
    out = cli.ok("qbank", "import", tmp_path / "missed.txt", "--format", "qids").out
    assert "1 suspended card of the missed questions unsuspended" in out
    [back] = set(changed["cards"]) - _suspended(cli)

    cli.at(DAY3)
    text = cli.ok("cards", "unsuspend", "--last").out.splitlines()
    assert text == [
        "unsuspend: 5 cards put back as before change 1 (suspend of deck AnKing on "
        "2026-12-01 09:00 UTC, 6 cards)",
        f"  left as they are: 1 unsuspended since by a missed question ({back})",
    ]
    assert _suspended(cli) == waiting  # AnKing's waiting cards stay out
    assert set(changed["cards"]) <= {i["card_id"] for i in cli.json("due", "--limit", "100")}
    again = cli("cards", "unsuspend", "--last")
    assert again.code == 1 and len(again.err_lines) == 1
    assert "no `cards suspend --deck/--topic` remembered to undo" in again.err


def test_the_change_number_a_scoped_change_prints_undoes_it_and_json_says_what_was_left(
    cli, package
):
    cli.at(DAY1).ok("init")
    cli.ok("decks", "add", package)
    text = cli.ok("cards", "flag", "--deck", "AnKing").out
    assert text == (
        "flag: 8 cards of deck AnKing\n"
        "  change 1: `flashcore cards unflag --last` undoes exactly these cards\n"
    )
    flagged = sorted(c["card_id"] for c in cli.json("cards", "--deck", "AnKing"))
    cli.ok("cards", "suspend", "--deck", "Mine")  # change 2, another kind
    cli.ok("cards", "unflag", str(flagged[0]))
    report = cli.json("cards", "unflag", "--undo", "1")
    assert report == {
        "action": "unflag",
        "undone": 1,
        "undone_action": "flag",
        "cards": flagged[1:],
        "left": {"by_hand": [flagged[0]]},
    }
    assert not any(c["flagged"] for c in cli.json("cards"))
    assert len(_suspended(cli, "Mine")) == 3  # change 2 untouched


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("cards", "unsuspend", "--last", "--deck", "AnKing"), 2, "--last or --undo N goes alone"),
        (("cards", "unsuspend", "--last", "12"), 2, "--last or --undo N goes alone"),
        (("cards", "unsuspend", "--undo", "0"), 2, "a change number"),
        (("cards", "unsuspend", "--undo", "7"), 1, "no scoped change 7 remembered"),
        (("cards", "suspend", "--undo", "1"), 1, "change 1 was a suspend: undo it with "
                                                 "`flashcore cards unsuspend --undo 1`"),
    ],
)  # fmt: skip
def test_a_bad_undo_is_one_line_and_changes_nothing(cli, package, args, code, words):
    cli.at(DAY1).ok("init")
    cli.ok("decks", "add", package)
    cli.ok("cards", "suspend", "--deck", "AnKing")
    before = cli.json("cards")
    result = cli(*args)
    assert result.code == code and len(result.err_lines) == 1 and words in result.err
    assert cli.json("cards") == before


def test_a_deck_unsuspend_counts_apart_the_cards_a_miss_had_already_unsuspended(
    cli, package, tmp_path
):
    """`unsuspend --deck` after a missed question brought back AnKing's two waiting cards and
    the student suspended one card by hand: the command counts the one card it unsuspended and
    says the other two only lost their marks (it said "3 cards")."""
    cli.at(DAY1).ok("init")
    cli.ok("decks", "add", package)
    waiting = _suspended(cli)
    mine = min({c["card_id"] for c in cli.json("cards", "--deck", "AnKing")} - waiting)
    cli.ok("cards", "suspend", mine)
    (tmp_path / "missed.txt").write_text("9001\n")
    cli.ok("qbank", "import", tmp_path / "missed.txt", "--format", "qids")
    assert _suspended(cli) == {mine}
    cli.at(DAY2)
    out = cli.ok("cards", "unsuspend", "--deck", "AnKing").out.splitlines()
    assert out[0] == "unsuspend: 1 card of deck AnKing"
    assert out[1] == (
        "  and 2 cards already unsuspended: a missed question's or a leech's mark cleared "
        "(removing that question's batch no longer suspends them)"
    )
    assert _suspended(cli) == set()
    cli.ok("cards", "suspend", "--last")  # the waiting cards keep their miss's mark again
    assert _suspended(cli) == {mine}
    cli.ok("cards", "unsuspend", mine)
    only_marks = cli.ok("cards", "unsuspend", "--deck", "AnKing").out.splitlines()
    assert only_marks[0] == (
        "unsuspend: 2 cards of deck AnKing already unsuspended: a missed question's or a "
        "leech's mark cleared (removing that question's batch no longer suspends them)"
    )  # not "unsuspend: 0 cards of deck AnKing"
    cli.ok("cards", "suspend", "--last")
    cli.ok("cards", "suspend", mine)
    again = cli.json("cards", "unsuspend", "--deck", "AnKing")
    assert again["cards"] == sorted([mine, *waiting]) and again["marks_only"] == sorted(waiting)
