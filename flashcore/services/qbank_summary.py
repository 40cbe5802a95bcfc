"""What an import's log holds before it is written (`ImportReport`, an import's report): its
new rows and duplicates, and the new misses matched to cards, topics or nothing, with the topic
index they were matched with (`Known`: the weights after the import use it again while it
stands)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flashcore.core.matching import own_text
from flashcore.services import matching
from flashcore.storage.db import others_commits
from flashcore.storage.uow import session_on

if TYPE_CHECKING:
    from flashcore.services.context import Collection
    from flashcore.storage.qbank_stage import Stage

__all__ = ["ImportReport", "Known", "summarize"]


@dataclass(slots=True)
class ImportReport:
    rows_read: int = 0
    added: int = 0
    duplicates: int = 0
    skipped_invalid: list[str] = field(default_factory=list)
    misses: int = 0
    matched_card: int = 0
    matched_topic: int = 0
    matched_none: int = 0
    unmatched_topics: list[str] = field(default_factory=list)
    unmatched_qids: list[str] = field(default_factory=list)
    pulled_forward: int = 0  # the cards today's queue has pulled forward, after the import
    pulled_forward_new: int = 0  # of those, the ones it did not have before
    unsuspended: int = 0  # suspended cards a missed question id brought back (unsuspend_on_miss)
    batch_id: int | None = None
    format: str = ""
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "format": self.format,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "added": self.added,
            "duplicates": self.duplicates,
            "skipped_invalid": self.skipped_invalid,
            "misses": self.misses,
            "matched": {
                "card": self.matched_card,
                "topic": self.matched_topic,
                "none": self.matched_none,
            },
            "unmatched_topics": self.unmatched_topics,
            "unmatched_qids": self.unmatched_qids,
            "pulled_forward": self.pulled_forward,
            "pulled_forward_new": self.pulled_forward_new,
            "unsuspended": self.unsuspended,
            "warnings": self.warnings,
        }


@dataclass(frozen=True, slots=True)
class Known:
    """The index an import matched with, and SQLite's count of others' commits then: unchanged
    by the import's writes, the weights use it again while no other connection commits."""

    index: matching.TopicIndex
    version: tuple[Any, int] | None  # (the driver's connection: the count is its own, count)

    def stands(self, conn: Any) -> bool:  # inside a read transaction
        return self.version is not None and self.version == _version(conn)


_version = others_commits


def summarize(conn: Any, fc: Collection, stage: Stage, report: ImportReport) -> Known:
    """New rows and duplicates; the new misses matched to cards, topics or nothing."""
    report.added, report.duplicates = stage.dedupe()
    report.misses = report.matched_card = report.matched_topic = report.matched_none = 0
    with session_on(conn) as session:
        index = matching.load_index(session, fc.profile_id)
        version = _version(conn)
        counts = Counter[str]()
        # A miss at a question id some note lists matches its card (matching.match_attempt);
        # any other matches by its texts alone, once per texts (~35,000 misses, ~1,500 texts).
        by_texts: dict[tuple[str, str, str], str] = {}
        unmatched: list[tuple[tuple[str, str, str], str]] = []  # (texts, bank:qid), log order
        matcher = index.matcher()
        qid_notes, cards = index.qid_notes, 0
        for bank, qid, topic, category, system in stage.new_misses():
            if qid_notes.get((bank, qid)):
                cards += 1
                continue
            texts = (topic, category, system)
            kind = by_texts.get(texts)
            if kind is None:
                if len(by_texts) > 100_000:
                    by_texts.clear()
                kind = by_texts[texts] = matching.match_attempt(
                    index, bank, qid, texts, matcher
                ).kind
            counts[kind] += 1
            if kind == "none":
                unmatched.append((texts, f"{bank}:{qid}"))
        counts["card"] += cards
        missed_texts = Counter(texts for texts, _qid in unmatched)
        labels = {texts: own_text(texts) for texts in missed_texts}
        if any(labels.values()):
            # A topic text may stand for the leaf that fuller rows name: learn it from the
            # stored attempts and this log's misses, and look again at what matched nothing.
            # (This log's correct answers are left out: reading them all costs more than the
            # summary is worth; the weights, refreshed next, learn from every row.)
            matcher = matching.learned_matcher(session, fc.profile_id, index, missed_texts.items())
            found = {t for t in missed_texts if labels[t] and matcher.resolve(t) is not None}
            if found:
                moved = sum(missed_texts.pop(t) for t in found)
                counts["none"] -= moved
                counts["topic"] += moved
                unmatched = [(t, label) for t, label in unmatched if t not in found]
    unmatched_topics: Counter[str] = Counter()
    for texts, n in missed_texts.items():
        if labels[texts]:
            unmatched_topics[labels[texts]] += n
    report.misses = sum(counts.values())
    report.matched_card = counts["card"]
    report.matched_topic = counts["topic"]
    report.matched_none = counts["none"]
    report.unmatched_topics = [t for t, _n in unmatched_topics.most_common()]
    report.unmatched_qids = [label for _texts, label in unmatched]
    return Known(index, version)
