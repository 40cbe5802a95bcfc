"""The weakness story end to end on both backends: import misses, see priority change."""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path

import pytest

from flashcore.core.errors import FlashcoreError, QbankFormatError
from flashcore.core.model import Rating
from flashcore.services import matching, qbank, study, weakness
from tests.conftest import write_deck
from tests.decks.sample_qids import decks_with_sample_qids

SAMPLES = Path(__file__).resolve().parents[2] / "decks" / "samples"

TWIN_DECK = """
[[cards]]
id = "weak-a"
front = "Weak topic fact A"
back = "A"
topics = ["Immunology::Hypersensitivity::Type I"]
qids = ["uworld:1001"]

[[cards]]
id = "weak-b"
front = "Weak topic fact B"
back = "B"
topics = ["Immunology::Hypersensitivity::Type I"]

[[cards]]
id = "calm-a"
front = "Untouched topic fact A"
back = "A"
topics = ["Immunology::Complement::Complement pathways"]

[[cards]]
id = "calm-b"
front = "Untouched topic fact B"
back = "B"
topics = ["Immunology::Complement::Complement pathways"]
"""

UWORLD_SIX = "".join(
    f"{i} - {2000 + i}\tImmunology\tAllergy & Immunology\tHypersensitivity reactions\t"
    "Type I hypersensitivity\t60%\t70 sec\n"
    for i in range(1, 7)
)

# The mechanics of pull-forwards: every missed topic pulls (which ones do: test_pull_forward_gate).
pytestmark = pytest.mark.usefixtures("every_missed_topic_pulls")


def _ids(fc):
    return {c["note_key"].split(":")[1]: c["card_id"] for c in fc.cards()}


def _study_all_to_review(fc, clock):
    for card_id in _ids(fc).values():
        study.answer(fc, card_id, Rating.EASY)


def test_six_misses_shorten_intervals_order_first_and_say_why(fc, clock, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK, key="imm")])
    _study_all_to_review(fc, clock)
    report = qbank.import_log(fc, UWORLD_SIX.encode(), origin="paste")
    assert report.added == 6 and report.matched_topic == 6 and report.matched_none == 0
    rows = {r["topic"]: r for r in weakness.report_rows(fc)}
    weak_row = rows["Immunology::Hypersensitivity::Type I"]
    assert weak_row["recent_misses"] == 6 and weak_row["suggested_minutes"] == 60
    assert weak_row["desired_retention"] > 0.9
    # Reviews of the weak topic are scheduled at a higher retention -> shorter intervals.
    clock.advance(timedelta(days=10))
    ids = _ids(fc)
    weak = study.answer(fc, ids["weak-a"], Rating.GOOD)
    calm = study.answer(fc, ids["calm-a"], Rating.GOOD)
    assert weak.retention > calm.retention == 0.9
    assert weak.schedule.due - clock.now() < calm.schedule.due - clock.now()
    q = study.build_queue(fc)
    first = q.items[0]
    assert first.card_id == ids["weak-b"]
    assert "weak topic: Immunology::Hypersensitivity::Type I — 6 misses in 14 days" in first.reason
    answered = {c["note_key"].split(":")[1]: c for c in fc.cards()}
    assert answered["weak-a"]["desired_retention"] == weak.retention


def test_pull_forward_puts_not_yet_due_weak_cards_in_today_queue(fc, clock, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK, key="imm")])
    _study_all_to_review(fc, clock)
    clock.advance(timedelta(days=1))
    assert [i for i in study.build_queue(fc).items if i.kind == "review"] == []
    report = qbank.import_log(fc, UWORLD_SIX.encode(), origin="paste")
    assert (report.pulled_forward, report.pulled_forward_new) == (2, 2)
    items = study.build_queue(fc).items
    reasons = {i.card_id: i.reason for i in items}
    ids = _ids(fc)
    assert (
        "pulled forward after 6 misses on Immunology::Hypersensitivity::Type I"
        in reasons[ids["weak-a"]]
    )
    assert ids["calm-a"] not in reasons
    from flashcore.services.check import check

    assert check(fc).problems == []  # a queue-level boost, never a rewrite of FSRS state


def test_a_second_import_the_same_day_says_which_pulled_cards_are_new(fc, clock, tmp_path):
    """Seen: an evening paste said "17 cards of weak topics pulled into today's queue" while the
    queue held the same cards before it (pulled by the morning's import): the count was today's
    pull-forwards in all, read as news. `pulled_forward` stays that; `pulled_forward_new` is
    how many the queue did not have."""
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK, key="imm")])
    _study_all_to_review(fc, clock)
    clock.advance(timedelta(days=1))
    first = qbank.import_log(fc, UWORLD_SIX.encode(), origin="paste")
    assert (first.pulled_forward, first.pulled_forward_new) == (2, 2)
    queue = {i.card_id for i in study.build_queue(fc).items}
    later = UWORLD_SIX.replace(" - 20", " - 30")  # other question ids, the same topic
    second = qbank.import_log(fc, later.encode(), origin="paste 2")
    assert second.added == 6
    assert (second.pulled_forward, second.pulled_forward_new) == (2, 0)
    assert {i.card_id for i in study.build_queue(fc).items} == queue
    assert second.to_json()["pulled_forward_new"] == 0


def test_an_import_that_adds_nothing_still_brings_today_s_pull_forwards(fc, clock, tmp_path):
    # Pull-forwards are per study day and computed by imports: re-importing yesterday's log on
    # a new day (all duplicates) still pulls the weak topic's cards into today's queue.
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK, key="imm")])
    _study_all_to_review(fc, clock)
    clock.advance(timedelta(days=1))
    day = weakness.today_for(fc)
    assert qbank.import_log(fc, UWORLD_SIX.encode(), origin="paste", on_date=day).pulled_forward
    clock.advance(timedelta(days=1))
    again = qbank.import_log(fc, UWORLD_SIX.encode(), origin="paste", on_date=day, again=True)
    assert (again.added, again.pulled_forward) == (0, 2)
    assert again.pulled_forward_new == 2  # a new study day: none of them was in its queue yet
    assert sum("pulled forward" in i.reason for i in study.build_queue(fc).items) == 2


def test_new_cards_of_weak_topics_come_first(fc, clock, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK.replace("weak", "aaa"), key="imm")])
    before = [i.note_key for i in study.build_queue(fc).items]
    assert before[0].endswith("aaa-a")
    qbank.import_log(
        fc,
        "".join(
            f"{i} - {3000 + i}\tImmunology\tImmunology\tComplement\tComplement pathways\t50%\t9 sec\n"
            for i in range(1, 7)
        ).encode(),
        origin="paste",
    )
    after = [i.note_key for i in study.build_queue(fc).items]
    assert after[0].endswith("calm-a") and after[1].endswith("calm-b")


def test_effect_fades_as_misses_age_and_correct_answers_arrive(fc, clock, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK, key="imm")])
    qbank.import_log(fc, UWORLD_SIX.encode(), origin="paste")
    topic = "Immunology::Hypersensitivity::Type I"
    start = {r["topic"]: r["score"] for r in weakness.report_rows(fc)}[topic]
    clock.advance(timedelta(days=28))
    aged = {r["topic"]: r["score"] for r in weakness.report_rows(fc)}[topic]
    corrects = "".join(f"{5000 + i}\tcorrect\tType I hypersensitivity\n" for i in range(1, 9))
    qbank.import_log(fc, ("qid\tresult\ttopic\n" + corrects).encode(), origin="c.tsv", fmt="csv")
    recovered = {r["topic"]: r["score"] for r in weakness.report_rows(fc)}.get(topic, 0.0)
    assert start > aged > recovered


def test_reimport_adds_nothing_and_identical_paste_needs_again(fc, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK, key="imm")])
    data = UWORLD_SIX.encode()
    assert qbank.import_log(fc, data, origin="paste").added == 6
    with pytest.raises(FlashcoreError, match="identical to batch"):
        qbank.import_log(fc, data, origin="paste")
    again = qbank.import_log(fc, data, origin="paste", again=True)
    assert again.added == 0 and again.duplicates == 6
    assert len(qbank.list_attempts(fc)) == 6


def test_a_file_with_bad_rows_changes_nothing(fc, tmp_path):
    bad = b"qid,result\n1001,incorrect\n,incorrect\n1002,maybe\n"
    with pytest.raises(QbankFormatError) as err:
        qbank.import_log(fc, bad, origin="bad.csv")
    assert len(err.value.problems) == 2
    assert all(str(p).startswith("bad.csv:") for p in err.value.problems)
    assert qbank.list_attempts(fc) == [] and qbank.list_batches(fc) == []


def test_unmatched_attempts_count_once_a_matching_alias_appears(fc, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK, key="imm")])
    paste = "1 - 7001\tImmunology\tImmunology\tAllergy\tAnaphylaxis basics\t50%\t9 sec\n" * 1
    report = qbank.import_log(fc, paste.encode(), origin="paste")
    assert report.matched_none == 1 and report.unmatched_topics == ["Anaphylaxis basics"]
    assert qbank.list_attempts(fc)[0]["matched"] == "none"
    qbank.add_alias(fc, "Anaphylaxis basics", "Immunology::Hypersensitivity::Type I")
    assert qbank.list_attempts(fc)[0]["matched"] == "topic"
    topics = [r["topic"] for r in weakness.report_rows(fc)]
    assert "Immunology::Hypersensitivity::Type I" in topics


def test_removing_a_batch_undoes_its_effect(fc, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK, key="imm")])
    report = qbank.import_log(fc, UWORLD_SIX.encode(), origin="paste")
    assert weakness.report_rows(fc)
    assert qbank.remove_batch(fc, report.batch_id) == 6
    assert weakness.report_rows(fc) == []
    assert all(c["card_id"] for c in fc.cards())
    assert [i.reason for i in study.build_queue(fc).items if "weak" in i.reason] == []


def test_bundled_samples_import_and_match_their_cards(fc, tmp_path):
    # The shipped decks carry no question ids; copies with the samples' made-up ids do.
    fc.add_decks(decks_with_sample_qids(tmp_path / "decks"))
    paste = qbank.import_log(fc, (SAMPLES / "uworld-paste.tsv").read_bytes(), origin="u.tsv")
    assert paste.format == "uworld" and paste.added == 12
    assert paste.matched_card == 8 and paste.matched_topic == 3
    assert paste.matched_none == 1 and paste.unmatched_topics == ["Kikuchi disease"]
    csv = qbank.import_log(fc, (SAMPLES / "missed.csv").read_bytes(), origin="missed.csv")
    assert csv.format == "csv" and csv.added > 0
    qids = qbank.import_log(
        fc, (SAMPLES / "incorrect-qids.txt").read_bytes(), origin="q.txt", again=True
    )
    assert qids.format == "qids" and qids.matched_none == 0
    top = weakness.report_rows(fc)[0]
    assert top["topic"] == "Immunology::Hypersensitivity::Type I"


def test_matching_by_id_list_and_by_join_agree(fc, tmp_path, monkeypatch):
    # Two ways to split attempts between "a card lists this question" and "match the text":
    # an IN list of the listed ids (decks with few) and a join (decks with thousands). Same
    # counts, including an id listed for another bank, a note later removed, text matches.
    deck = TWIN_DECK.replace('qids = ["uworld:1001"]', 'qids = ["uworld:1001", "amboss:77"]')
    deck += '\n[[cards]]\nid = "gone"\nfront = "G"\nback = "G"\nqids = ["uworld:1002"]\n'
    deck += 'topics = ["Immunology::Complement::Complement pathways"]\n'
    path = write_deck(tmp_path / "d.toml", deck, key="imm")
    fc.add_decks([path])
    rows = ["question_id,result,date,source,topic"]
    for i, (qid, source) in enumerate(
        [("1001", "uworld"), ("1001", "nbme"), ("77", "amboss"), ("1002", "uworld"),
         ("5", "uworld"), ("6", "uworld"), ("1001", "uworld")]
    ):  # fmt: skip
        outcome = "incorrect" if i % 3 else "correct"
        rows.append(f"{qid},{outcome},2026-11-{10 + i},{source},Type I hypersensitivity")
    log = tmp_path / "log.csv"
    log.write_text("\n".join(rows) + "\n", encoding="utf-8")
    qbank.import_log(fc, log.read_bytes(), origin=str(log))
    write_deck(
        path,
        TWIN_DECK.replace('qids = ["uworld:1001"]', 'qids = ["uworld:1001", "amboss:77"]'),
        key="imm",
    )
    fc.add_decks([path])  # "gone" (uworld:1002) leaves the file: its note is removed

    def matched() -> list[tuple[int, object, bool, int]]:
        from flashcore.storage.uow import reading

        with reading(fc.engine) as session:
            index = weakness.load_index(session, fc.profile_id)
            got = weakness.matched_attempts(session, fc.profile_id, index)
        return sorted((m.topic_id, m.on_date, m.missed, m.count) for m in got)

    by_list = matched()
    monkeypatch.setattr(matching, "QID_LIST_MAX", -1)
    assert matched() == by_list
    assert len(by_list) >= 5


FORGETFUL_DECK = "".join(
    f'[[cards]]\nid = "{key}-{n}"\nfront = "{topic} fact {n}"\nback = "{n}"\n'
    f'topics = ["Cardiology::{topic}"]\n\n'
    for key, topic in (("hf", "Heart failure"), ("valve", "Valves"))
    for n in range(6)
)


def test_a_topic_whose_cards_lapse_more_than_predicted_is_raised_without_any_qbank(
    fc, clock, tmp_path
):
    fc.add_decks([write_deck(tmp_path / "d.toml", FORGETFUL_DECK, key="card")])
    ids = _ids(fc)
    _study_all_to_review(fc, clock)
    clock.advance(timedelta(days=30))
    for key, card_id in ids.items():  # Heart failure's reviews all lapse, Valves' all pass
        study.answer(fc, card_id, Rating.AGAIN if key.startswith("hf") else Rating.GOOD)
    for key, card_id in ids.items():
        if key.startswith("hf"):
            clock.advance(timedelta(minutes=10))
            study.answer(fc, card_id, Rating.GOOD)  # relearnt
    clock.advance(timedelta(days=10))  # the lapses count for 56 days
    q = study.build_queue(fc)
    reasons = {item.card_id: item.reason for item in q.items}
    heart, valve = ids["hf-0"], ids["valve-0"]
    assert "weak topic: Cardiology::Heart failure — cards forgotten" in reasons[heart]
    assert "as often as predicted" in reasons[heart]
    assert all("weak topic" not in reasons.get(ids[f"valve-{n}"], "") for n in range(6))
    assert study.answer(fc, heart, Rating.GOOD).retention > 0.9
    assert study.answer(fc, valve, Rating.GOOD).retention == 0.9


def test_a_queue_decodes_each_weak_topic_s_explanation_once(fc, tmp_path, monkeypatch):
    # A queue's weighted cards (~1,400 at 50,000 cards) share a few hundred weak topics: the
    # reviewer's rebuild after every import decoded one stored explanation per card.
    card_repo = importlib.import_module("flashcore.storage.repos.cards")  # (repos.cards: a table)
    fc.add_decks([write_deck(tmp_path / "d.toml", TWIN_DECK, key="imm")])
    qbank.import_log(fc, UWORLD_SIX.encode(), origin="paste")
    decoded = []
    decode = card_repo.from_json
    monkeypatch.setattr(card_repo, "from_json", lambda data: decoded.append(data) or decode(data))
    items = study.build_queue(fc, details=False).items
    why = "new; weak topic: Immunology::Hypersensitivity::Type I — 6 misses in 14 days"
    assert sum(i.reason.startswith(why) for i in items) == 2
    assert len(decoded) == 1
