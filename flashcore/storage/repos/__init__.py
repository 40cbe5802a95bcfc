"""Repositories: functions that take a Session or a Connection and return plain values. They
never commit, and they query the Core tables (no ORM objects, no ORM import).

Grouped by what they store: `profiles`, `decks` (decks, notes, topics), `cards` (browsing and
the reviewer's view), `answering` (scheduling state, writing an answer), `undo` (undoing one),
`review_log` (the log read back: counts, replays, outcomes), `changes`, `qbank` (question-bank
batches, attempts, their tallies, topic aliases); `common` holds the executor type. The names
are re-exported here (`repos.load_card`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flashcore.storage.repos.answering import *  # noqa: F403
from flashcore.storage.repos.cards import *  # noqa: F403
from flashcore.storage.repos.changes import *  # noqa: F403
from flashcore.storage.repos.common import *  # noqa: F403
from flashcore.storage.repos.decks import *  # noqa: F403
from flashcore.storage.repos.introduction import *  # noqa: F403
from flashcore.storage.repos.package_notes import *  # noqa: F403
from flashcore.storage.repos.profiles import *  # noqa: F403
from flashcore.storage.repos.qbank import *  # noqa: F403
from flashcore.storage.repos.qbank_batches import *  # noqa: F403
from flashcore.storage.repos.qbank_fold import *  # noqa: F403
from flashcore.storage.repos.qbank_sums import *  # noqa: F403
from flashcore.storage.repos.qbank_sums_sync import *  # noqa: F403
from flashcore.storage.repos.qbank_windows import *  # noqa: F403
from flashcore.storage.repos.review_log import *  # noqa: F403
from flashcore.storage.repos.scoped_changes import *  # noqa: F403
from flashcore.storage.repos.scores_kept import *  # noqa: F403
from flashcore.storage.repos.topic_cards import *  # noqa: F403
from flashcore.storage.repos.undo import *  # noqa: F403

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor as Executor
