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
    # the round's verdict: on wall time (the "no more time") less the waits for a core,
    # CPU beside it
    assert "round 1 verdict: " in text and "(on wall time less waits for a core)" in text, text
    assert "x its CPU (the import's thread " in text and '"alone": ' in text, text


def test_the_verdict_is_on_wall_time_less_waits_for_a_core_with_cpu_beside_it() -> None:
    def run(
        seconds: float, cpu: float, rss: float = 200.0, waited: float = 0.0
    ) -> dict[str, float]:
        return {"seconds": seconds, "cpu": cpu, "main_thread_cpu": cpu, "peak_rss_mb": rss,
                "load": 1.0, "alone": seconds - waited}  # fmt: skip

    anki = run(4.0, 3.8)
    faster = {"anki": anki, "flashcore": run(3.9, 5.0), "flashcore-again": run(0.3, 0.3)}
    assert anki_import.verdict(faster).startswith("met (on wall time less waits for a core): "
                                                  "first import 0.97x")  # fmt: skip
    assert "1.32x its CPU" in anki_import.verdict(faster)
    slower = {**faster, "flashcore": run(4.4, 3.0)}
    assert anki_import.verdict(slower).startswith("NOT met")
    # 2 s of its 5 s spent waiting for a core another process held: 3 s alone
    crowded = {**faster, "flashcore": run(5.0, 3.0, waited=2.0)}
    assert "first import 0.75x Anki's (3.0 s against 4.0 s; wall 1.25x)" in anki_import.verdict(
        crowded
    )
    heavy = {**faster, "flashcore": run(3.0, 3.0, rss=320.0)}
    assert anki_import.verdict(heavy).startswith("NOT met")
    slow_again = {**faster, "flashcore-again": run(2.1, 0.3)}
    assert anki_import.verdict(slow_again).startswith("NOT met")
