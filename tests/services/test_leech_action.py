"""`leech_action` (issue 21d), through the services on SQLite and PostgreSQL with a moving clock:
a card lapses to the leech threshold over several days. Suspended, it leaves the queue; tagged,
it keeps coming back, shown as a leech (`cards`, the reviewer's why). Every day the queue is
studied to empty and `stats`, `due` and `weakness` agree, and `check` finds nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flashcore.core.leech import LeechAction
from flashcore.core.model import CardState, Rating
from flashcore.services import qbank, study, weakness
from flashcore.services.card_changes import undo_scoped
from flashcore.services.check import check
from flashcore.tui.next_card import card_texts
from tests.scenarios import surfaces
from tests.weak_week import ACID_BASE, load_deck, paste

MISSES = paste(
    ("201", "Renal", "Acid-base disorders", "Metabolic acidosis"),
    ("202", "Renal", "Acid-base disorders", "Metabolic acidosis"),
)
THRESHOLD = 3


def study_day(fc, target: int, day: int, after=None) -> list[study.AnswerResult]:
    """Study to empty: the target card forgotten at every review, everything else Good.
    Returns the target's answers; `after(result)` runs after each (and may replace it)."""
    answers = []
    for _ in range(200):
        queue = study.build_queue(fc, limit=1)
        if not queue.items:
            return answers
        item = queue.items[0]
        forgot = item.card_id == target and item.state is CardState.REVIEW
        result = study.answer(fc, item.card_id, Rating.AGAIN if forgot else Rating.GOOD)
        if item.card_id == target:
            answers.append(after(result) if after else result)
        fc.clock.advance(timedelta(minutes=11) if item.state is not CardState.REVIEW else
                         timedelta(seconds=10))  # fmt: skip
    raise AssertionError(f"day {day}: the queue did not empty")


def surfaces_agree(fc, day: int) -> None:
    collection = surfaces.due(fc)
    assert surfaces.stats_today(fc) == collection, day
    for topic, count in surfaces.weakness_due(fc).items():
        scoped = surfaces.due(fc, topic=topic)
        assert count == scoped[1] + scoped[2], (day, topic)
    assert check(fc).problems == [], day


def card(fc, card_id):
    (found,) = [c for c in fc.cards() if c["card_id"] == card_id]
    return found


@pytest.mark.parametrize("action", ["suspend", "tag"])
def test_a_card_lapsing_over_days_to_the_threshold_is_suspended_or_tagged(fc, tmp_path, action):
    fc.config_set("leech_threshold", str(THRESHOLD))
    fc.config_set("leech_action", action)
    fc.config_set("pull_forward_per_topic", "0")
    target = load_deck(fc, tmp_path)["acid-b"]
    qbank.import_log(fc, MISSES, origin="day1.tsv")
    assert ACID_BASE in surfaces.weakness_due(fc)
    leeched_on = None
    shown_after = 0
    for day in range(16):
        surfaces_agree(fc, day)
        answers = study_day(fc, target, day)
        surfaces_agree(fc, day)
        made = [a for a in answers if a.leech]
        if made and leeched_on is None:
            leeched_on = day
            (first,) = made
            assert first.schedule.lapses == THRESHOLD
            assert first.leeched is not None and first.leeched.action is LeechAction(action)
            assert first.to_json()["leech_action"] == action
        elif leeched_on is not None and answers:
            shown_after += 1
        fc.clock.set(fc.clock.now().replace(hour=9, minute=0) + timedelta(days=1))
    assert leeched_on is not None and leeched_on >= 2  # several days of lapses
    shown = card(fc, target)
    assert shown["leech"] is True and "leech" in shown["tags"]
    if action == "suspend":
        assert shown["suspended"] is True
        assert shown_after == 0  # it left the queue
        assert shown["lapses"] == THRESHOLD
    else:
        assert shown["suspended"] is False
        assert shown_after >= 3  # it kept coming back, and kept lapsing
        assert shown["lapses"] > THRESHOLD
        view = study.show(fc, target)
        assert view.leech
        assert card_texts(view, "due today").why.plain.startswith(
            f"why: leech: lapsed {view.lapses} times (rewriting it helps); due today"
        )
    assert check(fc).problems == []


def test_undo_takes_back_the_mark_an_answer_gave_but_not_an_earlier_one(fc, tmp_path):
    fc.config_set("leech_threshold", "2")  # a leech at 2 lapses, again at 3, 4, ...
    fc.config_set("leech_action", "tag")
    target = load_deck(fc, tmp_path)["acid-b"]
    marks = []

    def undo_and_redo(result):
        if not result.leech:
            return result
        marks.append(result.schedule.lapses)
        study.undo(fc)
        after = card(fc, target)
        # the first mark goes with its answer; a leech tagged again keeps its mark
        assert after["leech"] is (len(marks) > 1), marks
        assert after["suspended"] is False and after["lapses"] == result.schedule.lapses - 1
        redone = study.answer(fc, target, Rating.AGAIN)
        assert redone.leech and card(fc, target)["leech"] is True
        return redone

    for day in range(16):
        study_day(fc, target, day, undo_and_redo)
        if len(marks) >= 2:
            break
        fc.clock.set(fc.clock.now().replace(hour=9, minute=0) + timedelta(days=1))
    assert marks[:2] == [2, 3]
    assert check(fc).problems == []


def test_a_profile_that_never_set_it_tags_leeches(fc, tmp_path):
    assert fc.settings.leech_action == "tag"
    fc.config_set("leech_threshold", "1")
    target = load_deck(fc, tmp_path)["acid-b"]
    for day in range(8):
        if any(a.leech for a in study_day(fc, target, day)):
            break
        fc.clock.set(fc.clock.now().replace(hour=9, minute=0) + timedelta(days=1))
    shown = card(fc, target)
    assert (shown["leech"], shown["suspended"]) == (True, False)
    assert weakness.report(fc) == {"topics": [], "gaps": [], "leeches": []}
    study.set_cards(fc, "unsuspend", [target])  # `cards unsuspend ID`: rewritten, mark gone
    assert (card(fc, target)["leech"], card(fc, target)["suspended"]) == (False, False)


def test_a_tagged_leech_comes_back_from_a_deck_suspend_s_undo_with_its_mark(fc, tmp_path):
    # A leech tagged before `cards suspend --deck` is not a card "suspended since as a leech":
    # `unsuspend --last` brings it back, still marked.
    fc.config_set("leech_threshold", "1")
    fc.config_set("leech_action", "tag")
    target = load_deck(fc, tmp_path)["acid-b"]
    for day in range(8):
        if any(a.leech for a in study_day(fc, target, day)):
            break
        fc.clock.set(fc.clock.now().replace(hour=9, minute=0) + timedelta(days=1))
    assert (card(fc, target)["leech"], card(fc, target)["suspended"]) == (True, False)
    assert target in study.change_cards_in_scope(fc, "suspend", deck="Test::Deck").cards
    undone = undo_scoped(fc, "unsuspend")
    assert target in undone.cards and not undone.left
    shown = card(fc, target)
    assert (shown["leech"], shown["suspended"]) == (True, False)


def stored_settings(fc) -> dict:
    from flashcore.storage import repos

    with fc.engine.connect() as conn:
        found = repos.find_profile(conn, fc.profile)
    assert found is not None
    return found[1]


def test_a_profile_stores_leech_action_only_once_it_chose_another_than_the_default(fc):
    # The default reaches every profile that never chose (issue 21d): setting anything else
    # stores every other setting, not this one while it holds the default.
    fc.config_set("new_per_day", "30")
    assert "leech_action" not in stored_settings(fc)
    assert stored_settings(fc)["new_per_day"] == 30
    other = "suspend" if fc.settings.leech_action == "tag" else "tag"
    fc.config_set("leech_action", other)
    assert stored_settings(fc)["leech_action"] == other
    fc.config_set("new_per_day", "25")
    assert stored_settings(fc)["leech_action"] == other


def test_a_profile_that_sets_leech_action_to_the_default_keeps_its_choice(fc):
    # README: "a profile that never set it follows the default ... (a value you set is kept)".
    # A student who typed `config set leech_action suspend` chose it: a later default (tag,
    # should the evidence turn) must not change it, nor any later settings write drop it.
    default = fc.settings.leech_action
    fc.config_set("leech_action", default)
    assert stored_settings(fc)["leech_action"] == default
    fc.config_set("new_per_day", "25")
    assert stored_settings(fc)["leech_action"] == default
