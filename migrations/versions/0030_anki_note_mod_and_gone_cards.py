"""an Anki note's modification time taken; cards suspended because their note left

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 16:00:00

`notes.anki_mod`: the modification time (Anki's `notes.mod`, seconds) of the package copy of
the note flashcore last took (NULL: not from a package, or taken before this revision). A
package whose copy of a note is older keeps flashcore's content, as Anki's own importer does
by default ("update notes: if newer"): a student who imports the desktop's updated AnKing deck
and then an older phone export no longer gets the older text back.

`cards.suspended_gone`: why a suspended card waits for its note to come back. 0: it does not
(never suspended by its note leaving, or suspended before it left: by hand, as a leech, as the
package ships it — AnKing's waiting cards); 1: its note left the file or package while the
card was not suspended, so the note's return unsuspends it; 2: suspended while its note was
gone before this revision (the cards of notes removed then, not leeches): the return
unsuspends it unless the package suspends it, the rule before this revision. Columns added in
place on both databases (no copy of the cards table: its partial indexes and triggers stay).
Downgrade drops both.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notes", sa.Column("anki_mod", sa.BigInteger(), nullable=True))
    op.add_column(
        "cards",
        sa.Column("suspended_gone", sa.SmallInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.execute(
        "UPDATE cards SET suspended_gone = 2 WHERE suspended AND NOT leech"
        " AND note_id IN (SELECT id FROM notes WHERE removed)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a plain column in place (3.35+); Alembic's batch mode would copy the
        # tables and lose the cards' partial indexes and triggers.
        op.execute("ALTER TABLE cards DROP COLUMN suspended_gone")
        op.execute("ALTER TABLE notes DROP COLUMN anki_mod")
    else:
        op.drop_column("cards", "suspended_gone")
        op.drop_column("notes", "anki_mod")
