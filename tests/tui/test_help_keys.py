"""The help screen lists every key of every screen. Found by hand: the reviewer's `+` (a day's
worth more new cards, when the limit holds some back: what the README and the "All done"
notice offer) was missing from `?`, which says it lists every key."""

from __future__ import annotations

import pytest

from flashcore.tui.screens.help import KEYS
from flashcore.tui.screens.home import HomeScreen
from flashcore.tui.screens.plan import PlanScreen
from flashcore.tui.screens.review import ReviewScreen
from flashcore.tui.screens.weakness import WeaknessScreen

SHOWN = {
    "plus": "+", "exclamation_mark": "!", "asterisk": "*", "question_mark": "?",
    "escape": "Esc", "space": "Space", "enter": "Enter",
}  # fmt: skip
SECTION = {HomeScreen: "Home", ReviewScreen: "Review", WeaknessScreen: "Weak topics",
           PlanScreen: "Plan"}  # fmt: skip


@pytest.mark.parametrize("screen", list(SECTION), ids=lambda s: s.__name__)
def test_every_key_of_a_screen_is_in_its_help(screen):
    sections = dict(KEYS)
    listed = " ".join(k for k, _ in sections[SECTION[screen]] + sections["Everywhere"])
    listed = listed.replace(",", " ").replace("/", " ").split()
    for binding in screen.BINDINGS:
        for key in binding.key.split(","):
            assert SHOWN.get(key, key) in listed, (screen.__name__, key)
