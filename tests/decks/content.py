"""The bundled decks as data: every note of `decks/*.toml`, and the card rules of issue 18 that a
program can check (the rest of the rules need a reader). Used by the tests in this folder and by
`python -m tests.decks.report`."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flashcore.core import cloze
from flashcore.core import topics as topic_keys
from flashcore.core.errors import DeckFormatError
from flashcore.core.model import DeckSpec, NoteKind, NoteSpec
from flashcore.importers.deck_toml import parse_deck_file

DECKS = Path(__file__).resolve().parents[2] / "decks"

DISCIPLINES = frozenset({
    "Anatomy", "Behavioral science", "Biochemistry", "Biostatistics", "Genetics", "Histology",
    "Immunology", "Microbiology", "Pathology", "Pharmacology", "Physiology",
})  # fmt: skip

# Answers that are one of two (or three) opposite choices: such a deletion needs a hint
# (`{{c1::increased::increased/decreased}}`), or the blank alone does not say what is asked.
BINARY_ANSWERS = frozenset({
    "increase", "increases", "increased", "decrease", "decreases", "decreased",
    "induce", "induces", "induced", "inducer", "inhibit", "inhibits", "inhibited", "inhibitor",
    "stimulates", "suppresses", "activates", "inactivates", "agonist", "antagonist",
    "positive", "negative", "left", "right", "high", "higher", "low", "lower", "elevated",
    "reduced", "raised", "up", "down", "more", "less", "greater", "smaller", "larger",
    "above", "below", "before", "after", "true", "false", "yes", "no", "normal", "unchanged",
    "no change", "does not change", "same", "direct", "indirect", "proximal", "distal",
    "upper", "superior", "inferior", "anterior", "posterior", "medial", "lateral",
    "acidosis", "alkalosis", "constriction", "dilation", "vasoconstriction", "vasodilation",
    "depolarization", "hyperpolarization", "sensitive", "resistant", "into", "out of",
})  # fmt: skip

MIN_GIVEAWAY_CHARS = 4  # shorter answers ("A", "IgE" in "IgE-mediated") are too often innocent


@dataclass(frozen=True, slots=True)
class Deck:
    path: Path
    spec: DeckSpec | None  # None when the file does not load
    problems: tuple[str, ...] = ()  # load problems, `path:line: message`

    @property
    def notes(self) -> tuple[NoteSpec, ...]:
        return self.spec.notes if self.spec is not None else ()


def deck_files(folder: Path = DECKS) -> list[Path]:
    return sorted(folder.glob("*.toml"))


def load(path: Path) -> Deck:
    try:
        return Deck(path, parse_deck_file(path))
    except DeckFormatError as exc:
        return Deck(path, None, tuple(str(p) for p in exc.problems))


def load_all(folder: Path = DECKS) -> list[Deck]:
    return [load(p) for p in deck_files(folder)]


def all_notes(decks: Iterable[Deck]) -> list[NoteSpec]:
    return [n for d in decks for n in d.notes]


# ---------------------------------------------------------------- cloze helpers


@dataclass(frozen=True, slots=True)
class Deletion:
    ordinal: int
    answer: str
    hint: str | None


_DELETION = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)


def deletions(text: str) -> list[Deletion]:
    return [Deletion(int(m.group(1)), m.group(2), m.group(3)) for m in _DELETION.finditer(text)]


def visible_text(text: str, ordinal: int) -> str:
    """What the front of card `ordinal` shows, its own blank (and hint) left out: the hint of a
    binary deletion names the answer on purpose."""
    return "".join(s.text for s in cloze.render(text, ordinal, reveal=False) if s.role == "text")


def _answer_forms(answer: str) -> set[str]:
    """The answer, and the parts around a parenthesis (`Bruton tyrosine kinase (BTK)`)."""
    forms = {answer.strip()}
    outside = re.sub(r"\([^)]*\)", " ", answer)
    forms.add(" ".join(outside.split()))
    forms.update(m.strip() for m in re.findall(r"\(([^)]*)\)", answer))
    return {f for f in forms if len(f) >= MIN_GIVEAWAY_CHARS}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9+/-]+", " ", text.lower()).split())


def _contains(haystack: str, needle: str) -> bool:
    """Whole-word, case-insensitive containment."""
    return (
        re.search(rf"(?<![a-z0-9]){re.escape(_norm(needle))}(?![a-z0-9])", _norm(haystack))
        is not None
    )


# ---------------------------------------------------------------- the rules


@dataclass(frozen=True, slots=True)
class Violation:
    path: Path
    line: int | None
    note: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}: {self.note}: {self.rule}: {self.detail}"


def note_violations(path: Path, note: NoteSpec) -> list[Violation]:
    out: list[Violation] = []

    def add(rule: str, detail: str) -> None:
        out.append(Violation(path, note.line, note.local_id, rule, detail))

    if note.qids:
        add("qids", f"shipped cards carry no question ids ({', '.join(note.qids)})")
    if not 1 <= len(note.topics) <= 2:
        add("topics", f"{len(note.topics)} topics (1-2 wanted)")
    for topic in note.topics:
        parts = topic_keys.split_path(topic)
        if len(parts) != 3:
            add("topics", f"'{topic}' is not Discipline::System or area::Leaf")
        elif parts[0] not in DISCIPLINES:
            add("topics", f"'{topic}': '{parts[0]}' is not one of the disciplines")
    if note.kind is NoteKind.CLOZE:
        text = note.fields["text"]
        for d in deletions(text):
            shown = visible_text(text, d.ordinal)
            for form in sorted(_answer_forms(d.answer)):
                if _contains(shown, form):
                    add("answer shown", f"c{d.ordinal} answer '{form}' is visible on its own card")
                    break
            if d.hint is None and _norm(d.answer) in BINARY_ANSWERS:
                add("binary without hint", f"c{d.ordinal} '{d.answer}' needs a hint (a/b)")
    else:
        front, back = note.fields.get("front", ""), note.fields.get("back", "")
        if len(back.strip()) >= MIN_GIVEAWAY_CHARS and _contains(front, back.strip()):
            add("answer shown", f"the back '{back.strip()}' is in the front")
    return out


def violations(decks: Iterable[Deck]) -> list[Violation]:
    decks = list(decks)
    out: list[Violation] = []
    for deck in decks:
        for problem in deck.problems:
            out.append(Violation(deck.path, None, "-", "does not load", problem))
        ids = Counter(n.local_id for n in deck.notes)
        for note in deck.notes:
            out.extend(note_violations(deck.path, note))
            if ids[note.local_id] > 1:
                out.append(Violation(deck.path, note.line, note.local_id, "id", "id not unique"))
    keys = Counter(d.spec.key for d in decks if d.spec is not None)
    for deck in decks:
        if deck.spec is not None and keys[deck.spec.key] > 1:
            out.append(Violation(deck.path, None, "-", "deck key", f"'{deck.spec.key}' twice"))
    return out


def cloze_share(notes: Iterable[NoteSpec]) -> float:
    notes = list(notes)
    return sum(n.kind is NoteKind.CLOZE for n in notes) / len(notes) if notes else 0.0


def topic_counts(decks: Iterable[Deck]) -> Counter[str]:
    """Notes per topic path."""
    return Counter(t for d in decks for n in d.notes for t in dict.fromkeys(n.topics))


def ambiguous_leaves(decks: Iterable[Deck]) -> dict[str, list[str]]:
    """Match keys (leaf, leaf + parent) that more than one topic path answers to: a qbank row with
    that text can reach only one of them."""
    by_key: dict[str, set[str]] = defaultdict(set)
    for path in topic_counts(decks):
        for key in topic_keys.match_keys(path):
            by_key[key].add(path)
    return {k: sorted(v) for k, v in sorted(by_key.items()) if len(v) > 1}
