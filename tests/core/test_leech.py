"""The leech rule and `leech_action` (issue 21d): Anki's threshold rule, Anki's two actions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashcore.core.errors import ConfigError
from flashcore.core.leech import LeechAction, Leeched, is_leech, leech_after, leech_note, listed
from flashcore.core.settings import RULES, Settings, load_stored, set_value


def test_a_card_is_a_leech_at_the_threshold_and_every_half_threshold_after():
    leeching = [n for n in range(1, 30) if is_leech(n - 1, n, 8)]
    assert leeching == [8, 12, 16, 20, 24, 28]


def test_an_answer_that_adds_no_lapse_makes_no_leech():
    assert not is_leech(8, 8, 8)  # a Good on a card with 8 lapses
    assert leech_after(8, 8, 8, LeechAction.TAG) is None


def test_a_threshold_of_one_leeches_at_every_lapse():
    assert [n for n in range(1, 6) if is_leech(n - 1, n, 1)] == [1, 2, 3, 4, 5]


@given(st.integers(0, 100), st.integers(1, 999))
def test_no_card_below_the_threshold_is_a_leech(before, threshold):
    after = before + 1
    if after < threshold:
        assert not is_leech(before, after, threshold)


def test_the_leech_an_answer_makes_says_what_became_of_it():
    suspended = leech_after(7, 8, 8, LeechAction.SUSPEND)
    tagged = leech_after(7, 8, 8, LeechAction.TAG)
    assert suspended == Leeched(8, LeechAction.SUSPEND) and suspended.suspended
    assert tagged == Leeched(8, LeechAction.TAG) and not tagged.suspended
    assert suspended.text() == (
        "Leech: this card has lapsed 8 times: tagged leech and suspended "
        "(rewrite it, then unsuspend it)"
    )
    assert tagged.text("card 12") == (
        "Leech: card 12 has lapsed 8 times: tagged leech; it stays in your reviews "
        "(rewriting it helps)"
    )
    assert leech_note(9) == "leech: lapsed 9 times (rewriting it helps)"


def test_leech_action_defaults_to_tag_from_the_simulator_s_evidence():
    # Anki's default is suspend; flashcore's is tag (issue 21d: the README's weakness model)
    assert Settings().leech_action == "tag"
    assert LeechAction(Settings().leech_action) is LeechAction.TAG


@pytest.mark.parametrize("text", ["tag", "TAG", " suspend "])
def test_leech_action_takes_anki_s_names(text):
    chosen = set_value(Settings(), "leech_action", text).leech_action
    assert LeechAction(chosen) is LeechAction(text.strip().lower())


@pytest.mark.parametrize("text", ["delete", "", "tagged"])
def test_leech_action_refuses_other_words_naming_what_it_accepts(text):
    with pytest.raises(ConfigError, match=r"leech_action: .* \(use suspend or tag\)"):
        set_value(Settings(), "leech_action", text)
    assert RULES["leech_action"].accepts == "suspend or tag"


def test_a_profile_that_never_set_leech_action_gets_the_default():
    stored = Settings(leech_threshold=5).to_json()
    del stored["leech_action"]  # a profile written before the setting existed
    settings, warnings = load_stored(stored)
    assert (settings.leech_action, settings.leech_threshold, warnings) == ("tag", 5, [])


def test_a_stored_leech_action_out_of_range_falls_back_with_a_warning():
    settings, warnings = load_stored({"leech_action": "delete"})
    assert settings.leech_action == "tag"
    assert warnings and "leech_action" in warnings[0] and "suspend or tag" in warnings[0]


def test_leech_action_is_stored_only_where_it_differs_from_the_default():
    default = Settings().leech_action
    other = "suspend" if default == "tag" else "tag"
    assert "leech_action" not in Settings(new_per_day=30).to_stored()
    assert Settings(leech_action=other).to_stored()["leech_action"] == other
    assert Settings(new_per_day=30).to_json()["leech_action"] == default  # `config get` lists it
    assert set(Settings().to_stored()) == set(RULES) - {"leech_action"}


def test_the_weakness_report_lists_a_leech_as_suspended_or_in_the_reviews():
    assert listed(12, 9, True) == "card 12: lapsed 9 times, suspended"
    assert listed(7, 1, False) == "card 7: lapsed once, tagged leech, in your reviews"
