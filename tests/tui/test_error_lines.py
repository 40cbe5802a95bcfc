"""What the reviewer says when a write fails: a line in words, never the driver's exception
name (tmux showed `(sqlite3.IntegrityError) FOREIGN KEY c...` in the card's border)."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import IntegrityError

from flashcore.tui.session import one_line


def test_a_database_error_is_said_in_the_databases_words():
    exc = IntegrityError(
        "INSERT INTO review_logs ...", {}, sqlite3.IntegrityError("FOREIGN KEY constraint failed")
    )
    assert one_line(exc) == "the database refused it: FOREIGN KEY constraint failed"


def test_other_errors_keep_their_first_line_and_an_empty_one_still_says_something():
    from flashcore.core.errors import FlashcoreError

    assert one_line(FlashcoreError("first\nsecond")) == "first"
    assert one_line(KeyError("x")) == "an unexpected error: 'x'"
    assert "doctor" in one_line(RuntimeError())
