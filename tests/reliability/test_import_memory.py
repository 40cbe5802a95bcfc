"""Memory and hostile sizes: `flashcore qbank import` reads a log as a stream, so its peak
memory (the child's ru_maxrss) does not grow with the file. Default: a 50 MB log stays under
150 MB and within 40 MB of a 5 MB log's peak; FLASHCORE_SLOW=1 imports a 1 GB log generated in
tmp and asserts under 300 MB. A 10 MB field (quoted and never closed, or bare), and a 10 MB
line, end in a line-numbered error within seconds, never a hang.

The logs' topics are ones the bundled decks know, as a real export's mostly are: the import's
summary lists every unmatched question id, and that list grows with the misses that match
nothing (see the README's qbank section).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.reliability.conftest import slow

ROOT = Path(__file__).resolve().parents[2]
HEADER = "Question ID,Result,Date,Subject,System,Category,Topic,Time Spent\n"
TOPICS = (
    ("Immunology", "Allergy & Immunology", "Hypersensitivity reactions", "Type I hypersensitivity"),
    ("Pathology", "Hematology & Oncology", "Hemoglobinopathies", "Sickle cell disease"),
    ("Pathology", "Pulmonary & Critical Care", "Obstructive lung disease", "Emphysema"),
    ("Pathology", "Gastrointestinal & Nutrition", "Iron overload", "Hemochromatosis"),
    ("Physiology", "Cardiovascular System", "Pericardial disease", "Cardiac tamponade"),
    ("Biostatistics", "Epidemiology", "Test characteristics", "Sensitivity and specificity"),
    ("Pharmacology", "Cardiovascular System", "Cardiac glycosides", "Digoxin"),
)  # fmt: skip
RESULTS = ("correct", "incorrect", "omitted")


def write_log(path: Path, size: int, seed: int = 1) -> int:
    """A CSV export of about `size` bytes with unique question ids; returns its rows."""
    rng = random.Random(seed)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        written = len(HEADER)
        while written < size:
            block = []
            for _ in range(10_000):
                subject, system, category, topic = rng.choice(TOPICS)
                block.append(
                    f"{1_000_000 + rows},{rng.choice(RESULTS)},2026-{rng.randint(1, 11):02d}-"
                    f"{rng.randint(1, 28):02d},{subject},{system},{category},{topic},"
                    f"{rng.randint(20, 300)}\n"
                )
                rows += 1
            text = "".join(block)
            out.write(text)
            written += len(text)
    return rows


@pytest.fixture(scope="module")
def decks_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flashcore.core.clock import FixedClock
    from flashcore.services import Flashcore
    from flashcore.services.decks import bundled_decks_dir

    db = tmp_path_factory.mktemp("decks") / "decks.sqlite3"
    clock = FixedClock(datetime(2026, 11, 25, 9, tzinfo=UTC))
    with Flashcore.open(str(db), clock=clock, create=True) as fc:
        fc.add_decks(sorted(bundled_decks_dir().glob("*.toml")))
    return db


def peak_rss(
    base: Path, folder: Path, log: Path, timeout: float = 3600, *, stdin: bool = False
) -> tuple[float, str]:
    """Import `log` (as a path, or piped to `-`) into a copy of `base` in a child process: (its
    peak RSS in MB, stdout).

    The peak is the child's VmHWM from /proc, read until it exits (it only rises): a child's
    ru_maxrss would count the pages of this big test process it was forked from.
    """
    folder.mkdir()
    db = folder / "fc.sqlite3"
    shutil.copy(base, db)
    out_path, err_path = folder / "out.txt", folder / "err.txt"
    status = Path("/proc")
    peak_kb = 0
    with out_path.open("wb") as out, err_path.open("wb") as err, log.open("rb") as piped:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flashcore.cli",
                "qbank",
                "import",
                "-" if stdin else str(log),
                "--db",
                str(db),
            ],
            cwd=ROOT,
            stdin=piped if stdin else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env={**os.environ, "FLASHCORE_HOME": str(folder), "SQLITE_TMPDIR": str(folder)},
        )
        status = status / str(proc.pid) / "status"
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            assert time.monotonic() < deadline, "the import did not finish"
            try:
                text = status.read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
            time.sleep(0.02)
    assert proc.returncode == 0, err_path.read_text()[-2000:]
    assert peak_kb, "no memory reading"
    return peak_kb / 1024, out_path.read_text()


def test_peak_memory_does_not_grow_with_the_log(decks_db, tmp_path):
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small_rows = write_log(small, 5_000_000)
    large_rows = write_log(large, 50_000_000, seed=2)
    small_peak, small_out = peak_rss(decks_db, tmp_path / "s", small)
    large_peak, large_out = peak_rss(decks_db, tmp_path / "l", large)
    assert f"{small_rows} attempts added" in small_out
    assert f"{large_rows} attempts added" in large_out
    print(f"\npeak RSS: {small_peak:.0f} MB importing a 5 MB log ({small_rows:,} rows), "
          f"{large_peak:.0f} MB for a 50 MB log ({large_rows:,} rows)")  # fmt: skip
    assert large_peak < 150
    assert large_peak < small_peak + 40


def test_a_50_mb_log_on_stdin_is_spooled_not_held(decks_db, tmp_path):
    log = tmp_path / "large.csv"
    rows = write_log(log, 50_000_000, seed=4)
    peak, out = peak_rss(decks_db, tmp_path / "run", log, stdin=True)
    assert f"{rows} rows read (csv), {rows} attempts added" in out
    print(f"\npeak RSS: {peak:.0f} MB importing a 50 MB log from stdin")
    assert peak < 150


@pytest.mark.parametrize("size", [pytest.param(1 << 30, marks=slow)], ids=["1GB"])
def test_a_1_gb_log_imports_in_under_300_mb(decks_db, tmp_path, size):
    log = tmp_path / "huge.csv"
    started = time.monotonic()
    rows = write_log(log, size, seed=3)
    made = time.monotonic() - started
    started = time.monotonic()
    peak, out = peak_rss(decks_db, tmp_path / "run", log)
    took = time.monotonic() - started
    assert f"{rows} attempts added" in out
    print(f"\n1 GB log ({log.stat().st_size / 1e9:.2f} GB, {rows:,} rows, written in {made:.0f} s)"
          f": imported in {took:.0f} s, peak RSS {peak:.0f} MB")  # fmt: skip
    assert peak < 300


HOSTILE = {  # name: (log, exit code, text expected in the output)
    "quoted-field-never-closed": (
        b'qid,result,topic\n1,incorrect,"' + b"x" * 10_000_000 + b"\n2,incorrect,ok\n",
        1,
        b"log.csv:2: unterminated quote",
    ),
    "bare-10-mb-field": (
        b"qid,result,topic\n1,incorrect," + b"x" * 10_000_000 + b"\n2,incorrect,ok\n",
        1,
        b"log.csv:2: unreadable row (field larger than field limit",
    ),
    "10-mb-line-of-ids": (b"1234567890 " * 1_000_000, 0, b"1 attempts added, 999999 duplicates"),
    "10-mb-line-of-junk": (b"qid\n" + b"\xe9" * 10_000_000, 1, b"log.csv:2: unreadable row"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_10_mb_field_gives_a_line_numbered_error_or_an_import_not_a_hang(
    sqlite_file, tmp_path, case
):
    data, code, expected = HOSTILE[case]
    log = tmp_path / "log.csv"
    log.write_bytes(data)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "flashcore.cli", "qbank", "import", "log.csv", "--db",
         str(sqlite_file)],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        env={**os.environ, "FLASHCORE_HOME": str(tmp_path)},
    )  # fmt: skip
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == code, output[:500]
    assert expected in output, output[:500]
    if code:
        assert b"nothing was imported" in done.stderr
    assert len(output) < 20_000, "messages show a field's start, not all of it"
    assert took < 60
