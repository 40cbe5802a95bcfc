"""Every command and every verb has help of its own: a description, a description for each
option and positional, and an example that the parser accepts (examples that change data say
so in a comment)."""

from __future__ import annotations

import argparse
import shlex

import pytest

from flashcore.cli import GROUPS, build_parser, command_named, main

# Commands and verbs whose example changes the collection: the example says what it changes.
CHANGES_DATA = {
    "init", "decks add", "cards suspend", "cards unsuspend", "cards bury", "cards unbury",
    "cards flag", "cards unflag", "answer", "undo", "qbank import", "qbank remove",
    "topics alias", "config set", "profiles create", "exam set", "exam clear", "assess add",
    "assess remove", "optimize", "backup create", "backup restore", "doctor",
}  # fmt: skip


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from walk(sub, (*path, name))


PARSERS = dict(walk(build_parser()))
COMMANDS = sorted(" ".join(p) for p in PARSERS)


def examples(parser: argparse.ArgumentParser) -> list[str]:
    epilog = parser.epilog or ""
    lines = epilog.split("example", 1)[1].splitlines()[1:] if "example" in epilog else []
    return [line.strip() for line in lines if "flashcore " in line]


def test_every_command_and_verb_is_listed():
    for verb in ("cards suspend", "topics alias", "config set", "profiles create", "exam set"):
        assert verb in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_own_help_with_a_description_and_an_example(command, capsys):
    parser = PARSERS[tuple(command.split())]
    assert parser.description and len(parser.description) > 10, command
    with pytest.raises(SystemExit) as done:
        main([*command.split(), "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: flashcore {command}"), out[:80]
    assert examples(parser), f"{command}: no example"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_and_positional_is_described(command):
    parser = PARSERS[tuple(command.split())]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            continue  # its verbs are checked one by one
        assert action.help and action.help != argparse.SUPPRESS, (command, action.dest)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_example_is_accepted_by_the_parser(command):
    """Each example parses; at least one runs this command; one that changes data says what
    it changes (a preparatory line may run another command, such as `qbank batches`)."""
    parser = PARSERS[tuple(command.split())]
    ran = 0
    for example in examples(parser):
        line = example.split("#", 1)[0]
        words = shlex.split(line.split("|")[-1])  # `pbpaste | flashcore qbank import -`
        assert words[0] == "flashcore", example
        args = build_parser().parse_args(words[1:])
        assert getattr(args, "handler", None) is not None, example
        if " ".join(words[1 : 1 + len(command.split())]) != command:
            continue
        ran += 1
        if command in CHANGES_DATA and "--dry-run" not in words:
            assert "#" in example, f"{command}: say what the example changes: {example}"
    assert ran, f"{command}: no example runs it"


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    return [name for path, _ in walk(parser) if len(path) == 1 for name in path]


def test_each_group_adds_the_commands_its_table_names_in_the_order_help_lists_them():
    assert _commands(build_parser()) == [name for *_, names in GROUPS for name in names]
    for *_, names in GROUPS:
        for name in names:
            assert _commands(build_parser(name)) == list(names), name


@pytest.mark.parametrize("command", COMMANDS)
def test_a_commands_own_parser_reads_each_example_as_the_whole_parser_does(command):
    for example in examples(PARSERS[tuple(command.split())]):
        words = shlex.split(example.split("#", 1)[0].split("|")[-1])[1:]
        for argv in (words, ["--db", "x.sqlite3", *words], ["--debug", "--profile=p", *words]):
            named = command_named(argv)
            assert named == argv[len(argv) - len(words)], argv
            assert vars(build_parser(named).parse_args(argv)) == vars(
                build_parser().parse_args(argv)
            ), argv


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["weakness", "--json"], "weakness"),
        (["--profile", "weakness", "decks", "list"], "decks"),
        (["--db=w.sqlite3", "--debug", "weakness"], "weakness"),
        (["--prof", "p", "weakness"], None),  # an abbreviated option: the whole parser reads it
        (["--help"], None),
        (["-h", "weakness"], None),
        (["--version"], None),
        (["--db"], None),
        (["bogus", "weakness"], None),
        ([], None),
    ],
)
def test_the_command_is_named_before_parsing_only_when_it_is_certain(argv, named):
    assert command_named(argv) == named


def test_an_unknown_command_is_answered_by_the_whole_parser(capsys):
    with pytest.raises(SystemExit) as done:
        main(["weaknes"])
    assert done.value.code == 2
    assert "invalid choice: 'weaknes'" in capsys.readouterr().err


@pytest.mark.parametrize(("verb", "says"), [("bury", "buries"), ("unbury", "unburies"),
                                            ("flag", "flags"), ("suspend", "suspends")])  # fmt: skip
def test_a_card_verbs_example_says_what_it_does_in_plain_english(verb, says):
    """`cards bury --help` said "burys cards 101 and 102"."""
    assert f"# {says} cards 101 and 102" in PARSERS[("cards", verb)].epilog
