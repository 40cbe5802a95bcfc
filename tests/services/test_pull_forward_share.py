"""A topic's fresh misses pull its cards forward by how many other students answer its questions
right (core.difficulty.PULL), day after day (moving clock, evening imports, both backends): two
topics whose flashcards lapse alike, more often than FSRS predicts, are missed alike every
evening, one on questions most others answer right, one on questions most others miss; the
second pulls fewer of its cards into the next morning's queue. With one share on every miss
they pull alike, as before the share was read. Every day the queue empties.

The simulated hard-question students (`python -m tools.simulate`, issue 21u) are why: their
topics of hard questions are missed every day, and pulling up to ten of their cards after each
miss spent answers where the misses measured the questions."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from flashcore.core import difficulty
from flashcore.core.model import CardState, Rating
from flashcore.core.reasons import PullKind
from flashcore.services import qbank, study
from tests.conftest import write_deck
from tests.services import test_pull_forward_gate as gate
from tests.services.test_pull_forward_gate import topic_path

TOPICS = ["Alpha", "Beta", "Gamma", "Delta"]
FORGOTTEN = {"Alpha", "Beta"}  # half their cards lapse at every review; all else is Good
CARDS = 8
DAYS = 8
PER_TOPIC = 2


def deck_text() -> str:
    return gate.deck_text(CARDS)


def evening_paste(day: int, shares: dict[str, int]) -> bytes:
    """Two misses on every topic, each at its topic's "% correct others"."""
    rows = []
    for i, name in enumerate(TOPICS):
        for k in range(2):
            qid = 700000 + 100 * day + 10 * i + k
            rows.append(
                f"{len(rows) + 1} - {qid}\tSubject\tSystem {name}\tSystem {name}\t"
                f"{name} disease\t{shares[name]}%\t60 sec\n"
            )
    return "".join(rows).encode()


def study_day(fc) -> Counter[str]:
    """Answer the queue until it is empty (Again on the reviews of half of each forgotten
    topic's cards, Good on everything else); the topic pull-forwards answered, per topic."""
    pulled: Counter[str] = Counter()
    forgotten = {f"deck:{t.lower()}-{n}" for t in FORGOTTEN for n in range(CARDS // 2)}
    for _ in range(600):
        q = study.build_queue(fc, limit=1)
        if not q.items:
            return pulled
        item = q.items[0]
        if item.why.pulled is not None and item.why.pulled.kind is PullKind.TOPIC:
            pulled[item.why.pulled.subject] += 1
        lapse = item.note_key in forgotten and item.state is CardState.REVIEW
        study.answer(fc, item.card_id, Rating.AGAIN if lapse else Rating.GOOD)
    raise AssertionError("the queue did not empty in 600 answers")


def weeks_pulls(fc, clock, tmp_path, shares: dict[str, int]) -> Counter[str]:
    fc.config_set("new_per_day", str(len(TOPICS) * CARDS))
    fc.config_set("pull_forward_per_topic", str(PER_TOPIC))
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", deck_text(), key="deck")])
    assert report.ok, report.problems
    start = clock.now()
    pulled: Counter[str] = Counter()
    for day in range(DAYS):
        clock.set(start + timedelta(days=day))
        pulled += study_day(fc)
        clock.set(start + timedelta(days=day, hours=12))
        log = qbank.import_log(fc, evening_paste(day, shares), origin=f"day{day}.tsv")
        assert log.matched_topic == 2 * len(TOPICS)
    return pulled


def test_the_shipped_rule_scales_pull_forwards_by_the_share():
    assert difficulty.PULL == "scale"


@pytest.mark.parametrize("mode", ["gate", "scale"])
def test_a_forgotten_topic_missed_on_questions_others_miss_pulls_fewer_cards(
    fc, clock, tmp_path, monkeypatch, mode
):
    monkeypatch.setattr(difficulty, "PULL", mode)
    # Beta's misses: 1 / (1 - 0.10) = 1.1 against an average of ~3.2, a third of it
    pulled = weeks_pulls(fc, clock, tmp_path, {"Alpha": 85, "Beta": 10, "Gamma": 60, "Delta": 60})
    alpha, beta = pulled[topic_path("Alpha")], pulled[topic_path("Beta")]
    assert alpha > 0, pulled
    assert set(pulled) <= {topic_path(t) for t in FORGOTTEN}  # the flashcards still gate
    if mode == "gate":
        assert beta == 0, pulled
    else:
        assert 0 < beta < alpha, pulled


@pytest.mark.parametrize("mode", ["scale", "off"])
def test_one_share_on_every_miss_pulls_as_before(fc, clock, tmp_path, monkeypatch, mode):
    monkeypatch.setattr(difficulty, "PULL", mode)
    pulled = weeks_pulls(fc, clock, tmp_path, dict.fromkeys(TOPICS, 55))
    assert pulled[topic_path("Alpha")] == pulled[topic_path("Beta")] > 0, pulled
    assert set(pulled) == {topic_path(t) for t in FORGOTTEN}
