"""The qbank import benchmark runs (tiny size; no timing assertions)."""

from __future__ import annotations

from tests.qbank_logs import make_log
from tools.bench.qbank import main


def test_qbank_benchmark_runs_and_reports_rows_per_second(capsys):
    assert make_log(3).count(b"\n") == 4
    assert main(["--attempts", "500", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "first import" in out and "rows/s" in out
