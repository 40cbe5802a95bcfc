"""What every command starts from: the clock (FLASHCORE_NOW), the time zone, the profile and the
collection it opens, and the work left for when the command is done (the automatic backup)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING

from flashcore.cli.output import info
from flashcore.cli.parser import PROG, CliUsageError

if TYPE_CHECKING:
    from flashcore.core.clock import Clock
    from flashcore.services.collection import Flashcore


def make_clock() -> Clock:
    """The wall clock, or the instant in FLASHCORE_NOW (ISO 8601 with offset) for the process."""
    from flashcore.core.clock import FixedClock, SystemClock, parse_instant

    frozen = os.environ.get("FLASHCORE_NOW")
    if frozen:
        try:
            return FixedClock(parse_instant(frozen))
        except ValueError as exc:
            raise CliUsageError(f"FLASHCORE_NOW: {exc}") from None
    return SystemClock()


def system_timezone() -> str:
    """The machine's IANA timezone name (TZ, /etc/timezone or /etc/localtime), else UTC."""
    from zoneinfo import ZoneInfo

    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if not name:
            continue
        try:
            ZoneInfo(name)
            return name
        except (ValueError, KeyError, OSError):
            continue
    return "UTC"


def open_collection(
    args: argparse.Namespace,
    *,
    create: bool = False,
    profile: str | None = None,
    daily_check: bool = True,
    checked: bool = False,
) -> Flashcore:
    """The collection the command works on. `checked`: `startup_check` already ran for it in
    this process (`checked_file`: a command that tried the driver-only read first)."""
    from flashcore.services.collection import Flashcore, resolve_url
    from flashcore.services.health import startup_check
    from flashcore.storage.db import sqlite_path

    given = args.db or os.environ.get("FLASHCORE_DB") or None
    clock = make_clock()
    path = sqlite_path(resolve_url(given)[0])
    if path is not None and not checked:  # after a crash, or once a day: PRAGMA quick_check
        startup_check(path, clock.now(), daily=daily_check)
    fc = Flashcore.open(
        given,
        clock=clock,
        profile=profile or selected_profile(args),
        create=create,
        timezone=system_timezone(),
    )
    for warning in fc.warnings:
        info(f"{PROG}: warning: {warning}")
    # A one-shot command: what is loaded by now (SQLAlchemy, fsrs, the engine) lives until the
    # process ends, so keep the cyclic collector from walking it again and again.
    gc.freeze()
    resume_collector()
    _OPENED.append(fc)
    return fc


def checked_file(args: argparse.Namespace) -> Path | None:
    """For a command that may read the SQLite file with the driver alone: the file the
    collection is in, when certain without SQLAlchemy (`services.weakness_light.database_file`),
    after the health check `open_collection` makes first (which raises the same way); None for
    anything else (the command opens the collection). Pass `checked=True` to `open_collection`
    when this returned a file."""
    from flashcore.services.health import startup_check
    from flashcore.services.weakness_light import database_file

    path = database_file(args.db or os.environ.get("FLASHCORE_DB") or None)
    if path is not None:
        startup_check(path, make_clock().now(), daily=True)
    return path


def read_light(path: Path) -> None:
    """A driver-only read of `path` answered the command: when it is done, the automatic
    backup is scheduled as for an opened collection (`after_commands`)."""
    _READ.append(path)


_READ: list[Path] = []  # SQLite files read driver-only, for `after_commands`
_PAUSED: list[bool] = []  # main() paused the cyclic collector (see pause_collector)


def pause_collector() -> None:
    """Keep the cyclic collector from walking the objects a command's imports make (~0.1 CPU-s
    of each command's start: SQLAlchemy and flashcore are ~100,000 objects that live until the
    process ends) until `open_collection` has frozen them or the command is done."""
    if gc.isenabled():
        gc.disable()
        _PAUSED.append(True)


def resume_collector() -> None:
    if _PAUSED:
        _PAUSED.clear()
        gc.enable()


_OPENED: list[Flashcore] = []  # collections this process opened, for `after_commands`


def after_commands() -> None:
    """When a command is done (its output written): start the automatic backup in the
    background if one is due (something changed since the newest backup, which is over 30
    minutes old), so that every day with a change gets one whichever commands the student
    runs. The check costs a few ms; the backup runs on after this process ends."""
    while _READ:  # read with the driver alone (`read_light`): nothing else to load
        from flashcore.core.errors import FlashcoreError
        from flashcore.services.weakness_light import schedule_backup as schedule_file_backup

        with contextlib.suppress(FlashcoreError, OSError):  # the next command tries again
            schedule_file_backup(_READ.pop(), make_clock().now())
    if not _OPENED:  # nothing opened (--help, a usage error): nothing to import
        return
    from sqlalchemy.exc import SQLAlchemyError  # loaded with the collection

    from flashcore.core.errors import FlashcoreError
    from flashcore.services.backup import schedule_backup

    while _OPENED:
        fc = _OPENED.pop()
        try:
            schedule_backup(fc, "automatic")
        except (FlashcoreError, OSError, SQLAlchemyError):
            pass  # the command is done; the next one tries again
        finally:
            fc.engine.dispose()


def selected_profile(args: argparse.Namespace) -> str:
    given, source = args.profile, "--profile"
    if not given:
        given, source = os.environ.get("FLASHCORE_PROFILE"), "FLASHCORE_PROFILE"
    name = (given or "default").strip()
    if not name:  # said so, not "no profile ''" with a command that cannot be typed
        raise CliUsageError(f"{source} is blank: name a profile (see `flashcore profiles list`)")
    return name


def database_url(args: argparse.Namespace) -> str:
    """The database URL a command would open, without opening it (it may be damaged)."""
    from flashcore.services.collection import resolve_url

    return resolve_url(args.db or os.environ.get("FLASHCORE_DB") or None)[0]


def resolve_scope(args: argparse.Namespace, fc: Flashcore) -> None:
    """`--deck` and `--topic` as their full names (a unique end of one is enough:
    `--deck Immunology`, `--topic "Type I"`); an unknown one says what it may have meant."""
    from flashcore.services.decks import resolve_scope as resolve

    args.deck, args.topic = resolve(fc, getattr(args, "deck", None), getattr(args, "topic", None))
