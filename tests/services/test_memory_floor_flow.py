"""core.memory_floor's ONLY_INTRODUCED ablation (issue 21) reads the topics not yet fully
introduced: a new, unsuspended card on one of the topic's own notes (SQLite and PostgreSQL)."""

from __future__ import annotations

from flashcore.core.model import Rating
from flashcore.services import study
from flashcore.services.answering import set_cards
from flashcore.storage import repos
from flashcore.storage.uow import reading
from tests.conftest import write_deck

DECK = "".join(
    f'[[cards]]\nid = "{key}-{n}"\nfront = "{topic} fact {n}"\nback = "{n}"\n'
    f'topics = ["Cardiology::{topic}"]\n\n'
    for key, topic in (("hf", "Heart failure"), ("valve", "Valves"), ("arr", "Arrhythmia"))
    for n in range(2)
)


def _unfinished(fc) -> set[str]:
    with reading(fc.engine) as session:
        found = repos.topics_with_new_cards(session, fc.profile_id)
        paths = {p: repos.topic_ids_matching(session, fc.profile_id, p)[0]
                 for p in repos.topic_paths(session, fc.profile_id)}  # fmt: skip
    return {p for p, t in paths.items() if t in found}


def test_a_topic_counts_as_introduced_once_its_new_cards_are_studied_or_suspended(
    fc, clock, tmp_path
):
    fc.add_decks([write_deck(tmp_path / "d.toml", DECK, key="card")])
    ids = {c["note_key"].split(":")[1]: c["card_id"] for c in fc.cards()}
    assert _unfinished(fc) == {
        "Cardiology::Heart failure", "Cardiology::Valves", "Cardiology::Arrhythmia"
    }  # fmt: skip
    for n in range(2):
        study.answer(fc, ids[f"hf-{n}"], Rating.GOOD)
    study.answer(fc, ids["valve-0"], Rating.GOOD)
    set_cards(fc, "suspend", [ids["arr-0"], ids["arr-1"]])
    assert _unfinished(fc) == {"Cardiology::Valves"}
