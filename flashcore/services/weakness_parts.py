"""The weakness report's parts that read nothing: each topic's flashcard lapses, its misses'
"% correct others", its due cards as `due --topic` counts them, and the report's rows, each
from what was read. Shared by the report (`services.weakness`, with its readers in
`services.forgetting`, `services.difficulty` and `services.counts`) and the driver-only report
(`services.weakness_light`), so that both make the same output from the same rows. Nothing
here imports the database layer."""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from flashcore.core import difficulty, queue
from flashcore.core import topics as topic_keys
from flashcore.core import weakness as model
from flashcore.core.model import CardState
from flashcore.core.reasons import PulledForward

if TYPE_CHECKING:
    from flashcore.core.fsrs_adapter import Curve
    from flashcore.core.settings import Settings
    from flashcore.services.scored import Gap
    from flashcore.services.topic_index import TopicIndex

# A miss that gave the others' share, grouped: (source, qid, topic, category, system, day,
# others, count), as `repos.attempts.missed_shares` reads them.
ShareGroup = tuple[str, str, str, str, str, date, int, int]
# (card_id, note_id, state, due, stability, last_review, weight): `repos.queue.QueueRow`.
QueueRow = tuple[int, int, int, datetime, float | None, datetime | None, float]


class Outcome(Protocol):
    """One answer to a card in review (`repos.review_log.ReviewOutcome`)."""

    @property
    def note_id(self) -> int: ...
    @property
    def reviewed_at(self) -> datetime: ...
    @property
    def stability(self) -> float: ...
    @property
    def last_review(self) -> datetime | None: ...
    @property
    def elapsed_days(self) -> int | None: ...
    @property
    def lapsed(self) -> bool: ...


def lapses_since(today: date, settings: Settings) -> datetime:
    """From when `lapses_of` reads answers (MISSED_QUESTION_HALF_LIVES half-lives before study
    day `today` starts)."""
    from flashcore.core import studyday

    window = model.MISSED_QUESTION_HALF_LIVES * settings.weakness_half_life_days
    start = studyday.day_start_of(today, settings.zone, settings.day_start_hour)
    return start - timedelta(days=window)


def lapses_of(
    outcomes: Iterable[Outcome],
    topics_of: dict[int, list[int]],
    today: date,
    settings: Settings,
    curve: Curve,
) -> dict[int, model.Lapses]:
    """Each topic's recent flashcard lapses against those FSRS predicted (`curve`), weighted
    by recency as misses are, from the answers since `lapses_since` and their notes' topics."""
    half_life = settings.weakness_half_life_days * model.FORGETTING_HALF_LIFE_FACTOR
    seen: dict[int, float] = defaultdict(float)
    predicted: dict[int, float] = defaultdict(float)
    for o in outcomes:
        linked = topics_of.get(o.note_id)
        if not linked or o.stability <= 0.0:
            continue
        if o.elapsed_days is not None:
            elapsed = float(o.elapsed_days)
        elif o.last_review is not None:
            elapsed = float(max(0, (o.reviewed_at - o.last_review).days))
        else:
            continue
        w = model.decay((today - o.reviewed_at.date()).days, half_life)
        forget = w * (1.0 - curve.retrievability_days(o.stability, elapsed))
        for t in linked:
            predicted[t] += forget
            if o.lapsed:
                seen[t] += w
    return {t: model.Lapses(seen.get(t, 0.0), p) for t, p in predicted.items()}


def shares_since(today: date, half_life: float) -> date:
    """From which day `shares_of` reads the misses (MISSED_QUESTION_HALF_LIVES half-lives)."""
    return today - timedelta(days=int(model.MISSED_QUESTION_HALF_LIVES * half_life))


def shares_of(
    groups: Sequence[ShareGroup],
    index: TopicIndex,
    today: date,
    half_life: float,
    resolve: Callable[[tuple[str, str, str]], int | None],
) -> dict[int, difficulty.Known]:
    """Each topic's recency-weighted misses that gave the others' share, matched as every
    attempt is: to the topics of the cards that list the question, else to the topic its
    texts name (`resolve`, asked once a text)."""
    # Sums per topic as `Known.add` makes them, in the same order (the same floats); a text's
    # topic, a day's decay and a share's surprise worked out once each (a log of 100,000
    # misses with a share holds a few hundred texts, 56 days and 101 shares).
    sums: dict[int, list[float]] = {}
    by_text: dict[tuple[str, str, str], set[int]] = {}
    decays: dict[int, float] = {}
    surprises: dict[int, float] = {}
    for source, qid, topic, category, system, on_date, others, count in groups:
        age = (today - on_date).days
        if age < 0:
            continue  # dated in the future: does not count yet (core.weakness.score_topic)
        if (source, qid) in index.qid_notes:
            topics = index.question_topics((source, qid))
        else:
            text = (topic, category, system)
            topics = by_text.get(text)  # type: ignore[assignment]
            if topics is None:
                found = resolve(text)
                topics = by_text[text] = {found} if found is not None else set()
        if not topics:
            continue
        day = decays.get(age)
        if day is None:
            day = decays[age] = model.decay(age, half_life)
        weight = day * count
        share = others / 100
        surprise = surprises.get(others)
        if surprise is None:
            surprise = surprises[others] = difficulty.surprise(share)
        for topic_id in topics:
            held = sums.get(topic_id)
            if held is None:
                held = sums[topic_id] = [0.0, 0.0, 0.0]
            held[0] += weight
            held[1] += weight * surprise
            held[2] += weight * share
    return {t: difficulty.Known(*held) for t, held in sums.items()}


def due_counts(
    wanted: list[str],
    rows: list[QueueRow],
    pulled: dict[int, PulledForward],
    done: dict[int, int],
    topics_of_note: dict[int, list[str]],
    settings: Settings,
    now: datetime,
    day_start: datetime,
    rollover: datetime,
) -> dict[str, int]:
    """Learning and review cards of each wanted topic's queue (its sub-topics included), as
    `due --topic T` counts them, from today's candidates (`rows`, pulled-forward ones
    included), the day's answers by state (`done`) and the candidates' notes' topic keys."""
    s = settings
    reviews_left = max(0, s.reviews_per_day - done.get(int(CardState.REVIEW), 0))
    limits = queue.Limits(
        new_left=0,
        reviews_left=reviews_left,
        new_ignores_review_limit=s.new_ignores_review_limit,
        bury_siblings=s.bury_siblings,
        learn_ahead=timedelta(minutes=s.learn_ahead_minutes),
    )
    candidates = [queue.Candidate(*r, pulled.get(r[0])) for r in rows]
    if not candidates:  # nothing due: no topic's key worked out for nothing
        return dict.fromkeys(wanted, 0)
    # Each candidate under every wanted topic it falls under (its note's topics and those
    # above them), in the candidates' order: one pass over them, where testing every
    # candidate against every topic took ~1.7 CPU-s for a report of 1,281 topics with
    # 3,333 cards due.
    keys = {topic_keys.path_key(path) for path in wanted}
    under: dict[str, list[queue.Candidate]] = {}
    for cand in candidates:
        placed: set[str] = set()
        for k in topics_of_note.get(cand.note_id, ()):
            for key in _self_and_above(k):
                if key in keys and key not in placed:
                    placed.add(key)
                    under.setdefault(key, []).append(cand)
    out: dict[str, int] = {}
    for path in wanted:
        mine = under.get(topic_keys.path_key(path))
        if not mine:
            out[path] = 0  # no card of it is due: nothing to rank
            continue
        built = queue.build(
            mine, [], now=now, day_start=day_start, rollover=rollover, limits=limits,
            retrievability=lambda _s, _l: 0.0, limit=0,
        )  # fmt: skip
        out[path] = built.counts.learning + built.counts.review
    return out


def _self_and_above(key: str) -> Iterator[str]:
    """`key` and every key `k` it lies below (`key` starts with `k + "::"`)."""
    yield key
    at = key.find("::")
    while at != -1:
        yield key[:at]
        at = key.find("::", at + 1)


def shown_paths(index: TopicIndex, scored: dict[int, model.TopicScore]) -> list[str]:
    """The paths of the topics the report shows (a score above 0), whose due cards it counts."""
    return [index.paths[t] for t, sc in scored.items() if sc.score > 0]


def cards_below(
    index: TopicIndex,
    scored: dict[int, model.TopicScore],
    read: Callable[[list[int]], dict[int, int]],
) -> dict[int, int]:
    """Cards of each reported topic, its sub-topics included: kept by the database per linked
    topic (`read`: `repos.cards_per_topic` of these topics), added up the tree for the
    reported ones only."""
    shown = {t for t, sc in scored.items() if sc.score > 0}
    hits = {t: [n for n in (t, *index.ancestors(t)) if n in shown] for t in index.paths}
    linked = [t for t, nodes in hits.items() if nodes]
    cards_by_topic: dict[int, int] = defaultdict(int)
    for topic_id, total in read(linked).items():
        for node in hits[topic_id]:
            cards_by_topic[node] += total
    return cards_by_topic


def topic_rows(
    index: TopicIndex,
    scored: dict[int, model.TopicScore],
    direct: dict[int, model.TopicScore],
    cards_by_topic: dict[int, int],
    due_now: dict[str, int],
    settings: Settings,
) -> list[dict[str, Any]]:
    """The report's `topics`: leaf topics ranked by score, then the system and subject rollups."""
    s = settings
    half_life = s.weakness_half_life_days
    has_child = {p for p in index.parent.values() if p is not None}
    out: list[dict[str, Any]] = []
    for topic_id, score in scored.items():
        if score.score <= 0:
            continue
        own = direct.get(topic_id, model.NEUTRAL)
        best_weight = max(
            [own.score] + [direct[a].score for a in index.ancestors(topic_id) if a in direct]
        )
        path = index.paths[topic_id]
        level = model.topic_level(len(index.ancestors(topic_id)) + 1, topic_id in has_child)
        # A rollup's study time is its topics' (shown on their rows), so it suggests only
        # what was matched to it directly: the minutes of all rows add up once.
        shared = own.others if level == "topic" else None
        shown_share = None if shared is None else round(100 * shared)
        minutes = model.suggested_minutes(
            score.recent_misses if level == "topic" else own.recent_misses
        )
        out.append(
            {
                "topic": path,
                "level": level,
                "score": round(score.score, 4),
                "misses": score.misses,
                "attempts": score.attempts,
                "recent_misses": score.recent_misses,
                "recent_attempts": score.recent_attempts,
                "cards": cards_by_topic.get(topic_id, 0),
                "due": due_now.get(path, 0),
                "desired_retention": model.retention_for(s, best_weight),
                # recent misses per card against the student's average (what schedules; None
                # for a rollup without misses matched to it directly)
                "vs_average": None if own.ratio is None else round(own.ratio, 2),
                # its flashcards' lapses against FSRS's prediction, relative to the student's
                # average (what schedules beside the misses; None: no reviews compared)
                "forgetting_vs_average": (
                    None if own.forgetting is None else round(own.forgetting, 2)
                ),
                # the others' share of right answers on its recent misses that gave one, in
                # percent (UWorld's "% correct others"; None: none gave it, a rollup, or the
                # shares weigh nothing: one topic alone has them, or all are alike)
                "others_correct": shown_share,
                "suggested_minutes": minutes,
                "reason": model.report_reason(score, half_life, minutes, level, shared),
            }
        )
    rank = {"topic": 0, "system": 1, "subject": 2}
    out.sort(key=lambda r: (rank[r["level"]], -r["score"], r["topic"]))
    return out


# The report lists the leeches of its first this many topics (leaves, ranked): the weakest,
# where rewriting a card pays most; read through those topics' links only (repos.leech_cards).
LEECH_TOPICS = 10


def leech_topics(index: TopicIndex, topics: list[dict[str, Any]]) -> list[int]:
    """The ids of the report's first LEECH_TOPICS leaf topics (`topic_rows`), whose leeches
    it lists."""
    wanted = [row["topic"] for row in topics if row["level"] == "topic"][:LEECH_TOPICS]
    shown = set(wanted)
    ids = {path: t for t, path in index.paths.items() if path in shown}
    return [ids[path] for path in wanted if path in ids]


def leech_rows(
    profile: str,
    index: TopicIndex,
    topic_ids: list[int],
    leeches: Iterable[tuple[int, int, bool, int]],
) -> list[dict[str, Any]]:
    """The report's `leeches`: cards marked leech (`repos.leech_cards` of `leech_topics`: card,
    lapses, suspended, topic), each once under the first of its topics in the report's order,
    then the most lapses first. Rewriting them is what helps; the command, run once the card
    is rewritten, clears the mark and brings a suspended one back."""
    rank = {t: n for n, t in enumerate(topic_ids)}
    named = "" if profile == "default" else f" --profile {shlex.quote(profile)}"
    best: dict[int, tuple[int, int, bool]] = {}
    for card_id, lapses, suspended, topic_id in leeches:
        at = rank.get(topic_id)
        if at is not None and (card_id not in best or at < best[card_id][0]):
            best[card_id] = (at, lapses, suspended)
    ordered = sorted(best.items(), key=lambda kv: (kv[1][0], -kv[1][1], kv[0]))
    return [
        {
            "card_id": card_id,
            "topic": index.paths[topic_ids[at]],
            "lapses": lapses,
            "suspended": suspended,
            "command": f"flashcore{named} cards unsuspend {card_id}",
        }
        for card_id, (at, lapses, suspended) in ordered
    ]


def gap_rows(
    profile: str, index: TopicIndex, gaps: list[Gap], topics: list[int | None]
) -> list[dict[str, Any]]:
    """Each gap with the closest topic (`topics`, in the gaps' order) and the exact command
    that maps its text there."""
    named = "" if profile == "default" else f" --profile {shlex.quote(profile)}"
    out = []
    for gap, closest in zip(gaps, topics, strict=True):
        suggestion = None
        if closest is not None:
            path = index.paths[closest]
            command = f"flashcore{named} topics alias {shlex.quote(gap.text)} {shlex.quote(path)}"
            suggestion = {"topic": path, "command": command}
        out.append(
            {
                "text": gap.text,
                "misses": gap.misses,
                "last_miss": gap.last_miss.isoformat(),
                "suggestion": suggestion,
            }
        )
    return out
