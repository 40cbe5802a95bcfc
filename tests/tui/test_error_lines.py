"""What the reviewer says when a write fails: a line in words, never the driver's exception
name (tmux showed `(sqlite3.IntegrityError) FOREIGN KEY c...` in the card's border)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

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


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("database or disk is full", "the disk is full: free some space"),
        ("attempt to write a readonly database", "the file or its folder is read-only"),
        ("disk I/O error", "the disk failed a write (full?)"),
        ("database is locked", "another flashcore holds the database"),
        ("database disk image is malformed", "damaged database: `flashcore doctor`"),
    ],
)
def test_what_the_student_can_act_on_is_said_short_enough_for_the_border(words, said):
    # Found living with it (a full disk under an open reviewer): "your answer was not saved;
    # answer again, or quit (the database refused it: database or d…" — cut at the border.
    exc = OperationalError("UPDATE cards ...", {}, sqlite3.OperationalError(words))
    assert one_line(exc) == said
    line = f"your answer was not saved; answer again, or quit ({said})"
    assert len(line) + 8 <= 96  # the card's widest border, its corners and spaces
