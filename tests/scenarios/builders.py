"""Test data for the study scenarios: the scenario's own decks (topics, cloze siblings and
question ids in a namespace of their own, so no shipped deck's content moves the numbers) and
the question-bank logs a student would import, in the three formats a student has.

Everything is pure and seeded: the same seed gives the same decks and the same logs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# subject -> system (the qbank's "system" column) -> middle topic -> leaf topics
TREE: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "Cardiology": (
        "Cardiovascular System",
        {
            "Heart failure": ("Systolic dysfunction", "Diastolic dysfunction"),
            "Valvular disease": ("Aortic stenosis", "Mitral regurgitation"),
            "Arrhythmias": ("Atrial fibrillation",),
        },
    ),
    "Nephrology": (
        "Renal & Urinary System",
        {
            "Acid-base": ("Metabolic acidosis", "Respiratory alkalosis"),
            "Glomerular disease": ("Nephrotic syndrome", "Nephritic syndrome"),
        },
    ),
    "Microbiology": (
        "Infectious Diseases",
        {
            "Bacteria": ("Staphylococcus aureus", "Clostridioides difficile"),
            "Viruses": ("Hepatitis B virus", "Influenza virus"),
        },
    ),
}
DECK_KEYS = {"Cardiology": "sc-cardio", "Nephrology": "sc-renal", "Microbiology": "sc-micro"}
UNMATCHED = ("Porphyria cutanea tarda", "Lesch-Nyhan syndrome", "Wernicke encephalopathy")


@dataclass(frozen=True, slots=True)
class Leaf:
    subject: str
    system: str
    middle: str
    leaf: str
    qids: tuple[str, ...]  # question ids listed by this leaf's cards (without the bank prefix)

    @property
    def path(self) -> str:
        return f"{self.subject}::{self.middle}::{self.leaf}"


def leaves(notes_per_leaf: int = 5) -> list[Leaf]:
    out = []
    number = 0
    for subject, (system, middles) in TREE.items():
        for middle, names in middles.items():
            for name in names:
                qids = tuple(f"71{number:02d}{i}" for i in range(min(2, notes_per_leaf)))
                out.append(Leaf(subject, system, middle, name, qids))
                number += 1
    return out


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_decks(folder: Path, notes_per_leaf: int = 5) -> list[Path]:
    """One deck per subject, `Scenario::<Subject>` (cloze notes with two deletions: siblings),
    plus `Scenario::Micro::Extra` nested in a parent that is not a deck, and `Loose` with no
    topics at all. Some notes list question ids (`uworld:71…`), two notes list one but have no
    topic."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    by_subject: dict[str, list[Leaf]] = {}
    for leaf in leaves(notes_per_leaf):
        by_subject.setdefault(leaf.subject, []).append(leaf)
    for subject, subject_leaves in by_subject.items():
        key = DECK_KEYS[subject]
        lines = [f"[deck]\nname = {_toml('Scenario::' + subject)}\nkey = {_toml(key)}\n"]
        for leaf in subject_leaves:
            for i in range(notes_per_leaf):
                local = f"{leaf.leaf.lower().replace(' ', '-')}-{i}"
                lines.append("[[cards]]")
                lines.append(f"id = {_toml(local)}")
                if i % 3 == 2:
                    text = leaf.leaf + f" fact {i}: {{{{c1::first}}}} and {{{{c2::second}}}}."
                    lines.append(f"cloze = {_toml(text)}")
                else:
                    lines.append(f"front = {_toml(f'{leaf.leaf}: question {i}?')}")
                    lines.append(f"back = {_toml(f'{leaf.leaf}: answer {i}')}")
                lines.append(f"topics = [{_toml(leaf.path)}]")
                if i < len(leaf.qids):
                    lines.append(f"qids = [{_toml('uworld:' + leaf.qids[i])}]")
                lines.append("")
        if subject == "Microbiology":
            lines.append('[[cards]]\nid = "qid-only"\nfront = "A card with a qid, no topic?"\n'
                         'back = "yes"\nqids = ["uworld:7199"]\n')  # fmt: skip
        path = folder / f"{key}.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    extra = ['[deck]\nname = "Scenario::Micro::Extra"\nkey = "sc-extra"\n']
    for i in range(notes_per_leaf * 2):
        extra.append(f'[[cards]]\nid = "x{i}"\nfront = "Extra {i}?"\nback = "Extra answer {i}"\n'
                     'topics = ["Microbiology::Bacteria::Staphylococcus aureus"]\n')  # fmt: skip
    path = folder / "sc-extra.toml"
    path.write_text("\n".join(extra), encoding="utf-8")
    paths.append(path)
    loose = ['[deck]\nname = "Loose"\nkey = "loose"\n']
    for i in range(notes_per_leaf * 2):
        loose.append(f'[[cards]]\nid = "l{i}"\ncloze = "Loose {{{{c1::fact}}}} {i}"\n')
    path = folder / "loose.toml"
    path.write_text("\n".join(loose), encoding="utf-8")
    paths.append(path)
    return paths


@dataclass(frozen=True, slots=True)
class Attempt:
    qid: str
    correct: bool
    leaf: Leaf | None  # None: a topic the decks do not have


def qbank_block(
    rng: random.Random, weak: set[str], size: int, notes_per_leaf: int
) -> list[Attempt]:
    """One qbank block: weak leaves are asked often and missed often; some questions are on
    topics the decks do not have; some are questions a card lists by id."""
    pool = leaves(notes_per_leaf)
    out = []
    for _ in range(size):
        if rng.random() < 0.08:
            out.append(Attempt(f"79{rng.randrange(1000):03d}", rng.random() < 0.4, None))
            continue
        weights = [4.0 if leaf.path in weak else 1.0 for leaf in pool]
        leaf = rng.choices(pool, weights)[0]
        miss_rate = 0.65 if leaf.path in weak else 0.2
        qid = (
            rng.choice(leaf.qids)
            if leaf.qids and rng.random() < 0.3
            else f"72{rng.randrange(10_000):04d}"
        )
        out.append(Attempt(qid, rng.random() >= miss_rate, leaf))
    return out


def uworld_paste(attempts: list[Attempt], rng: random.Random) -> bytes:
    """UWorld's Test Results table, incorrect rows only (as a student pastes them)."""
    rows = []
    for n, a in enumerate((a for a in attempts if not a.correct), 1):
        if a.leaf is None:
            subject, system, category, topic = "Biochemistry", "Miscellaneous", "Metabolism", ""
            topic = UNMATCHED[int(a.qid) % len(UNMATCHED)]
        else:
            subject, system = a.leaf.subject, a.leaf.system
            category, topic = a.leaf.middle, a.leaf.leaf
        rows.append(f"{n} - {a.qid}\t{subject}\t{system}\t{category}\t{topic}\t"
                    f"{rng.randrange(30, 90)}%\t{rng.randrange(30, 150)} sec")  # fmt: skip
    return ("\n".join(rows) + "\n").encode()


def csv_log(attempts: list[Attempt], on: date) -> bytes:
    """A CSV export with correct and incorrect answers."""
    lines = ["question_id,result,date,subject,system,topic,source"]
    for a in attempts:
        if a.leaf is None:
            subject, system = "Biochemistry", "Miscellaneous"
            topic = UNMATCHED[int(a.qid) % len(UNMATCHED)]
        else:
            subject, system, topic = a.leaf.subject, a.leaf.system, a.leaf.leaf
        result = "correct" if a.correct else "incorrect"
        lines.append(f"{a.qid},{result},{on.isoformat()},{subject},{system},{topic},uworld")
    return ("\r\n".join(lines) + "\r\n").encode()


def qid_list(attempts: list[Attempt]) -> bytes:
    """The "copy incorrect ids" list: one id a line, misses only."""
    return ("\n".join(a.qid for a in attempts if not a.correct) + "\n").encode()
