"""The light topic index (matching, scores and reports read only the notes that list a question
id and the notes counted per set of topics) answers as the index of every note does: notes per
topic with their sub-topics' (each note once), the topics of a listed question, the flashcard
signal; on both backends."""

from __future__ import annotations

from datetime import timedelta

from flashcore.core.model import Rating
from flashcore.services import forgetting, matching, study
from flashcore.storage.uow import reading
from tests.conftest import write_deck

LINKED = "".join(
    f'[[cards]]\nid = "{key}"\nfront = "Fact {key}"\nback = "{key}"\ntopics = {topics}\n{qids}\n'
    for key, topics, qids in (
        ("one", '["Immunology::Hypersensitivity::Type I"]', 'qids = ["uworld:1"]'),
        ("two", '["Immunology::Hypersensitivity::Type I"]', ""),
        # linked to a topic and its own parent: counted once for the parent
        (
            "both",
            '["Immunology::Hypersensitivity", "Immunology::Hypersensitivity::Type II"]',
            'qids = ["uworld:2"]',
        ),
        # linked to two subjects
        ("far", '["Immunology::Complement", "Cardiology::Heart failure"]', ""),
        ("heart", '["Cardiology::Heart failure"]', 'qids = ["uworld:2", "amboss:9"]'),
        ("none", "[]", ""),
    )
)


def _indexes(fc):
    with reading(fc.engine) as session:
        light = matching.load_index(session, fc.profile_id)
        full = matching.load_index(session, fc.profile_id, every_note=True)
    return light, full


def test_the_light_index_counts_notes_per_topic_as_every_note_s_topics_do(fc, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", LINKED, key="lk")])
    light, full = _indexes(fc)
    assert not light.every_note and full.every_note
    assert light.notes_below() == full.notes_below()
    below, total = light.notes_below()
    path_id = {p: t for t, p in light.paths.items()}
    assert total == 5  # "none" links no topic
    assert below[path_id["Immunology"]] == 4  # one, two, both (once), far
    assert below[path_id["Immunology::Hypersensitivity"]] == 3
    assert below[path_id["Cardiology::Heart failure"]] == 2
    assert light.topic_sets() == full.topic_sets()
    for pair in full.qid_notes:
        notes = full.qid_notes[pair]
        assert light.qid_notes[pair] == notes
        assert light.qid_topics(notes) == full.qid_topics(notes)
        texts = ("Type I hypersensitivity", "", "")
        assert matching.match_attempt(light, *pair, texts) == matching.match_attempt(
            full, *pair, texts
        )


def test_the_light_index_reads_the_reviewed_notes_topics_for_the_flashcard_signal(
    fc, clock, tmp_path
):
    fc.add_decks([write_deck(tmp_path / "d.toml", LINKED, key="lk")])
    ids = {c["note_key"].split(":")[1]: c["card_id"] for c in fc.cards()}
    for card_id in ids.values():
        for _ in range(3):
            study.answer(fc, card_id, Rating.GOOD)
            clock.advance(timedelta(days=3))
    clock.advance(timedelta(days=20))
    for key, card_id in ids.items():
        study.answer(fc, card_id, Rating.AGAIN if key in ("both", "far") else Rating.GOOD)
    today = clock.now().date()
    with reading(fc.engine) as session:
        light = matching.load_index(session, fc.profile_id)
        full = matching.load_index(session, fc.profile_id, every_note=True)
        got = forgetting.topic_lapses(session, fc, light, today)
        expected = forgetting.topic_lapses(session, fc, full, today)
    assert got == expected
    assert any(x.seen > 0 for x in got.values())


SHARED = "".join(
    f'[[cards]]\nid = "{key}"\nfront = "Fact {key}"\nback = "{key}"\ntopics = {topics}\n'
    for key, topics in (
        ("xy", '["Renal::Acid base", "Cardiology::Heart failure"]'),
        ("yx", '["Cardiology::Heart failure", "Renal::Acid base"]'),
        ("late", '["Renal::Acid base", "Cardiology::Heart failure"]'),
        ("three", '["Renal::Acid base", "Cardiology::Heart failure", "Pulmonary::Asthma"]'),
        ("alone", '["Renal::Acid base"]'),
    )
)


def test_notes_of_one_set_of_several_topics_count_together_as_every_note_s_topics_say(fc, tmp_path):
    # the light index counts the notes of several topics per set, the database putting each
    # note's topics together as text (read back as sorted ids): as every note's links say
    fc.add_decks([write_deck(tmp_path / "s.toml", SHARED, key="sh")])
    light, full = _indexes(fc)
    path_id = {p: t for t, p in light.paths.items()}
    pair = tuple(sorted((path_id["Renal::Acid base"], path_id["Cardiology::Heart failure"])))
    assert light.topic_sets() == full.topic_sets()
    assert light.topic_sets()[pair] == 3
    assert light.topic_sets()[(path_id["Renal::Acid base"],)] == 1
    assert sum(light.topic_sets().values()) == 5
