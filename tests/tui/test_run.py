"""`flashcore review` runs its app with threads taking turns every KEY_SWITCH_S: a worker in
pure Python (a queue rebuilt after an import) must not keep the screen's thread waiting for
the GIL for Python's default 5 ms each time it wants it back (issue 19)."""

from __future__ import annotations

import sys

from flashcore.tui import run


class _App:
    opened = None
    error = None
    return_code = 0

    def __init__(self) -> None:
        self.interval: float | None = None

    def run(self) -> None:
        self.interval = sys.getswitchinterval()


def test_the_review_app_runs_with_a_short_switch_interval_restored_after(monkeypatch):
    app = _App()
    monkeypatch.setattr(run, "make_lazy_app", lambda opener, **kwargs: app)
    before = sys.getswitchinterval()
    assert before > run.KEY_SWITCH_S  # Python's default, 5 ms

    assert run.run_review_lazy(lambda: None) == 0  # type: ignore[arg-type, return-value]

    assert app.interval == run.KEY_SWITCH_S
    assert sys.getswitchinterval() == before
