"""Today's counts per deck and per topic, as the queue of each would hold them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from flashcore.core import studyday
from flashcore.core.errors import FlashcoreError
from flashcore.core.model import CardState
from flashcore.services.weakness_parts import due_counts
from flashcore.services.weights import ensure_fresh
from flashcore.storage import repos
from flashcore.storage import today as today_repo
from flashcore.storage.repos import queue as queue_repo
from flashcore.storage.uow import transaction

if TYPE_CHECKING:
    from flashcore.services.context import Collection

from flashcore.services.queue import (
    NEW_FETCH_FACTOR,
    Inputs,
    TodayQueue,
    collector_paused,
    day_of,
    rank,
    scope_key,
)


def deck_counts(fc: Collection, paths: Iterable[str]) -> dict[str, TodayQueue]:
    """Today's queue counts of each deck scope, as `due --deck PATH` counts them (the deck
    named by key or name, or every deck under a name prefix, sub-decks included), for Home's
    deck tree and `decks list`: the collection's cards are read once and each scope ranked in
    memory. `items` are empty."""
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    s = fc.settings
    with collector_paused():
        ensure_fresh(fc)
        d = day_of(fc, ahead_day=False)
        with fc.engine.connect() as conn, transaction(conn, write=False):
            rows = repos.deck_rows(conn, fc.profile_id)  # type: ignore[arg-type]
            scoped = _deck_scopes(rows, wanted)
            names = {key: name for _id, key, name, _desc in rows}
            pid, now = fc.profile_id, d.now
            pulled = today_repo.pulled_forward(conn, pid, d.day)
            due_rows = queue_repo.due_rows_by_deck(conn, pid, now, d.horizon)
            have = {r[0] for r in due_rows}
            extra = [cid for cid in pulled if cid not in have]
            if extra:
                due_rows += queue_repo.pulled_rows_by_deck(conn, pid, now, extra, d.day_start)
            done = repos.review_counts_since(conn, pid, d.day_start)
            raises = today_repo.new_limit_raises_of(conn, pid, d.day)
            limits = {
                path: s.new_per_day + raises.get("", 0)
                + raises.get(scope_key(names.get(path, path), None), 0)
                for path in wanted
            }  # fmt: skip
            new_done = done.get(int(CardState.NEW), 0)
            most = max(max(0, limit - new_done) for limit in limits.values())
            fetch = most * NEW_FETCH_FACTOR + 50
            new_by_deck: dict[int, list[queue_repo.NewDeckRow]] = {}
            if most:
                new_by_deck = queue_repo.new_rows_by_deck(conn, pid, now, fetch)
            waiting_by_deck = queue_repo.new_waiting_by_deck(
                conn, pid, now, by_note=s.bury_siblings
            )
        reviews_left = max(0, s.reviews_per_day - done.get(int(CardState.REVIEW), 0))
        out: dict[str, TodayQueue] = {}
        for path in wanted:
            ids = scoped[path]
            new_left = max(0, limits[path] - new_done)
            news = sorted(
                (r for deck_id in ids for r in new_by_deck.get(deck_id, ())),
                key=lambda r: (-r[6], r[9], r[1], r[8]),  # NEW_CARD_ORDER
            )[: new_left * NEW_FETCH_FACTOR + 50]
            inputs = Inputs(
                due_rows=[r[:7] for r in due_rows if r[7] in ids],
                new_rows=[r[:7] for r in news] if new_left else [],
                pulled=pulled,
                new_limit=limits[path],
                new_left=new_left,
                reviews_left=reviews_left,
                fetch=new_left * NEW_FETCH_FACTOR + 50,
                waiting=lambda ids=ids: sum(waiting_by_deck.get(i, 0) for i in ids),  # type: ignore[misc]
            )
            out[path] = rank(fc, d, inputs, limit=0, details=False, conn=None)
    return out


def _deck_scopes(rows: list[tuple[int, str, str, str]], wanted: list[str]) -> dict[str, set[int]]:
    """The decks of each scope: the deck named by key or name, or every deck under a name
    prefix (sub-decks included). An unknown scope is an error naming it."""
    scoped = {
        path: {
            deck_id
            for deck_id, key, name, _desc in rows
            if path in (key, name) or name.startswith(path + "::")
        }
        for path in wanted
    }
    unknown = [path for path, ids in scoped.items() if not ids]
    if unknown:
        raise FlashcoreError(f"no deck named {unknown[0]!r} (see `flashcore decks list`)")
    return scoped


def due_by_topic(fc: Collection, paths: Iterable[str]) -> dict[str, int]:
    """Learning and review cards of each topic's queue (its sub-topics included), as `due
    --topic T` counts them: one read of today's candidates, ranked per topic in memory."""
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    with collector_paused():
        ensure_fresh(fc)
        s = fc.settings
        zone, hour = s.zone, s.day_start_hour
        now = fc.now()
        day = studyday.study_date(now, zone, hour)
        day_start = studyday.day_start_of(day, zone, hour)
        rollover = studyday.day_start_of(day + timedelta(days=1), zone, hour)
        ahead = timedelta(minutes=s.learn_ahead_minutes)
        with fc.engine.connect() as conn, transaction(conn, write=False):
            profile = repos.card_filter(fc.profile_id, None, None)
            pulled = today_repo.pulled_forward(conn, fc.profile_id, day)
            horizon = max(rollover, now + ahead)
            rows = queue_repo.due_rows(conn, profile, now, horizon)
            have = {r[0] for r in rows}
            extra = [cid for cid in pulled if cid not in have]
            if extra:
                rows += queue_repo.pulled_rows(conn, profile, now, extra, day_start)
            done = repos.review_counts_since(conn, fc.profile_id, day_start)
            topics_of_note = repos.topic_keys_of_notes(conn, sorted({r[1] for r in rows}))
        return due_counts(wanted, rows, pulled, done, topics_of_note, s, now, day_start, rollover)
