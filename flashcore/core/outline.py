"""The USMLE Step 1 content outline: its systems and disciplines, their share of the exam, and
where a topic path (`Discipline::Area::Leaf`) belongs among them.

Shares are the outline's published ranges (percent of exam items, from January 2024; the same
figures as the content tests' `tests/decks/data/step1_outline.toml`). A system's or a
discipline's weight is the midpoint of its range, normalized so the weights of a dimension add
up to 1: the system ranges add up to about 100 %, the discipline ranges to far more (an item
counts for several disciplines), so only their relative sizes are used.

A topic belongs to the system of its area (`Physiology::Renal::…` -> Respiratory & Renal/Urinary
Systems), else of its discipline (`Microbiology::Viruses::…` -> Multisystem Processes &
Disorders); to the discipline named by its first part. A note counts for the first of its topics
(in path order) that has a system.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flashcore.core import topics as topic_keys


@dataclass(frozen=True, slots=True)
class Area:
    """A system or a discipline of the outline."""

    name: str  # the outline's own name
    short: str  # a label that fits a narrow column
    low: float  # the published range, percent of exam items
    high: float
    aliases: tuple[str, ...] = ()

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2


SYSTEMS: tuple[Area, ...] = (
    Area("Human Development", "Human development", 1, 3, ("Development",)),
    Area("Blood & Lymphoreticular/Immune Systems", "Blood & immune", 9, 13,
         ("Blood and lymphoreticular system", "Hematopoietic and lymphoreticular",
          "Immune system", "Blood & lymphoreticular", "Hematology", "Immunology system",
          "Allergy & Immunology", "Hematology & Oncology", "Hematology and oncology")),
    Area("Behavioral Health & Nervous Systems/Special Senses", "Nervous & behavioral", 10, 14,
         ("Behavioral health", "Nervous system", "Nervous system and special senses",
          "Nervous systems/special senses", "Neurology", "Psychiatry", "Psychiatry/Behavioral",
          "Ophthalmology", "Ear, Nose & Throat (ENT)", "Special senses")),
    Area("Musculoskeletal, Skin & Subcutaneous Tissue", "Musculoskeletal & skin", 8, 12,
         ("Musculoskeletal system", "Skin and subcutaneous tissue", "Musculoskeletal",
          "Skin & connective tissue", "Dermatology", "Rheumatology/Orthopedics & Sports",
          "Rheumatology")),
    Area("Cardiovascular System", "Cardiovascular", 7, 11, ("Cardiovascular",)),
    Area("Respiratory & Renal/Urinary Systems", "Respiratory & renal", 11, 15,
         ("Respiratory system", "Renal/urinary system", "Renal and urinary system",
          "Respiratory", "Renal", "Renal/urinary", "Pulmonary & Critical Care",
          "Renal, Urinary Systems & Electrolytes", "Pulmonary")),
    Area("Gastrointestinal System", "Gastrointestinal", 6, 10,
         ("Gastrointestinal", "Gastrointestinal & Nutrition")),
    Area("Reproductive & Endocrine Systems", "Reproductive & endocrine", 12, 16,
         ("Reproductive system", "Endocrine system", "Reproductive", "Endocrine")),
    Area("Multisystem Processes & Disorders", "Multisystem", 8, 12,
         ("Multisystem processes", "Multisystem", "General principles", "Infectious Diseases",
          "Poisoning & Environmental Exposure", "Miscellaneous (Multisystem)")),
    Area("Biostatistics & Epidemiology/Population Health", "Biostatistics & epi", 4, 6,
         ("Biostatistics", "Epidemiology", "Biostatistics and epidemiology",
          "Population health")),
    Area("Social Sciences: Communication and Interpersonal Skills", "Social sciences", 6, 9,
         ("Social sciences", "Communication and interpersonal skills", "Communication",
          "Ethics", "Social Sciences (Ethics/Legal/Professional)")),
)  # fmt: skip

DISCIPLINES: tuple[Area, ...] = (
    Area("Pathology", "Pathology", 45, 55),
    Area("Physiology", "Physiology", 30, 40),
    Area("Pharmacology", "Pharmacology", 10, 20),
    Area("Microbiology", "Microbiology", 10, 20),
    Area("Gross Anatomy & Embryology", "Anatomy & embryology", 10, 20,
         ("Anatomy", "Gross anatomy", "Embryology", "Gross anatomy and embryology")),
    Area("Behavioral Sciences", "Behavioral sciences", 10, 15,
         ("Behavioral science", "Behavioral sciences", "Biostatistics")),
    Area("Immunology", "Immunology", 5, 15),
    Area("Histology & Cell Biology", "Histology & cell bio", 5, 15,
         ("Histology", "Cell biology", "Histology and cell biology")),
    Area("Biochemistry & Nutrition", "Biochemistry", 5, 15,
         ("Biochemistry", "Nutrition", "Biochemistry and nutrition")),
    Area("Genetics", "Genetics", 5, 10),
)  # fmt: skip

# A topic's area (its second part) -> its system.
AREA_SYSTEMS: dict[str, str] = {
    "Cardiovascular": "Cardiovascular System",
    "Respiratory": "Respiratory & Renal/Urinary Systems",
    "Renal": "Respiratory & Renal/Urinary Systems",
    "Gastrointestinal": "Gastrointestinal System",
    "Endocrine": "Reproductive & Endocrine Systems",
    "Reproductive": "Reproductive & Endocrine Systems",
    "Hematology and oncology": "Blood & Lymphoreticular/Immune Systems",
    "Hematology": "Blood & Lymphoreticular/Immune Systems",
    "Immunosuppressants": "Blood & Lymphoreticular/Immune Systems",
    "Nervous system": "Behavioral Health & Nervous Systems/Special Senses",
    "Special senses": "Behavioral Health & Nervous Systems/Special Senses",
    "Psychiatry": "Behavioral Health & Nervous Systems/Special Senses",
    "Autonomic drugs": "Behavioral Health & Nervous Systems/Special Senses",
    "Musculoskeletal": "Musculoskeletal, Skin & Subcutaneous Tissue",
    "Skin": "Musculoskeletal, Skin & Subcutaneous Tissue",
    "Connective tissue": "Musculoskeletal, Skin & Subcutaneous Tissue",
    "Multisystem": "Multisystem Processes & Disorders",
    "Human development": "Human Development",
    "Development": "Human Development",
    "Nutrition": "Multisystem Processes & Disorders",
    "Metabolism": "Multisystem Processes & Disorders",
    "Molecular biology": "Multisystem Processes & Disorders",
    "Cell biology": "Multisystem Processes & Disorders",
    "Inheritance": "Multisystem Processes & Disorders",
    "Genetic disorders": "Multisystem Processes & Disorders",
    "Pharmacokinetics": "Multisystem Processes & Disorders",
    "Pharmacodynamics": "Multisystem Processes & Disorders",
    "Toxicology": "Multisystem Processes & Disorders",
    "Antimicrobials": "Multisystem Processes & Disorders",
    "Cell injury": "Multisystem Processes & Disorders",
    "Inflammation": "Multisystem Processes & Disorders",
    "Neoplasia": "Multisystem Processes & Disorders",
    "Laboratory techniques": "Multisystem Processes & Disorders",
    "Ethics": "Social Sciences: Communication and Interpersonal Skills",
    "Communication": "Social Sciences: Communication and Interpersonal Skills",
    "Patient safety": "Social Sciences: Communication and Interpersonal Skills",
    "Epidemiology": "Biostatistics & Epidemiology/Population Health",
    "Study design": "Biostatistics & Epidemiology/Population Health",
}

# A topic's discipline (its first part) -> its system, when its area names none.
DISCIPLINE_SYSTEMS: dict[str, str] = {
    "Biostatistics": "Biostatistics & Epidemiology/Population Health",
    "Immunology": "Blood & Lymphoreticular/Immune Systems",
    "Microbiology": "Multisystem Processes & Disorders",
}


def _key(text: str) -> str:
    return topic_keys.text_key(text)


@lru_cache(maxsize=1)
def _area_keys() -> tuple[dict[str, str], dict[str, str]]:
    """Normalized names and aliases -> the outline's name, for systems and for disciplines."""
    systems = {_key(a.name): a.name for a in SYSTEMS}
    systems.update({_key(a.short): a.name for a in SYSTEMS})
    for a in SYSTEMS:
        for alias in a.aliases:
            systems.setdefault(_key(alias), a.name)
    disciplines = {_key(a.name): a.name for a in DISCIPLINES}
    disciplines.update({_key(a.short): a.name for a in DISCIPLINES})
    for a in DISCIPLINES:
        for alias in a.aliases:
            disciplines.setdefault(_key(alias), a.name)
    return systems, disciplines


def find_system(text: str) -> str | None:
    """The outline system a report's area name means (`Cardiovascular System`, `Renal`…)."""
    return _area_keys()[0].get(_key(text))


def find_discipline(text: str) -> str | None:
    """The outline discipline a report's area name means (`Pathology`, `Anatomy`…)."""
    return _area_keys()[1].get(_key(text))


@lru_cache(maxsize=4096)
def system_of(path: str) -> str | None:
    """The system a topic belongs to, or None when neither its area nor its discipline says."""
    parts = topic_keys.split_path(path)
    if not parts:
        return None
    areas, roots = _system_keys()
    if len(parts) >= 2:
        found = areas.get(_key(parts[1]))
        if found is not None:
            return found
    return roots.get(_key(parts[0]))


@lru_cache(maxsize=1)
def _system_keys() -> tuple[dict[str, str], dict[str, str]]:
    return (
        {_key(k): v for k, v in AREA_SYSTEMS.items()},
        {_key(k): v for k, v in DISCIPLINE_SYSTEMS.items()},
    )


@lru_cache(maxsize=4096)
def discipline_of(path: str) -> str | None:
    """The discipline a topic belongs to (its first part), or None."""
    parts = topic_keys.split_path(path)
    return find_discipline(parts[0]) if parts else None


def first_placed(paths: list[str] | tuple[str, ...]) -> tuple[str | None, str | None]:
    """(system, discipline) of a note: those of its first topic (in path order) that has a
    system; the first topic's discipline when none has."""
    ordered = sorted(paths)
    for path in ordered:
        system = system_of(path)
        if system is not None:
            return system, discipline_of(path)
    return None, discipline_of(ordered[0]) if ordered else None


def shares(areas: tuple[Area, ...]) -> dict[str, float]:
    """Each area's weight: the midpoint of its range over the sum of the midpoints."""
    total = sum(a.midpoint for a in areas)
    return {a.name: a.midpoint / total for a in areas}


SYSTEM_SHARES = shares(SYSTEMS)
DISCIPLINE_SHARES = shares(DISCIPLINES)
SHORT = {a.name: a.short for a in (*SYSTEMS, *DISCIPLINES)}
