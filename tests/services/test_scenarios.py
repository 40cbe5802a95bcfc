"""Study scenarios with a moving clock, on SQLite and PostgreSQL: what is due, when, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flashcore.core.errors import ClockError
from flashcore.core.model import CardState, Rating
from flashcore.services.study import answer, build_queue
from tests.conftest import SMALL_DECK, write_deck

NY = ZoneInfo("America/New_York")
TEN_MINUTES = timedelta(minutes=10)


def basic_deck(count: int, prefix: str = "n") -> str:
    return "".join(
        f'\n[[cards]]\nid = "{prefix}{i}"\nfront = "Question {i}?"\nback = "Answer {i}"\n'
        for i in range(count)
    )


def load(fc, tmp_path, body=SMALL_DECK):
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", body)])
    assert report.ok, report.problems
    return {(c["note_key"], c["ord"]): c["card_id"] for c in fc.cards()}


def queue(fc):
    return [(item.card_id, item.state) for item in build_queue(fc).items]


def queued_ids(fc):
    return [item.card_id for item in build_queue(fc).items]


def card(fc, card_id):
    (found,) = [c for c in fc.cards() if c["card_id"] == card_id]
    return found


def graduate(fc, clock, card_ids):
    """Good now and Good again ten minutes later: new -> learning -> review."""
    for card_id in card_ids:
        answer(fc, card_id, Rating.GOOD)
    clock.advance(TEN_MINUTES)
    for card_id in card_ids:
        assert answer(fc, card_id, Rating.GOOD).schedule.state is CardState.REVIEW


def test_study_new_cards_then_the_reviews_come_due_two_days_later(fc, clock, tmp_path):
    ids = load(fc, tmp_path)
    ige, c1, c2, t4 = (
        ids[("test:t1-ige", 0)],
        ids[("test:t1-cells", 1)],
        ids[("test:t1-cells", 2)],
        ids[("test:t4-cells", 0)],
    )
    first = build_queue(fc)
    assert [i.card_id for i in first.items] == [ige, c1, t4]  # one card per note
    assert (first.new, first.learning, first.review) == (3, 0, 0)

    graduate(fc, clock, [ige, c1, t4])
    assert {card(fc, i)["state"] for i in (ige, c1, t4)} == {"review"}
    assert queue(fc) == []  # c2 is buried until tomorrow; nothing else is due
    (deck,) = fc.list_decks()
    assert (deck.new, deck.learning, deck.due) == (0, 0, 0)

    clock.advance(timedelta(days=1))
    assert queue(fc) == [(c2, CardState.NEW)]  # the sibling is back, no review due yet

    clock.advance(timedelta(days=1))
    today = build_queue(fc)
    assert sorted(i.card_id for i in today.items) == sorted([ige, c1, t4])
    assert {i.state for i in today.items} == {CardState.REVIEW}
    assert all(0 < (i.retrievability or 0) < 1 for i in today.items)
    (deck,) = fc.list_decks()
    assert deck.due == 3
    # c2 stays hidden while its sibling c1 is due today
    assert c2 not in [i.card_id for i in today.items]


def test_the_study_day_starts_at_4_in_the_profiles_timezone(fc, clock, tmp_path):
    fc.config_set("timezone", "America/New_York")
    target = load(fc, tmp_path, basic_deck(1))[("test:n0", 0)]
    clock.set(datetime(2026, 11, 25, 14, 50, tzinfo=NY))
    answer(fc, target, Rating.GOOD)
    clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=NY))
    result = answer(fc, target, Rating.GOOD)
    due = result.schedule.due.astimezone(NY)
    assert result.schedule.state is CardState.REVIEW
    assert (due.hour, due.minute) == (15, 0)  # fsrs keeps the time of day
    day = due.date()

    def at(hour, minute, days=0):
        clock.set(datetime.combine(day + timedelta(days=days), datetime.min.time(), tzinfo=NY)
                  .replace(hour=hour, minute=minute))  # fmt: skip
        return target in queued_ids(fc)

    assert not at(23, 59, days=-1)
    assert not at(3, 59)  # still yesterday's study day in New York
    assert at(4, 0)  # the rollover: due for the whole study day, hours before 15:00
    assert build_queue(fc).items[0].reason == "due today"
    assert fc.list_decks()[0].due == 1
    assert at(14, 59)
    assert at(3, 59, days=1)  # still the same study day, now overdue
    assert at(4, 0, days=1)
    assert build_queue(fc).items[0].reason == "due yesterday"


def test_the_day_start_hour_is_configurable(fc, clock, tmp_path):
    fc.config_set("day_start_hour", "0")
    ids = load(fc, tmp_path)
    c1, c2 = ids[("test:t1-cells", 1)], ids[("test:t1-cells", 2)]
    answer(fc, c1, Rating.EASY)  # buries c2 until the next study day: midnight UTC
    clock.set(datetime(2026, 11, 25, 23, 59, tzinfo=UTC))
    assert c2 not in queued_ids(fc)
    clock.set(datetime(2026, 11, 26, 0, 0, tzinfo=UTC))
    assert c2 in queued_ids(fc)


def test_siblings_are_buried_for_the_day_and_come_back_after_rollover(fc, clock, tmp_path):
    ids = load(fc, tmp_path)
    c1, c2 = ids[("test:t1-cells", 1)], ids[("test:t1-cells", 2)]
    result = answer(fc, c1, Rating.EASY)  # straight to review, due days from now
    assert result.buried_siblings == (c2,)
    assert card(fc, c2)["buried"] is True
    assert c2 not in queued_ids(fc)
    clock.set(datetime(2026, 11, 26, 3, 59, tzinfo=UTC))
    assert c2 not in queued_ids(fc)
    clock.set(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))  # the rollover
    assert card(fc, c2)["buried"] is False
    assert c2 in queued_ids(fc)


def test_a_sibling_in_learning_keeps_the_others_out_of_todays_queue(fc, clock, tmp_path):
    ids = load(fc, tmp_path)
    c1, c2 = ids[("test:t1-cells", 1)], ids[("test:t1-cells", 2)]
    answer(fc, c1, Rating.AGAIN)  # learning, due again in a minute
    clock.set(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))
    assert card(fc, c2)["buried"] is False
    assert queued_ids(fc)[0] == c1  # yesterday's learning card comes first
    assert c2 not in queued_ids(fc)  # siblings are never shown on the same day
    assert answer(fc, c1, Rating.EASY).buried_siblings == (c2,)  # buried again for today
    assert card(fc, c2)["buried"] is True
    assert c2 not in queued_ids(fc)


def test_sibling_burying_can_be_turned_off(fc, clock, tmp_path):
    fc.config_set("bury_siblings", "false")
    ids = load(fc, tmp_path)
    c1, c2 = ids[("test:t1-cells", 1)], ids[("test:t1-cells", 2)]
    assert {c1, c2} <= set(queued_ids(fc))
    assert answer(fc, c1, Rating.GOOD).buried_siblings == ()
    assert c2 in queued_ids(fc)


def test_new_cards_respect_the_daily_limit(fc, clock, tmp_path):
    fc.config_set("new_per_day", "3")
    ids = sorted(load(fc, tmp_path, basic_deck(6)).values())
    first = build_queue(fc)
    assert [i.card_id for i in first.items] == ids[:3]
    assert first.new == 3
    answer(fc, ids[0], Rating.GOOD)
    assert queue(fc) == [(ids[1], CardState.NEW), (ids[2], CardState.NEW)]
    answer(fc, ids[1], Rating.EASY)
    answer(fc, ids[2], Rating.EASY)
    assert all(state is not CardState.NEW for _, state in queue(fc))
    clock.advance(timedelta(days=1))
    today = build_queue(fc)
    assert today.new == 3
    assert [i.card_id for i in today.items if i.state is CardState.NEW] == ids[3:6]


def test_a_zero_new_card_limit_shows_no_new_cards(fc, clock, tmp_path):
    fc.config_set("new_per_day", "0")
    load(fc, tmp_path, basic_deck(2))
    assert queue(fc) == []


def test_reviews_respect_the_daily_limit(fc, clock, tmp_path):
    ids = sorted(load(fc, tmp_path, basic_deck(7)).values())
    graduate(fc, clock, ids[:5])
    fc.config_set("reviews_per_day", "2")
    clock.advance(timedelta(days=30))
    today = build_queue(fc)
    assert [i.state for i in today.items] == [CardState.REVIEW, CardState.REVIEW]
    assert today.new == 0  # new cards count against the review limit by default
    fc.config_set("new_ignores_review_limit", "true")
    today = build_queue(fc)
    assert [i.state for i in today.items] == [CardState.REVIEW] * 2 + [CardState.NEW] * 2
    answer(fc, today.items[0].card_id, Rating.GOOD)
    assert [s for _, s in queue(fc)].count(CardState.REVIEW) == 1


def test_reviews_are_ordered_lowest_retrievability_first(fc, clock, tmp_path):
    ids = sorted(load(fc, tmp_path, basic_deck(2)).values())
    graduate(fc, clock, ids[:1])
    clock.advance(timedelta(days=1))
    graduate(fc, clock, ids[1:])
    clock.advance(timedelta(days=20))
    items = build_queue(fc).items
    assert [i.card_id for i in items] == ids  # the older card has faded more
    assert items[0].retrievability < items[1].retrievability
    assert items[0].priority > items[1].priority


def test_a_card_lapsing_8_times_becomes_a_suspended_leech(fc, clock, tmp_path):
    fc.config_set("leech_action", "suspend")
    target = load(fc, tmp_path, basic_deck(2))[("test:n0", 0)]
    graduate(fc, clock, [target])
    for lapse in range(1, 9):
        clock.advance(timedelta(days=3))
        result = answer(fc, target, Rating.AGAIN)
        assert result.schedule.lapses == lapse
        if lapse < 8:
            assert not result.leech
            clock.advance(TEN_MINUTES)
            answer(fc, target, Rating.GOOD)
    assert result.leech
    shown = card(fc, target)
    assert (shown["leech"], shown["suspended"], shown["lapses"]) == (True, True, 8)
    clock.advance(timedelta(days=30))
    assert target not in queued_ids(fc)


def test_the_leech_threshold_is_configurable(fc, clock, tmp_path):
    fc.config_set("leech_threshold", "2")
    target = load(fc, tmp_path, basic_deck(1))[("test:n0", 0)]
    graduate(fc, clock, [target])
    clock.advance(timedelta(days=3))
    assert not answer(fc, target, Rating.AGAIN).leech
    clock.advance(TEN_MINUTES)
    answer(fc, target, Rating.GOOD)
    clock.advance(timedelta(days=3))
    assert answer(fc, target, Rating.AGAIN).leech


def test_learning_cards_due_soon_are_shown_only_when_nothing_else_is_left(fc, clock, tmp_path):
    first, second = sorted(load(fc, tmp_path, basic_deck(2)).values())
    answer(fc, first, Rating.GOOD)  # due again in 10 minutes
    assert queue(fc) == [(second, CardState.NEW)]
    clock.advance(timedelta(minutes=1))
    answer(fc, second, Rating.GOOD)  # due in 10 minutes too
    ahead = build_queue(fc)
    assert [i.card_id for i in ahead.items] == [first, second]  # earliest due first
    assert ahead.learning == 2
    assert all(i.due > clock.now() for i in ahead.items)


def test_learn_ahead_stops_at_20_minutes(fc, clock, tmp_path):
    fc.config_set("learning_steps", "1m 30m")
    target = load(fc, tmp_path, basic_deck(1))[("test:n0", 0)]
    answer(fc, target, Rating.GOOD)  # due again in 30 minutes
    assert queue(fc) == []
    assert build_queue(fc).next_learning_due == clock.now() + timedelta(minutes=30)
    clock.advance(timedelta(minutes=9))
    assert queue(fc) == []  # 21 minutes left
    clock.advance(timedelta(minutes=2))
    assert queue(fc) == [(target, CardState.LEARNING)]  # 19 minutes left


def test_a_clock_moved_back_before_the_last_review_is_refused(fc, clock, tmp_path):
    target = load(fc, tmp_path, basic_deck(1))[("test:n0", 0)]
    clock.advance(timedelta(hours=2))
    answer(fc, target, Rating.GOOD)
    before = card(fc, target)
    clock.advance(timedelta(hours=-1))
    with pytest.raises(ClockError):
        answer(fc, target, Rating.GOOD)
    assert card(fc, target) == before
    clock.advance(timedelta(hours=1))
    answer(fc, target, Rating.GOOD)  # the same instant as the last review is fine


def test_a_suspended_card_never_appears(fc, clock, tmp_path):
    from flashcore.services.study import set_cards

    ids = sorted(load(fc, tmp_path, basic_deck(2)).values())
    set_cards(fc, "suspend", [ids[0]])
    assert queued_ids(fc) == [ids[1]]
    set_cards(fc, "unsuspend", [ids[0]])
    assert queued_ids(fc) == ids


# The example reads a file with `open(...).read()`; the unclosed handle is the README's style,
# not a failure of the API it demonstrates.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    """The README's notebook example, run in an empty folder next to the repository's decks."""
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "decks").symlink_to(root / "decks")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    assert (tmp_path / "step1.sqlite3").exists()
