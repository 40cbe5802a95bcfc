"""The qbank import benchmark runs, the large case too (tiny sizes; no timing assertions)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.qbank_logs import make_log
from tools.bench.qbank import main


def test_qbank_benchmark_runs_and_reports_rows_per_second(capsys, tmp_path):
    assert make_log(3).count(b"\n") == 4
    args = ["--attempts", "500", "--runs", "1", "--cards", "2600", "--history", "1500"]
    assert main([*args, "--keep", str(tmp_path / "large")]) == 0
    out = capsys.readouterr().out
    assert "first import" in out and "rows/s" in out
    assert "large: 2,600 cards holding 1,500 attempts" in out and "weakness after it" in out
    assert "`flashcore weakness --json` after it, the whole process" in out
    assert "the first command of the next study day" in out


def test_qbank_phases_times_every_phase_of_the_large_import(capsys, tmp_path):
    from tools.bench.qbank_phases import main as phases

    args = ["--attempts", "300", "--cards", "2600", "--history", "1500"]
    assert phases([*args, "--keep", str(tmp_path / "large")]) == 0
    out = capsys.readouterr().out
    assert "300 added" in out and "rows/s of CPU" in out
    assert "not timed" not in out  # every phase's function is still there by its name
    assert "copy" in out and "the card pass" in out and "cycle collector" in out


@pytest.mark.slow  # valgrind runs the command ~50x slower (~1 min here)
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.skipif(
    os.environ.get("FLASHCORE_SLOW") != "1",
    reason="valgrind: set FLASHCORE_SLOW=1 to run it (a long variant, as tests/reliability's)",
)
def test_qbank_benchmark_counts_the_weakness_command_instructions(capsys, tmp_path):
    args = ["--attempts", "300", "--runs", "1", "--cards", "2600", "--history", "1500"]
    assert main([*args, "--keep", str(tmp_path / "large"), "--instructions"]) == 0
    out = capsys.readouterr().out
    lines = [x for x in out.splitlines() if "instructions (valgrind" in x]
    assert len(lines) == 2 and "the next day's first" in lines[1]
    for line in lines:
        assert float(line.split("): ")[1].split(" G")[0]) > 0.1  # Python's start is ~0.14 G
