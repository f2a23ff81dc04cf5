"""Map model labels onto Amazon Comprehend's nine standard entity types.

spaCy's English models emit the 18 OntoNotes 5 labels; CoNLL-style data (and models trained on it, e.g.
WikiANN) use PER/LOC/ORG/MISC. Comprehend has nine coarser types (spec section 6), so several labels
collapse into one type. Choices that are not obvious:

- NORP (nationalities, religious and political groups), LAW and LANGUAGE have no Comprehend
  counterpart; they go to OTHER rather than being dropped, because they are real detections.
- FAC (buildings, airports, bridges) is LOCATION: Comprehend's LOCATION explicitly covers buildings.
- TIME is DATE: Comprehend's DATE covers times of day ("8:30 a.m.").
- Every numeric label (PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL, HAREM's VALUE) is QUANTITY.
- MultiCoNER (ner-train/multiconer-*, ../shared/data/README.md "MultiCoNER types"): v1's coarse types and
  MultiCoNER II's 33 fine types map through the dataset's own coarse grouping (MULTICONER_TYPES): LOC ->
  LOCATION, CW (creative works) -> TITLE, GRP and CORP -> ORGANIZATION, PER -> PERSON, PROD ->
  COMMERCIAL_ITEM. Its MED types (Medication/Vaccine, MedicalProcedure, AnatomicalStructure, Symptom,
  Disease) are DROPPED from gold sets (gold_entities), not counted as OTHER: they are medical concepts,
  which Comprehend's entity types do not mark (Amazon Comprehend Medical does), and the training recipes
  drop them too, so a figure on MultiCoNER measures what the models are trained to find. A model label of
  that name (no shipped model has one) still maps to OTHER, as any unknown label does.

Comprehend's own type names map to themselves, so a model trained directly on Comprehend types needs
no table of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

COMPREHEND_TYPES: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "ORGANIZATION",
    "COMMERCIAL_ITEM",
    "EVENT",
    "DATE",
    "QUANTITY",
    "TITLE",
    "OTHER",
)

# MultiCoNER's coarse types -> (Comprehend type, MultiCoNER II's fine types in it); None: not an entity here.
_MULTICONER: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "LOC": ("LOCATION", ("Facility", "OtherLOC", "HumanSettlement", "Station")),
    "CW": ("TITLE", ("VisualWork", "MusicalWork", "WrittenWork", "ArtWork", "Software")),
    "GRP": (
        "ORGANIZATION",
        ("MusicalGRP", "PublicCorp", "PrivateCorp", "AerospaceManufacturer", "SportsGRP", "CarManufacturer", "ORG"),
    ),
    "CORP": ("ORGANIZATION", ()),  # v1 only
    "PER": ("PERSON", ("Scientist", "Artist", "Athlete", "Politician", "Cleric", "SportsManager", "OtherPER")),
    "PROD": ("COMMERCIAL_ITEM", ("Clothing", "Vehicle", "Food", "Drink", "OtherPROD")),
    "MED": (None, ("Medication/Vaccine", "MedicalProcedure", "AnatomicalStructure", "Symptom", "Disease")),
}
MULTICONER_TYPES: dict[str, str | None] = {
    label: kind for coarse, (kind, fine) in _MULTICONER.items() for label in (coarse, *fine)
}

LABEL_MAP: dict[str, str] = {
    # OntoNotes 5 (spaCy en_core_web_* models)
    "PERSON": "PERSON",
    "NORP": "OTHER",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "PRODUCT": "COMMERCIAL_ITEM",
    "EVENT": "EVENT",
    "WORK_OF_ART": "TITLE",
    "LAW": "OTHER",
    "LANGUAGE": "OTHER",
    "DATE": "DATE",
    "TIME": "DATE",
    "PERCENT": "QUANTITY",
    "MONEY": "QUANTITY",
    "QUANTITY": "QUANTITY",
    "ORDINAL": "QUANTITY",
    "CARDINAL": "QUANTITY",
    # CoNLL-2003 / WikiANN style
    "PER": "PERSON",
    "MISC": "OTHER",
    # HAREM (Portuguese): VALOR, numbers and amounts ("200%", "R$3.613"); its TEMPO is TIME above
    "VALUE": "QUANTITY",
    # MultiCoNER v1 coarse and MultiCoNER II fine types (see MULTICONER_TYPES)
    **{
        label.upper(): kind
        for coarse, (kind, fine) in _MULTICONER.items()
        if kind is not None
        for label in (coarse, *fine)
        if label.upper() not in ("LOC", "PER", "ORG")  # already above, with the same type
    },
    # Comprehend's own names
    **{t: t for t in COMPREHEND_TYPES},
}

# Gold labels that are no Comprehend entity at all: left out of a gold set before scoring (gold_entities).
NOT_ENTITIES: frozenset[str] = frozenset(
    label.upper() for coarse, (kind, fine) in _MULTICONER.items() if kind is None for label in (coarse, *fine)
)


def comprehend_type(label: str) -> str:
    """Return the Comprehend entity type for a model label; unknown labels become OTHER.

    Unknown labels are not an error because a model may carry labels we have never seen, and
    Comprehend's OTHER exists precisely for entities that fit none of the named types.
    """
    return LABEL_MAP.get(label.strip().upper(), "OTHER")


def gold_entities(entities: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A gold set's (begin, end, label) entities in Comprehend types, those that are no Comprehend entity
    (NOT_ENTITIES: MultiCoNER's medical types) left out. What `opencomprehend eval` and bench/ score against."""
    return [(b, e, comprehend_type(t)) for b, e, t in entities if t.strip().upper() not in NOT_ENTITIES]
