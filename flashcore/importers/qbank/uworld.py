"""UWorld's Test Results table as pasted (no header; the `n - QID` cell first)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain
from typing import Any

from flashcore.importers.qbank.attempts import Row
from flashcore.importers.qbank.cells import DATE_LIKE, NO_TIME, show
from flashcore.importers.qbank.columns import ABSENT, column_roles, row_reader
from flashcore.importers.qbank.detection import UWORLD_ID
from flashcore.importers.qbank.rows import Context, flush, observe

_UWORLD_COLUMNS = {  # a paste without a header; the "n - QID" cell is always column 0
    "subject": 1,
    "system": 2,
    "category": 3,
    "topic": 4,
    "others": 5,
    "seconds": 6,
}


_PERCENT = re.compile(r"\d{1,3}(?:[.,]\d+)?\s*%?")


def _uworld_header(line: str) -> dict[str, int] | None:
    """The columns a header line names, or None if the line is not a UWorld header."""
    cells = line.split("\t")
    if UWORLD_ID.match(cells[0]):
        return None
    roles, _ = column_roles(cells)
    roles.pop("qid", None)
    known = sum(1 for index in roles.values() if index > 0)
    return roles if known >= 2 else None


def _layout(lines: Iterator[str]) -> tuple[int, str, dict[str, int], Iterator[str]] | None:
    """Where the table starts: the lines read before its rows, its header line ("" when the
    paste has none), each column's role, and the lines left (the first row put back when it
    is no header); None for a paste of blank lines."""
    number = 0
    for first in lines:
        number += 1
        if first.strip():
            break
    else:
        return None
    roles = _uworld_header(first)
    if roles is None:
        return number - 1, "", dict(_UWORLD_COLUMNS), chain([first], lines)
    return number, first.rstrip("\t "), roles, lines


def parse_uworld(lines: Iterator[str], ctx: Context) -> Iterator[list[Row]]:
    found = _layout(lines)
    if found is None:
        return
    number, header_line, roles, rest = found
    headed = bool(header_line)
    roles["qid"] = 0
    width = max(roles.values(), default=0) + 1
    if headed:
        width = max(width, len(header_line.split("\t")))
    date_column = roles.get("date")
    pick = row_reader(roles, width)
    others = roles.get("others")
    add = ctx.add
    padding = ("",) * width
    limit = ctx.chunk_rows
    for line in rest:
        number += 1
        if not line.strip():
            continue
        if headed and line.rstrip("\t ") == header_line:
            continue  # a second page pasted with its header
        ctx.rows_read += 1
        cells = line.split("\t")
        if ctx.controls and (error := ctx.control_in(number, number)):
            observe(ctx, cells, date_column)
            ctx.fail(number, error)
            continue
        while len(cells) > 1 and not cells[-1].strip():
            cells.pop()
        if len(cells) > width:
            observe(ctx, cells, date_column)
            ctx.fail(number, f"row has {len(cells)} columns; a UWorld row has at most {width}")
            continue
        match = UWORLD_ID.fullmatch(cells[0])
        if match is None or DATE_LIKE.fullmatch(cells[0].strip()):
            observe(ctx, cells, date_column)
            ctx.fail(
                number,
                f"expected 'n - QID' (e.g. '3 - 118154') in the first column, "
                f"found {show(cells[0].strip())}",
            )
            continue
        if len(cells) < width:
            cells += padding[len(cells) :]
        value = cells[others].strip() if others is not None else ""
        if (
            value
            and not (value.rstrip("%").isdigit() or _PERCENT.fullmatch(value))
            and (value.lower() not in NO_TIME)
        ):
            observe(ctx, cells, date_column)
            ctx.fail(number, f"expected '% correct others' (e.g. 62%), found {show(value)}")
            continue
        row: list[Any] = cells
        row[0] = match.group(1)
        row += ABSENT
        add(number, *pick(row))
        if len(ctx.rows) >= limit:
            yield flush(ctx)
