"""Home: deck tree with counts, today's totals, streak, weak topics; its keys."""

from __future__ import annotations

from dataclasses import dataclass

from flashcore.core.model import Rating
from flashcore.services import study
from flashcore.tui.app import make_app
from flashcore.tui.screens.help import HelpScreen
from flashcore.tui.screens.home import HomeScreen, shorten_topic, streak
from flashcore.tui.screens.review import ReviewScreen
from flashcore.tui.screens.stats import StatsScreen
from flashcore.tui.widgets.deck_tree import DeckNode, DeckTree, deck_hierarchy, node_label

from .conftest import screen_text, settle, still


@dataclass
class Deck:
    name: str
    new: int
    learning: int
    due: int


def days(*counts: int) -> list[dict]:
    return [{"date": f"d{i}", "reviews": c} for i, c in enumerate(counts)]


def test_streak_counts_consecutive_days_ending_today():
    assert streak(days(1, 0, 2, 3, 4)) == 3


def test_streak_still_counts_when_today_has_no_reviews_yet():
    assert streak(days(0, 5, 5, 0)) == 2


def test_streak_is_zero_after_a_missed_day():
    assert streak(days(4, 0, 0)) == 0


def test_deck_hierarchy_nests_by_double_colon_and_sums_counts():
    root = deck_hierarchy(
        [
            Deck("Step 1::Immunology", 5, 1, 2),
            Deck("Step 1::Pathology", 3, 0, 4),
            Deck("Misc", 1, 0, 0),
        ]
    )
    assert (root.new, root.learning, root.due) == (9, 1, 6)
    step1 = root.children["Step 1"]
    assert step1.path == "Step 1"
    assert (step1.new, step1.due) == (8, 6)
    assert step1.children["Pathology"].path == "Step 1::Pathology"


def test_long_topics_keep_their_most_specific_end():
    assert (
        shorten_topic("Immunology::Hypersensitivity::Type I", 28) == "…::Hypersensitivity::Type I"
    )
    assert shorten_topic("Short", 28) == "Short"


async def test_home_shows_decks_todays_counts_streak_and_weak_topics(weak_fc):
    fc = weak_fc
    first = study.build_queue(fc).items[0].card_id
    study.answer(fc, first, Rating.GOOD)
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        text = screen_text(app)
        tree = app.screen.query_one(DeckTree)
        labels = [str(n.label) for n in (tree.root, *tree.root.children)]
    assert labels[0].startswith("All decks")
    assert labels[1].startswith("Test")
    assert "Immunology" in text
    assert "1 answer · 0 again" in text
    assert "Streak  1 day" in text
    assert "…::Hypersensitivity::Type I" in text
    assert "Wednesday 25 November 2026" in text


async def test_enter_on_a_sub_deck_starts_a_session_for_that_deck(fc):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.deck == "Test::Immunology"
        assert screen.view is not None


async def test_enter_on_the_root_studies_all_decks(fc):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.deck is None
        assert "All decks" in screen_text(app)


async def test_help_opens_and_closes(fc):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "undo the last answer" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_stats_shows_retention_cards_and_two_charts(fc):
    first = study.build_queue(fc).items[0].card_id
    study.answer(fc, first, Rating.EASY)
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        text = screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert "Today 1 answer" in text
    assert "True retention -" in text
    assert "review 1" in text
    assert "Reviews per day, last 30 days" in text
    assert "Due per day, next 30 days" in text
    assert "11-25" in text


async def test_q_on_home_quits(fc):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


def test_deck_names_are_never_markup_in_the_tree():
    from flashcore.tui.widgets.deck_tree import DeckNode, node_label

    label = node_label(DeckNode("[b]x[/]\x1b[2J", "p"), 1)
    assert label.plain.startswith("[b]x[/][2J")
    assert "\x1b" not in label.plain


async def test_a_fresh_collection_says_to_paste_the_missed_questions_on_every_platform(fc):
    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert app.screen.query_one("#first-run").display
    assert "Start here" in text
    for command in ("pbpaste", "xclip -o -selection clipboard", "wl-paste", "Get-Clipboard"):
        assert f"{command} | flashcore qbank import -" in text


async def test_the_first_run_note_goes_once_a_miss_is_imported_elsewhere(fc):
    from .conftest import add_misses

    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        note = app.screen.query_one("#first-run")
        assert note.display
        add_misses(fc, misses=1)  # as `qbank import` in another terminal
        app.screen.load()
        await settle(pilot)
        assert not note.display
        assert "Start here" not in screen_text(app)


async def test_home_weak_topics_say_misses_as_the_other_screens_do(weak_fc):
    app = make_app(weak_fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
    assert "3 missed · " in text  # three misses, no correct answers imported: not "3/3"
    assert "3/3" not in text


def test_the_deck_header_names_each_count_above_its_column():
    tree = DeckTree()
    for column in (16, 30, 56):
        tree._column = column
        header = "╭─ " + tree.header()  # a border title starts after the corner, a line, a space
        label = node_label(DeckNode("Immunology", "Immunology", 123, 4, 5678), 1, column=column)
        row = "│ " + "├── " + label.plain  # the panel's border and padding, one guide
        for name, value in (("new", "123"), ("learn", "4"), ("due", "5678")):
            assert header.index(name) + len(name) == row.index(value) + len(value), (column, name)


def test_home_marks_a_rollup_among_the_weakest_topics_as_the_weakness_screen_does():
    from flashcore.tui.screens.home import weak_text

    rows = [
        {"topic": "Immunology::Hypersensitivity::Type I", "level": "topic", "score": 0.6,
         "recent_misses": 3, "recent_attempts": 3, "due": 0},
        {"topic": "Immunology::Hypersensitivity", "level": "system", "score": 0.3,
         "recent_misses": 3, "recent_attempts": 3, "due": 0},
    ]  # fmt: skip
    text = weak_text(rows, 60).plain
    assert "Immunology::Hypersensitivity (system)" in text
    assert "Type I (" not in text


async def test_home_takes_a_setting_changed_in_another_terminal(fc):
    """Found by hand (tmux): `flashcore config set new_per_day 30` in the other terminal while
    Home was shown; Home noticed the commit and reloaded, but with the settings it had read
    at start, so it kept '14 new' while `due` there said 24."""
    from flashcore.services import Flashcore

    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = app.screen.data.new
        assert before >= 2
        with Flashcore.open(fc.url, clock=fc.clock) as other:  # the other terminal
            other.config_set("new_per_day", str(before - 1))
            expected = study.build_queue(other, limit=0, details=False).new
        assert expected == before - 1
        app.screen._look_for_changes()  # Home's look, every few seconds
        await settle(pilot)
        await settle(pilot)
        assert app.screen.data.new == expected
        assert f"{expected} new" in screen_text(app)


async def test_home_back_on_top_takes_a_setting_changed_in_another_terminal_meanwhile(fc):
    """As above, while another screen (here the help) is on top of Home: Home does not look
    then, and coming back it marks before loading, which took the commit as seen with the
    settings read before it."""
    from flashcore.services import Flashcore

    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = app.screen.data.new
        assert before >= 2
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        with Flashcore.open(fc.url, clock=fc.clock) as other:  # the other terminal
            other.config_set("new_per_day", str(before - 1))
            expected = study.build_queue(other, limit=0, details=False).new
        await pilot.press("escape")
        await settle(pilot)
        app.screen._look_for_changes()
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.data.new == expected


def test_home_counts_every_node_from_one_read_of_the_cards_as_due_deck_does(fc, monkeypatch):
    """Home's deck tree: the decks' counts and their parent nodes' came from two reads of every
    new card (~0.6 s of Home's ~2.4 at 200,000 cards); one now, with the same numbers as
    `due --deck NODE`."""
    from flashcore.storage.repos import queue as queue_repo
    from flashcore.tui.context import Context
    from flashcore.tui.screens import home

    for item in study.build_queue(fc).items[:4]:
        study.answer(fc, item.card_id, Rating.AGAIN)
    reads = []
    real = queue_repo.new_rows_by_deck
    monkeypatch.setattr(
        queue_repo, "new_rows_by_deck", lambda *a, **k: reads.append(a) or real(*a, **k)
    )
    data = home.load_home(Context(fc))
    assert len(reads) == 1
    parents = [p for p in data.tree if p is not None and p not in {d.name for d in data.decks}]
    assert parents  # the tree has nodes that are no deck
    for path, counts in data.tree.items():
        queue = study.build_queue(fc, deck=path)
        assert counts == (queue.new, queue.learning, queue.review), path


async def test_home_reads_its_numbers_once_at_a_time_however_often_it_is_asked(fc, monkeypatch):
    """Beside a large import Home's look sees a commit every second, and each look started a
    read of its own while the last one still ran (a cancelled worker's thread runs on): at
    50,000 cards under load six reads ran at once and Home showed no numbers for a minute.
    Asked again while a read runs, Home reads once more after it, never beside it."""
    import threading

    from flashcore.tui.screens import home

    release = threading.Event()
    running, most, reads = [0], [0], [0]
    lock = threading.Lock()
    real = home.load_home

    def slow_load(ctx):
        with lock:
            running[0] += 1
            reads[0] += 1
            most[0] = max(most[0], running[0])
        try:
            release.wait(10)
            return real(ctx)
        finally:
            with lock:
                running[0] -= 1

    app = make_app(fc, ticks=still)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(home, "load_home", slow_load)
        for _ in range(4):  # four looks that saw another process's commit
            app.screen.load()
            await pilot.pause(0.05)
        release.set()
        await settle(pilot)
        await settle(pilot)
        assert most[0] == 1
        assert reads[0] == 2  # the first, then one for everything asked meanwhile
        assert isinstance(app.screen, HomeScreen) and app.screen.data is not None
