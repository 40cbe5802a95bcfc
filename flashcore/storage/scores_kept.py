"""The topics' scores kept between reports (schema 0026): what the weakness report's score pass
makes from the kept qbank sums on one study day (each topic's summed attempts, directly and with
its sub-topics' at half weight per level, and the gaps), stored by whoever made it (the weight
refresh after a qbank import, or a report), so that the next report on the same day reads one
row instead of matching and summing ~9,300 groups (200,000 cards, 1,100,000 attempts: ~0.6 G
instructions of a ~2.9 G `weakness` command).

One row per profile. `stamp` is a digest of everything the scores were made from: the study day
and half-life, the qbank sums' state, the profile's batches (id, content, rows added, pending),
the tallies' count, the topic index (a digest of its light form) and the code's version of the
score pass (`services.kept_scores`). A reader uses `payload` only when the stamp it works out
in its own read transaction is the stored one: a change of any of them (an import, a removal,
an undo, a deck, an alias, the next day) is a stamp that matches nothing, never a stale report.
Writers that forget the sums (`repos.clear_sums`: a batch removed, the tallies replaced) delete
the row too."""

from __future__ import annotations

from sqlalchemy import String, Table, Text

from flashcore.storage.columns import metadata, profile_key
from flashcore.storage.columns import required as _required

topic_scores_kept = Table(
    "topic_scores_kept",
    metadata,
    profile_key(),
    _required("stamp", String(64)),  # sha256 of what the scores were made from
    _required("payload", Text),  # the scores as JSON (services.kept_scores)
)
