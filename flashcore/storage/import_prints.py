"""The Anki imports a collection remembers (`services.anki_unchanged`), in a side file of its
media folder, `.anki-imports.json`: never the database file. The file is a cache: a lost,
stale or damaged one only costs the next re-import its shortcut (each entry holds the stamp of
the profile it was made for, checked against the database before it is used)."""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

from flashcore.files import process_alive

PRINTS_FILE = ".anki-imports.json"
_VERSION = 1
# The file a write goes to before it is renamed over PRINTS_FILE: one per writing process.
_SCRATCH = re.compile(r"^" + re.escape(PRINTS_FILE) + r"\.(?P<pid>[0-9]+)\.tmp$")


def scratch_file(folder: Path, pid: int) -> Path:
    return folder / f"{PRINTS_FILE}.{pid}.tmp"


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
    scratch = scratch_file(folder, os.getpid())
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        scratch.write_text(json.dumps({"version": _VERSION, "entries": entries}), "utf-8")
        os.replace(scratch, target)
    with contextlib.suppress(OSError):
        scratch.unlink(missing_ok=True)


def remove_stale_scratch(folder: Path) -> list[Path]:
    """Delete the temporary files of writes of PRINTS_FILE into `folder` whose process is gone
    (killed between the write and the rename: the entries it held are only a cache's); a live
    process's, this one's among them, is left alone. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _SCRATCH.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or process_alive(pid):
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            continue  # another doctor removed it first
        removed.append(Path(entry.path))
    return removed
