"""What the repositories share: the executor they run on, its dialect, small helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    # Repositories run on an ORM Session or on a plain Connection (a review session holds
    # one); they use Core statements on the tables only, so the ORM is never imported here.
    Executor = Session | Connection


def dialect_of(executor: Executor) -> Any:
    get_bind = getattr(executor, "get_bind", None)  # a Session
    if get_bind is not None:
        return get_bind().dialect
    return getattr(executor, "dialect")  # noqa: B009 (a Connection; the Session has none)


def like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "::%"


def chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
