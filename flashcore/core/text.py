"""What text flashcore accepts, and how it shows text it did not write.

Two rules, one per edge:

- **At the way in**, names (deck names and keys, topics, tags, profile names, aliases) hold no
  control character at all, and card text holds none but tab and newline; each has a length
  limit that every backend can store (PostgreSQL enforces its VARCHAR lengths, SQLite does not,
  so the loaders check them, identically for both). `name_problem` and `text_problem` say what
  is wrong, in words a message can carry after `path:line:`.
- **At the way out**, everything printed as plain text to a terminal goes through `inert`,
  which writes control characters (ESC, BEL, C1 controls such as CSI, ...) and the bidi
  overrides as visible escapes, so a name stored by an older flashcore or by hand cannot set
  the window title, write the clipboard or clear the screen.
"""

from __future__ import annotations

import re
from typing import Any

# Limits of what the loaders accept. Each fits its column on every backend: deck keys
# VARCHAR(200) (an Anki text deck's name is its key), topic paths and keys VARCHAR(500), a
# weak topic's reason VARCHAR(300) ("weak topic: <path> — ..." must fit), profile names
# VARCHAR(100), aliases VARCHAR(500).
DECK_NAME_CHARS = 200
DECK_KEY_CHARS = 200
TOPIC_CHARS = 200
TOPIC_KEY_CHARS = 500
TAG_CHARS = 500  # tags have no column limit; AnKing-style hierarchies stay well under
PROFILE_CHARS = 100
ALIAS_CHARS = 500
REASON_CHARS = 300

# C0 controls, DEL and the C1 controls (U+0080-U+009F: a terminal may take U+009B as CSI).
_CONTROL = "\x00-\x1f\x7f-\x9f"
# Bidi embeddings, overrides and isolates: they reorder what a terminal shows.
_BIDI = "\u202a-\u202e\u2066-\u2069"
_ANY_CONTROL = re.compile(f"[{_CONTROL}]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab, newline (and CR) allowed
_UNSAFE_LINES = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}]")  # all but newline
_UNSAFE_CELL = re.compile(f"[{_CONTROL}{_BIDI}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str, *, newlines: bool = True) -> str:
    """`text` safe to write to a terminal: every control character (newlines excepted, unless
    `newlines` is False) and every bidi override becomes a visible escape (`ESC` -> `\\x1b`).
    The one function every plain-text output of the command line goes through."""
    pattern = _UNSAFE_LINES if newlines else _UNSAFE_CELL
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def shown(value: str, limit: int = 60) -> str:
    """A value quoted in a message: repr (so control characters show escaped), clipped."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def control_problem(value: str, *, text: bool = False) -> str | None:
    """The first control character in `value` as a message, or None. Card text (`text`) may
    hold tabs and line breaks; a name may not."""
    found = (_TEXT_CONTROL if text else _ANY_CONTROL).search(value)
    if found is None:
        return None
    code = ord(found.group())
    allowed = "only tab and line breaks are allowed" if text else "names are one line of text"
    return f"holds control character U+{code:04X} ({allowed})"


def name_problem(value: str, limit: int) -> str | None:
    """Why `value` cannot be a name of at most `limit` characters, or None."""
    problem = control_problem(value)
    if problem is not None:
        return problem
    if len(value) > limit:
        return f"is {len(value):,} characters long; at most {limit:,}"
    return None


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis (for derived text such as reasons)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_text(text: str) -> str:
    """`text` without NUL characters, lone surrogates replaced by U+FFFD (a surrogate pair is
    joined into its character)."""
    text = text.replace("\x00", "")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def clean_value(value: Any) -> Any:
    """A JSON value with every string in it (keys too) cleaned by `clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_value(v) for k, v in value.items()}
    return value
