"""What a score pass makes (`Scored`: each topic's scores, the gaps) and the direct scores as
they schedule (`scheduling_scores`), apart from matching (`services.matching`, which reads the
attempts): the report from kept scores (`services.kept_scores`, `services.weakness_light`)
uses them without loading the database layer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from flashcore.core import weakness as model

if TYPE_CHECKING:
    from flashcore.core.difficulty import Known
    from flashcore.core.first_answers import FirstAnswers
    from flashcore.core.matching import TopicMatcher
    from flashcore.core.settings import Settings
    from flashcore.services.topic_index import TopicIndex

# From this many stored attempts, the database sums them per text and per listed question
# (`repos.decayed_groups`) instead of handing them over per day: at 1,000,000 attempts over a
# year and 1,000 topics there are ~1.4 million (text, day, outcome) groups. The sums are the
# same up to the order floating-point additions take (outputs are rounded well above it).
# Only such a history's scores are kept (`services.kept_scores`).
SUM_IN_DATABASE_FROM = 200_000


@dataclass(slots=True)
class Gap:
    """Misses whose most specific text names no topic (and whose question no card lists)."""

    text: str
    misses: int
    last_miss: date
    context: Counter[str]  # the broader texts of its rows (for the suggestion)


def scheduling_scores(
    index: TopicIndex,
    direct: dict[int, model.TopicScore],
    settings: Settings,
    lapses: dict[int, model.Lapses] | None = None,
    unfinished: Collection[int] = (),
    first: dict[int, FirstAnswers] | None = None,
    known: dict[int, Known] | None = None,
) -> dict[int, model.TopicScore]:
    """The direct scores as they schedule: against the student's own average misses per card
    and, given `lapses`, flashcard forgetting (core.weakness.relative_scores); sub-topics' cards
    count. `unfinished`: topics with new cards left (core.memory_floor, core.first_answers).
    `known`: misses that gave the others' share of right answers (services.difficulty)."""
    if not direct and not lapses and not first:
        return direct
    cards_of, total = index.notes_below()
    scores = model.relative_scores(direct, cards_of, total, settings, lapses, known)
    from flashcore.core import first_answers, memory_floor

    if memory_floor.ENABLED and lapses:
        forgetting = model.forgetting_ratios(lapses)
        scores, _ = memory_floor.floored(scores, forgetting, cards_of, settings, unfinished)
    if first:
        scores = first_answers.weighed(scores, first, unfinished, settings)
    return scores


@dataclass(slots=True)
class Scored:
    """Every attempt matched and scored on one day: each topic's direct and report scores, the
    answers to listed questions, the gaps."""

    direct: dict[int, model.TopicScore]
    report: dict[int, model.TopicScore]
    outcomes: dict[tuple[str, str], model.QuestionOutcomes]
    gaps: list[Gap]
    # A large history's: the matcher that has learned every stored attempt's texts (from their
    # tallies), which the pull-forwards that follow in the same transaction resolve with too.
    learned: TopicMatcher | None = None
    # Each gap's closest topic (what the report suggests aliasing it to), once worked out
    # (services.kept_scores keeps them with the scores).
    closest: list[int | None] | None = None
