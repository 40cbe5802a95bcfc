"""An Anki package's notes -> flashcore decks (DeckSpec), as Anki makes cards from them.

- **Cloze note types** (the kind, not the name: AnKing's note type is a cloze type with a dozen
  fields): the field the front template reads with `{{cloze:...}}` is the text, one card per
  deletion; the other fields the back template shows become the extra.
- **Standard note types**: one card per template whose front shows a non-empty field, as Anki
  decides (sections `{{#Field}}...{{/Field}}` and `{{^Field}}` included, so "Basic (optional
  reversed card)" makes its second card only when "Add Reverse" is filled). A card's front is
  the fields its front template shows; its back, the first other field the back template shows
  (`{{type:...}}` fields count for the back); the rest of the back, the extra. The first
  template's sides are `front`/`back`/`extra`, template N's `front@N`... (core.model).
- **Unsupported kinds** (image occlusion) are counted and reported, never imported mangled.
Notes keep their HTML (an `html` deck: shown as terminal text). A note belongs to the deck of
its first card (Anki puts cards, not notes, in decks); its key is `<deck key>:<GUID>`, so a
re-import finds it again. A deck's notes come in Anki's new-card order (its new cards'
positions). Tags stay tags and give question ids and topics by AnKing's conventions
(`core.anking`)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flashcore.core import anking, cloze
from flashcore.core.decksync import source_fingerprint_of, source_of
from flashcore.core.html_text import image_names, is_blank
from flashcore.core.model import DeckSpec, NoteKind, NoteSpec, side_key
from flashcore.core.text import DECK_NAME_CHARS, TAG_CHARS, name_problem
from flashcore.core.topics import clean_path
from flashcore.importers.anki_package.notes_kept import (
    NONE_SUSPENDED as _NONE_SUSPENDED,
)
from flashcore.importers.anki_package.notes_kept import SOUND as _SOUND
from flashcore.importers.anki_package.notes_kept import SUSPENDED as _SUSPENDED
from flashcore.importers.anki_package.notes_kept import anki_card_ord
from flashcore.importers.anki_package.notes_kept import kept as _kept
from flashcore.importers.anki_package.notes_kept import older as _older
from flashcore.importers.anki_package.types import Card, Note, NoteType, NoteTypeKind

MAX_FIELD_CHARS = 100_000  # as deck files (decks/README.md says why)
_TOKEN = re.compile(r"\{\{\s*([#^/]?)\s*([^}]*?)\s*\}\}")
_SPECIAL = {"frontside", "tags", "deck", "subdeck", "card", "cardflag", "type", "cardid"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ASCII_CONTROL = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])  # `_CONTROL`'s, and `\r`
_EXTRA_NAMES = {"extra", "back extra", "notes"}
_NEW_TYPE = 0  # Anki's card type of a new card


@dataclass(frozen=True, slots=True)
class _Ref:
    field: str
    filters: tuple[str, ...]


def _refs(template: str, filled: dict[str, bool]) -> tuple[_Ref, ...]:
    """The fields a template shows for a note (`filled`: field name -> has content), in order,
    inside sections that are open for this note. Notes of a type mostly fill the same fields:
    the answer is kept for each template and pattern of filled fields."""
    return _refs_of(template, tuple(filled.items()))


@lru_cache(maxsize=4096)
def _refs_of(template: str, filled_items: tuple[tuple[str, bool], ...]) -> tuple[_Ref, ...]:
    filled = dict(filled_items)
    out: list[_Ref] = []
    stack: list[bool] = []
    for token in _TOKEN.finditer(template):
        sigil, body = token.group(1), token.group(2)
        name = body.rpartition(":")[2].strip()
        if sigil in ("#", "^"):
            has = filled.get(name, False)
            stack.append(has if sigil == "#" else not has)
            continue
        if sigil == "/":
            if stack:
                stack.pop()
            continue
        if not all(stack) or name.lower() in _SPECIAL or name not in filled:
            continue
        filters = tuple(f.strip().lower() for f in body.split(":")[:-1])
        out.append(_Ref(name, filters))
    return tuple(out)


@lru_cache(maxsize=65_536)
def _tag_problem(tag: str) -> str | None:
    return name_problem(tag, TAG_CHARS)


def field_is_empty(value: str) -> bool:
    """As Anki judges a field for making cards: nothing but whitespace and markup (an image
    is content)."""
    return is_blank(value)


def _join(parts: Iterable[tuple[str, str]], *, label: bool) -> str:
    chunks = []
    for name, value in parts:
        if label and name.lower() not in _EXTRA_NAMES:
            chunks.append(f"<b>{name}:</b> {value}")
        else:
            chunks.append(value)
    return "<br>".join(chunks)


def _clean(value: str) -> str:
    if not value:
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n")
    return _CONTROL.sub("", value)


def _cleaned(values: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The fields without control characters and with `\n` line ends (`_clean`), and whether
    any is longer than MAX_FIELD_CHARS; most notes hold none of either, found by one search
    over all their fields and their length together."""
    whole = "\n".join(values)
    too_long = len(whole) > MAX_FIELD_CHARS and max(map(len, values)) > MAX_FIELD_CHARS
    if whole.isascii():
        # (most notes) one pass of a byte table, where the pattern tests each character
        # against its ranges (its scan was the conversion's costliest C function)
        raw = whole.encode("ascii")
        if len(raw.translate(None, _ASCII_CONTROL)) == len(raw):
            return values, too_long
    elif "\r" not in whole and _CONTROL.search(whole) is None:
        return values, too_long
    cleaned = tuple(_clean(v) for v in values)
    return cleaned, max(map(len, cleaned), default=0) > MAX_FIELD_CHARS


@dataclass(slots=True)
class ConvertReport:
    """What the conversion made and left, for the import's summary."""

    notes: int = 0
    cards: int = 0
    unsupported: Counter[str] = field(default_factory=Counter)  # kind or reason -> notes
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> notes
    warnings: list[str] = field(default_factory=list)
    media: set[str] = field(default_factory=set)  # media names the imported notes use
    kept: int = 0  # notes left unconverted (`convert`'s `stored`)
    older: int = 0  # notes kept as flashcore holds them: the package's copy is older (`taken`)


# Part of every note's source fingerprint: change it when the conversion of a note's fields,
# tags or cards changes, so that a re-import converts every note again.
SOURCE_VERSION = b"anki-notes-1"


def type_fingerprint(kind_of: NoteType) -> bytes:
    """What of a note type shapes its notes' conversion: kind, fields, templates."""
    payload = repr((kind_of.kind.value, kind_of.fields, kind_of.templates,
                    kind_of.original_stock_kind))  # fmt: skip
    return hashlib.blake2b(payload.encode(), digest_size=16).digest()


def source_hash(
    note: Note, type_print: bytes, deck_key: str, families: frozenset[anking.TopicFamily]
) -> str:
    """A note's source fingerprint (hex; stored with the converted note's, see
    `core.decksync.source_fingerprint`): its raw fields and tags, its note type's fingerprint,
    its deck and the topic families read, and the conversion's version. ~1 us a note, where
    converting one takes ~50 us."""
    return _SourceHasher(families)(note, type_print, deck_key)


class _SourceHasher:
    """`source_hash` for many notes: the hash of each note type's part made once, copied."""

    def __init__(self, families: frozenset[anking.TopicFamily]) -> None:
        self._families = ",".join(sorted(families))
        self._bases: dict[bytes, Any] = {}

    def __call__(self, note: Note, type_print: bytes, deck_key: str) -> str:
        base = self._bases.get(type_print)
        if base is None:
            base = self._bases[type_print] = hashlib.blake2b(
                SOURCE_VERSION + type_print, digest_size=12
            )
        digest = base.copy()
        tags = " ".join(note.tags)
        fields = "\x1f".join(note.fields)
        digest.update(f"{deck_key}\x1e{self._families}\x1e{tags}\x1e{fields}".encode())
        return digest.hexdigest()


# A cloze note type's notes with some fields filled: the text's field place (None: none), and
# each extra field's place and label (`_Builder._cloze_plan`).
_ClozePlan = tuple[int | None, tuple[tuple[int, str], ...]]


class _Builder:
    def __init__(
        self, where: str, families: frozenset[anking.TopicFamily], report: ConvertReport
    ) -> None:
        self.where = where
        self.families = families
        self.report = report
        self._text_fields: dict[int, str] = {}
        self._cloze_plans: dict[tuple[int, tuple[bool, ...]], _ClozePlan] = {}
        self._good_tags: set[str] = set()  # tags kept as they are, seen on earlier notes

    def note(
        self, note: Note, kind_of: NoteType, cards: list[Card], source: str, deck_key: str
    ) -> NoteSpec | None:
        """The note converted, with its fingerprint (`source`: of its source, see
        `source_hash`), or None (skipped, counted in the report)."""
        report = self.report
        if kind_of.kind is NoteTypeKind.IMAGE_OCCLUSION:
            report.unsupported["image occlusion"] += 1
            return None
        values, too_long = _cleaned(note.fields)
        if too_long:
            report.skipped[f"a field longer than {MAX_FIELD_CHARS:,} characters"] += 1
            return None
        if kind_of.kind is NoteTypeKind.CLOZE:
            made = self._cloze(kind_of, values)
        else:
            by_name = dict(zip(kind_of.fields, values, strict=False))
            filled = {name: bool(value) and not is_blank(value) for name, value in by_name.items()}
            made = self._standard(kind_of, by_name, filled)
        if made is None:
            return None
        kind, fields, ordinals = made
        tags = self._tags(note)  # flashcore's own topic tags left out: they give topics
        reading = anking.read_tags(note.tags, self.families)
        suspended = _NONE_SUSPENDED
        if any(c.queue == _SUSPENDED for c in cards):
            suspended = frozenset(
                anki_card_ord(kind_of.kind, c.ord)
                for c in cards
                if c.suspended and anki_card_ord(kind_of.kind, c.ord) in ordinals
            )
        media = report.media
        for value in fields.values():
            if "<" in value:
                names = image_names(value)
                if names:
                    media.update(filter(None, names))  # (an empty `src` names no file)
            if "[sound:" in value:
                media.update(_SOUND.findall(value))
        report.notes += 1
        report.cards += len(ordinals)
        return NoteSpec(
            local_id=note.guid,
            kind=kind,
            fields=fields,
            topics=reading.topics,
            qids=reading.qids,
            tags=tags,
            suspended=suspended,
            ordinals=tuple(ordinals),
            source_hash=source_fingerprint_of(
                source, deck_key, kind, fields, tags, reading.topics, reading.qids
            ),
            anki_mod=note.mod,
        )

    def _tags(self, note: Note) -> tuple[str, ...]:
        """The note's tags flashcore holds (bad ones left out with a warning; `flashcore::…`
        ones too: they are the note's topics, `anking.topic_path`)."""
        tags = note.tags
        good = self._good_tags
        if good.issuperset(tags):
            return tags
        if all(_tag_problem(tag) is None and not anking.is_own_topic_tag(tag) for tag in tags):
            good.update(tags)
            return tags
        kept = []
        for tag in (t for t in tags if not anking.is_own_topic_tag(t)):
            if _tag_problem(tag) is None:
                kept.append(tag)
            else:
                self.report.warnings.append(f"{self.where}: note {note.guid}: tag {tag!r} left out")
        return tuple(kept)

    def _cloze_field(self, kind_of: NoteType) -> str:
        """The field a cloze note type's front reads with `{{cloze:...}}` (else its first)."""
        found = self._text_fields.get(kind_of.id)
        if found is None:
            template = kind_of.templates[0] if kind_of.templates else None
            if template is not None:
                every = dict.fromkeys(kind_of.fields, True)
                found = next(
                    (r.field for r in _refs(template.front, every) if "cloze" in r.filters), None
                )
            if found is None:
                found = kind_of.fields[0] if kind_of.fields else ""
            self._text_fields[kind_of.id] = found
        return found

    def _cloze(
        self, kind_of: NoteType, values: tuple[str, ...]
    ) -> tuple[NoteKind, dict[str, str], list[int]] | None:
        filled = tuple(
            [value != "" and not is_blank(value) for value in values[: len(kind_of.fields)]]
        )
        plan = self._cloze_plans.get((kind_of.id, filled))
        if plan is None:
            plan = self._cloze_plans[(kind_of.id, filled)] = self._cloze_plan(kind_of, filled)
        at, extras = plan
        text = values[at] if at is not None else ""
        ordinals, problems = cloze.read(text)
        if problems:
            self.report.skipped["cloze text flashcore cannot read"] += 1
            return None
        if not ordinals:
            self.report.skipped["a cloze note without a deletion"] += 1
            return None
        fields = {"text": text}
        if extras:
            fields["extra"] = "<br>".join([label + values[i] for i, label in extras])
        return NoteKind.CLOZE, fields, ordinals

    def _cloze_plan(self, kind_of: NoteType, pattern: tuple[bool, ...]) -> _ClozePlan:
        """Where a cloze note type's notes with these fields filled (`pattern`, in field
        order) take their text from (the field's place; None: none) and their extra (each
        field's place and label, `_join`'s): the same for every such note."""
        names = kind_of.fields[: len(pattern)]
        filled = dict(zip(names, pattern, strict=True))
        place = {name: i for i, name in enumerate(names)}  # a repeated name: its last, as a dict
        template = kind_of.templates[0] if kind_of.templates else None
        text_name = self._cloze_field(kind_of)
        if text_name not in filled and template is not None:  # a note short of fields
            text_name = next(
                (r.field for r in _refs(template.front, dict.fromkeys(filled, True))
                 if "cloze" in r.filters),
                kind_of.fields[0] if kind_of.fields else "",
            )  # fmt: skip
        extras: list[tuple[int, str]] = []
        if template is not None:
            shown = [r.field for r in _refs(template.back, filled) if r.field != text_name]
            extras = [
                (place[n], "" if n.lower() in _EXTRA_NAMES else f"<b>{n}:</b> ")
                for n in dict.fromkeys(shown)
                if filled.get(n)
            ]
        return place.get(text_name), tuple(extras)

    def _standard(
        self, kind_of: NoteType, by_name: dict[str, str], filled: dict[str, bool]
    ) -> tuple[NoteKind, dict[str, str], list[int]] | None:
        fields: dict[str, str] = {}
        ordinals: list[int] = []
        for template in kind_of.templates:
            front_refs = [r for r in _refs(template.front, filled) if "type" not in r.filters]
            front_names = [n for n in dict.fromkeys(r.field for r in front_refs) if filled[n]]
            if not front_names:
                continue  # Anki makes no card whose front is empty
            back_names = [
                n
                for n in dict.fromkeys(r.field for r in _refs(template.back, filled))
                if filled[n] and n not in front_names
            ]
            ordinal = template.ord
            fields[side_key("front", ordinal)] = _join(
                ((n, by_name[n]) for n in front_names), label=False
            )
            fields[side_key("back", ordinal)] = by_name[back_names[0]] if back_names else ""
            extra = _join(((n, by_name[n]) for n in back_names[1:]), label=True)
            if extra:
                fields[side_key("extra", ordinal)] = extra
            ordinals.append(ordinal)
        if not ordinals:
            self.report.skipped["a note whose cards would all have an empty front"] += 1
            return None
        return NoteKind.BASIC, fields, ordinals


_KEPT_PLACE = (2, 0, 0)


def _ord(card: Card) -> int:
    return card.ord


def _new_order_key(note: Note, cards: list[Card]) -> tuple[int, int, int]:
    """Where a note goes in its deck: notes with new cards by their place in Anki's new-card
    order (a new card's `due` is its position; `odue` in a filtered deck), the others after
    them, each by note id. A new note is added in this order, so flashcore introduces
    an imported deck's new cards in Anki's order (`new_order = deck`, and within each topic
    area with `interleaved`)."""
    positions = [
        c.original_due if c.original_deck_id else c.due for c in cards if c.type == _NEW_TYPE
    ]
    if positions:
        return (0, min(positions), note.id)
    return (1, 0, note.id)


def deck_key(name: str) -> str:
    """The flashcore deck key of an Anki deck name: the name (as Anki's text export), with a
    lone `:` (which a key cannot hold) as `_`."""
    return re.sub(r"(?<!:):(?!:)", "_", name)


def _shown(name: str) -> str:
    return name if name_problem(name, DECK_NAME_CHARS) is None else name[:DECK_NAME_CHARS]


def convert(
    where: str,
    note_types: dict[int, NoteType],
    decks: dict[int, str],
    notes: Iterable[Note],
    cards: Iterable[Card],
    *,
    families: frozenset[anking.TopicFamily],
    stored: Mapping[str, str] | None = None,
    missing: frozenset[str] = frozenset(),
    taken: Mapping[str, tuple[int, str]] | None = None,
) -> tuple[list[DeckSpec], ConvertReport]:
    """The package's notes as one DeckSpec per Anki deck that holds any, each deck's notes in
    Anki's new-card order (`_new_order_key`). `notes` and `cards` come ordered by note id (the
    reader's order), so one pass pairs them. Every note carries its source fingerprint
    (`source_hash`); a note whose key `stored` maps to that fingerprint (a re-import of a note
    not changed since: what the database holds, `repos.package_note_hashes`) is not converted
    (a stub); of its media names, only those in `missing` (the package's files not in the
    media folder) are reported. A note whose GUID `taken` maps to a modification time newer
    than its package copy's (`repos.package_note_mods`: the copy flashcore took, and its stored
    fingerprint) and a different source is kept as flashcore holds it (`_older`)."""
    report = ConvertReport()
    builder = _Builder(where, families, report)
    stored = stored or {}
    prints = {type_id: type_fingerprint(nt) for type_id, nt in note_types.items()}
    hasher = _SourceHasher(families)
    keys: dict[str, str] = {}
    homes: dict[int, tuple[str, str]] = {}  # Anki deck id -> (deck name, deck key)
    by_deck: dict[str, list[tuple[tuple[int, int, int], NoteSpec]]] = {}
    card_iter = iter(cards)
    pending: Card | None = next(card_iter, None)
    for note in notes:
        own: list[Card] = []
        while pending is not None and pending.note_id <= note.id:
            if pending.note_id == note.id:
                own.append(pending)
            pending = next(card_iter, None)
        kind_of = note_types.get(note.notetype_id)
        if kind_of is None:
            report.skipped["a note of a note type missing from the package"] += 1
            continue
        home = (own[0] if len(own) == 1 else min(own, key=_ord)).home_deck_id if own else 0
        found = homes.get(home)
        if found is None:
            name = clean_path(decks.get(home, "")) or "Default"
            key = keys.get(name)
            if key is None:
                key = keys[name] = deck_key(_shown(name))
            found = homes[home] = (name, key)
        deck_name, key = found
        digest = hasher(note, prints[note.notetype_id], key)
        held = stored.get(f"{key}:{note.guid}") if stored else None
        mine = taken.get(note.guid) if taken else None
        if held is not None and source_of(held) == digest:
            spec: NoteSpec | None = _kept(note, kind_of, own, held, report.media, missing)
            report.kept += 1
        elif mine is not None and note.mod < mine[0] and source_of(mine[1]) != digest:
            spec = _older(note, kind_of, mine[1])
            report.older += 1
        else:
            spec = builder.note(note, kind_of, own, digest, key)
        if spec is None:
            continue
        # A note kept as it is is never written: its place in the deck matters to no one.
        place = _KEPT_PLACE if spec.stub else _new_order_key(note, own)
        by_deck.setdefault(deck_name, []).append((place, spec))
    specs = []
    for name, keyed in sorted(by_deck.items()):
        shown = _shown(name)
        deck_notes = tuple(spec for _key, spec in sorted(keyed, key=lambda k: k[0]))
        specs.append(
            DeckSpec(name=shown, key=deck_key(shown), notes=deck_notes, html=True, path=where)
        )
    return specs, report
