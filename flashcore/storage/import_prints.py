"""The Anki imports a collection remembers (`services.anki_unchanged`), in a side file of its
media folder, `.anki-imports.json`: never the database file. The file is a cache: a lost,
stale or damaged one only costs the next re-import its shortcut (each entry holds the stamp of
the profile it was made for, checked against the database before it is used)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

PRINTS_FILE = ".anki-imports.json"
_VERSION = 1


def load_prints(folder: Path) -> dict[str, Any]:
    """The remembered entries (key -> entry); none when the file is missing or unreadable."""
    try:
        data = json.loads((folder / PRINTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def save_prints(folder: Path, entries: dict[str, Any]) -> None:
    """Write the entries whole (a temporary file renamed over the old one); silently skipped
    when the folder cannot be written (the next re-import does its work)."""
    target = folder / PRINTS_FILE
    scratch = folder / f"{PRINTS_FILE}.{os.getpid()}.tmp"
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        scratch.write_text(json.dumps({"version": _VERSION, "entries": entries}), "utf-8")
        os.replace(scratch, target)
    with contextlib.suppress(OSError):
        scratch.unlink(missing_ok=True)
