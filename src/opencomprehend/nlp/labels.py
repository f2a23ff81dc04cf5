"""Map model labels onto Amazon Comprehend's nine standard entity types.

spaCy's English models emit the 18 OntoNotes 5 labels; CoNLL-style data (and models trained on it, e.g.
WikiANN) use PER/LOC/ORG/MISC. Comprehend has nine coarser types (spec section 6), so several labels
collapse into one type. Choices that are not obvious:

- NORP (nationalities, religious and political groups), LAW and LANGUAGE have no Comprehend
  counterpart; they go to OTHER rather than being dropped, because they are real detections.
- FAC (buildings, airports, bridges) is LOCATION: Comprehend's LOCATION explicitly covers buildings.
- TIME is DATE: Comprehend's DATE covers times of day ("8:30 a.m.").
- Every numeric label (PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL, HAREM's VALUE) is QUANTITY.

Comprehend's own type names map to themselves, so a model trained directly on Comprehend types needs
no table of its own.
"""

from __future__ import annotations

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
    # Comprehend's own names
    **{t: t for t in COMPREHEND_TYPES},
}


def comprehend_type(label: str) -> str:
    """Return the Comprehend entity type for a model label; unknown labels become OTHER.

    Unknown labels are not an error because a model may carry labels we have never seen, and
    Comprehend's OTHER exists precisely for entities that fit none of the named types.
    """
    return LABEL_MAP.get(label.strip().upper(), "OTHER")
