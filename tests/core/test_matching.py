"""Which topic an attempt's texts name: the most specific text decides, whatever columns the
file had; a species reaches its genus; a topic text learns its leaf from fuller rows; gaps get
the closest topic as a suggestion."""

from __future__ import annotations

from flashcore.core import topics as topic_keys
from flashcore.core.matching import TopicMatcher, own_text

PATHS = [
    "Physiology",
    "Physiology::Renal",
    "Physiology::Renal::Acid-base disorders",
    "Physiology::Renal::Nephron physiology",
    "Physiology::Gastrointestinal",
    "Physiology::Gastrointestinal::GI hormones",
    "Pathology",
    "Pathology::Renal",
    "Pathology::Renal::Nephritic syndrome",
    "Pathology::Hematology",
    "Pathology::Hematology::Sickle cell disease",
    "Pathology::Immune",
    "Pathology::Immune::Graft-versus-host disease",
    "Pathology::Immune::Chronic granulomatous disease",
    "Microbiology",
    "Microbiology::Bacteria",
    "Microbiology::Bacteria::Neisseria",
    "Microbiology::Bacteria::Streptococcus pyogenes",
    "Immunology",
    "Immunology::Hypersensitivity",
    "Immunology::Hypersensitivity::Type I",
    "Biostatistics",
    "Biostatistics::Hypothesis testing",
    "Biostatistics::Hypothesis testing::Type I and type II errors",
]


def matcher(
    aliases: dict[str, str] | None = None, paths: list[str] = PATHS
) -> tuple[TopicMatcher, dict[str, int]]:
    """A matcher over `paths` built as load_index builds one (leaves win a shared key)."""
    ids = {path: n for n, path in enumerate(paths, 1)}
    paths = {n: p for p, n in ids.items()}
    parent = {
        n: ids.get(topic_keys.SEPARATOR.join(topic_keys.split_path(p)[:-1])) for p, n in ids.items()
    }
    has_child = {p for p in parent.values() if p is not None}
    by_key: dict[str, int] = {}
    for t in sorted(paths, key=lambda t: (t not in has_child, t)):
        if parent[t] is not None:
            for key in topic_keys.match_keys(paths[t]):
                by_key[key] = t
    alias_ids = {topic_keys.text_key(a): ids[p] for a, p in (aliases or {}).items()}
    return TopicMatcher(paths, parent, by_key, alias_ids), ids


def named(m: TopicMatcher, texts: tuple[str, str, str]) -> str | None:
    found = m.resolve(texts)
    return None if found is None else m.paths[found]


def test_the_most_specific_text_is_the_attempt_s_own():
    assert (
        own_text(("  Metabolic acidosis ", "Acid-base disorders", "Renal")) == "Metabolic acidosis"
    )
    assert own_text(("", "Acid-base disorders", "Renal")) == "Acid-base disorders"
    assert own_text(("", "", "Renal")) == "Renal"
    assert own_text(("--", "", "")) == ""


def test_a_topic_text_that_names_a_leaf_wins_over_its_broader_texts():
    m, _ = matcher()
    texts = ("Type I hypersensitivity", "Hypersensitivity reactions", "Allergy & Immunology")
    assert named(m, texts) == "Immunology::Hypersensitivity::Type I"


def test_a_system_text_never_pulls_an_attempt_with_a_topic_up_to_the_system():
    # The CSV of the issue: subject,system,topic. "Renal" names a system; the attempt's own
    # text names nothing, so it is a gap, not a miss counted for Physiology::Renal.
    m, _ = matcher()
    assert named(m, ("Metabolic acidosis", "", "Renal")) is None


def test_an_attempt_with_only_a_system_counts_for_that_system():
    m, _ = matcher()
    assert named(m, ("", "", "Bacteria")) == "Microbiology::Bacteria"


def test_a_topic_text_learns_its_leaf_from_fuller_rows_whatever_columns_a_file_has():
    m, _ = matcher()
    m.learn([(("Metabolic acidosis", "Acid-base disorders", "Renal"), 1)])
    acid = "Physiology::Renal::Acid-base disorders"
    assert named(m, ("Metabolic acidosis", "Acid-base disorders", "Renal")) == acid  # the paste
    assert named(m, ("Metabolic acidosis", "", "Renal")) == acid  # the CSV without a category
    assert named(m, ("metabolic ACIDOSIS", "", "")) == acid  # normalized like any key


def test_a_fresh_matcher_shares_the_topic_words_and_learns_apart():
    """`fresh` (what every TopicIndex.matcher() after the first is): the topics' words are not
    worked out again, and neither learning nor remembered answers leak between the two."""
    m, _ = matcher()
    m.learn([(("Metabolic acidosis", "Acid-base disorders", "Renal"), 1)])
    assert named(m, ("Metabolic acidosis", "", "")) == "Physiology::Renal::Acid-base disorders"
    twin = m.fresh()
    assert twin._genus is m._genus and twin._genus_by_word is m._genus_by_word
    assert named(twin, ("Metabolic acidosis", "", "")) is None  # it has learned nothing
    assert named(m, ("Metabolic acidosis", "", "")) == "Physiology::Renal::Acid-base disorders"
    twin.learn([(("Metabolic acidosis", "Nephritic syndrome", ""), 1)])
    assert named(twin, ("Metabolic acidosis", "", "")) == "Pathology::Renal::Nephritic syndrome"
    assert named(m, ("Metabolic acidosis", "", "")) == "Physiology::Renal::Acid-base disorders"
    assert named(twin, ("Neisseria gonorrhoeae", "", "")) == named(
        m, ("Neisseria gonorrhoeae", "", "")
    )


def test_the_leaf_named_by_the_most_attempts_is_learned():
    m, _ = matcher()
    m.learn(
        [
            (("Metabolic acidosis", "Nephritic syndrome", ""), 1),
            (("Metabolic acidosis", "Acid-base disorders", ""), 3),
        ]
    )
    assert named(m, ("Metabolic acidosis", "", "")) == "Physiology::Renal::Acid-base disorders"


def test_a_broader_text_naming_only_a_system_teaches_nothing():
    m, _ = matcher()
    m.learn([(("Metabolic acidosis", "", "Renal"), 5)])
    assert named(m, ("Metabolic acidosis", "", "")) is None


def test_a_species_reaches_its_genus_s_topic_when_no_closer_topic_exists():
    m, _ = matcher()
    genus = "Microbiology::Bacteria::Neisseria"
    assert named(m, ("Neisseria gonorrhoeae", "Infectious diseases", "")) == genus
    assert named(m, ("Neisseria meningitidis meningitis", "", "")) == genus
    assert named(m, ("Streptococcus pyogenes pharyngitis", "", "")) == (
        "Microbiology::Bacteria::Streptococcus pyogenes"
    )
    assert named(m, ("Streptococcus agalactiae", "", "")) is None  # a genus is not a species


def test_a_leaf_named_by_a_number_reaches_only_with_its_parent():
    # "Type I" alone is no genus: "Type I error" must not land on hypersensitivity.
    m, _ = matcher()
    assert named(m, ("Type I error", "", "")) is None
    assert named(m, ("Type I hypersensitivity reaction to penicillin", "", "")) == (
        "Immunology::Hypersensitivity::Type I"
    )


def test_the_student_s_alias_wins_over_everything():
    m, _ = matcher({"Neisseria gonorrhoeae": "Pathology::Immune::Graft-versus-host disease"})
    assert named(m, ("Neisseria gonorrhoeae", "", "")) == (
        "Pathology::Immune::Graft-versus-host disease"
    )


def test_the_closest_topic_shares_an_uncommon_word_loosely():
    m, _ = matcher()
    assert m.paths[m.closest("Metabolic acidosis", ["Renal"]) or 0] == (
        "Physiology::Renal::Acid-base disorders"
    )
    assert m.paths[m.closest("Sickle cell trait") or 0] == (
        "Pathology::Hematology::Sickle cell disease"
    )


def test_a_common_word_alone_suggests_the_area_its_broader_texts_name():
    # "disease" is in three topic names: Wilson disease is not graft-versus-host disease.
    m, _ = matcher()
    assert m.paths[m.closest("Wilson disease", ["Gastrointestinal & Nutrition"]) or 0] == (
        "Physiology::Gastrointestinal"
    )
    assert m.closest("Wilson disease") is None


def test_a_generic_word_is_no_suggestion_even_in_a_small_collection():
    # An immunology deck alone: two topic names hold "disease", below COMMON, but "disease"
    # names a kind of topic, not which one.
    immunology = [p for p in PATHS if p.startswith(("Immunology", "Pathology::Immune"))]
    immunology.insert(0, "Pathology")
    m, _ = matcher(paths=immunology)
    assert m.closest("Wilson disease", ["Liver disorders"]) is None
    assert m.closest("Sickle cell disease", ["Hematology & Oncology"]) is None
    assert m.paths[m.closest("Graft rejection") or 0] == (
        "Pathology::Immune::Graft-versus-host disease"
    )


def _closest_by_every_topic(m: TopicMatcher, own: str, context: list[str]) -> int | None:
    """`closest` as first written: every topic weighed, word by word (the reference)."""
    import math

    from flashcore.core.matching import COMMON, GENERIC, _alike

    names = {
        t: frozenset(topic_keys.text_key(topic_keys.split_path(p)[-1]).split())
        for t, p in m.paths.items()
    }
    path_words = {
        t: frozenset(
            w for part in topic_keys.split_path(p) for w in topic_keys.text_key(part).split()
        )
        for t, p in m.paths.items()
    }
    frequency: dict[str, int] = {}
    for ws in names.values():
        for w in ws:
            frequency[w] = frequency.get(w, 0) + 1
    own_words = set(topic_keys.text_key(own).split())
    context_words = {w for text in context for w in topic_keys.text_key(text).split()}

    def rarity(word: str) -> float:
        return math.log(1 + (len(names) + 1) / (1 + frequency.get(word, 0)))

    mine = {w for w in own_words if frequency.get(w, 0) < COMMON and w not in GENERIC}
    best = None
    for t in m.paths:
        if m.parent.get(t) is None:
            continue
        shared = [w for w in mine if any(_alike(w, o) for o in names[t])]
        whole = sum(map(rarity, own_words | names[t]))
        score = sum(map(rarity, shared)) / whole if shared and whole else 0.0
        hits = [w for w in context_words if any(_alike(w, o) for o in path_words[t])]
        near = sum(map(rarity, hits)) / sum(map(rarity, context_words)) if hits else 0.0
        if score <= 0 and (near <= 0 or m.is_leaf(t)):
            continue
        candidate = (
            score + 0.5 * near + (10.0 if score > 0 else 0.0),
            near,
            -len(path_words[t]),
            -t,
        )
        best = candidate if best is None or candidate > best else best
    return None if best is None else -best[3]


def test_closest_and_genus_look_only_at_topics_sharing_a_word_and_find_what_every_topic_would():
    import random

    m, _ = matcher()
    vocab = sorted({w for p in PATHS for part in topic_keys.split_path(p) for w in part.split()})
    vocab += ["disease", "acidosis", "metabolism", "sickle", "type", "cell", "gonorrhoeae"]
    rng = random.Random(7)
    for _ in range(400):
        own = " ".join(rng.sample(vocab, rng.randint(1, 4)))
        context = [" ".join(rng.sample(vocab, rng.randint(1, 3))) for _ in range(rng.randint(0, 2))]
        assert m.closest(own, context) == _closest_by_every_topic(m, own, context)
        have = set(topic_keys.text_key(own).split())
        every = [t for needed, t in m._genus if needed <= have]
        assert m.genus(own) == (every[0] if every and have else None)
