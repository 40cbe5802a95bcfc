"""Topic paths (`Immunology::Hypersensitivity::Type I`) and their normalized keys.

Normalization makes `Type I`, `type 1` and `TYPE-I` meet: case is folded, punctuation
splits words, roman numerals become numbers, plurals are made singular, and word order
is ignored (so "Type I hypersensitivity" meets the leaf plus parent "Hypersensitivity :: Type I").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from flashcore.core.text import TOPIC_CHARS, TOPIC_KEY_CHARS, name_problem

SEPARATOR = "::"
_WORD = re.compile(r"[a-z0-9]+")
_ROMAN = {
    "i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5",
    "vi": "6", "vii": "7", "viii": "8", "ix": "9", "x": "10",
}  # fmt: skip
# Filler words ignored when matching ("a" is kept: Hepatitis A is not Hepatitis B).
_STOP = {"and", "of", "the", "in", "with", "to", "for", "or"}
_KEEP_S = ("ss", "us", "is", "sis", "xis")


def split_path(path: str) -> list[str]:
    return [part.strip() for part in path.split(SEPARATOR) if part.strip()]


@lru_cache(maxsize=65536)
def clean_path(path: str) -> str:
    """The display form: parts trimmed and joined with `::`."""
    return SEPARATOR.join(split_path(path))


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(_KEEP_S):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "ses")) and not word.endswith("ases"):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def _form(word: str) -> str:
    """A folded word's normalized form ("" for a filler word)."""
    if word in _STOP:
        return ""
    return _ROMAN.get(word) or _singular(word)


# Each folded word's form, worked out once per process (a report normalizes ~6,000 topic
# texts of a few hundred distinct words); cleared if it ever grows past _FORMS_MAX.
_FORMS: dict[str, str] = {}
_FORMS_MAX = 50_000


def words(text: str) -> list[str]:
    """Normalized words of a piece of topic text."""
    if text.isascii():  # NFKD leaves ASCII as it is: only case to fold
        folded = text.lower()
    else:
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    forms = _FORMS
    out = []
    for word in _WORD.findall(folded):
        form = forms.get(word)
        if form is None:
            if len(forms) >= _FORMS_MAX:
                forms.clear()
            form = forms[word] = _form(word)
        if form:
            out.append(form)
    return out


@lru_cache(maxsize=65536)
def text_key(text: str) -> str:
    """Order-free key of topic text: `Type I hypersensitivity` -> `1 hypersensitivity type`."""
    return " ".join(sorted(_word_set(text)))


@lru_cache(maxsize=65536)
def _word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


@lru_cache(maxsize=65536)
def pair_key(parent: str, leaf: str) -> str:
    """`text_key(parent + " " + leaf)` from each part's words, worked out once per part (no
    word spans the space between them; the parts of a collection's paths repeat)."""
    return " ".join(sorted(_word_set(parent) | _word_set(leaf)))


@lru_cache(maxsize=65536)
def path_key(path: str) -> str:
    """The normalized key of a whole path, part by part (order of parts kept)."""
    return SEPARATOR.join(map(_part_key, split_path(path)))


@lru_cache(maxsize=65536)
def _part_key(part: str) -> str:
    """A path part's words, in order (the parts of a collection's paths repeat: `Immunology`
    heads hundreds of them, normalized once)."""
    return " ".join(words(part))


def match_keys(path: str) -> set[str]:
    """Keys a qbank topic text can meet this path by: the leaf, and the leaf with its parent."""
    parts = split_path(path)
    if not parts:
        return set()
    keys = {text_key(parts[-1])}
    if len(parts) >= 2:
        keys.add(pair_key(parts[-2], parts[-1]))
    keys.discard("")
    return keys


def ancestors(path: str) -> list[str]:
    """`A::B::C` -> [`A`, `A::B`] (display forms)."""
    parts = split_path(path)
    return [SEPARATOR.join(parts[:i]) for i in range(1, len(parts))]


def topic_problem(path: str) -> str | None:
    """Why `path` cannot be a topic (a control character, too long, or a key that spells out
    longer than the database holds), or None."""
    clean = clean_path(path)
    problem = name_problem(clean, TOPIC_CHARS)
    if problem is None and len(path_key(clean)) > TOPIC_KEY_CHARS:
        problem = f"spells out to a key of {len(path_key(clean)):,} characters; at most 500"
    return problem
