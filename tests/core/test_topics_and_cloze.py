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


def _words_as_first_written(text: str) -> list[str]:
    """`topics.words` before its ASCII fast path and per-word cache (issue 19w): the
    reference the faster one must equal."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return [
        topics._ROMAN.get(w, topics._singular(w))
        for w in topics._WORD.findall(folded)
        if w not in topics._STOP
    ]


def test_words_equal_the_plain_normalization_for_any_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    samples = [
        "Type I hypersensitivity", "TYPE-II reactions", "Sjögren syndrome", "Ménière disease",
        "Œdema of the lungs", "ﬁbrosis", "Kidney stones and diseases", "x", "IV fluids", "",
        "Vitamin B12 (cobalamin) deficiencies", "Crohn's disease", "ＡＢＣ classes",
    ]  # fmt: skip
    for text in samples + [s.upper() for s in samples]:
        assert topics.words(text) == _words_as_first_written(text), text

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
    def check(text: str) -> None:
        assert topics.words(text) == _words_as_first_written(text)
        assert topics.words(text) == _words_as_first_written(text)  # from the cache

    check()


def test_words_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(topics, "_FORMS_MAX", 3)
    topics._FORMS.clear()
    assert topics.words("alpha beta gamma delta epsilons") == [
        "alpha", "beta", "gamma", "delta", "epsilon",
    ]  # fmt: skip
    assert len(topics._FORMS) <= 3


def test_path_key_is_each_parts_words_for_any_path():
    """A path's key from its parts' keys (each part normalized once per process) is the
    parts' words joined as written first."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    def plain(path: str) -> str:
        return "::".join(" ".join(_words_as_first_written(p)) for p in topics.split_path(path))

    part = st.sampled_from(["Immunology", " Type I ", "Kidney stones", "Sjögren", "", "IV"])
    free = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.one_of(part, free), max_size=5), st.sampled_from(["::", " :: ", ":::"]))
    def check(parts: list[str], separator: str) -> None:
        path = separator.join(parts)
        assert topics.path_key(path) == plain(path)

    check()


def test_a_pair_of_parts_has_the_key_of_the_parts_joined_by_a_space_for_any_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    samples = ["Hypersensitivity", "Type I", "Sjögren", "e\u0301", "\u0301x", "ﬁ", "", "IV"]
    for a in samples:
        for b in samples:
            assert topics.pair_key(a, b) == topics.text_key(a + " " + b), (a, b)

    text = st.text(alphabet=st.characters(codec="utf-8"), max_size=15)

    @settings(max_examples=300, deadline=None)
    @given(text, text)
    def check(parent: str, leaf: str) -> None:
        assert topics.pair_key(parent, leaf) == topics.text_key(parent + " " + leaf)

    check()
