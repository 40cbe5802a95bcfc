"""The qbank import benchmark runs, the large case too (tiny sizes; no timing assertions)."""

from __future__ import annotations

from tests.qbank_logs import make_log
from tools.bench.qbank import main


def test_qbank_benchmark_runs_and_reports_rows_per_second(capsys, tmp_path):
    assert make_log(3).count(b"\n") == 4
    args = ["--attempts", "500", "--runs", "1", "--cards", "2600", "--history", "1500"]
    assert main([*args, "--keep", str(tmp_path / "large")]) == 0
    out = capsys.readouterr().out
    assert "first import" in out and "rows/s" in out
    assert "large: 2,600 cards holding 1,500 attempts" in out and "weakness after it" in out
