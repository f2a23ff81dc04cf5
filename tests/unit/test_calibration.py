"""Score calibration (opencomprehend.nlp.ner.calibration): the fit, and the engine and commands that use it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from opencomprehend.cli import app
from opencomprehend.nlp.ner import calibration
from opencomprehend.nlp.registry import load_engine

pairs = st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(pairs, st.lists(st.floats(-0.5, 1.5), min_size=2, max_size=20))
def test_the_map_never_decreases_and_stays_strictly_between_0_and_1(scored, probes) -> None:
    mapped = calibration.fit_isotonic(scored)
    values = [mapped(p) for p in sorted(probes)]
    assert values == sorted(values)
    assert all(0.0 < v < 1.0 for v in values)


def test_the_map_is_the_smoothed_share_right_per_block() -> None:
    # Raw 0.95: 9 of 10 right; raw 0.5: 1 of 4 right. Blocks are already monotone, so each is its own block.
    scored = [(0.95, i < 9) for i in range(10)] + [(0.5, i < 1) for i in range(4)]
    mapped = calibration.fit_isotonic(scored)
    assert mapped(0.95) == pytest.approx((9 + 0.5) / 11)
    assert mapped(0.5) == pytest.approx((1 + 0.5) / 5)
    assert mapped(0.99) == mapped(0.95) and mapped(0.1) == mapped(0.5)  # flat outside the knots
    assert mapped(0.5) < mapped(0.7) < mapped(0.95)  # linear between blocks
    # A violation is pooled: higher raw scores, fewer right.
    pooled = calibration.fit_isotonic([(0.6, True), (0.6, True), (0.9, False), (0.9, True)])
    assert pooled(0.6) == pooled(0.9) == pytest.approx((3 + 0.5) / 5)


def test_types_with_few_dev_predictions_share_the_pooled_map_and_unannotated_types_keep_their_score() -> None:
    predictions, gold = [], []
    for i in range(calibration.MIN_PER_TYPE):
        predictions.append([{"BeginOffset": 0, "EndOffset": 4, "Type": "PERSON", "Score": 0.99}])
        gold.append([(0, 4, "PERSON")] if i % 2 else [])
    predictions.append([{"BeginOffset": 0, "EndOffset": 3, "Type": "LOCATION", "Score": 0.99}])
    gold.append([(0, 3, "LOCATION")])
    fitted, record = calibration.fit(predictions, gold, {"PERSON", "LOCATION", "ORGANIZATION"})
    assert record["types"]["PERSON"] == {"predictions": 100, "right": 50, "map": "own"}
    assert record["types"]["LOCATION"] == {"predictions": 1, "right": 1, "map": "pooled"}
    assert record["types"]["ORGANIZATION"]["map"] == "pooled"
    assert fitted("PERSON", 0.99) == pytest.approx(50.5 / 101)
    assert fitted("LOCATION", 0.99) == pytest.approx(51.5 / 102)
    assert fitted("DATE", 0.99) == 0.99  # nothing measured DATE
    with pytest.raises(ValueError, match="nothing to calibrate"):
        calibration.fit([[]], [[]], {"PERSON"})


# ------------------------------------------------------------------------------- trained end to end

RECIPE = """
language = "de"
description = "test"

[options]
max_epochs = 2
patience = 2

[[sets]]
name = "tiny"
kind = "gold"
path = "ner-train/tiny/train.jsonl"
licence = "CC BY 4.0"
labels = { PER = "PERSON", LOC = "LOCATION" }

[dev]
name = "tiny dev"
kind = "gold"
path = "ner-train/tiny/dev.jsonl"
licence = "CC BY 4.0"
labels = { PER = "PERSON", LOC = "LOCATION" }

[test]
name = "tiny test"
path = "ner/tiny/test.jsonl"
labels = { PER = "PERSON", LOC = "LOCATION" }
"""

PEOPLE = ["Anna Schmidt", "Jonas Becker", "Karin Vogel", "Paul Weber", "Lena Wolf"]
PLACES = ["Berlin", "Bremen", "Kiel", "Ulm", "Jena"]


def _rows(n: int, offset: int) -> list[dict]:
    rows = []
    for i in range(offset, offset + n):
        person, place = PEOPLE[i % 5], PLACES[(i // 5) % 5]
        text = f"{person} wohnt in {place} ."
        at = text.index(place)
        person_span = {"begin": 0, "end": len(person), "type": "PER"}
        rows.append({"text": text, "entities": [person_span, {"begin": at, "end": at + len(place), "type": "LOC"}]})
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("calibrated")
    data = root / "data"
    for name, rows in (
        ("ner-train/tiny/train.jsonl", _rows(50, 0)),
        ("ner-train/tiny/dev.jsonl", _rows(20, 50)),
        ("ner/tiny/test.jsonl", _rows(10, 70)),
    ):
        path = data / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    recipe = root / "tiny.toml"
    recipe.write_text(RECIPE, encoding="utf-8")
    model = root / "model"
    result = CliRunner().invoke(app, ["train-language", str(recipe), "--output", str(model), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "calibration fitted on tiny dev (20 sentences)" in result.output
    return recipe, model, data


def test_train_language_fits_the_calibration_on_the_dev_split_and_the_engine_applies_it(trained) -> None:
    _, model, _ = trained
    record = json.loads((model / calibration.FILE_NAME).read_text(encoding="utf-8"))
    source = json.loads((model / "source.json").read_text(encoding="utf-8"))
    assert source["calibration"]["dev_file"] == "ner-train/tiny/dev.jsonl"
    assert source["calibration"]["types"] == record["types"]
    assert set(record["maps"]) == {"PERSON", "LOCATION"}

    text = "Paul Weber wohnt in Jena . Lena Wolf wohnt in Ulm ."
    raw = load_engine("de", {"de": ("spacy.v1", model)}, calibrate=False).recognise([text])[0]
    served = load_engine("de", {"de": ("spacy.v1", model)}).recognise([text])[0]
    assert [(e["BeginOffset"], e["EndOffset"], e["Type"]) for e in served] == [
        (e["BeginOffset"], e["EndOffset"], e["Type"]) for e in raw
    ]
    assert raw, "the tiny model should find something"
    fitted = calibration.ScoreCalibration.read(model)
    for got, before in zip(served, raw, strict=True):
        assert got["Score"] == pytest.approx(fitted(before["Type"], before["Score"]), abs=1e-6)


def test_calibrate_language_refits_and_says_when_a_recipe_has_no_dev_split(trained, tmp_path: Path) -> None:
    recipe, model, data = trained
    (model / calibration.FILE_NAME).unlink()
    args = ["calibrate-language", str(recipe), "--model", str(model), "--data-dir", str(data)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (model / calibration.FILE_NAME).is_file()

    no_dev = tmp_path / "no-dev.toml"
    no_dev.write_text(RECIPE.split("[dev]")[0] + "[test]" + RECIPE.split("[test]")[1], encoding="utf-8")
    failed = CliRunner().invoke(app, ["calibrate-language", str(no_dev), *args[2:]])
    assert failed.exit_code == 2 and "no [dev] split" in failed.output
    missing = CliRunner().invoke(app, ["calibrate-language", str(recipe), "--model", str(tmp_path), *args[4:]])
    assert missing.exit_code == 2 and "not a model folder" in missing.output


def test_eval_reports_how_many_high_scored_entities_are_right(trained) -> None:
    _, model, data = trained
    rows = [json.loads(line) for line in (data / "ner/tiny/test.jsonl").read_text(encoding="utf-8").splitlines()]
    found = load_engine("de", {"de": ("spacy.v1", model)}).recognise([r["text"] for r in rows])
    names = {"PER": "PERSON", "LOC": "LOCATION"}
    truth = [{(g["begin"], g["end"], names[g["type"]]) for g in r["entities"]} for r in rows]
    confident = [
        (e["BeginOffset"], e["EndOffset"], e["Type"]) in spans
        for spans, ents in zip(truth, found, strict=True)
        for e in ents
        if e["Score"] >= 0.9
    ]
    result = CliRunner().invoke(
        app, ["eval", str(data / "ner/tiny/test.jsonl"), "--language", "de", "--model", str(model)]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("scored >= 0.9")]
    if confident:
        assert lines == [f"scored >= 0.9: {len(confident):,} entities, {sum(confident) / len(confident):.1%} right"]
    else:
        assert lines == []
    # --raw-scores: the model's own scores, as the engine gives them with calibrate=False.
    raw = load_engine("de", {"de": ("spacy.v1", model)}, calibrate=False).recognise([r["text"] for r in rows])
    high = sum(e["Score"] >= 0.9 for ents in raw for e in ents)
    args = ["eval", str(data / "ner/tiny/test.jsonl"), "--language", "de", "--model", str(model), "--raw-scores"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("scored >= 0.9")]
    assert [line.split(" entities")[0] for line in lines] == ([f"scored >= 0.9: {high:,}"] if high else [])
