"""New cards over ten days while two topics collect misses every evening (moving clock, both
backends, the queue built again after every answer and a review session kept all day): the weak
topics' cards come first, every SLOT-th new card of the day is one of a topic's first cards
(core.introduction's probes) while any are left, each saying why, both surfaces offer the same
sequence, and nothing is lost or repeated.

The property the weighting relies on: a topic nothing has been asked about yet is still seen
early, so its flashcards can show it weak."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from flashcore.core import introduction, reasons
from flashcore.core.model import CardState, Rating
from flashcore.services import answering, qbank, study
from tests.conftest import write_deck
from tests.weak_week import paste

NEW_PER_DAY = 8
CARDS_PER_TOPIC = 10
TOPICS = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"]
MISSED = {"Alpha", "Beta"}  # asked and missed every evening
PROBES = 3
SLOT = 3  # every third new card of a day is a probe while probes are left


def topic_path(name: str) -> str:
    return f"Sim::System {name}::{name} disease"


def deck_text(names: list[str]) -> str:
    return "\n".join(
        f'[[cards]]\nid = "{name.lower()}-{n}"\nfront = "Fact {n} of {name}?"\n'
        f'back = "Answer {n}"\ntopics = ["{topic_path(name)}"]\n'
        for name in names
        for n in range(CARDS_PER_TOPIC)
    )


def evening_paste(day: int) -> bytes:
    """Three misses on each missed topic, new question ids every day."""
    rows = [
        (str(500000 + 100 * day + 10 * i + k), f"System {n}", f"System {n}", f"{n} disease")
        for i, n in enumerate(sorted(MISSED))
        for k in range(3)
    ]
    return paste(*rows)


Introduced = list[tuple[int, str, str]]  # (card id, topic name, reason) in the order studied


def _name(item) -> str:
    return item.topics[0].split("::")[-1].removesuffix(" disease")


def rebuilt_day(fc, day: int) -> Introduced:
    """Answer the queue until it is empty (Good), building it again after every answer (as
    `flashcore due` / `answer` do)."""
    introduced: Introduced = []
    for _ in range(400):
        q = study.build_queue(fc, limit=1)
        if not q.items:
            return introduced
        item = q.items[0]
        if item.state is CardState.NEW:
            introduced.append((item.card_id, _name(item), item.reason))
        study.answer(fc, item.card_id, Rating.GOOD)
    raise AssertionError(f"day {day}: the queue did not empty in 400 answers")


def session_day(fc, day: int) -> Introduced:
    """The same day in one review session that keeps its ranking (as the reviewer does)."""
    introduced: Introduced = []
    with study.StudySession(fc) as session:
        for _ in range(400):
            q = session.queue()
            if not q.items:
                return introduced
            item = q.items[0]
            if item.state is CardState.NEW:
                introduced.append((item.card_id, _name(item), item.reason))
            view = session.show(item.card_id)
            session.answer(item.card_id, Rating.GOOD, expect_version=view.version)
    raise AssertionError(f"day {day}: the session did not empty in 400 answers")


def study_ten_days(fc, clock, tmp_path, study_day: Callable[..., Introduced]) -> list[Introduced]:
    fc.config_set("new_per_day", str(NEW_PER_DAY))
    fc.config_set("pull_forward_per_topic", "0")  # this follows new cards only
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", deck_text(TOPICS), key="deck")])
    assert report.ok, report.problems
    days: list[Introduced] = []
    start = clock.now()
    for day in range(len(TOPICS) * CARDS_PER_TOPIC // NEW_PER_DAY + 1):  # the last 4 on day 7
        clock.set(start + timedelta(days=day))
        days.append(study_day(fc, day))
        clock.set(start + timedelta(days=day, hours=12))
        log = qbank.import_log(fc, evening_paste(day), origin=f"day{day}.tsv", again=True)
        assert log.matched_topic == 3 * len(MISSED)
    assert not study.build_queue(fc, limit=0).new_held
    return days


@pytest.fixture
def probe_setting(monkeypatch):
    monkeypatch.setattr(introduction, "PROBE_CARDS", PROBES)
    monkeypatch.setattr(introduction, "PROBE_EVERY", 3)  # 10 cards: 3 probes each
    monkeypatch.setattr(introduction, "PROBE_SLOT", SLOT)


def test_weak_topics_first_and_every_third_new_card_a_topics_first_card(
    fc, clock, tmp_path, probe_setting
):
    days = study_ten_days(fc, clock, tmp_path, rebuilt_day)
    probe_reason = reasons.NEW_PROBE.text()
    seen: Counter[str] = Counter()
    probes_by_day: list[int] = []
    for day, introduced in enumerate(days):
        probes_by_day.append(sum(reason == probe_reason for _, _, reason in introduced))
        for k, (_, name, reason) in enumerate(introduced, start=1):
            weak_left = any(seen[n] < CARDS_PER_TOPIC for n in MISSED)
            probes_left = any(seen[n] < PROBES for n in TOPICS if n not in MISSED)
            if day >= 1 and weak_left:  # weak topics reorder the new cards
                if k % SLOT == 0 and probes_left:  # a probe's place: a topic's first cards
                    assert seen[name] < PROBES, (day, k, name, seen)
                    if name not in MISSED:
                        assert reason == probe_reason, (day, k, name, reason)
                else:
                    assert name in MISSED, (day, k, name, seen)
                if name in MISSED:
                    assert reason.startswith("new; weak topic: "), (day, name, reason)
            seen[name] += 1
    # While the weak topics' cards last, a share of each day's new cards are other topics' first
    # cards (day 0 interleaves every topic anyway); every new card came once.
    assert probes_by_day[1:3] == [NEW_PER_DAY // SLOT] * 2, probes_by_day
    assert all(seen[n] == CARDS_PER_TOPIC for n in TOPICS), seen
    ids = [card_id for introduced in days for card_id, _, _ in introduced]
    assert len(ids) == len(set(ids)) == len(TOPICS) * CARDS_PER_TOPIC


def test_a_review_session_kept_all_day_offers_the_same_new_cards_as_a_queue_rebuilt_each_answer(
    fc, clock, tmp_path, probe_setting
):
    from flashcore.core.clock import FixedClock
    from flashcore.services import Flashcore

    def keys_of(collection, days: list[Introduced]) -> list[list[str]]:
        keys = {c["card_id"]: c["note_key"] for c in collection.cards()}
        return [[keys[card_id] for card_id, _, _ in introduced] for introduced in days]

    (tmp_path / "session").mkdir()
    in_session = keys_of(fc, study_ten_days(fc, clock, tmp_path / "session", session_day))
    other_clock = FixedClock(clock.now() - timedelta(days=len(in_session) - 1, hours=12))
    rebuilt_fc = Flashcore.open(
        f"sqlite:///{tmp_path / 'rebuilt.sqlite3'}", clock=other_clock, create=True, timezone="UTC"
    )
    try:
        (tmp_path / "rebuilt").mkdir()
        days = study_ten_days(rebuilt_fc, other_clock, tmp_path / "rebuilt", rebuilt_day)
        rebuilt = keys_of(rebuilt_fc, days)
    finally:
        rebuilt_fc.close()
    assert rebuilt == in_session


def _probes(fc) -> list[str]:
    """The probe cards as `repos.queue.first_of_topics` finds them (note keys, in order)."""
    from flashcore.storage import repos
    from flashcore.storage.repos import queue as queue_repo

    keys = {c["card_id"]: c["note_key"] for c in fc.cards()}
    with fc.engine.connect() as conn:
        scope = repos.card_scope(conn, fc.profile_id, None, None)
        rows = queue_repo.first_of_topics(
            conn, fc.profile_id, scope, fc.now(), introduction.probe_quota,
            introduction.probe_count_needed(), 100,
        )  # fmt: skip
    return [keys[r[0]].split(":")[1] for r in rows]


def test_a_topics_probes_count_its_studied_cards_and_not_its_suspended_ones(fc, tmp_path):
    sizes = {"Alpha": 16, "Beta": 7, "Gamma": 9}  # quotas 2, none (under 8), 1
    body = "\n".join(
        f'[[cards]]\nid = "{name.lower()}-{n:02d}"\nfront = "Fact {n} of {name}?"\n'
        f'back = "Answer {n}"\ntopics = ["{topic_path(name)}"]\n'
        for name, size in sizes.items()
        for n in range(size)
    )
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", body, key="deck")])
    assert report.ok, report.problems
    assert sorted(_probes(fc)) == ["alpha-00", "alpha-01", "gamma-00"]
    ids = {c["note_key"].split(":")[1]: c["card_id"] for c in fc.cards()}
    # Gamma's first card suspended: 8 cards left, still one probe, the next in order.
    answering.set_cards(fc, "suspend", [ids["gamma-00"]])
    # Alpha's first card studied: it counts as one of Alpha's first two.
    study.answer(fc, ids["alpha-00"], Rating.GOOD)
    assert sorted(_probes(fc)) == ["alpha-01", "gamma-01"]
    # A second Gamma card suspended: 7 left, no probe.
    answering.set_cards(fc, "suspend", [ids["gamma-01"]])
    assert _probes(fc) == ["alpha-01"]


def _probes_by_ranking_every_card(conn, profile_id, scope, now, fetch):
    """The probes as first_of_topics found them before it walked the cards in order (every new
    card of the short topics read and ranked per topic): the oracle of the walk."""
    from sqlalchemy import select

    from flashcore.storage.repos import queue as q
    from flashcore.storage.tables import cards, note_topics

    c, nt = cards.c, note_topics.c
    short = q._topics_short_of(
        conn, profile_id, introduction.probe_quota, introduction.probe_count_needed()
    )
    found: dict[int, list[tuple[int, int, int, int]]] = {}
    for note_id, topic_id in conn.execute(
        select(nt.note_id, nt.topic_id).where(nt.topic_id.in_(sorted(short)))
    ):
        for card_id, ord_, position in conn.execute(
            select(c.id, c.ord, c.new_position).where(
                c.note_id == note_id, c.suspended.is_(False), q._new()
            )
        ):
            found.setdefault(topic_id, []).append((position, note_id, ord_, card_id))
    firsts = {key for topic, keys in found.items() for key in sorted(keys)[: short[topic]]}
    ids = [card_id for *_, card_id in sorted(firsts)]
    rows = conn.execute(
        select(*q.CARD_COLUMNS)
        .where(q._active(scope, now), q._new(), c.id.in_(ids))
        .order_by(c.new_position, c.note_id, c.ord)
    ).all()
    return [tuple(r) for r in rows][:fetch]


def test_the_walk_finds_the_probes_that_ranking_every_card_found(fc, tmp_path, monkeypatch):
    # first_of_topics walks the new cards in introduction order and stops once it has found
    # enough (it read and ranked every new card of every short topic: 3.5 s at 200,000 new
    # cards). The same probes, in the same order, whatever the scope, the number wanted and
    # the batch the walk reads at a time: notes in two topics, suspended, studied and buried
    # cards, a second deck.
    from flashcore.storage import repos
    from flashcore.storage.repos import queue as queue_repo

    sizes = {"Alpha": 16, "Beta": 9, "Gamma": 24, "Delta": 8, "Epsilon": 12, "Zeta": 30}
    body = []
    for name, size in sizes.items():
        for n in range(size):
            topics = [topic_path(name)]
            if n % 2 == 0:  # a note in two topics
                topics.append(topic_path("Zeta" if name != "Zeta" else "Alpha"))
            listed = ", ".join(f'"{t}"' for t in topics)
            body.append(
                f'[[cards]]\nid = "{name.lower()}-{n:02d}"\nfront = "Fact {n} of {name}?"\n'
                f'back = "Answer {n}"\ntopics = [{listed}]\n'
            )
    half = len(body) // 2
    (one,) = fc.add_decks([write_deck(tmp_path / "one.toml", "\n".join(body[:half]), key="one")])
    (two,) = fc.add_decks(
        [write_deck(tmp_path / "two.toml", "\n".join(body[half:]), name="Test::Two", key="two")]
    )
    assert one.ok and two.ok, (one.problems, two.problems)
    ids = {c["note_key"].split(":")[1]: c["card_id"] for c in fc.cards()}
    answering.set_cards(fc, "suspend", [ids["alpha-00"], ids["gamma-03"], ids["zeta-10"]])
    answering.set_cards(fc, "bury", [ids["gamma-01"], ids["epsilon-00"]])
    for key in ("alpha-01", "gamma-05", "epsilon-05"):
        study.answer(fc, ids[key], Rating.GOOD)
    checked = 0
    for batch, ranked_max in ((2, 0), (3, 0), (500, 0), (2, 64), (500, 64)):
        monkeypatch.setattr(queue_repo, "WALK_BATCH", batch)
        monkeypatch.setattr(queue_repo, "RANKED_TOPICS_MAX", ranked_max)  # walked / ranked
        for deck in (None, "one", "two"):
            for fetch in (1, 4, 100):
                with fc.engine.connect() as conn:
                    scope = repos.card_scope(conn, fc.profile_id, deck, None)
                    walked = queue_repo.first_of_topics(
                        conn, fc.profile_id, scope, fc.now(), introduction.probe_quota,
                        introduction.probe_count_needed(), fetch,
                    )  # fmt: skip
                    ranked = _probes_by_ranking_every_card(
                        conn, fc.profile_id, scope, fc.now(), fetch
                    )
                assert walked == ranked, (batch, ranked_max, deck, fetch)
                checked += len(walked)
    assert checked > 30  # probes were found, not two empty lists compared


def test_with_coverage_the_topics_behind_catch_up_in_round_robin(fc, tmp_path, monkeypatch):
    """core.introduction.COVERAGE (issue 21e's ablation, off as shipped): a topic's probes
    reach its share of the collection's studied cards, the topic's k-th before any one's
    (k+1)-th, each topic in its own order."""
    from functools import partial

    from flashcore.storage import repos
    from flashcore.storage.repos import queue as queue_repo

    body = "\n".join(
        f'[[cards]]\nid = "{name.lower()}-{n:02d}"\nfront = "Fact {n} of {name}?"\n'
        f'back = "Answer {n}"\ntopics = ["{topic_path(name)}"]\n'
        for name in ("Alpha", "Beta", "Gamma")
        for n in range(10)
    )
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", body, key="deck")])
    assert report.ok, report.problems
    ids = {c["note_key"].split(":")[1]: c["card_id"] for c in fc.cards()}
    for n in range(10):  # Alpha studied whole: a third of the collection
        study.answer(fc, ids[f"alpha-{n:02d}"], Rating.GOOD)
    study.answer(fc, ids["beta-00"], Rating.GOOD)
    monkeypatch.setattr(introduction, "COVERAGE", 1.0)
    keys = {c["card_id"]: c["note_key"].split(":")[1] for c in fc.cards()}
    with fc.engine.connect() as conn:
        share = queue_repo.studied_share(conn, fc.profile_id)
        assert share == pytest.approx(11 / 30)
        scope = repos.card_scope(conn, fc.profile_id, None, None)
        quota = partial(introduction.probe_quota, studied_share=share)  # 3 of 10 each
        rows = queue_repo.first_of_topics(
            conn, fc.profile_id, scope, fc.now(), quota, introduction.probe_count_needed(), 100,
            True,
        )  # fmt: skip
    # Gamma (none studied) first, then Beta's second card and Gamma's second, ...
    assert [keys[r[0]] for r in rows] == ["gamma-00", "beta-01", "gamma-01", "beta-02", "gamma-02"]
