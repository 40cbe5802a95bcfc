"""Small file-system helpers shared by the storage layer (backups) and the exporters (packages):
both write a temporary file, make it durable and rename it over the target."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's, after a rename) contents to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def process_alive(pid: int) -> bool:
    """Whether another process with this id is running (a temporary file named after a dead
    process is a killed writer's leftover)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def umask() -> int:
    """This process's umask, read without changing it where Linux tells it (/proc), else by
    setting and restoring it (a moment in which another thread's new file would get 0o022)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode a new file gets here: 0o666 less the umask (as `open()` would give it)."""
    return 0o666 & ~umask()


def create_like(path: Path, model: Path) -> None:
    """Create `path` empty (or empty it) with no permission that `model` lacks, before anything
    is written to it: a copy of a database is never readable by more people than the database
    (a backup of a 0600 file is 0600, whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        allowed = model.stat().st_mode & 0o666
    except OSError:
        allowed = new_file_mode()
    os.chmod(path, allowed & new_file_mode())
