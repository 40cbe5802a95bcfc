"""AnKing's tag conventions (core.anking)."""

from __future__ import annotations

from datetime import datetime

import pytest

from flashcore.core.anking import (
    ALL_FAMILIES,
    TopicFamily,
    parse_families,
    qid_tag,
    question_id,
    read_tags,
    topic_path,
)


@pytest.mark.parametrize(
    ("tag", "qid"),
    [
        ("#AK_Step1_v12::#UWorld::Step::118154", "uworld:118154"),
        ("#AK_Step1_v12::#UWorld::COMLEX::118154", "uworld-comlex:118154"),  # never uworld:
        ("#AK_Step1_v11::#UWorld::1000-9999::3000-3999::03456", "uworld:3456"),
        ("#AK_Step1_v11::#UWorld::00001-00999::00012", "uworld:12"),
        ("#AK_Step1_v12::#AMBOSS::-aaDMQ", "amboss:-aaDMQ"),
        ("#AK_Step1_v12::#NBME::Form25::17", "nbme:form25-17"),
        ("#AK_Step2_v12::#NBME::Form_9::3", "nbme:form9-3"),
        ("#UWorld::Step::5", "uworld:5"),
        ("#AK_Step1_v12::#UWorld::Step::not-a-number", None),
        ("#AK_Step1_v12::#UWorld::Notes::12", None),
        ("#AK_Step1_v12::#AMBOSS::Cardiology::Valves", None),
        ("#AK_Step1_v12::#B&B::Immunology::12", None),
        ("uworld", None),
    ],
)
def test_question_ids_in_ankings_tags(tag, qid):
    assert question_id(tag) == qid


@pytest.mark.parametrize(
    ("tag", "path"),
    [
        ("#AK_Step1_v12::^Systems::Cardiovascular::Heart_failure", "Cardiovascular::Heart failure"),
        ("#AK_Step1_v12::#B&B::03_Cardio::02_Physiology", "B&B::Cardio::Physiology"),
        ("#AK_Step1_v12::#Pathoma::Ch8_Cardiac_Pathology", "Pathoma::Ch8 Cardiac Pathology"),
        ("#AK_Step1_v12::#FirstAid::Cardio", "First Aid::Cardio"),
        ("#AK_Step1_v12::#SketchyMicro::Bacteria::Staph", "Sketchy Micro::Bacteria::Staph"),
        ("#AK_Step1_v12::!FreeMedEd::Thing", None),
        ("#AK_Step1_v12::^Systems", None),
    ],
)
def test_resource_and_system_tags_become_topics(tag, path):
    assert topic_path(tag, ALL_FAMILIES) == path


def test_only_the_chosen_families_become_topics():
    tags = ("#AK_Step1_v12::^Systems::Renal::AKI", "#AK_Step1_v12::#Pathoma::Ch12")
    assert read_tags(tags, frozenset({TopicFamily.PATHOMA})).topics == ("Pathoma::Ch12",)
    assert read_tags(tags, frozenset()).topics == ()
    assert parse_families("systems, pathoma") == {TopicFamily.SYSTEMS, TopicFamily.PATHOMA}
    assert parse_families("none") == frozenset() and parse_families("all") == ALL_FAMILIES
    with pytest.raises(ValueError, match="unknown tag family"):
        parse_families("kaplan")


@pytest.mark.parametrize(
    "qid", ["uworld:118154", "uworld-comlex:7", "amboss:-aaDMQ", "nbme:form25-17"]
)
def test_export_tags_read_back_as_the_same_question_id(qid):
    tag = qid_tag(qid)
    assert tag is not None and tag.startswith("#AK_Step1_v12::")
    assert question_id(tag) == qid


def test_flashcores_own_topic_tags_are_topics_whatever_the_families():
    from flashcore.exporters.anki.tags import topic_tag

    for topic in ("Immunology::Hypersensitivity::Type I", "B&B::Cardio", "Renal"):
        tag = topic_tag(topic)  # what `export anki` writes
        assert tag.startswith("flashcore::")
        assert topic_path(tag, frozenset()) == topic
        assert read_tags((tag, "mytag"), frozenset()).topics == (topic,)
    assert topic_path("Flashcore::Renal::Acute_kidney_injury", frozenset()) == (
        "Renal::Acute kidney injury"
    )
    assert topic_path("flashcore", ALL_FAMILIES) is None
    assert topic_path("flashcorex::Renal", ALL_FAMILIES) is None


def test_the_export_names_a_question_id_once_whatever_form_the_note_holds():
    from flashcore.core.model import NoteKind
    from flashcore.exporters.anki.tags import note_tags
    from flashcore.exporters.anki.values import ExportNote

    v11 = "#AK_Step1_v11::#UWorld::1000-9999::1000-1999::01235"
    note = ExportNote(key="k", kind=NoteKind.CLOZE, fields={"text": "{{c1::x}}"},
                      deck_name="D", html=False, tags=(v11,), topics=("Renal",),
                      qids=("uworld:1235", "uworld:77"), modified_at=datetime(2026, 1, 1),
                      cards=())  # fmt: skip
    assert note_tags(note) == [
        v11, "flashcore::Renal", "#AK_Step1_v12::#UWorld::Step::77"
    ]  # fmt: skip
