"""Alembic reads the migration scripts once per test process, not once per command.

Every Alembic command (each upgrade, downgrade, `known_revisions()`) builds a new
ScriptDirectory, which imports all the scripts of `migrations/versions/` again. Where Python
writes no bytecode (PYTHONDONTWRITEBYTECODE, as on the shared CI machine) that compiles every
script each time: 0.15-0.2 s per command at load 6-10 against 0.03 s with bytecode, and the
suite runs over a thousand commands. The scripts' revision map is kept per folder while no
script in it changes (names, sizes and modification times); the migrations themselves still run
in full, each command with its own ScriptDirectory, environment and connection. A test that
writes a script into a folder (or another helper's new migration) changes its stamp, and the
folder is read anew.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_MAPS: dict[tuple[object, ...], Any] = {}


def _stamp(folders: list[Path], recursive: bool) -> tuple[tuple[str, int, int], ...]:
    found = []
    for folder in folders:
        walk = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
        for where, _, names in walk:
            for name in names:
                if name.endswith(".py"):
                    stat = os.stat(os.path.join(where, name))
                    found.append((os.path.join(where, name), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


def install() -> None:
    from alembic.script import ScriptDirectory

    if getattr(ScriptDirectory.from_config, "_kept_maps", False):
        return
    original = ScriptDirectory.from_config.__func__  # type: ignore[attr-defined]

    def from_config(cls: type[ScriptDirectory], config: Any) -> ScriptDirectory:
        script = original(cls, config)
        try:
            folders = list(script._version_locations)
            stamp = _stamp(folders, script.recursive_version_locations)
        except OSError:
            return script  # a folder that cannot be listed: Alembic says what is wrong
        key = (cls, script.dir, tuple(map(str, folders)), script.sourceless, stamp)
        kept = _MAPS.get(key)
        if kept is None:
            _MAPS[key] = script.revision_map
        else:
            script.revision_map = kept
        return script

    from_config._kept_maps = True  # type: ignore[attr-defined]
    ScriptDirectory.from_config = classmethod(from_config)  # type: ignore[method-assign,assignment]
