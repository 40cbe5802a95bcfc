"""Test data for the weakness side of a study week: a small deck whose question ids are made up
for these tests (never the sample logs' ids), and builders for the logs a student imports."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_deck

QID = "118154"  # listed by a card with no topics
TOPIC_QID = "118200"  # listed by a card on the acid-base topic

ACID_BASE = "Physiology::Renal::Acid-base disorders"
NEPHRON = "Physiology::Renal::Nephron physiology"
NEISSERIA = "Microbiology::Bacteria::Neisseria"
TYPE_I = "Immunology::Hypersensitivity::Type I"
TYPE_I_ERRORS = "Biostatistics::Hypothesis testing::Type I and type II errors"

DECK = f"""
[[cards]]
id = "acid-qid"
front = "Anion gap formula"
back = "Na - (Cl + HCO3)"
topics = ["{ACID_BASE}"]
qids = ["uworld:{TOPIC_QID}"]

[[cards]]
id = "acid-b"
front = "Winter's formula"
back = "1.5 x HCO3 + 8 +/- 2"
topics = ["{ACID_BASE}"]

[[cards]]
id = "nephron-a"
front = "Where is most sodium reabsorbed?"
back = "Proximal convoluted tubule"
topics = ["{NEPHRON}"]

[[cards]]
id = "neisseria-a"
front = "Which Neisseria ferments maltose?"
back = "N. meningitidis"
topics = ["{NEISSERIA}"]

[[cards]]
id = "type1-a"
front = "Which antibody mediates type I hypersensitivity?"
back = "IgE"
topics = ["{TYPE_I}"]

[[cards]]
id = "type1-b"
front = "First-line treatment of anaphylaxis?"
back = "IM epinephrine"
topics = ["{TYPE_I}"]

[[cards]]
id = "errors-a"
front = "Type I error is also called?"
back = "alpha"
topics = ["{TYPE_I_ERRORS}"]

[[cards]]
id = "plain"
front = "A card nobody missed"
back = "B"

[[cards]]
id = "qid-alone"
front = "A fact tested by question {QID}, on no topic"
back = "A"
qids = ["uworld:{QID}"]
"""


def load_deck(fc, folder: Path) -> dict[str, int]:
    """Load the deck; card ids by the card's id in the file."""
    (report,) = fc.add_decks([write_deck(folder / "week.toml", DECK, key="week")])
    assert report.ok, report.problems
    return {c["note_key"].split(":")[1]: c["card_id"] for c in fc.cards()}


def paste(*rows: tuple[str, str, str, str]) -> bytes:
    """A UWorld Test Results paste: (qid, system, category, topic) per row, all incorrect."""
    return "".join(
        f"{n} - {qid}\tSubject\t{system}\t{category}\t{topic}\t50%\t60 sec\n"
        for n, (qid, system, category, topic) in enumerate(rows, 1)
    ).encode()


def csv_log(*rows: tuple[str, str, str, str, str]) -> bytes:
    """A CSV with subject, system and topic but no category: (qid, result, date, system,
    topic) per row."""
    lines = ["question_id,result,date,subject,system,topic,source"]
    lines += [f"{q},{r},{d},Physiology,{s},{t},uworld" for q, r, d, s, t in rows]
    return ("\n".join(lines) + "\n").encode()
