"""Topic weights: score topics from their misses, keep on each topic its weight and its cards'
(the highest among it and its ancestors), point each card at the note's topic it takes its
weight from (schema 0019: the queue reads a card's weight through it), and the reasons a card
is weighted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from flashcore.core import weakness as model
from flashcore.core.queue import Entry, with_missed_question
from flashcore.core.reasons import AssessedArea, TopicEvidence, WeakTopic
from flashcore.storage import repos
from flashcore.storage.repos import weights as weights_repo
from flashcore.storage.uow import run_write_core

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from flashcore.core.difficulty import Known
    from flashcore.core.matching import TopicMatcher
    from flashcore.services.context import Collection
    from flashcore.storage.repos import Executor

from flashcore.services import kept_scores
from flashcore.services.context import today_for
from flashcore.services.difficulty import topic_shares
from flashcore.services.forgetting import topic_first_answers
from flashcore.services.forgetting import topic_lapses as topic_lapses  # re-exported
from flashcore.services.matching import (
    MISSED,
    AddedAttempt,
    AddedGroups,
    TopicAttempts,
    TopicIndex,
    load_index,
    scheduling_scores,
    score_all,
)


def refresh_weights(fc: Collection, *, force: bool = True) -> bool:
    """Recompute topic weights and copy them onto cards. Without `force`, only once per study
    day (weights decay daily). Returns whether it ran."""
    today = today_for(fc)

    def work(session: Connection) -> bool:
        if not force and weights_repo.weights_day(session, fc.profile_id) == today:
            return False
        found = plan_refresh(session, fc, today)
        apply_refresh(session, fc, found)
        # The day's first queue: misses logged since the last one pull cards forward (pull-
        # forwards follow the misses, not only the import that brought them).
        from flashcore.services import pullforward

        pullforward.recompute(session, fc, today, index=found.index, shares=found.shares)
        return True

    # On a plain connection: the day's first command loads no ORM for it.
    return run_write_core(fc.engine, work)


def refresh_in(
    session: Session,
    fc: Collection,
    today: date,
    *,
    skip_batch: int | None = None,
    added: Iterable[AddedAttempt] = (),
) -> tuple[TopicIndex, list[TopicAttempts]]:
    """The weight refresh inside a caller's transaction (an alias, a removal, an assessment).
    Returns the index it used, for the pull-forward that follows (and no matched attempts:
    see `matching.score_all`). `skip_batch` and `added`: see `plan_refresh`."""
    found = plan_refresh(session, fc, today, skip_batch=skip_batch, added=added)
    apply_refresh(session, fc, found)
    return found.index, []


@dataclass(slots=True)
class Refresh:
    """A weight refresh worked out on one study day, not yet written: the topics and the
    cards whose weight (or weak topic, or reason) changes."""

    index: TopicIndex
    day: date
    topics: list[weights_repo.TopicWeight]
    cards: list[weights_repo.CardWeight]
    # The matcher that learned every stored attempt's texts, when the scores made one (see
    # matching.Scored): pull-forwards worked out in the same transaction resolve with it.
    learned: TopicMatcher | None = None
    # The topics' misses with the others' share (services.difficulty.topic_shares), which
    # weigh the misses and, with them, the pull-forwards of the same day.
    shares: dict[int, Known] | None = None
    # The report's scores made on the way, to keep (services.kept_scores; None: not kept).
    keep: kept_scores.Keep | None = None


def plan_refresh(
    session: Executor,
    fc: Collection,
    today: date,
    *,
    skip_batch: int | None = None,
    added: Iterable[AddedAttempt] = (),
    index: TopicIndex | None = None,
    added_groups: AddedGroups | None = None,
) -> Refresh:
    """Work out the weights on `today` (reads only: an import does it outside the write lock,
    then writes the changes a few hundred cards at a time). An import passes the batch it just
    wrote and its rows (see `matched_attempts`), and the topic index when it still stands
    (with its rows grouped by that index already: `added_groups`, see matching.group_added)."""
    half_life = fc.settings.weakness_half_life_days
    if index is None:
        index = load_index(session, fc.profile_id)
    # The report's scores made on the way: kept for the day's reports (services.kept_scores).
    # Stamped before they are made: PostgreSQL reads each statement at its own snapshot, and a
    # stamp read after the scores could name attempts another import published in between.
    made_from = kept_scores.stamp(session, fc.profile_id, index, today, half_life)
    found = score_all(
        session, fc.profile_id, index, today, half_life, skip_batch=skip_batch, added=added,
        added_groups=added_groups,
    )  # fmt: skip
    lapses = topic_lapses(session, fc, index, today)
    from flashcore.core import first_answers, memory_floor

    unfinished: set[int] = set()
    first = None
    if (memory_floor.ENABLED and memory_floor.ONLY_INTRODUCED) or first_answers.ENABLED:
        unfinished = repos.topics_with_new_cards(session, fc.profile_id)
    if first_answers.ENABLED and unfinished:
        first = topic_first_answers(session, fc, index, today)
    known = topic_shares(session, fc, index, today)
    direct = scheduling_scores(index, found.direct, fc.settings, lapses, unfinished, first, known)
    direct, reasons = _with_assessments(session, fc, index, direct, today)
    of_cards = _cards_weights(index, direct)
    topics = _topic_weight_changes(session, fc.profile_id, direct, of_cards, half_life, today,
                                   reasons)  # fmt: skip
    missed = _missed_questions(index, found.outcomes, today, half_life)
    cards = _card_weight_changes(session, fc.profile_id, of_cards, missed)
    return Refresh(index, today, topics, cards, found.learned, known,
                   kept_scores.kept(made_from, found, index))  # fmt: skip


def apply_refresh(session: Executor, fc: Collection, found: Refresh, *, cards: bool = True) -> None:
    """Write a planned refresh (without `cards`: the caller wrote the cards' changes) and
    stamp its day."""
    weights_repo.update_topic_weights(session, found.topics)
    if found.keep is not None:
        kept_scores.keep(session, fc.profile_id, found.keep)
    if cards:
        weights_repo.update_card_weights(session, found.cards)
    weights_repo.set_weights_day(session, fc.profile_id, found.day)


def _with_assessments(
    session: Executor,
    fc: Collection,
    index: TopicIndex,
    scores: dict[int, model.TopicScore],
    today: date,
) -> tuple[dict[int, model.TopicScore], dict[int, AssessedArea]]:
    """The topic scores with self-assessment reports' weak systems and disciplines added: every
    topic of a reported area takes the area's score where it is higher than its own (see
    core.assessment); and the reasons of the topics that took it."""
    from flashcore.storage.planning import list_assessments

    found = list_assessments(session, fc.profile_id)
    if not found:
        return scores, {}
    from flashcore.core import assessment as reports
    from flashcore.core.outline import discipline_of, system_of

    half_life = fc.settings.weakness_half_life_days
    areas = reports.area_scores(found, today, half_life)
    if not areas:
        return scores, {}
    why: dict[tuple[reports.AreaKind, str], AssessedArea] = {}
    for a in sorted(found, key=lambda a: (a.taken_on, a.assessment_id)):
        for area in a.areas:
            band = area.band_for(a.pass_line)
            why[(area.kind, area.area)] = AssessedArea(
                area.kind, area.area, band, a.name, a.taken_on
            )
    out = dict(scores)
    reasons: dict[int, AssessedArea] = {}
    for topic_id, path in index.paths.items():
        best = 0.0
        reason: AssessedArea | None = None
        for key in ((reports.AreaKind.SYSTEM, system_of(path)),
                    (reports.AreaKind.DISCIPLINE, discipline_of(path))):  # fmt: skip
            if key[1] is None:
                continue
            score = areas.get((key[0], key[1]), 0.0)
            if score > best:
                best, reason = score, why[(key[0], key[1])]
        own = out.get(topic_id, model.NEUTRAL)
        if best > own.score and reason is not None:
            from dataclasses import replace

            out[topic_id] = replace(own, score=best)
            reasons[topic_id] = reason
    return out, reasons


# A topic's cards' weight and the topic it comes from (None: weight 0).
CardsWeight = tuple[float, int | None]
_NONE: CardsWeight = (0.0, None)


def _cards_weights(
    index: TopicIndex, scores: dict[int, model.TopicScore]
) -> dict[int, CardsWeight]:
    """The weight each topic's cards take: the highest score among the topic and its
    ancestors (rounded to 6 places; the first in that order among equal rounded scores that
    pass the one before), and the topic of it; (0, None) when that is 0."""
    out: dict[int, CardsWeight] = {}
    for topic_id in index.paths:
        best: tuple[float, int | None] = _NONE
        for t in (topic_id, *index.ancestors(topic_id)):
            s = scores.get(t)
            if s is not None and s.score > best[0]:
                best = (round(s.score, 6), t)
        out[topic_id] = best if best[0] > 0 else _NONE
    return out


def _topic_weight_changes(
    session: Executor,
    profile_id: int,
    scores: dict[int, model.TopicScore],
    of_cards: dict[int, CardsWeight],
    half_life: float,
    today: date,
    reasons: dict[int, AssessedArea] | None = None,
) -> list[weights_repo.TopicWeight]:
    changes: list[weights_repo.TopicWeight] = []
    for old in weights_repo.topic_weights(session, profile_id):
        s = scores.get(old.topic_id, model.NEUTRAL)
        why: TopicEvidence | AssessedArea | None = (
            TopicEvidence.of(s, half_life, today) if s.score > 0 else None
        )
        if reasons and old.topic_id in reasons:  # weighted by a self-assessment's report
            why = reasons[old.topic_id]
        weight = round(s.score, 6)
        cards_weight, of = of_cards.get(old.topic_id, _NONE)
        if (weight, why, cards_weight, of) != (old.weight, old.why, old.card_weight,
                                               old.card_topic_id):  # fmt: skip
            changes.append(
                replace(old, weight=weight, why=why, card_weight=cards_weight, card_topic_id=of)
            )
    return changes


def _missed_questions(
    index: TopicIndex,
    outcomes: dict[tuple[str, str], model.QuestionOutcomes],
    today: date,
    half_life: float,
) -> dict[int, float]:
    """The weight each note earns from an open miss of a question it lists (none: absent)."""
    questions: dict[int, list[tuple[str, str, model.QuestionOutcomes]]] = defaultdict(list)
    for (source, qid), o in outcomes.items():
        if model.open_miss(o, today, half_life) is None:
            continue
        for note_id in index.qid_notes.get((source, qid), ()):
            questions[note_id].append((source, qid, o))
    out: dict[int, float] = {}
    for note_id, listed in questions.items():
        miss = model.strongest_miss(listed, today, half_life)
        if miss is not None:
            out[note_id] = model.question_weight(miss.on_date, today, half_life)
    return out


def _card_weight_changes(
    session: Executor,
    profile_id: int,
    of_cards: dict[int, CardsWeight],
    missed: dict[int, float] | None = None,
) -> list[weights_repo.CardWeight]:
    """A card's weight is the highest score among its topics and their ancestors, or, above
    them all, the weight of an open miss of a question its note lists (`missed`, by note).
    Stored as the weight of the missed question (0: none) and the note's topic the rest is
    read through (`weak_topic_id`; its `card_weight` and `card_topic_id`): the first of the
    note's topics by id whose cards weigh the most (the first when none weighs anything, so
    that a note of one topic keeps it). The cards whose either changed."""
    changes: list[weights_repo.CardWeight] = []
    # A row per card and linked topic, by card and topic id: the first topic of the highest
    # weight wins (ties: the lowest topic id).
    weighing = {topic for topic, (weight, _t) in of_cards.items() if weight > 0}
    rows = weights_repo.card_weights_and_topics(session, profile_id, missed or (), weighing)
    none = (-1.0, None)
    best: tuple[float, int | None] = none
    for at, (card_id, note_id, weight, topic_id, linked) in enumerate(rows):
        if at and rows[at - 1][0] != card_id:
            best = none  # a new card
        if linked is not None:
            candidate = of_cards.get(linked, _NONE)[0]
            if candidate > best[0]:
                best = (candidate, linked)
        if at + 1 < len(rows) and rows[at + 1][0] == card_id:
            continue  # more topics of this card follow
        own = missed.get(note_id, 0.0) if missed else 0.0
        if (weight, topic_id) != (own, best[1]):
            changes.append((card_id, note_id, own, best[1]))
    return changes


def card_reasons(fc: Collection, session: Executor, card_ids: list[int]) -> dict[int, WeakTopic]:
    """The weak topic of the given cards that carry a weakness weight (with an explanation)."""
    return explained_only(repos.weak_topics(session, card_ids))


def explained_only(weak: dict[int, WeakTopic]) -> dict[int, WeakTopic]:
    """Those of `weak` whose topic has an explanation, each topic looked at once (its cards
    share its value: repos.weak_topics)."""
    has: dict[int, bool] = {}
    out: dict[int, WeakTopic] = {}
    for card_id, topic in weak.items():
        told = has.get(id(topic))
        if told is None:
            told = has[id(topic)] = bool(topic.explanation)
        if told:
            out[card_id] = topic
    return out


def question_reasons(
    fc: Collection, session: Executor, card_ids: list[int]
) -> dict[int, model.MissedQuestion]:
    """The missed question (`uworld:118154` on 2026-12-04) of the given cards whose note lists
    a question with an open miss (the one that sets the card's weight)."""
    today = today_for(fc)
    half_life = fc.settings.weakness_half_life_days
    answers = repos.question_answers(session, fc.profile_id, card_ids, MISSED)
    unsuspended = repos.unsuspended_by_miss(session, list(answers))
    out: dict[int, model.MissedQuestion] = {}
    for card_id, listed in answers.items():
        questions = []
        for (source, qid), days in listed.items():
            o = model.QuestionOutcomes()
            for on_date, was_missed in days:
                o = o.add(on_date, was_missed, today)
            questions.append((source, qid, o))
        miss = model.strongest_miss(questions, today, half_life)
        if miss is not None:
            if card_id in unsuspended:
                miss = replace(miss, unsuspended=True)
            out[card_id] = miss
    return out


def card_weakness(fc: Collection, session: Executor, weights: dict[int, float]) -> dict[int, str]:
    """Why each weighted card (id -> weight) is weighted, as `cards --json` says it: the missed
    question it lists (`missed uworld:118154 on 2026-12-04`), else its weak topic's reason."""
    weighted = [card_id for card_id, weight in weights.items() if weight > 0]
    if not weighted:
        return {}
    out = {
        card_id: weak.explanation for card_id, weak in card_reasons(fc, session, weighted).items()
    }
    missed = [card_id for card_id in weighted if weights[card_id] >= model.MISSED_QUESTION]
    if missed:
        out.update(
            {card_id: m.text() for card_id, m in question_reasons(fc, session, missed).items()}
        )
    return out


def ensure_fresh(fc: Collection) -> None:
    """Weights decay with time: recompute once per study day before building a queue (one cheap
    read decides; the refresh, which stamps the day, runs on the first queue of a study day)."""
    with fc.engine.connect() as conn:  # Core: this read sits on the queue's path
        stamp = weights_repo.weights_day(conn, fc.profile_id)
        conn.rollback()
    if stamp != today_for(fc):
        refresh_weights(fc, force=False)
    from flashcore.services.exam import follow_plan

    follow_plan(fc)  # plan_mode auto: today's new cards a day, once a study day


def name_missed_questions(
    fc: Collection,
    conn: Executor,
    entries: list[Entry],
    weight_of: dict[int, float],
    weak: dict[int, WeakTopic],
) -> list[Entry]:
    """A card whose own question was missed names it (`missed uworld:118154 on …`), in place
    of its weak topic (taken out of `weak`)."""
    ids = [e.card_id for e in entries if weight_of.get(e.card_id, 0.0) >= model.MISSED_QUESTION]
    if not ids:
        return entries
    missed = question_reasons(fc, conn, ids)
    for card_id in missed:
        weak.pop(card_id, None)
    return [
        with_missed_question(e, missed[e.card_id]) if e.card_id in missed else e for e in entries
    ]
