"""A deck or topic named on the command line by its full path, a parent of one (`Step 1`), or
a unique end of one (`--deck Immunology` for `Step 1::Immunology`, `--topic "Type I"` for
`Immunology::Hypersensitivity::Type I`). Pure: the known paths come in, the full name or a
one-line error with the candidates goes out."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from flashcore.core.errors import NotFoundError, UsageError

SEPARATOR = "::"
SHOWN = 5  # candidates named in an error


def _with_parents(paths: Iterable[str]) -> list[str]:
    found: dict[str, None] = {}
    for path in paths:
        parts = path.split(SEPARATOR)
        for depth in range(1, len(parts) + 1):
            found.setdefault(SEPARATOR.join(parts[:depth]), None)
    return list(found)


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:SHOWN])
    more = len(names) - SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def resolve(
    wanted: str,
    paths: Iterable[str],
    *,
    option: str,
    listing: str,
    normalize: Callable[[str], str] = str.casefold,
    exact: Iterable[str] = (),
) -> str:
    """`wanted` as a full path of `paths` (or a parent path): itself when it names one (or is
    one of `exact`, e.g. a deck key), else the one path it is the end of (case and spacing
    aside). Several such paths: a usage error naming them; none: an error with the closest
    names ("did you mean …"). `option` (`--deck`) and `listing` (`flashcore decks list`)
    are named in the messages."""
    if wanted in exact:
        return wanted
    every = _with_parents(paths)
    if wanted in every:
        return wanted
    key = normalize(wanted.strip())
    by_key = {normalize(p): p for p in every}
    if key in by_key:
        return by_key[key]
    ends = [p for k, p in by_key.items() if k.endswith(SEPARATOR + key)]
    if len(ends) == 1:
        return ends[0]
    if ends:
        raise UsageError(
            f"{option} {wanted!r} is the end of {len(ends)} names: {_listed(sorted(ends))}; "
            "give more of it"
        )
    leaves = {normalize(p.split(SEPARATOR)[-1]): p for p in every}
    close = difflib.get_close_matches(key, list(by_key) + list(leaves), n=SHOWN, cutoff=0.6)
    names = list(dict.fromkeys(by_key.get(c) or leaves[c] for c in close))
    hint = f"; did you mean {_listed(names)}?" if names else ""
    missing = "no deck named" if option == "--deck" else f"no {option.removeprefix('--')}"
    raise NotFoundError(f"{missing} {wanted!r}{hint} (see `{listing}`)")
