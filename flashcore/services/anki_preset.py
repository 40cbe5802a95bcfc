"""An Anki preset taken over by a `--with-scheduling` import: its FSRS parameters, retention,
steps and maximum interval as the profile's settings, by the first import that brings Anki's
history (the rollover hour only while the profile has no answers at all), with a warning for
what cannot be taken. Later imports (the phone brought back, day after day) keep the profile's
settings and name a preset that differs in a warning: found living with it (issue rv7), each
phone import set the Anki preset's FSRS parameters and retention again, over `flashcore
optimize`'s fit and the student's `config set`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flashcore.core.settings import Settings, format_value
from flashcore.importers.anki_scheduling import (
    AnkiClock,
    preset_parameters,
    steps_text,
)
from flashcore.storage import anki_sync

if TYPE_CHECKING:
    from flashcore.services.context import Collection
from flashcore.services.anki_history import PackageSource, SchedulingSummary


def _adopt_preset(
    session: Any,
    fc: Collection,
    pkg: PackageSource,
    card_ids: dict[int, int],
    clock: AnkiClock,
    summary: SchedulingSummary,
) -> None:
    """The preset most of the package's cards use gives the profile its FSRS parameters,
    desired retention, steps and maximum interval (the others are named in a warning); a
    profile that has never answered a card also takes Anki's rollover hour."""
    configs = pkg.deck_configs()
    decks = pkg.decks()
    if not configs:
        return
    uses: dict[int, int] = defaultdict(int)
    for deck in decks.values():
        if deck.config_id is not None:
            uses[deck.config_id] += 1
    chosen_id = max(configs, key=lambda cid: (uses.get(cid, 0), -cid))
    chosen = configs[chosen_id]
    others = sorted(c.name for cid, c in configs.items() if cid != chosen_id and uses.get(cid))
    settings = fc.settings
    changes: dict[str, Any] = {}
    params = preset_parameters(chosen)
    if params is None:
        summary.warnings.append(
            f"preset {chosen.name!r}: its FSRS parameters are not accepted by fsrs; "
            "the profile keeps its own"
        )
    elif params != settings.fsrs_parameters:
        changes["fsrs_parameters"] = params
    if chosen.desired_retention and 0.7 <= chosen.desired_retention <= 0.99:
        value = round(float(chosen.desired_retention), 4)
        if value != settings.desired_retention:
            changes["desired_retention"] = value
    if chosen.learn_steps:
        steps = steps_text(chosen.learn_steps)
        if steps != settings.learning_steps:
            changes["learning_steps"] = steps
    if chosen.relearn_steps:
        steps = steps_text(chosen.relearn_steps)
        if steps != settings.relearning_steps:
            changes["relearning_steps"] = steps
    maximum = chosen.maximum_interval
    if maximum and 1 <= maximum <= 36500 and maximum != settings.maximum_interval:
        changes["maximum_interval"] = int(maximum)
    if clock.rollover_hour != settings.day_start_hour:
        if _has_answers(session, fc):
            summary.warnings.append(
                f"Anki's day starts at {clock.rollover_hour}:00, this profile's at "
                f"{settings.day_start_hour}:00 (kept: answers were given under it); due days "
                "are read as the study day that holds the middle of Anki's day"
            )
        else:
            changes["day_start_hour"] = clock.rollover_hour
    if clock.minutes_west and settings.timezone == "UTC":
        hours = -clock.minutes_west / 60
        summary.warnings.append(
            f"Anki's clock was UTC{hours:+g}; this profile's timezone is UTC: set yours with "
            "`flashcore config set timezone <Area/City>` so that study days match Anki's"
        )
    if others:
        summary.warnings.append(
            f"presets {', '.join(repr(n) for n in others)} are not applied (flashcore has one "
            f"set of scheduling settings per profile; {chosen.name!r} is used by most decks)"
        )
    kept = {k: v for k, v in changes.items() if k != "day_start_hour"}
    if kept and anki_sync.has_imported_answers(session, fc.profile_id):
        differ = ", ".join(_difference(k, v, settings) for k, v in kept.items())
        summary.warnings.append(
            f"the Anki preset {chosen.name!r} differs from this profile's settings ({differ}): "
            "this profile's are kept (Anki's history was taken over before); take one with "
            "`flashcore config set KEY VALUE`"
        )
        changes = {k: v for k, v in changes.items() if k not in kept}
    if changes:
        new_settings = replace(settings, **changes)
        _save_settings(session, fc, new_settings)
        summary.settings = {k: format_value(v) for k, v in changes.items()}


def _difference(key: str, anki: Any, settings: Settings) -> str:
    """`desired_retention 0.9 there, 0.93 here`; the FSRS parameters by name only."""
    if key == "fsrs_parameters":
        return key
    return f"{key} {format_value(anki)} there, {format_value(getattr(settings, key))} here"


def _has_answers(session: Any, fc: Collection) -> bool:
    return anki_sync.has_answers(session, fc.profile_id)


def _save_settings(session: Any, fc: Collection, settings: Settings) -> None:
    from flashcore.storage import repos

    chosen = repos.profile_settings(session, fc.profile_id) or {}  # what the profile set
    repos.save_settings(session, fc.profile_id, settings.to_stored(chosen))
    fc.use_settings(settings)
