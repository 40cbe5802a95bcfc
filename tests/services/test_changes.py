"""ChangeWatch: whether another connection committed, for screens that refresh by themselves
(SQLite's data_version; PostgreSQL's newest change, looked at every few seconds)."""

from __future__ import annotations

from datetime import timedelta

from flashcore.core.model import Rating
from flashcore.services import Flashcore
from flashcore.services.changes import ChangeWatch
from flashcore.services.study import answer
from tests.conftest import SMALL_DECK, write_deck


def test_a_commit_by_another_connection_is_seen_once_and_reads_are_not(fc, tmp_path, clock):
    fc.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
    watch = ChangeWatch(fc, pg_every=0.0)
    other = Flashcore.open(fc.url, clock=clock, timezone="UTC")
    try:
        watch.mark()
        assert not watch.changed()
        fc.cards()  # reading changes nothing
        other.cards()
        assert not watch.changed()
        clock.advance(timedelta(minutes=1))
        answer(other, other.cards()[0]["card_id"], Rating.GOOD)
        assert watch.changed()
        assert not watch.changed()  # seen once
    finally:
        other.close()
        watch.close()


def test_a_lost_connection_is_no_news_and_the_next_look_starts_again(fc, tmp_path):
    watch = ChangeWatch(fc, pg_every=0.0)
    watch.mark()
    watch.close()  # as after an error
    assert not watch.changed()  # a new connection: a new baseline, not a change
    assert not watch.changed()
    watch.close()


def test_a_mark_after_another_connection_changed_the_settings_reads_them(fc, clock):
    """A screen that comes back on top (Home after the plan or the help screen) marks before
    it loads: a `config set` made meanwhile in the other terminal was taken as seen there,
    with the settings read before it, and no later look found news (Home kept the old count
    of new cards)."""
    watch = ChangeWatch(fc, pg_every=0.0)
    other = Flashcore.open(fc.url, clock=clock, timezone="UTC")
    try:
        watch.mark()  # Home loads
        other.config_set("new_per_day", "7")  # while another screen is on top
        watch.mark()  # Home comes back and loads again
        assert fc.settings.new_per_day == 7
        assert not watch.changed()
    finally:
        other.close()
        watch.close()
