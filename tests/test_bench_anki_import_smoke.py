"""Smoke test of `python -m tools.bench.anki_import`: a tiny AnKing-like package made by the
real `anki`, imported by Anki and by flashcore (twice); every line it promises is printed. No
timing assertions: the numbers depend on the machine."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from tools.bench import anki_import


def test_a_tiny_run_prints_anki_flashcore_and_the_unchanged_re_import(tmp_path: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = anki_import.main(
            ["--notes", "60", "--revlog", "600", "--media", "2", "--work", str(tmp_path)]
        )
    text = out.getvalue()
    assert code == 0, text
    assert "package:" in text
    for kind in ("anki", "flashcore ", "flashcore-again"):
        assert f"round 1 {kind}" in text, text
    assert '"reviews_added": ' in text and '"reviews_skipped": ' in text
    assert text.count('"review_log_cpu": ') == 2  # the review log's phase, in both imports
    # the round's verdict: on wall time (the "no more time"), CPU beside it
    assert "round 1 verdict: " in text and "x Anki's wall time, " in text, text
    assert "x its CPU (the import's thread " in text, text


def test_the_verdict_is_on_wall_time_with_cpu_beside_it() -> None:
    def run(seconds: float, cpu: float, rss: float = 200.0) -> dict[str, float]:
        return {"seconds": seconds, "cpu": cpu, "main_thread_cpu": cpu, "peak_rss_mb": rss,
                "load": 1.0}  # fmt: skip

    anki = run(4.0, 3.8)
    faster_wall = {"anki": anki, "flashcore": run(3.9, 5.0), "flashcore-again": run(0.3, 0.3)}
    assert anki_import.verdict(faster_wall).startswith("met (on wall time): first import 0.97x")
    assert "1.32x its CPU" in anki_import.verdict(faster_wall)
    slower = {**faster_wall, "flashcore": run(4.4, 3.0)}
    assert anki_import.verdict(slower).startswith("NOT met")
    heavy = {**faster_wall, "flashcore": run(3.0, 3.0, rss=320.0)}
    assert anki_import.verdict(heavy).startswith("NOT met")
    slow_again = {**faster_wall, "flashcore-again": run(2.1, 0.3)}
    assert anki_import.verdict(slow_again).startswith("NOT met")
