"""`flashcore check`: replay every card's review log through FSRS and compare with the store."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flashcore.core import fsrs_adapter
from flashcore.core.errors import FlashcoreError
from flashcore.core.model import CardState, Rating, Schedule
from flashcore.storage import anki_sync, repos
from flashcore.storage.uow import reading, run_write

if TYPE_CHECKING:
    from flashcore.services.context import Collection

TOLERANCE = 1e-6


@dataclass(slots=True)
class CheckReport:
    cards: int = 0
    reviews: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    repaired: int = 0
    # Question-bank tallies that disagree with the stored attempts (`texts: stored != counted`)
    tally_problems: list[str] = field(default_factory=list)
    tallies_repaired: bool = False
    # Topics whose kept card count (`topic_cards`, kept by triggers) disagrees with their cards
    topic_card_problems: list[str] = field(default_factory=list)
    topic_cards_repaired: bool = False
    # Cards the weight refresh reads (`weak_candidates`, kept by triggers: schema 0031) that
    # disagree with the cards: a card kept that is not one, or one not kept
    weak_candidate_problems: list[str] = field(default_factory=list)
    weak_candidates_repaired: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "cards": self.cards,
            "reviews": self.reviews,
            "problems": self.problems,
            "repaired": self.repaired,
            "qbank_tallies": {
                "problems": self.tally_problems,
                "repaired": self.tallies_repaired,
            },
            "topic_cards": {
                "problems": self.topic_card_problems,
                "repaired": self.topic_cards_repaired,
            },
            "weak_candidates": {
                "problems": self.weak_candidate_problems,
                "repaired": self.weak_candidates_repaired,
            },
        }


def _differences(stored: Schedule, expected: Schedule) -> list[str]:
    out = []
    if stored.state is not expected.state:
        out.append(f"state {stored.state.label} != {expected.state.label}")
    if stored.reps != expected.reps:
        out.append(f"reps {stored.reps} != {expected.reps}")
    if stored.lapses != expected.lapses:
        out.append(f"lapses {stored.lapses} != {expected.lapses}")
    if expected.state is not CardState.NEW:
        if stored.due != expected.due:
            out.append(f"due {stored.due.isoformat()} != {expected.due.isoformat()}")
        if stored.step != expected.step:
            out.append(f"step {stored.step} != {expected.step}")
        sm, em = stored.memory, expected.memory
        if sm is None or em is None:
            out.append("memory state missing")
        else:
            if abs(sm.stability - em.stability) > TOLERANCE * max(1.0, em.stability):
                out.append(f"stability {sm.stability:.6g} != {em.stability:.6g}")
            if abs(sm.difficulty - em.difficulty) > TOLERANCE * max(1.0, em.difficulty):
                out.append(f"difficulty {sm.difficulty:.6g} != {em.difficulty:.6g}")
    return out


def check(fc: Collection, *, repair: bool = False) -> CheckReport:
    report = CheckReport()
    with reading(fc.engine) as session:
        history = _history(session, fc)
        anchors = anki_sync.anchors(session, fc.profile_id)
        rows = repos.stored_schedules(session, fc.profile_id)
    report.reviews = sum(len(past) for past in history.values())
    fixes: list[tuple[int, int, Schedule]] = []
    for row in rows:
        report.cards += 1
        found = _verdict(row, history.get(row.card_id, []), anchors.get(row.card_id), fc.policy)
        if found is not None:
            message, fix = found
            report.problems.append({"card_id": row.card_id, "message": message})
            if fix is not None:
                fixes.append((row.card_id, row.version, fix))
    if repair and fixes:
        report.repaired = _repair(fc, fixes, history)
    _check_tallies(fc, report, repair)
    _check_topic_cards(fc, report, repair)
    _check_weak_candidates(fc, report, repair)
    return report


def _history(session: Any, fc: Collection) -> dict[int, list[fsrs_adapter.PastAnswer]]:
    """Every card's answers, in order, each with the scheduler that gave it."""
    policies = {
        sid: fsrs_adapter.Policy.from_config(config)
        for sid, config in repos.scheduler_configs(session, fc.profile_id).items()
    }
    history: dict[int, list[fsrs_adapter.PastAnswer]] = defaultdict(list)
    for log in repos.answer_log(session, fc.profile_id):
        history[log.card_id].append(
            fsrs_adapter.PastAnswer(
                Rating(log.rating),
                log.reviewed_at,
                log.desired_retention,
                policies.get(log.scheduler_id) if log.scheduler_id is not None else None,
                log.elapsed_days,
            )
        )
    return history


def _verdict(
    row: repos.StoredSchedule,
    past: list[fsrs_adapter.PastAnswer],
    anchor: anki_sync.Anchor | None,
    policy: fsrs_adapter.Policy,
) -> tuple[str, Schedule | None] | None:
    """What is wrong with one card's stored schedule (None: nothing), and the schedule its log
    gives (None: no repair, its log cannot be replayed)."""
    stored = row.schedule
    if anchor is not None:  # Anki scheduled the history up to its anchor: replay after it
        past = [p for p in past if p.reviewed_at > anchor.at]
        if not past:
            diffs = _differences(stored, anchor.schedule)
            return ("; ".join(diffs), anchor.schedule) if diffs else None
    if not past:
        if stored.state is not CardState.NEW or stored.reps:
            return "has scheduling state but no review log", Schedule(CardState.NEW, stored.due)
        return None
    try:
        expected = fsrs_adapter.replay(
            row.card_id, stored.due, past, policy, start=anchor.schedule if anchor else None
        )
    except (ValueError, ArithmeticError, FlashcoreError) as exc:  # fsrs refused this log
        return f"log cannot be replayed: {exc}", None
    diffs = _differences(stored, expected)
    return ("; ".join(diffs), expected) if diffs else None


def _repair(
    fc: Collection,
    fixes: list[tuple[int, int, Schedule]],
    history: dict[int, list[fsrs_adapter.PastAnswer]],
) -> int:
    """Write each card's replayed schedule (one transaction); returns the cards written."""
    now = fc.now()

    def work(session: Any) -> int:
        done = 0
        for card_id, version, schedule in fixes:
            retention = history[card_id][-1].retention if history.get(card_id) else None
            done += repos.save_schedule(
                session, card_id, version, schedule, now, retention=retention
            )
        return done

    return run_write(fc.engine, work)


def _check_tallies(fc: Collection, report: CheckReport, repair: bool) -> None:
    """The question-bank tallies by text must count the stored attempts exactly; `repair`
    counts them afresh."""
    with reading(fc.engine) as session:
        kept = {t.texts: (t.attempts, t.misses) for t in repos.text_tallies(session, fc.profile_id)}
        counted = repos.attempt_tallies(session, fc.profile_id)
    found = {t.texts: (t.attempts, t.misses) for t in counted}
    for texts in sorted(kept.keys() | found.keys()):
        have, want = kept.get(texts, (0, 0)), found.get(texts, (0, 0))
        if have != want:
            label = " / ".join(t for t in texts if t) or "(no text)"
            report.tally_problems.append(
                f"{label}: tallied {have[0]} attempts, {have[1]} missed; "
                f"stored {want[0]} attempts, {want[1]} missed"
            )
    if repair and report.tally_problems:

        def work(session: Any) -> None:
            repos.replace_tallies(session, fc.profile_id, counted)

        run_write(fc.engine, work)
        report.tallies_repaired = True


def _check_topic_cards(fc: Collection, report: CheckReport, repair: bool) -> None:
    """Each topic's kept card count (`topic_cards`, what the weakness report shows) must equal
    its cards counted afresh; `repair` counts them afresh."""
    with reading(fc.engine) as session:
        wrong = repos.kept_and_counted_topic_cards(session, fc.profile_id)
    for _topic_id, path, have, want in wrong:
        kept = "no count" if have < 0 else f"{have} cards"
        report.topic_card_problems.append(f"{path}: kept {kept}; counted {want}")
    if repair and wrong:
        run_write(fc.engine, lambda session: repos.recount_topic_cards(session, fc.profile_id))
        report.topic_cards_repaired = True


def _check_weak_candidates(fc: Collection, report: CheckReport, repair: bool) -> None:
    """The cards the weight refresh reads (`weak_candidates`) must be those worked out from the
    cards and their notes' topics (a card left out is one the refresh never moves again);
    `repair` fills them afresh."""
    from flashcore.storage import weak_candidates

    with reading(fc.engine) as session:
        kept, counted = weak_candidates.kept_and_counted(session, fc.profile_id)
    for card_id in sorted(counted - kept):
        report.weak_candidate_problems.append(f"card {card_id}: may move, not kept")
    for card_id in sorted(kept - counted):
        report.weak_candidate_problems.append(f"card {card_id}: kept, cannot move")
    if repair and kept != counted:
        run_write(fc.engine, lambda session: weak_candidates.refill(session, fc.profile_id))
        report.weak_candidates_repaired = True
