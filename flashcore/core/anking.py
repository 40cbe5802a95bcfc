"""AnKing's tag conventions: which tags are question ids, which are topics. Pure.

AnKing tags are hierarchical (`::`), under a version root such as `#AK_Step1_v12`:

| tag (after the version root)                     | becomes                   |
|--------------------------------------------------|---------------------------|
| `#UWorld::Step::118154`                          | qid `uworld:118154`       |
| `#UWorld::COMLEX::1234` (another exam)           | qid `uworld-comlex:1234`  |
| `#UWorld::1000-9999::3000-3999::03456` (v11)     | qid `uworld:3456`         |
| `#AMBOSS::-aaDMQ`                                | qid `amboss:-aaDMQ`       |
| `#NBME::Form25::17`                              | qid `nbme:form25-17`      |
| `^Systems::Cardiovascular::Heart_failure`        | topic `Cardiovascular::Heart failure` (family `systems`) |
| `#B&B::…`, `#Pathoma::…`, `#FirstAid::…`, `#Sketchy…::…` | topic `B&B::…`, `Pathoma::…`, `First Aid::…`, `Sketchy Pharm::…` |
| `flashcore::Immunology::Type_I` (flashcore's own export) | topic `Immunology::Type I`, always; not kept as a tag |

Every tag stays a tag as well (so an export carries it back unchanged), but for the
`flashcore::` branch: flashcore's export writes each note's topics there, so a package that went
to Anki and came back (or a classmate's export) gives its notes those topics again, whatever
families are chosen, and the export writes them anew. The families that become topics are the
student's choice (setting `anki_topic_tags`). UWorld's Step ids never
start with 0, so v11's zero-padded ids are read as numbers; COMLEX ids collide with Step ids
and are kept under a source of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from flashcore.core.topics import clean_path, topic_problem


class TopicFamily(StrEnum):
    SYSTEMS = "systems"  # ^Systems::…
    BNB = "bnb"  # #B&B::… (Boards and Beyond)
    PATHOMA = "pathoma"
    FIRSTAID = "firstaid"
    SKETCHY = "sketchy"  # #Sketchy…::… (Micro, Pharm, Path)


ALL_FAMILIES = frozenset(TopicFamily)
UWORLD, COMLEX, AMBOSS, NBME = "uworld", "uworld-comlex", "amboss", "nbme"
EXPORT_ROOT = "#AK_Step1_v12"  # the version root written on export (AnKing's current deck)

_VERSION_ROOT = re.compile(r"#?AK_[A-Za-z0-9]+_v\d+\Z", re.IGNORECASE)
_NUMBER = re.compile(r"[0-9]{1,18}\Z")
_BUCKET = re.compile(r"[0-9]+-[0-9]+\Z")
_AMBOSS_ID = re.compile(r"[A-Za-z0-9_-]{3,20}\Z")
_FORM = re.compile(r"(?:form)?[ _-]*([0-9]{1,3})\Z", re.IGNORECASE)
_ORDER_PREFIX = re.compile(r"^[0-9]{1,3}[_.]+(?=\D)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_FAMILY_ROOTS = {
    "^systems": TopicFamily.SYSTEMS,
    "#b&b": TopicFamily.BNB,
    "#bnb": TopicFamily.BNB,
    "#boards_and_beyond": TopicFamily.BNB,
    "#pathoma": TopicFamily.PATHOMA,
    "#firstaid": TopicFamily.FIRSTAID,
    "#first_aid": TopicFamily.FIRSTAID,
}
_FAMILY_NAMES = {
    TopicFamily.BNB: "B&B",
    TopicFamily.PATHOMA: "Pathoma",
    TopicFamily.FIRSTAID: "First Aid",
}


@dataclass(frozen=True, slots=True)
class TagReading:
    """What a note's tags say: question ids (`source:id`) and topic paths, each once."""

    qids: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


def parse_families(text: str) -> frozenset[TopicFamily]:
    """`systems, pathoma` -> those families; `all` every one; `none` (or empty) none.
    ValueError names an unknown family."""
    words = [w for w in re.split(r"[\s,]+", text.strip().lower()) if w]
    if words == ["all"]:
        return ALL_FAMILIES
    if words in ([], ["none"]):
        return frozenset()
    known = {f.value for f in TopicFamily}
    unknown = [w for w in words if w not in known]
    if unknown:
        raise ValueError(f"unknown tag family {unknown[0]!r}: use {', '.join(sorted(known))}")
    return frozenset(TopicFamily(w) for w in words)


def _parts(tag: str) -> list[str]:
    parts = [p.strip() for p in tag.split("::")]
    if parts and _VERSION_ROOT.match(parts[0]):
        parts = parts[1:]
    return [p for p in parts if p]


def question_id(tag: str) -> str | None:
    """The question id an AnKing tag names, as `source:id`, or None."""
    parts = _parts(tag)
    if len(parts) < 2:
        return None
    root, leaf = parts[0].lower(), parts[-1]
    if root == "#uworld":
        if not _NUMBER.match(leaf):
            return None
        middle = [p.lower() for p in parts[1:-1]]
        if middle and middle[0] == "comlex":
            return f"{COMLEX}:{int(leaf)}"
        if middle and middle[0].startswith("step"):
            return f"{UWORLD}:{int(leaf)}"
        if all(_BUCKET.match(p) for p in middle):  # v11's buckets, or none
            return f"{UWORLD}:{int(leaf)}"
        return None
    if root == "#amboss" and len(parts) == 2 and _AMBOSS_ID.match(leaf):
        return f"{AMBOSS}:{leaf}"
    if root == "#nbme" and len(parts) == 3 and _NUMBER.match(leaf):
        form = _FORM.match(parts[1])
        if form is not None:
            return f"{NBME}:form{int(form.group(1))}-{int(leaf)}"
    return None


def is_uworld_tag(tag: str) -> bool:
    parts = _parts(tag)
    return bool(parts) and parts[0].lower() == "#uworld"


def _family(root: str) -> TopicFamily | None:
    key = root.lower()
    if key in _FAMILY_ROOTS:
        return _FAMILY_ROOTS[key]
    if key.startswith("#sketchy"):
        return TopicFamily.SKETCHY
    return None


def _topic_part(part: str) -> str:
    return " ".join(_ORDER_PREFIX.sub("", part).replace("_", " ").split())


OWN_ROOT = "flashcore"  # the branch flashcore's export writes a note's topics under


def is_own_topic_tag(tag: str) -> bool:
    """A tag of flashcore's `flashcore::` branch (its export of a note's topics)."""
    return tag[:11].lower() == OWN_ROOT + "::"


def topic_path(tag: str, families: frozenset[TopicFamily]) -> str | None:
    """The topic an AnKing tag of one of `families` stands for (or a `flashcore::` tag, its
    topic whatever the families), or None."""
    parts = _parts(tag)
    if len(parts) < 2:
        return None
    if is_own_topic_tag(tag):
        path = clean_path("::".join(" ".join(p.replace("_", " ").split()) for p in parts[1:]))
        return path if path and topic_problem(path) is None else None
    family = _family(parts[0])
    if family is None or family not in families:
        return None
    if family is TopicFamily.SYSTEMS:
        names = [_topic_part(p) for p in parts[1:]]
    elif family is TopicFamily.SKETCHY:
        root = _CAMEL.sub(" ", parts[0].lstrip("#")).replace("_", " ")
        names = [" ".join(root.split()), *(_topic_part(p) for p in parts[1:])]
    else:
        names = [_FAMILY_NAMES[family], *(_topic_part(p) for p in parts[1:])]
    path = clean_path("::".join(n for n in names if n))
    if not path or topic_problem(path) is not None:
        return None
    return path


def read_tags(tags: tuple[str, ...], families: frozenset[TopicFamily]) -> TagReading:
    qids: dict[str, None] = {}
    topics: dict[str, None] = {}
    for tag in tags:
        qid, path = _read_tag(tag, families)
        if qid is not None:
            qids[qid] = None
        elif path is not None:
            topics[path] = None
    return TagReading(tuple(qids), tuple(topics))


@lru_cache(maxsize=65_536)
def _read_tag(tag: str, families: frozenset[TopicFamily]) -> tuple[str | None, str | None]:
    """A tag's question id, else its topic (a deck's notes share most tags: read once)."""
    qid = question_id(tag)
    if qid is not None:
        return qid, None
    return None, topic_path(tag, families)


def qid_tag(qid: str) -> str | None:
    """The AnKing tag of a question id (`uworld:118154` ->
    `#AK_Step1_v12::#UWorld::Step::118154`), or None for a bank AnKing does not tag."""
    source, _, number = qid.partition(":")
    if not number:
        source, number = UWORLD, source
    source = source.strip().lower()
    if source == UWORLD:
        return f"{EXPORT_ROOT}::#UWorld::Step::{number}"
    if source == COMLEX:
        return f"{EXPORT_ROOT}::#UWorld::COMLEX::{number}"
    if source == AMBOSS:
        return f"{EXPORT_ROOT}::#AMBOSS::{number}"
    if source == NBME:
        form = re.fullmatch(r"form([0-9]+)-([0-9]+)", number)
        if form is not None:
            return f"{EXPORT_ROOT}::#NBME::Form{form.group(1)}::{form.group(2)}"
        return f"{EXPORT_ROOT}::#NBME::{number}"
    return None
