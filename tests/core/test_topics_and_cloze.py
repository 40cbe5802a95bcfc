from __future__ import annotations

from flashcore.core import cloze, topics


def test_type_i_spellings_meet_on_one_key():
    keys = {topics.text_key(t) for t in ("Type I", "type 1", "TYPE-I", "Type  i")}
    assert len(keys) == 1


def test_qbank_topic_meets_leaf_plus_parent():
    path = "Immunology::Hypersensitivity::Type I"
    assert topics.text_key("Type I hypersensitivity") in topics.match_keys(path)
    assert topics.text_key("Type I hypersensitivity reactions") in topics.match_keys(
        "Immunology::Hypersensitivity reactions::Type I"
    )


def test_plurals_are_folded():
    assert topics.text_key("Hypersensitivity reactions") == topics.text_key(
        "hypersensitivity reaction"
    )
    assert topics.text_key("Sickle cell diseases") == topics.text_key("Sickle cell disease")
    assert topics.text_key("Emphysema") == "emphysema"


def test_path_key_keeps_part_order_and_ancestors_are_listed():
    assert topics.path_key(" A :: B::C ") == "a::b::c"
    assert topics.ancestors("A::B::C") == ["A", "A::B"]


def test_cloze_front_hides_only_the_current_deletion():
    text = "IgE on {{c1::mast cells}} and {{c2::basophils::cell type}}."
    assert cloze.ordinals(text) == [1, 2]
    assert cloze.render_plain(text, 1, reveal=False) == "IgE on [...] and basophils."
    assert cloze.render_plain(text, 2, reveal=False) == "IgE on mast cells and [cell type]."
    back = cloze.render(text, 2, reveal=True)
    assert [s.role for s in back if s.role != "text"] == ["answer"]


def test_cloze_without_deletions_has_no_cards():
    assert cloze.ordinals("plain {{not a cloze}}") == []
