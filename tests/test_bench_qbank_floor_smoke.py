"""The lean-import floor benchmark runs on a tiny large case and writes what it times."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from tools.bench.qbank import build_large
from tools.bench.qbank_floor import import_python, import_sql, main, parse


def test_qbank_floor_prints_both_lean_imports_step_by_step_with_the_starts(capsys, tmp_path):
    args = ["--attempts", "300", "--runs", "1", "--cards", "2600", "--history", "1500"]
    assert main([*args, "--keep", str(tmp_path / "large")]) == 0
    out = capsys.readouterr().out
    assert "set-based (SQL):" in out and "rows in Python:" in out and "rows/s" in out
    assert "load average" in out and "with the product's import modules" in out
    assert "the product's `flashcore qbank import` as a process" in out
    assert out.count("commit") == 2 and "floor: each step the cheaper way" in out


def test_both_lean_imports_add_every_new_attempt_once(tmp_path):
    db, log = build_large(tmp_path / "large", 2600, 1500, 300)
    data = log.read_bytes()
    counts = []
    for how in (import_sql, import_python):
        copy = tmp_path / f"{how.__name__}.sqlite3"
        source, target = sqlite3.connect(db), sqlite3.connect(copy)
        source.backup(target)
        source.close()
        target.close()
        how(copy, data)
        conn = sqlite3.connect(copy)
        counts.append(
            conn.execute(
                "SELECT count(*), count(DISTINCT fingerprint), (SELECT count(*) FROM "
                "qbank_sums), (SELECT sum(attempts) FROM qbank_tallies) FROM qbank_attempts"
            ).fetchone()
        )
        conn.close()
    assert counts[0] == counts[1]
    assert counts[0][0] == counts[0][1] == 1500 + 300


def test_the_lean_parse_names_the_file_and_line_of_a_bad_row():
    with pytest.raises(SystemExit, match=r"^log.csv:3: unknown result 'maybe'$"):
        parse(b"question_id,result,date,subject,system,topic\n1,correct,2026-11-01,a,b,c\n"
              b"2,maybe,2026-11-01,a,b,c\n", "log.csv")  # fmt: skip


@pytest.mark.slow  # valgrind runs each process ~50x slower (a few minutes here)
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.skipif(
    os.environ.get("FLASHCORE_SLOW") != "1",
    reason="valgrind: set FLASHCORE_SLOW=1 to run it (a long variant, as tests/reliability's)",
)
def test_qbank_floor_counts_the_instructions_of_the_lean_and_the_product_imports(capsys, tmp_path):
    args = ["--attempts", "300", "--runs", "1", "--cards", "2600", "--history", "1500"]
    assert main([*args, "--keep", str(tmp_path / "large"), "--instructions"]) == 0
    out = capsys.readouterr().out
    counts = [float(x.split(" G")[0]) for x in out.splitlines() if " G  " in x]
    assert len(counts) == 7 and all(c > 0.1 for c in counts)  # Python's start alone is ~0.14 G
