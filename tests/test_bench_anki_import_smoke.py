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
