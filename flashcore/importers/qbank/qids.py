"""A plain list of question ids, one or more a line."""

from __future__ import annotations

from collections.abc import Generator, Iterable

from flashcore.importers.qbank.attempts import Row
from flashcore.importers.qbank.detection import ID_TOKEN
from flashcore.importers.qbank.rows import Context, flush


def parse_qids(
    lines: Iterable[str], ctx: Context, *, detecting: bool
) -> Generator[list[Row], None, tuple[int, str] | None]:
    """Read every token as an id; when `detecting`, stop at the first token that is not digits
    or bank:digits, since the file is then not a list of ids, and return its line and text."""
    add = ctx.add
    limit = ctx.chunk_rows
    for number, line in enumerate(lines, start=1):
        tokens = line.replace(",", " ").split()
        if not tokens:
            continue
        if detecting and not all(map(ID_TOKEN.fullmatch, tokens)):
            return number, next(t for t in tokens if not ID_TOKEN.fullmatch(t))
        ctx.rows_read += len(tokens)
        if ctx.controls and (error := ctx.control_in(number, number)):
            ctx.fail(number, error)
            continue
        for token in tokens:
            add(number, token, None, None, None, "", "", "", "", None)
        if len(ctx.rows) >= limit:
            yield flush(ctx)
    return None
