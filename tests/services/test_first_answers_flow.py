"""A topic whose first answers fail brings its new cards early (core.first_answers, issue 21's
ninth round), over several study days on both backends with a moving clock: two topics are
missed every evening (their new cards come first), four are never asked. One of those, Zeta,
the student cannot learn: every first answer of its cards fails. Its probes show it; from the
next day its new cards come early (each saying why): ahead of the missed topics' (MODE
"rank") or in every fourth place of the day, half-way between the probes' ("share"), until
every one of its cards is introduced; then its first answers no longer weigh it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flashcore.core import first_answers, introduction, reasons
from flashcore.core.model import CardState, Rating
from flashcore.services import qbank, study
from flashcore.storage.repos import weights as weights_repo
from flashcore.storage.uow import reading
from tests.conftest import write_deck
from tests.services.test_probe_cards import deck_text, evening_paste, topic_path

NEW_PER_DAY = 8
TOPICS = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"]  # 10 cards each
UNASKED = {"Gamma", "Delta", "Epsilon"}
HARD = "Zeta"


def _name(item) -> str:
    return item.topics[0].split("::")[-1].removesuffix(" disease")


def study_day(fc) -> list[tuple[str, str]]:
    """Answer the day's queue until it is empty: Again on the first answer of Zeta's cards,
    Good on every other. Returns the new cards introduced: (topic, reason), in order."""
    introduced: list[tuple[str, str]] = []
    for _ in range(400):
        q = study.build_queue(fc, limit=1)
        if not q.items:
            return introduced
        item = q.items[0]
        first = item.state is CardState.NEW
        if first:
            introduced.append((_name(item), item.reason))
        failed = first and _name(item) == HARD
        study.answer(fc, item.card_id, Rating.AGAIN if failed else Rating.GOOD)
    raise AssertionError("the queue did not empty in 400 answers")


def zeta_explanation(fc):
    with reading(fc.engine) as session:
        found = {t.path: t.why for t in weights_repo.topic_weights(session, fc.profile_id)}
    return found.get(topic_path(HARD))


def run(fc, clock, tmp_path, days: int) -> list[list[tuple[str, str]]]:
    fc.config_set("new_per_day", str(NEW_PER_DAY))
    fc.config_set("pull_forward_per_topic", "0")  # this follows new cards only
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", deck_text(TOPICS), key="deck")])
    assert report.ok, report.problems
    start = clock.now()
    out = []
    for day in range(days):
        clock.set(start + timedelta(days=day))
        out.append(study_day(fc))
        clock.set(start + timedelta(days=day, hours=12))
        qbank.import_log(fc, evening_paste(day), origin=f"day{day}.tsv", again=True)
    return out


@pytest.fixture
def probes(monkeypatch):
    monkeypatch.setattr(introduction, "PROBE_CARDS", 3)
    monkeypatch.setattr(introduction, "PROBE_EVERY", 3)  # 10 cards: 3 probes each
    monkeypatch.setattr(introduction, "PROBE_SLOT", 3)


def test_a_topic_whose_first_answers_fail_has_its_new_cards_introduced_early(
    fc, clock, tmp_path, probes, monkeypatch
):
    monkeypatch.setattr(first_answers, "ENABLED", True)
    monkeypatch.setattr(first_answers, "MODE", "rank")
    days = run(fc, clock, tmp_path, 3)
    assert any(name == HARD for name, _ in days[0])  # day 0 interleaves every topic
    # Day 1: Zeta's new cards before the missed topics' (its one failed first answer weighs
    # more than their misses), the unasked topics' only in the probes' places, each saying why.
    names = [name for name, _ in days[1]]
    assert HARD in names and not set(names[: names.index(HARD) + 1]) & {"Alpha", "Beta"}, names
    for name, reason in days[1]:
        if name == HARD:
            assert reason.startswith(f"new; weak topic: {topic_path(HARD)} — first answers "
                                     "failed "), reason  # fmt: skip
            assert reason.endswith("its new cards come early"), reason
        elif name in UNASKED:
            assert reason == reasons.NEW_PROBE.text(), (name, reason)
    # every Zeta card is introduced by the end of day 2 (8 new cards a day, 10 a topic)
    assert sum(n == HARD for d in days for n, _ in d) == 10, days
    # once every card is introduced its first answers no longer weigh it (its lapses may)
    why = zeta_explanation(fc)
    assert why is None or getattr(why, "first", None) is None, why


def test_with_the_share_such_a_topic_takes_every_fourth_new_card_between_the_probes(
    fc, clock, tmp_path, probes, monkeypatch
):
    monkeypatch.setattr(first_answers, "ENABLED", True)
    monkeypatch.setattr(first_answers, "MODE", "share")
    monkeypatch.setattr(introduction, "PROBE_SLOT", 4)
    days = run(fc, clock, tmp_path, 6)
    for day, introduced in enumerate(days[1:3], start=1):  # while probes are left
        for place, (name, reason) in enumerate(introduced, start=1):
            if place % 4 == 2:  # the share's places
                assert name == HARD, (day, place, introduced)
                assert reason.startswith(f"new; weak topic: {topic_path(HARD)} — first answers "
                                         "failed "), reason  # fmt: skip
                assert reason.endswith("a share of each day's new cards goes to it"), reason
            else:  # the missed topics' (weighted first) and the probes' places
                assert name != HARD, (day, place, introduced)
    assert sum(n == HARD for d in days for n, _ in d) == 10, days
    why = zeta_explanation(fc)
    assert why is None or getattr(why, "first", None) is None, why


def test_without_it_such_a_topic_waits_for_the_missed_topics_and_the_deck_order(
    fc, clock, tmp_path, probes, monkeypatch
):
    monkeypatch.setattr(first_answers, "ENABLED", False)
    days = run(fc, clock, tmp_path, 2)
    assert sum(n == HARD for d in days for n, _ in d) < 10
    assert all("first answers" not in reason for d in days for _, reason in d)
