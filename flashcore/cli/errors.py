"""Errors as one line for the user: what a database error means and what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


# What a database error means for the user and what to do, by the words SQLite uses.
_DATABASE_ADVICE = (
    (("readonly", "read-only"), "the database file or its folder is read-only (flashcore also "
     "writes -wal and -shm files beside the file): make both writable; nothing was changed"),
    (("disk is full", "no space"), "the disk is full: free some space and try again; nothing "
     "was changed"),
    (("disk i/o error",), "the disk failed a read or write (full or failing?): check free space "
     "with `df -h`, then try again; nothing was changed"),
    (("malformed", "not a database", "not a usable sqlite", "missing flashcore's tables",
      "no such table"),
     "the file is damaged or not a "
     "flashcore database: check --db, then run `flashcore doctor` (it names the newest good "
     "backup); nothing was changed"),
    (("locked", "is busy"), "the database is busy: another flashcore held the write lock past "
     "the timeout; close the other window or wait for it, then try again; nothing was changed"),
)  # fmt: skip


def _database_advice(text: str) -> str | None:
    lowered = text.lower()
    for markers, advice in _DATABASE_ADVICE:
        if any(marker in lowered for marker in markers):
            return advice
    return None


def describe(exc: BaseException) -> str:
    from flashcore.core.errors import DatabaseError, FlashcoreError

    if isinstance(exc, FlashcoreError):
        text = str(exc)
        if type(exc) is DatabaseError:  # wraps SQLite's words (subclasses say it themselves)
            if text.startswith("the database is busy"):
                return _DATABASE_ADVICE[-1][1]
            advice = _database_advice(text)
            if advice is not None:
                return f"{text}: {advice}"
        return text
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    first = text[0] if text else ""
    lowered = first.lower()
    advice = _database_advice(first)
    if advice is not None:
        return f"{advice} ({first})"
    if "connection" in lowered and ("refused" in lowered or "failed" in lowered):
        return f"cannot connect to the database: {first}"
    return f"{type(exc).__name__}: {first} (run with --debug for details)"
