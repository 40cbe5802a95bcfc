"""Fields and tags as Anki takes them: no control characters, tags without spaces, topics under
one `flashcore::` branch, question ids in AnKing's form."""

from __future__ import annotations

import html
import itertools
import re
from functools import lru_cache

from flashcore.core import anking
from flashcore.exporters.anki.values import ExportNote

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


_FIELD_TROUBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


_SURROGATE = re.compile("[\ud800-\udfff]")


_TAG_DROP = re.compile('["\x00-\x1f\x7f-\x9f\ud800-\udfff]')


_WHITESPACE = re.compile(r"\s+")


_TAG_WORK = re.compile(r'[\s"\x00-\x1f\x7f-\x9f\ud800-\udfff]|\A::|::\Z|::::|\A\Z')


_QBANKS = {"uworld": "UWorld", "amboss": "AMBOSS", "nbme": "NBME"}


def clean_field(text: str, *, is_html: bool) -> str:
    """Field text as Anki should store it (see the module docstring)."""
    if _FIELD_TROUBLE.search(text):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))
    if not is_html:
        text = html.escape(text, quote=False).replace("\n", "<br>")
    return text


@lru_cache(maxsize=8192)
def clean_tag(tag: str) -> str:
    """A tag Anki accepts: whitespace inside a part becomes `_`; quotes, control characters
    and empty `::` parts are dropped."""
    if not _TAG_WORK.search(tag):
        return tag
    tag = _TAG_DROP.sub("", _WHITESPACE.sub(" ", tag))
    parts = (part.strip() for part in tag.split("::"))
    return "::".join(part.replace(" ", "_") for part in parts if part)


def qid_tag(qid: str) -> str:
    """A question id as AnKing tags it (`uworld:118154` ->
    `#AK_Step1_v12::#UWorld::Step::118154`; core.anking), so Anki-side searches and add-ons
    find it; a bank AnKing does not tag as `#<bank>::<id>`."""
    ankings = anking.qid_tag(qid)
    if ankings is not None:
        return clean_tag(ankings)
    source, _, number = qid.partition(":")
    if not number:
        source, number = "uworld", source
    source = source.strip()
    return clean_tag(f"#{_QBANKS.get(source.lower(), source)}::{number}")


TOPIC_TAG_ROOT = "flashcore"  # topics are tagged under this branch of Anki's tag tree


def topic_tag(topic: str) -> str:
    """`Immunology::Hypersensitivity::Type I` -> `flashcore::Immunology::Hypersensitivity::Type_I`."""
    return clean_tag(f"{TOPIC_TAG_ROOT}::{topic}")


@lru_cache(maxsize=65_536)
def _names_qid(tag: str) -> str | None:
    return anking.question_id(tag)


def note_tags(note: ExportNote) -> list[str]:
    """The note's Anki tags: its tags, its topics (under `flashcore::`), its qids (where
    Anki tools look for them; not again when one of its tags already names the qid, in
    another of AnKing's forms such as v11's buckets); unique, in that order."""
    out: list[str] = []
    seen: set[str] = set()
    named = {_names_qid(t) for t in note.tags} if note.qids and note.tags else set()
    candidates = itertools.chain(
        (clean_tag(t) for t in note.tags),
        (topic_tag(t) for t in note.topics),
        (qid_tag(q) for q in note.qids if q not in named),
    )
    for tag in candidates:
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            out.append(tag)
    return out
