"""Anki's legacy collections (schema 11: `collection.anki2`, `collection.anki21`) keep note
types, decks and deck presets as JSON in the `col` row; their readings as the package's
values, beside the schema-18 tables read by `tables`."""

from __future__ import annotations

from typing import Any

from flashcore.importers.anki_package.types import (
    IMAGE_OCCLUSION_STOCK_KIND,
    Deck,
    DeckConfig,
    NoteType,
    NoteTypeKind,
    Template,
)


def note_types(models: dict[str, Any]) -> dict[int, NoteType]:
    """The note types of a legacy collection's `models` JSON."""
    out: dict[int, NoteType] = {}
    for key, model in models.items():
        if not isinstance(model, dict):
            continue
        ntid = int(model.get("id", key))
        stock = int(model.get("originalStockKind", 0) or 0)
        kind = NoteTypeKind.CLOZE if model.get("type") == 1 else NoteTypeKind.STANDARD
        if stock == IMAGE_OCCLUSION_STOCK_KIND:
            kind = NoteTypeKind.IMAGE_OCCLUSION
        flds = sorted(model.get("flds") or [], key=lambda f: f.get("ord", 0))
        tmpls = sorted(model.get("tmpls") or [], key=lambda t: t.get("ord", 0))
        out[ntid] = NoteType(
            id=ntid,
            name=str(model.get("name", "")),
            kind=kind,
            fields=tuple(str(f.get("name", "")) for f in flds),
            templates=tuple(
                Template(
                    int(t.get("ord", i)),
                    str(t.get("name", "")),
                    str(t.get("qfmt", "")),
                    str(t.get("afmt", "")),
                )
                for i, t in enumerate(tmpls)
            ),
            original_stock_kind=stock,
        )
    return out


def decks(decks_json: dict[str, Any]) -> dict[int, Deck]:
    """The decks of a legacy collection's `decks` JSON (filtered decks have no preset)."""
    out: dict[int, Deck] = {}
    for key, legacy in decks_json.items():
        if not isinstance(legacy, dict):
            continue
        did = int(legacy.get("id", key))
        filtered = bool(legacy.get("dyn"))
        out[did] = Deck(
            id=did,
            name=str(legacy.get("name", "")),
            config_id=None if filtered else int(legacy.get("conf", 1) or 1),
            filtered=filtered,
            description=str(legacy.get("desc", "") or ""),
        )
    return out


def deck_configs(dconf: dict[str, Any]) -> dict[int, DeckConfig]:
    """The deck presets of a legacy collection's `dconf` JSON."""
    out: dict[int, DeckConfig] = {}
    for key, conf in dconf.items():
        if not isinstance(conf, dict):
            continue
        weights: tuple[float, ...] = ()
        for name in ("fsrsParams6", "fsrsParams5", "fsrsWeights"):
            value = conf.get(name)
            if isinstance(value, list) and value:
                weights = tuple(float(v) for v in value)
                break
        new, lapse, rev = (conf.get(k) or {} for k in ("new", "lapse", "rev"))
        retention = conf.get("desiredRetention")
        out[int(conf.get("id", key))] = DeckConfig(
            id=int(conf.get("id", key)),
            name=str(conf.get("name", "")),
            fsrs_params=weights,
            desired_retention=float(retention) if retention is not None else None,
            learn_steps=tuple(float(v) for v in new.get("delays") or ()),
            relearn_steps=tuple(float(v) for v in lapse.get("delays") or ()),
            new_per_day=new.get("perDay"),
            reviews_per_day=rev.get("perDay"),
            maximum_interval=rev.get("maxIvl"),
            raw=conf,
        )
    return out
