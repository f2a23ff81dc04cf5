"""Entity-level scoring: exact (begin, end, type) matches, micro-averaged overall and counted per type."""

from __future__ import annotations

import pytest

from opencomprehend.nlp.evaluation import Counts, score
from opencomprehend.nlp.ner.labels import MULTICONER_TYPES, NOT_ENTITIES, comprehend_type, gold_entities


def test_exact_match_only() -> None:
    gold = [[(0, 5, "PERSON"), (10, 16, "LOCATION")]]
    predicted = [[(0, 5, "PERSON"), (10, 15, "LOCATION")]]  # the second is one character short
    s = score(gold, predicted)
    assert (s.tp, s.fp, s.fn) == (1, 1, 1)
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(0.5)


def test_type_mismatch_is_one_false_positive_and_one_false_negative() -> None:
    s = score([[(0, 5, "PERSON")]], [[(0, 5, "LOCATION")]])
    assert (s.tp, s.fp, s.fn) == (0, 1, 1)
    assert s.types["PERSON"] == Counts(tp=0, fp=0, fn=1)
    assert s.types["LOCATION"] == Counts(tp=0, fp=1, fn=0)
    assert s.f1 == 0.0


def test_a_duplicate_prediction_is_a_false_positive() -> None:
    s = score([[(0, 5, "PERSON")]], [[(0, 5, "PERSON"), (0, 5, "PERSON")]])
    assert (s.tp, s.fp, s.fn) == (1, 1, 0)


def test_each_copy_of_a_repeated_gold_entity_must_be_found() -> None:
    s = score([[(0, 5, "PERSON"), (0, 5, "PERSON")]], [[(0, 5, "PERSON")]])
    assert (s.tp, s.fp, s.fn) == (1, 0, 1)


def test_matches_are_per_document() -> None:
    # The same offsets in another document are another entity.
    s = score([[(0, 5, "PERSON")], []], [[], [(0, 5, "PERSON")]])
    assert (s.tp, s.fp, s.fn) == (0, 1, 1)


def test_empty_gold_and_predictions_divide_by_zero_as_zero() -> None:
    nothing = score([[], []], [[], []])
    assert (nothing.tp, nothing.fp, nothing.fn) == (0, 0, 0)
    assert (nothing.precision, nothing.recall, nothing.f1) == (0.0, 0.0, 0.0)
    assert nothing.types == {}
    assert score([], []).f1 == 0.0

    only_predicted = score([[]], [[(0, 1, "X")]])
    assert (only_predicted.precision, only_predicted.recall, only_predicted.f1) == (0.0, 0.0, 0.0)
    only_gold = score([[(0, 1, "X")]], [[]])
    assert (only_gold.precision, only_gold.recall, only_gold.f1) == (0.0, 0.0, 0.0)
    assert only_gold.types["X"].support == 1


def test_per_type_and_micro_overall() -> None:
    gold = [
        [(0, 4, "PER"), (10, 14, "LOC"), (20, 24, "LOC")],
        [(0, 3, "ORG"), (5, 9, "PER")],
    ]
    predicted = [
        [(0, 4, "PER"), (10, 14, "LOC"), (20, 24, "ORG")],
        [(0, 3, "ORG"), (30, 33, "ORG")],
    ]
    s = score(gold, predicted)
    assert s.types["PER"] == Counts(tp=1, fp=0, fn=1)
    assert s.types["LOC"] == Counts(tp=1, fp=0, fn=1)
    assert s.types["ORG"] == Counts(tp=1, fp=2, fn=0)
    assert list(s.types) == ["LOC", "ORG", "PER"]
    assert s.types["ORG"].precision == pytest.approx(1 / 3)
    assert s.types["ORG"].recall == pytest.approx(1.0)
    assert s.types["ORG"].f1 == pytest.approx(0.5)
    # Micro: counts summed over types, not an average of the per-type ratios.
    assert (s.tp, s.fp, s.fn) == (3, 2, 2)
    assert s.precision == pytest.approx(3 / 5)
    assert s.recall == pytest.approx(3 / 5)
    assert s.f1 == pytest.approx(0.6)
    assert (s.support, s.predicted) == (5, 5)


def test_f1_is_the_harmonic_mean() -> None:
    s = score([[(0, 1, "A"), (2, 3, "A"), (4, 5, "A"), (6, 7, "A")]], [[(0, 1, "A")]])
    p, r = s.precision, s.recall
    assert (p, r) == (1.0, 0.25)
    assert s.f1 == pytest.approx(2 * p * r / (p + r))


def test_gold_and_predictions_must_cover_the_same_documents() -> None:
    with pytest.raises(ValueError):
        score([[], []], [[]])


def test_accepts_any_iterables() -> None:
    s = score(iter([{(0, 1, "A")}]), ((e for e in [(0, 1, "A")]),))
    assert (s.tp, s.fp, s.fn) == (1, 0, 0)


# ../shared/data/README.md, "MultiCoNER types": the dataset's coarse grouping and the type each suggests.
MULTICONER_README = {
    "LOCATION": "Facility OtherLOC HumanSettlement Station",
    "TITLE": "VisualWork MusicalWork WrittenWork ArtWork Software",
    "ORGANIZATION": "MusicalGRP PublicCorp PrivateCorp AerospaceManufacturer SportsGRP CarManufacturer ORG",
    "PERSON": "Scientist Artist Athlete Politician Cleric SportsManager OtherPER",
    "COMMERCIAL_ITEM": "Clothing Vehicle Food Drink OtherPROD",
    None: "Medication/Vaccine MedicalProcedure AnatomicalStructure Symptom Disease",
}


def test_every_multiconer_type_maps_as_the_data_readme_says() -> None:
    fine = {label: kind for kind, labels in MULTICONER_README.items() for label in labels.split()}
    assert len(fine) == 33
    for label, kind in fine.items():
        assert MULTICONER_TYPES[label] == kind, label
        if kind is not None:
            assert comprehend_type(label) == kind, label
    # v1's coarse types: PER LOC GRP CORP CW PROD.
    v1 = {"PER": "PERSON", "LOC": "LOCATION", "GRP": "ORGANIZATION", "CORP": "ORGANIZATION", "CW": "TITLE"}
    assert {t: comprehend_type(t) for t in v1} == v1 and comprehend_type("PROD") == "COMMERCIAL_ITEM"
    # MED: not a Comprehend entity (Comprehend Medical's), so a gold set leaves it out instead of asking for OTHER.
    assert {"DISEASE", "MED", "MEDICATION/VACCINE"} <= NOT_ENTITIES
    gold = [(0, 5, "Artist"), (6, 9, "Disease"), (10, 12, "MISC"), (13, 15, "Medication/Vaccine"), (16, 18, "GPE")]
    assert gold_entities(gold) == [(0, 5, "PERSON"), (10, 12, "OTHER"), (16, 18, "LOCATION")]
