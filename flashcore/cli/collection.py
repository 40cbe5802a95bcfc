"""Commands on the collection itself: `init`, `config`, `profiles`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from flashcore.cli.context import (
    open_collection,
    selected_profile,
    system_timezone,
)
from flashcore.cli.output import emit_json, say, table
from flashcore.cli.parser import (
    AddCommand,
    CliUsageError,
    Parser,
    add_verbs,
    json_flag,
    needs_verb,
)

if TYPE_CHECKING:
    pass


def _settings_help() -> str:
    from flashcore.core.settings import RULES

    lines = [f"  {key}: {rule.accepts}" for key, rule in RULES.items()]
    return "settings and the values each accepts:\n" + "\n".join(lines)


def cmd_init(args: argparse.Namespace) -> int:
    fc = open_collection(args, create=True)
    with fc:
        from flashcore.storage.migrate import HEAD

        if args.json:
            emit_json({"database": fc.location, "schema": HEAD, "profile": fc.profile,
                       "backup": fc.backup})  # fmt: skip
        else:
            say(f"database: {fc.location}")
            say(f"schema: {HEAD} (up to date)")
            say(f"profile: {fc.profile}")
            if fc.backup:
                say(f"backup before upgrade: {fc.backup}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from flashcore.services.exam import follow_plan

    with open_collection(args) as fc:
        follow_plan(fc)  # plan_mode auto: the new_per_day shown is today's, as the queue's
        if args.verb == "get":
            if args.key is None:
                items = fc.config_items()
                if args.json:
                    emit_json(items)
                else:
                    for k, v in sorted(items.items()):
                        say(f"{k} = {v}")
                return 0
            value = fc.config_get(args.key)
        else:
            if args.key is None or args.value is None:
                raise CliUsageError(
                    "config set needs KEY and VALUE: flashcore config set new_per_day 30"
                )
            value = fc.config_set(args.key, args.value)
            if args.key == "plan_mode":
                follow_plan(fc)  # switched to auto: new_per_day follows the plan from today
    if args.json:
        emit_json({"key": args.key, "value": value})
    else:
        say(value)
    return 0


def cmd_profiles(args: argparse.Namespace) -> int:
    # Managing profiles must work while the selected one does not exist yet.
    with open_collection(args, profile="default") as fc:
        if args.verb == "create":
            if not args.name:
                raise CliUsageError("profiles create needs a NAME")
            name = args.name.strip()
            fc.create_profile(name, timezone=system_timezone())
            if args.json:
                emit_json({"created": name})
            else:
                say(f"created profile {name}; use it with --profile {name}")
            return 0
        profiles = fc.list_profiles()
        selected = selected_profile(args)
        for p in profiles:
            p["current"] = p["name"] == selected
    if args.json:
        emit_json(profiles)
    else:
        rows = [
            ("*" if p["current"] else "", p["name"], p["decks"], p["created_at"].date())
            for p in profiles
        ]
        say(table(rows, ["", "profile", "decks", "created"]))
    return 0


def add_init(add: AddCommand) -> None:
    """`init`."""
    p = add("init", "create or upgrade the database (idempotent) and print where it is",
            "flashcore init --db ~/step1.sqlite3   # creates ~/step1.sqlite3 if it is not there",
            cmd_init)  # fmt: skip
    json_flag(p)


def add_settings(add: AddCommand, common: Parser) -> None:
    """`config` and `profiles`."""
    p = add("config", "profile settings: get [KEY] | set KEY VALUE (the keys and the values "
            "each accepts are listed below)", "flashcore config get\n"
            "flashcore config set new_per_day 30   # changes the profile's new cards a day",
            needs_verb)  # fmt: skip
    p.more_help = _settings_help  # type: ignore[attr-defined]
    verb = add_verbs(p, common)
    v = verb("get", "print one setting, or every setting with its value",
             "flashcore config get desired_retention", cmd_config)  # fmt: skip
    v.add_argument("key", nargs="?", metavar="KEY", help="a setting's name (all when left out)")
    v.set_defaults(value=None)
    json_flag(v)
    v.more_help = _settings_help  # type: ignore[attr-defined]
    v = verb("set", "change one setting of this profile (checked against its range)",
             "flashcore config set new_per_day 30   # changes the profile's new cards a day",
             cmd_config)  # fmt: skip
    v.add_argument("key", nargs="?", metavar="KEY", help="a setting's name (listed above)")
    v.add_argument("value", nargs="?", metavar="VALUE",
                   help="its new value, within the range listed above")  # fmt: skip
    json_flag(v)
    v.more_help = _settings_help  # type: ignore[attr-defined]

    p = add("profiles", "profiles: list | create NAME (one database can hold a whole class)",
            "flashcore profiles list", needs_verb)  # fmt: skip
    verb = add_verbs(p, common)
    v = verb("list", "every profile with its decks; * marks the one in use",
             "flashcore profiles list --json", cmd_profiles)  # fmt: skip
    v.set_defaults(name=None)
    json_flag(v)
    v = verb("create", "create a profile (its own cards, settings and history)",
             "flashcore profiles create alice   # adds the profile 'alice'", cmd_profiles)  # fmt: skip
    v.add_argument("name", nargs="?", metavar="NAME", help="the new profile's name")
    json_flag(v)
