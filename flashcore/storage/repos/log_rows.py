"""A review-log row as stored: its before-state either chained (NULL: the card's previous row
keeps it) or written out, the rarely filled part packed in `packed_before` (schema 0017); insert a
row, read its whole before-state back, keep a successor exact when a row goes."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update

from flashcore.core.errors import NotFoundError
from flashcore.storage.tables import review_logs

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


@cache
def _insert_review_statement() -> Any:
    return insert(review_logs)


# The before-state columns a chained row leaves NULL, and where the previous row keeps each.
CHAINED = ("step_before", "stability_before", "difficulty_before", "due_before",
           "last_review_before", "retention_before")  # fmt: skip
CHAIN_SOURCE = ("step_after", "stability_after", "difficulty_after", "due_after", "reviewed_at",
                 "desired_retention")  # fmt: skip
# The before-state values stored together in `packed_before` (schema 0017), in its order.
PACKED = ("step_before", "stability_before", "difficulty_before", "retention_before",
          "buried_until_before")  # fmt: skip


def stored_review(values: dict[str, Any]) -> dict[str, Any]:
    """A review-log row as given (every before-state value by name) -> as stored: the packed
    values in `packed_before`. A row already stored passes unchanged."""
    if "packed_before" in values:
        return values
    out = {k: v for k, v in values.items() if k not in PACKED and k != "chained"}
    out["packed_before"] = tuple(values.get(name) for name in PACKED)
    return out


def given_review(row: dict[str, Any]) -> dict[str, Any]:
    """A stored review-log row -> every before-state value by name, and `chained` (its
    `due_before` is NULL: the chained values are the previous row's, see `before_state`)."""
    if "packed_before" not in row:
        return row
    out = {k: v for k, v in row.items() if k != "packed_before"}
    packed = row["packed_before"] or (None,) * len(PACKED)
    out.update(zip(PACKED, packed, strict=True))
    out["chained"] = "due_before" in row and row["due_before"] is None
    return out


# A card's previous row is found by its greatest id in the card's index entries (the card's
# index is ordered by revlog id, not by id, since schema 0022: the ids are read from the
# index alone, then one row), not by ordering the card's rows.


@cache
def previous_statement() -> Any:
    r = review_logs.c
    last = select(func.max(r.id)).where(r.card_id == bindparam("b_card")).scalar_subquery()
    return select(*(r[name] for name in CHAIN_SOURCE)).where(r.id == last)


def insert_review(session: Executor, values: dict[str, Any]) -> int:
    """Insert one review-log row (every before-state value by name); its id (SQLite's last row
    id, RETURNING elsewhere). When the card is exactly as its previous answer left it, the row
    is written chained (its before-state read from that answer's row: one seek on the card's
    index, ~10 us)."""
    previous = session.execute(previous_statement(), {"b_card": values["card_id"]}).first()
    if previous is not None and all(
        _same(values.get(name), previous[i]) for i, name in enumerate(CHAINED)
    ):
        values = {**values, **dict.fromkeys(CHAINED)}
    result = session.execute(_insert_review_statement(), stored_review(values))
    return int(result.inserted_primary_key[0])  # type: ignore[attr-defined]


def _same(a: Any, b: Any) -> bool:
    """Equal and of one kind (a float 0.0 is not None; 1 is not 1.0 written as text)."""
    return a == b and (a is None) == (b is None)


@cache
def _chain_statement() -> Any:
    r = review_logs.c
    before = (
        select(func.max(r.id))
        .where(r.card_id == bindparam("b_card"), r.id < bindparam("b_id"))
        .scalar_subquery()
    )
    return select(r.id, *(r[name] for name in CHAIN_SOURCE)).where(r.id == before)


# What a row imported from Anki holds of its before-state when written whole
# (`anki_sync.imported_row`): its due and last review; no step, memory or retention (none
# known). A first import's chained rows (schemas 0017 to 0026; `storage.answer_rows` shows the
# answers of `imported_answers` the same way, unchained) read these
# two from the card's previous row (its due after and time) and hold the rest as such a row
# does: the previous row's step, stability (0.0: none known), difficulty (Anki's factor) and
# retention after are not what the answer was given with.
IMPORTED_CHAIN = ("due_before", "last_review_before")


def before_state(session: Executor, row: dict[str, Any]) -> dict[str, Any]:
    """The row (stored, or with `id`, `card_id`, `chained` and `imported` at least) with its
    whole before-state by name: as stored, or (chained) from the card's previous row; an
    imported row's exactly as the same row written whole holds it."""
    row = given_review(row)
    if not row.get("chained"):
        return row
    previous = session.execute(
        _chain_statement(), {"b_card": row["card_id"], "b_id": row["id"]}
    ).first()
    if previous is None:  # cannot happen while unchain_successor guards deletes and rewrites
        raise NotFoundError(f"review {row['id']}: the answer it follows is missing")
    values = dict(zip(CHAINED, previous[1:], strict=True))
    if row.get("imported"):
        values = {name: values[name] if name in IMPORTED_CHAIN else None for name in CHAINED}
    return {**row, **values, "chained": False}


def unchain_successor(session: Executor, card_id: int, log_id: int) -> None:
    """Before the row `log_id` is deleted or its after-state rewritten: the card's next row, if
    chained to it, gets its before-state written out (so it stays exact)."""
    r = review_logs.c
    nxt = session.execute(
        select(func.min(r.id)).where(r.card_id == card_id, r.id > log_id)
    ).scalar()
    if nxt is not None:
        write_out(session, nxt)


def write_out(session: Executor, log_id: int) -> None:
    """Store a chained row's before-state in the row itself (nothing for a row not chained)."""
    r = review_logs.c
    row = session.execute(
        select(r.id, r.card_id, r.due_before, r.packed_before, r.imported).where(r.id == log_id)
    ).first()
    if row is None or row.due_before is not None:
        return
    set_before(session, log_id, before_state(session, dict(row._mapping)))


def set_before(session: Executor, log_id: int, values: dict[str, Any]) -> None:
    """Write before-state values (by name: any of `CHAINED`, `PACKED`, `state_before`,
    `lapses_before`) into the row `log_id`, keeping the others as stored."""
    r = review_logs.c
    current = session.execute(select(r.packed_before).where(r.id == log_id)).scalar_one()
    packed = dict(zip(PACKED, current or (None,) * len(PACKED), strict=True))
    packed.update((k, v) for k, v in values.items() if k in PACKED)
    direct = {k: v for k, v in values.items() if k not in PACKED and k.endswith("_before")}
    session.execute(
        update(review_logs)
        .where(r.id == log_id)
        .values(**direct, packed_before=tuple(packed[name] for name in PACKED))
    )
