"""`kill -9` at random moments during `flashcore export anki`: the package already at the
destination stays a complete, valid package (real Anki imports it), and the temporary files a
killed export leaves are removed by the next export (and by `flashcore doctor` beside the
database). The victims are forked from the zygote of tests/reliability/_crash.py, which is given
one more job here."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from anki.collection import Collection

from flashcore.core.clock import FixedClock
from flashcore.exporters import anki as anki_export
from flashcore.exporters.anki import write_apkg
from flashcore.services import Flashcore, doctor
from flashcore.services.export import collect_notes, export_anki
from tests.conftest import write_deck
from tests.exporters.test_anki_export import import_into
from tests.reliability.conftest import slow
from tests.reliability.test_kill import ROOT, Zygote, acknowledged, killed

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOTES = 1500  # writing this many notes takes ~40 ms, reading them ~50-100 ms
LIMIT_S = 20.0


def export_loop(url: str, ack_path: str, target: str, seed: int) -> None:
    """What `flashcore export anki` runs, again and again to `target` (alternately with and
    without scheduling), acknowledging each package once written. The notes are read once:
    the kill is meant to land while files are written, not while the database is read."""
    fc = Flashcore.open(url, clock=FixedClock(START))
    notes = {s: collect_notes(fc, deck=None, topic=None, with_scheduling=s) for s in (False, True)}
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # "ready"
    deadline = time.monotonic() + LIMIT_S
    scheduling = bool(int(seed) % 2)
    while time.monotonic() < deadline:
        write_apkg(notes[scheduling], Path(target), with_scheduling=scheduling, now=fc.now())
        os.write(fd, f"{int(scheduling)}\n".encode())
        scheduling = not scheduling


def warm_export(folder: Path) -> None:
    """Run the export path once in the zygote (genanki, zip, the export service imported)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "warm-export.sqlite3"
    with Flashcore.open(str(db), clock=FixedClock(START), create=True) as fc:
        fc.add_decks([write_deck(folder / "w.toml", _body(3), name="W", key="w")])
        export_anki(fc, folder / "warm.apkg")


class ExportZygote(Zygote):
    """The crash zygote with the `export` job registered."""

    def __init__(self, warm: Path) -> None:
        warm.mkdir()
        code = (
            "import sys; from pathlib import Path; from tests.reliability import _crash; "
            "from tests.reliability import test_export_kill as t; "
            "_crash.JOBS['export'] = t.export_loop; t.warm_export(Path(sys.argv[1]) / 'export'); "
            "_crash.zygote(Path(sys.argv[1]))"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(warm)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    z = ExportZygote(tmp_path_factory.mktemp("export-zygote") / "warm")
    yield z
    z.close()


def _body(n: int) -> str:
    """Basic and cloze notes; the basic ones carry 3 KB of incompressible text, so zipping the
    package (the moment a writer without a temporary file would tear it) takes a good part of
    each export."""
    rng = random.Random(n)
    parts = []
    for i in range(n):
        if i % 3 == 0:
            parts.append(f'\n[[cards]]\nid = "c{i}"\ncloze = "Cloze {i}: {{{{c1::one}}}} and '
                         f'{{{{c2::two}}}}"\ntopics = ["Export::T{i % 17}"]\n')  # fmt: skip
        else:
            noise = "".join(rng.choices(_LETTERS, k=3000))
            parts.append(f'\n[[cards]]\nid = "b{i}"\nfront = "Question {i} {noise}"\n'
                         f'back = "Answer {i}"\ntopics = ["Export::T{i % 17}"]\n')  # fmt: skip
    return "".join(parts)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "


@pytest.fixture
def big_collection(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'export.sqlite3'}"
    with Flashcore.open(url, clock=FixedClock(START), create=True) as fc:
        deck = write_deck(tmp_path / "big.toml", _body(NOTES), name="Export", key="export")
        (report,) = fc.add_decks([deck])
        assert report.ok, report.problems[:3]
    return url


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if anki_export._TEMP_NAME.match(p.name))


def _opens_in_anki(package: Path, folder: Path, *, scheduling: bool) -> int:
    folder.mkdir()
    col = Collection(str(folder / "check.anki2"))
    try:
        import_into(col, package, with_scheduling=scheduling)
        return col.note_count()
    finally:
        col.close()


def _kill_exports(url: str, zygote: Zygote, tmp_path: Path, runs: int) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "step1.apkg"
    # The two packages the loop can leave (exports are reproducible: same data, same clock).
    good: dict[str, bool] = {}
    with Flashcore.open(url, clock=FixedClock(START)) as fc:
        for scheduling in (False, True):
            export_anki(fc, target, with_scheduling=scheduling)
            good[_digest(target)] = scheduling
            anki = tmp_path / f"anki-{scheduling}"
            assert _opens_in_anki(target, anki, scheduling=scheduling) == NOTES
    rng = random.Random(8)
    interrupted = finished = 0
    for run in range(runs):
        ack = tmp_path / f"export-{run}.txt"
        status = zygote.kill_during("export", url, ack, target, run, after=rng.uniform(0.0, 0.3))
        assert killed(status), f"run {run}: the export loop ended on its own ({status})"
        finished += len(acknowledged(ack))
        assert target.exists(), f"run {run}: the package at the destination is gone"
        assert _digest(target) in good, f"run {run}: the package is not a complete export"
        left = _temps(out)
        interrupted += bool(left)
        with Flashcore.open(url, clock=FixedClock(START)) as fc:  # the next export cleans up
            export_anki(fc, target, with_scheduling=bool(run % 2))
        assert _temps(out) == [], f"run {run}: the next export left {left}"
        assert sorted(p.name for p in out.iterdir()) == [target.name]
    print(f"\nkill -9 during an export: {runs} runs, {finished} exports finished before the "
          f"kills, {interrupted} kills left temporary files that the next export removed; "
          "the package at the destination was complete every time")  # fmt: skip
    assert interrupted >= runs // 2, "most kills should land inside an export"


def test_kill_9_during_an_export_keeps_the_previous_package_and_leaves_no_temporary_file(
    big_collection, zygote, tmp_path
):
    _kill_exports(big_collection, zygote, tmp_path, runs=8)


@pytest.mark.parametrize("runs", [pytest.param(100, marks=slow)])
def test_kill_9_during_an_export_100_times(big_collection, zygote, tmp_path, runs):
    _kill_exports(big_collection, zygote, tmp_path, runs=runs)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_exports_temporary_files_are_left_alone(tmp_path):
    dead, live = _dead_pid(), os.getppid()
    stale = tmp_path / f".step1.apkg.{dead}.abcd1234.apkg.tmp"
    busy = tmp_path / f".step1.apkg.{live}.abcd1234.anki2.tmp"
    mine = tmp_path / f".step1.apkg.{os.getpid()}.abcd1234.apkg.tmp"
    unrelated = tmp_path / ".step1.apkg.tmp"
    for p in (stale, busy, mine, unrelated):
        p.write_bytes(b"x")
    assert anki_export.remove_stale_temps(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (busy, mine, unrelated)
    )


def test_doctor_removes_a_killed_exports_temporary_files_beside_the_database(fc_sqlite, tmp_path):
    folder = Path(fc_sqlite.location).parent
    stale = folder / f".step1.apkg.{_dead_pid()}.x1y2z3w4.anki2.tmp"
    stale.write_bytes(b"half a collection")
    report = doctor.repair(fc_sqlite, doctor.examine(fc_sqlite.url))
    assert not stale.exists()
    assert report.fixes == {doctor.STALE_TEMPS: 1}
    assert doctor.repair(fc_sqlite, doctor.examine(fc_sqlite.url)).fixes == {}
