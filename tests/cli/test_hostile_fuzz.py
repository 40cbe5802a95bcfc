"""Property: hostile input through the command line gets one clear line and changes nothing.

Hypothesis generates deck files, question-bank logs and argument values, each with one thing
wrong, and runs them through `flashcore.cli.main` in this process (as a shell would, minus the
process). Whatever it generates: exit 1 or 2, exactly one line on stderr naming the problem
(`path:line:` for a file), no generic exception name (`ValueError:`, `OverflowError`,
`... run with --debug`), and the database exactly as it was. A modest number of examples runs
in the suite (the same ones every run); `FLASHCORE_SLOW=1` runs many more, freshly drawn.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashcore.cli import main
from flashcore.core.text import DECK_KEY_CHARS, DECK_NAME_CHARS, TAG_CHARS, TOPIC_CHARS
from tests.conftest import SMALL_DECK, write_deck

SLOW = bool(os.environ.get("FLASHCORE_SLOW"))
FUZZ = settings(
    max_examples=400 if SLOW else 25,
    derandomize=not SLOW,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = "2026-11-25T09:00:00+00:00"
GENERIC = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|run with --debug|Traceback")

# ---------------------------------------------------------------- running flashcore


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def flashcore(*argv: object, now: str = NOW) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with (
        environment(FLASHCORE_NOW=now),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    gc.unfreeze()  # each call froze what it loaded; a long run must not keep it all
    return Run(int(code), out.getvalue(), err.getvalue())


@dataclass
class Collection:
    db: str
    folder: Path

    def state(self) -> tuple[list[str], list[str]]:
        """What the database holds, and the backups beside it."""
        conn = sqlite3.connect(self.db.removeprefix("sqlite:///"))
        try:
            rows = list(conn.iterdump())
        finally:
            conn.close()
        backups = self.folder / "backups"
        return rows, sorted(p.name for p in backups.iterdir()) if backups.is_dir() else []

    def file(self, suffix: str) -> Path:
        return self.folder / "inputs" / f"{uuid.uuid4().hex[:8]}{suffix}"


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collection]:
    """One collection for a whole property: every example must leave it as it was."""
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "inputs").mkdir()
    db = f"sqlite:///{folder / 'fc.sqlite3'}"
    with environment(FLASHCORE_HOME=str(folder / "home")):
        deck = write_deck(folder / "small.toml", SMALL_DECK)
        assert flashcore("init", "--db", db).code == 0
        assert flashcore("decks", "add", deck, "--db", db).code == 0
        log = folder / "log.csv"
        log.write_text("question_id,result,date\n1001,incorrect,2026-11-24\n", encoding="utf-8")
        assert flashcore("qbank", "import", log, "--db", db).code == 0
        yield Collection(db, folder)


def assert_refused(run: Run, before: object, after: object, *, where: str | None = None) -> None:
    assert run.code in (1, 2), (run.code, run.out, run.err)
    assert len(run.err_lines) == 1, run.err
    line = run.err_lines[0]
    assert not GENERIC.search(line), line
    if where is not None:
        assert re.match(rf"{re.escape(where)}:\d+: \S", line), line
    assert after == before, "the database changed"


# ---------------------------------------------------------------- hostile pieces

# Controls a name may not hold (all of C0, DEL, C1); card text may hold tab and line breaks.
NAME_CONTROLS = st.sampled_from([*range(0x00, 0x20), *range(0x7F, 0xA0)])
TEXT_CONTROLS = NAME_CONTROLS.filter(lambda c: c not in (0x09, 0x0A, 0x0D))
SAFE = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters='"\\'
    ),
    max_size=12,
)


def toml_escape(code: int) -> str:
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


@st.composite
def with_control(draw: st.DrawFn, controls: st.SearchStrategy[int]) -> str:
    """Safe text around one control character (written as a TOML escape) between two letters,
    so that trimming a name's edges cannot remove it."""
    return draw(SAFE) + "a" + toml_escape(draw(controls)) + "b" + draw(SAFE)


def too_long(limit: int) -> st.SearchStrategy[str]:
    return st.integers(limit + 1, limit + 40).map(lambda n: "x" * n)


GOOD = {
    "name": "Fuzz::Deck",
    "key": "fuzz",
    "description": "ok",
    "front": "Which antibody?",
    "back": "IgE",
    "extra": "more",
    "topic": "Immunology::Hypersensitivity::Type I",
    "tag": "high-yield",
    "qid": "uworld:1001",
    "cloze": "IgE on {{c1::mast cells}} and {{c2::basophils}}.",
    "id": "basic",
}
NESTED_TOO_DEEP = "".join(f"{{{{c{i}::" for i in range(1, 13)) + "x" + "}}" * 12


@st.composite
def hostile_field(draw: st.DrawFn) -> tuple[str, str]:
    """One field of a deck file and a value it must refuse."""
    field = draw(st.sampled_from(sorted(GOOD)))
    if field in {"name", "key", "topic", "tag"}:
        limit = {"name": DECK_NAME_CHARS, "key": DECK_KEY_CHARS, "topic": TOPIC_CHARS}.get(
            field, TAG_CHARS
        )
        value = draw(st.one_of(with_control(NAME_CONTROLS), too_long(limit)))
    elif field in {"front", "back", "extra", "description"}:
        value = draw(with_control(TEXT_CONTROLS))
    elif field == "cloze":
        value = draw(
            st.one_of(
                with_control(TEXT_CONTROLS),
                st.integers(1000, 10**30).map(lambda n: f"a {{{{c{n}::b}}}}"),
                st.just("a {{c1::unclosed"),
                st.just("a {{c1::b}} {{c2::open"),
                st.just(NESTED_TOO_DEEP),
                SAFE.filter(lambda t: "{{c" not in t),  # no deletion at all
            )
        )
    elif field == "qid":
        value = draw(
            st.one_of(
                st.just("uworld"),
                st.just("uworld:" + "1" * 65),
                st.just("x" * 51 + ":1"),
                with_control(NAME_CONTROLS),
            )
        )
    else:  # the card id
        value = draw(
            st.one_of(st.just("has space"), st.just("x" * 201), with_control(NAME_CONTROLS))
        )
    return field, value


def deck_text(v: dict[str, str]) -> str:
    """A deck file: [deck], a basic card and a cloze card, with the values in `v`."""
    return (
        f'[deck]\nname = "{v["name"]}"\nkey = "{v["key"]}"\ndescription = "{v["description"]}"\n'
        f'\n[[cards]]\nid = "{v["id"]}"\nfront = "{v["front"]}"\nback = "{v["back"]}"\n'
        f'extra = "{v["extra"]}"\ntopics = ["{v["topic"]}"]\ntags = ["{v["tag"]}"]\n'
        f'qids = ["{v["qid"]}"]\n'
        f'\n[[cards]]\nid = "cloze"\ncloze = "{v["cloze"]}"\n'
    )


STRUCTURAL = st.sampled_from(
    [
        b'[deck]\nname = "D"\n\n[[cards]]\nid = "a"\nfront = "unterminated\nback = "b"\n',
        b'[deck]\nname = "D"\n\n[[cards]]\nid = "a"\nfront = 5\nback = "b"\n',
        b'[deck]\nname = "D"\n\n[[cards]]\nid = "a"\nfront = "q"\nback = "b"\ncolour = "red"\n',
        b'[deck]\nname = "D"\n\n[[cards]]\nid = "a"\nfront = "q"\nback = "b"\n\n'
        b'[[cards]]\nid = "a"\nfront = "q2"\nback = "b2"\n',
        b'[deck]\nname = "D"\n\n[[cards]]\nid = "a"\nfront = "caf\xe9"\nback = "b"\n',
        b'[deck]\nname = "D"\n\n[[cards]]\nid = "a"\nfront = "q\x00"\nback = "b"\n',
        b'[deck]\nname = "D"\n\n[[cards]]\nid = "a"\ntopics = ' + b"[" * 3000 + b"]" * 3000,
        b'[deck]\nname = "D"\n\n[[cards]]\nid = "a"\nfront = "q"\n',
    ]
)


# ---------------------------------------------------------------- the properties


@FUZZ
@given(hostile=hostile_field())
def test_a_deck_file_with_one_hostile_value_is_refused_in_one_line(collection, hostile):
    field, value = hostile
    path = collection.file(".toml")
    path.write_text(deck_text(GOOD | {field: value}), encoding="utf-8")
    before = collection.state()
    run = flashcore("decks", "add", path, "--db", collection.db)
    assert_refused(run, before, collection.state(), where=str(path))


@FUZZ
@given(data=STRUCTURAL)
def test_a_malformed_deck_file_is_refused_in_one_line(collection, data):
    path = collection.file(".toml")
    path.write_bytes(data)
    before = collection.state()
    run = flashcore("decks", "add", path, "--db", collection.db)
    assert_refused(run, before, collection.state(), where=str(path))


LOG_CONTROLS = st.sampled_from([*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x9B])
CELL = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"),
                             exclude_characters=',"'), max_size=10)  # fmt: skip


@st.composite
def hostile_row(draw: st.DrawFn) -> tuple[int, str]:
    """(column, cell) of one bad cell in a row of `question_id,result,date,topic,time spent`."""
    column = draw(st.integers(0, 4))
    if column == 0:
        cell = draw(
            st.one_of(
                st.just("1.23457E+11"),
                st.just("2-Jan"),
                st.just("7" * 65),
                st.just("12 34"),
                st.just("118154.0"),
            )
        )
    elif column == 1:
        cell = draw(st.sampled_from(["maybe", "???", "skipped it", "2"]))
    elif column == 2:
        cell = draw(
            st.one_of(
                st.sampled_from(
                    [
                        "2026-11-20T25:61",
                        "2026-11-20 99:99",
                        "11/20/2026 13:30 PM",
                        "1969-12-31",
                        "2099-12-31",
                        "2026-02-30",
                        "yesterday",
                        "2026-11-27",
                    ]
                ),
                st.integers(2100, 9999).map(lambda y: f"{y}-01-01"),
            )
        )
    elif column == 3:
        cell = draw(CELL) + chr(draw(LOG_CONTROLS)) + draw(CELL)
    else:
        cell = draw(
            st.one_of(
                st.integers(86_401, 10**40).map(str),
                st.sampled_from(["1e400", "9" * 400 + ".5", "forever", "99999999:00:00"]),
            )
        )
    return column, cell


@FUZZ
@given(bad=hostile_row(), position=st.integers(0, 2), dry_run=st.booleans())
def test_a_log_with_one_hostile_cell_is_refused_in_one_line(collection, bad, position, dry_run):
    column, cell = bad
    good = ["1001", "incorrect", "2026-11-20", "Type I hypersensitivity", "75"]
    rows = [list(good) for _ in range(3)]
    rows[position][column] = cell
    path = collection.file(".csv")
    text = "question_id,result,date,topic,time spent\n" + "".join(
        ",".join(row) + "\n" for row in rows
    )
    path.write_text(text, encoding="utf-8")
    before = collection.state()
    run = flashcore("qbank", "import", path, *(["--dry-run"] if dry_run else []), "--db",
                    collection.db)  # fmt: skip
    assert_refused(run, before, collection.state(), where=str(path))
    assert run.err_lines[0].startswith(f"{path}:{position + 2}: ")


# Argument values: whole numbers out of range, non-numbers, non-finite floats, hostile text.
BIG = st.integers(2**63, 10**40).map(str)
NON_POSITIVE = st.integers(-(10**30), 0).map(str)
NOT_A_NUMBER = st.sampled_from(["nan", "inf", "-inf", "1e400", "one", "0x10", "", " ", "1.5"])
ARG_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",),
                                 exclude_characters="\x00"), max_size=20)  # fmt: skip
CONTROL_TEXT = st.builds(
    lambda a, c, b: "x" + a + "a" + chr(c) + "b" + b,  # kept by trimming; not an option
    ARG_TEXT,
    st.sampled_from([c for c in [*range(0x01, 0x20), *range(0x7F, 0xA0)]]),
    ARG_TEXT,
)


def command_with_hostile_value() -> st.SearchStrategy[tuple[list[str], dict[str, str]]]:
    """(argv, environment) of one command given one value it must refuse."""
    ids = st.one_of(BIG, NON_POSITIVE, NOT_A_NUMBER)
    limits = st.one_of(NON_POSITIVE, st.integers(1_000_001, 10**30).map(str), NOT_A_NUMBER)
    durations = st.one_of(
        st.sampled_from(["nan", "inf", "-inf", "1e17", "-1", "86400.5", "1e400", "soon"]),
        st.floats(min_value=86_400.01, allow_infinity=False).map(repr),
    )
    bad_now = st.one_of(
        st.integers(1, 1969).map(lambda y: f"{y:04d}-06-01T00:00:00+00:00"),
        st.integers(2100, 9999).map(lambda y: f"{y:04d}-06-01T00:00:00+00:00"),
        st.sampled_from(["yesterday", "2026-11-25T09:00:00", "2026-13-01T00:00:00Z", "now"]),
    )
    settings_values = st.sampled_from(
        [
            ("learning_steps", "99999999999d"),
            ("learning_steps", "0s"),
            ("relearning_steps", "1m 2x"),
            ("desired_retention", "nan"),
            ("desired_retention", "1.5"),
            ("weakness_half_life_days", "inf"),
            ("weakness_half_life_days", "0"),
            ("new_per_day", "-1"),
            ("reviews_per_day", "9" * 40),
            ("day_start_hour", "24"),
            ("maximum_interval", "0"),
            ("bury_siblings", "perhaps"),
            ("timezone", "Mars/Olympus_Mons"),
            ("fsrs_parameters", "1,2,3"),
            ("no_such_setting", "1"),
        ]
    )
    return st.one_of(
        st.builds(lambda v: (["answer", v, "good"], {}), ids),
        st.builds(lambda v: (["answer", "1", "good", "--duration", v], {}), durations),
        st.builds(lambda v: (["answer", "1", "good", "--expect-reps", v], {}), st.one_of(BIG, NOT_A_NUMBER)),
        st.builds(lambda v: (["undo", "--steps", v], {}), limits),
        st.builds(lambda v: (["qbank", "remove", v], {}), ids),
        st.builds(lambda v: (["cards", "suspend", v], {}), ids),
        st.builds(lambda v: (["due", "--limit", v], {}), limits),
        st.builds(lambda v: (["weakness", "--limit", v], {}), limits),
        st.builds(lambda kv: (["config", "set", *kv], {}), settings_values),
        st.builds(lambda v: (["profiles", "create", v], {}), st.one_of(CONTROL_TEXT, st.integers(101, 300).map(lambda n: "p" * n))),
        st.builds(lambda v: (["topics", "alias", v, "Immunology"], {}), CONTROL_TEXT),
        st.builds(lambda v: (["due"], {"FLASHCORE_NOW": v}), bad_now),
        st.builds(lambda v: (["weakness"], {"FLASHCORE_NOW": v}), bad_now),
        st.builds(lambda v: (["answer", "1", v], {}), ARG_TEXT.filter(lambda t: not t.startswith("-") and t.strip().lower() not in {"again", "hard", "good", "easy", "1", "2", "3", "4"})),
    )  # fmt: skip


@FUZZ
@given(case=command_with_hostile_value())
def test_a_hostile_argument_or_environment_value_is_refused_in_one_line(collection, case):
    argv, env = case
    before = collection.state()
    run = flashcore(*argv, "--db", collection.db, now=env.get("FLASHCORE_NOW", NOW))
    assert_refused(run, before, collection.state())
