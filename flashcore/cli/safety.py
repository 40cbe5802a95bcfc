"""Data-safety commands: `backup list|create|restore`, `doctor`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from flashcore.cli.context import (
    database_url,
    make_clock,
    open_collection,
)
from flashcore.cli.output import emit_json, info, say, table
from flashcore.cli.parser import (
    PROG,
    AddCommand,
    CliUsageError,
    Handler,
    Parser,
    add_verb,
    json_flag,
    needs_verb,
)
from flashcore.core.text import inert

if TYPE_CHECKING:
    pass


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def cmd_backup_list(args: argparse.Namespace) -> int:
    from flashcore.services.backup import list_backups

    found = list_backups(database_url(args))
    if args.json:
        emit_json([b.to_json() for b in found])
        return 0
    from flashcore.services.backup import automatic_status

    status = automatic_status(database_url(args))
    if not found:
        say("no backups yet: flashcore backup create")
    else:
        rows = [(b.id, f"{b.taken_at:%Y-%m-%d %H:%M:%S}", b.kind, _megabytes(b.size))
                for b in found]  # fmt: skip
        say(table(rows, ["id", "taken (UTC)", "kind", "size"]))
        say(f"\nin {found[0].path.parent}; restore one with: flashcore backup restore ID")
        if status.store_bytes:
            say(f"the snapshots (automatic) share one store: {_megabytes(status.store_bytes)} "
                "on disk")  # fmt: skip
    if status.last_failure:
        info(f"the last automatic backup failed: {status.last_failure}")
    return 0


def cmd_backup_create(args: argparse.Namespace) -> int:
    from flashcore.services.backup import create

    made = create(database_url(args), make_clock().now())
    if args.json:
        emit_json(made.to_json())
        return 0
    b = made.backup
    say(f"backup {b.id}: {b.path} ({_megabytes(b.size)}, quick_check ok)")
    if made.removed:
        say(f"pruned {len(made.removed)} old backups (kept: today, yesterday, 12 daily, "
              "10 weekly, 9 monthly)")  # fmt: skip
    return 0


def cmd_backup_restore(args: argparse.Namespace) -> int:
    from flashcore.services.backup import database_file, find, restore

    url = database_url(args)
    chosen = find(url, args.backup_id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliUsageError("restore replaces the database: add --yes to confirm")
        answer = input(
            inert(
                f"Replace {database_file(url)} with backup {chosen.id} "
                f"({chosen.taken_at:%Y-%m-%d %H:%M} UTC)? Changes made since then are undone; "
                "the current state is backed up first. [y/N] "
            )
        )
        if answer.strip().lower() not in {"y", "yes"}:
            info("nothing was changed")
            return 1
    done = restore(url, args.backup_id, make_clock().now())
    if args.json:
        emit_json(done.to_json())
        return 0
    say(f"restored {done.database} from backup {done.restored.id}")
    if done.before is not None:
        say(f"the state before the restore is backup {done.before.id}")
    if done.set_aside is not None:
        say(f"the damaged file was copied, as it was, to {done.set_aside}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from flashcore.services import doctor

    report = doctor.examine(database_url(args))
    if not report.damaged:
        with open_collection(args) as fc:
            doctor.repair(fc, report)
    if args.json:
        emit_json(report.to_json())
    elif report.damaged:
        count = len(report.integrity)
        say(f"integrity_check: {count} problem{'s' if count != 1 else ''} in {report.database}")
        for problem in report.integrity[:10]:
            say(f"  {problem}")
    else:
        checked = "ok" if report.checked else "not run (PostgreSQL checks its own pages)"
        say(f"integrity_check: {checked}")
        if report.backup is not None:
            say(f"backup before repairs: {report.backup.id}")
        for label, count in report.fixes.items():
            say(f"fixed: {count} {label}")
        for problem in report.unrepaired[:50]:
            say(f"not repaired: {problem}")
        if not report.fixes and not report.unrepaired:
            say("nothing to repair")
    if report.damaged:
        good = report.good_backup
        foreign = "not a SQLite" in report.integrity[0]
        if good is not None:
            hint = (f"restore the newest good backup ({good.taken_at:%Y-%m-%d %H:%M} UTC): "
                    f"{report.restore_command()}")  # fmt: skip
        elif foreign:
            hint = "check --db (a flashcore database is a SQLite file)"
        else:
            hint = "no good backup exists; copy the file somewhere safe before anything else"
        what = "is not a SQLite database" if foreign else "is damaged"
        info(f"{PROG}: error: {report.database} {what}; nothing was changed; {hint}")
        return 1
    return 0


def add_commands(add: AddCommand, common: Parser) -> None:
    """`backup` and `doctor`."""
    backup = add("backup", "SQLite backups: list | create | restore ID (PostgreSQL: pg_dump)",
                 "flashcore backup list", needs_verb)  # fmt: skip
    bsub = backup.add_subparsers(dest="verb", metavar="VERB")

    def verb(name: str, help_text: str, example: str, handler: Handler) -> argparse.ArgumentParser:
        p = add_verb(bsub, common, name, help_text, example, handler)
        json_flag(p)
        return p

    verb("list", "backups of this database, newest first (in backups/ beside it)",
         "flashcore backup list --json", cmd_backup_list)  # fmt: skip
    verb("create", "back up now (checked with quick_check; old backups pruned)",
         "flashcore backup create   # writes a copy beside the database", cmd_backup_create)  # fmt: skip
    p = verb("restore", "replace the database with a backup; the current state is backed up "
             "first", "flashcore backup list   # find the backup's id first\n"
             "flashcore backup restore 20261125-090000   # replaces the database (asks first; "
             "an example id)", cmd_backup_restore)  # fmt: skip
    p.add_argument("backup_id", metavar="ID", help="an id from `flashcore backup list`")
    p.add_argument("--yes", action="store_true", help="restore without asking")

    p = add("doctor", "check the database's integrity and repair what a crash can leave "
            "(orphan rows, impossible due dates, broken text, cards that disagree with their "
            "log); a damaged database is only reported",
            "flashcore doctor   # repairs what it finds, after a backup",
            cmd_doctor)  # fmt: skip
    json_flag(p)
