"""Which format a log without `--format` is: a UWorld paste, a list of ids, or CSV."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain, repeat

from flashcore.importers.qbank.cells import DATE_LIKE

UWORLD_ID = re.compile(r"\s*\d+\s*-\s*(\S+)\s*")


ID_TOKEN = re.compile(r"(?:[A-Za-z][A-Za-z0-9_-]{0,39}:)?\d{1,64}")


def _is_uworld_row(line: str) -> bool:
    if "\t" not in line:
        return False
    first = line.split("\t", 1)[0]
    return bool(UWORLD_ID.match(first)) and not DATE_LIKE.fullmatch(first.strip())


def detect(lines: Iterator[str]) -> tuple[str, Iterator[str]]:
    """The format the first lines suggest ("qids" is confirmed by `parse_qids` reading on),
    and the lines again from the first."""
    blank = 0
    filled: list[str] = []
    for line in lines:
        if line.strip():
            filled.append(line)
            if len(filled) == 2:
                break
        elif filled:
            filled.append(line)
        else:
            blank += 1  # leading blank lines are read as "" again (every format skips them)
    again = chain(repeat("", blank), filled, lines)
    found = [line for line in filled if line.strip()]
    if not found:
        return "qids", again
    first = found[0]
    if _is_uworld_row(first):
        return "uworld", again
    if "\t" in first and len(found) > 1 and _is_uworld_row(found[1]):
        return "uworld", again
    if all(map(ID_TOKEN.fullmatch, first.replace(",", " ").split())):
        return "qids", again
    return "csv", again
