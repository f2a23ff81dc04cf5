"""`opencomprehend eval`: a model's precision, recall and F1 on a labelled JSON-lines set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opencomprehend.cli import app
from opencomprehend.nlp.training import LabelledDocument, TrainingOptions, train_ner

runner = CliRunner()

ROWS = [
    {
        "text": "Barack Obama visited Paris in June.",
        "entities": [{"begin": 0, "end": 12, "type": "PER"}, {"begin": 21, "end": 26, "type": "LOC"}],
    },
    {
        "text": "Apple hired Tim Cook.",
        "entities": [{"begin": 0, "end": 5, "type": "ORG"}, {"begin": 12, "end": 20, "type": "PER"}],
    },
    {"text": "Nothing to see here.", "entities": []},
]


def write_set(path: Path, rows: list[dict]) -> Path:
    # A blank line in the middle is skipped, as in the shared data's readers.
    lines = [json.dumps(row) for row in rows]
    path.write_text("\n".join([*lines[:1], "", *lines[1:]]) + "\n", encoding="utf-8")
    return path


def table(output: str) -> dict[str, list[float]]:
    """Rows of the printed table: name -> [precision, recall, F1, support, predicted]."""
    rows = {}
    for line in output.splitlines():
        match = re.match(r"^(\S.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)$", line)
        if match:
            rows[match.group(1)] = [float(x) for x in match.groups()[1:]]
    return rows


def test_join_recognises_lines_together_and_scores_each_entity_against_its_own_line(tmp_path: Path) -> None:
    path = write_set(tmp_path / "set.jsonl", ROWS)
    alone = table(runner.invoke(app, ["eval", str(path), "--language", "en"]).output)
    together = runner.invoke(app, ["eval", str(path), "--language", "en", "--join", "2"])
    assert together.exit_code == 0, together.output
    # The same entities at the same offsets within their lines (the model reads these lines the same way).
    assert table(together.output) == alone
    assert "3 documents, 4 gold entities" in together.output


def test_split_joined_gives_each_entity_to_the_line_it_starts_in() -> None:
    from opencomprehend.cli.models import _split_joined

    texts = ["Anna lives here.", "Bob", "Carol met Dan."]
    joined = "\n".join(texts[:2])
    assert joined.index("Bob") == 17
    found = [
        [
            {"BeginOffset": 0, "EndOffset": 4, "Type": "PERSON"},
            {"BeginOffset": 17, "EndOffset": 20, "Type": "PERSON"},
            {"BeginOffset": 11, "EndOffset": 20, "Type": "OTHER"},  # runs over the line break
        ],
        [{"BeginOffset": 10, "EndOffset": 13, "Type": "PERSON"}],
    ]
    per_line = _split_joined(found, texts, 2)
    assert [[(e["BeginOffset"], e["EndOffset"], e["Type"]) for e in line] for line in per_line] == [
        [(0, 4, "PERSON"), (11, 20, "OTHER")],
        [(0, 3, "PERSON")],
        [(10, 13, "PERSON")],
    ]


def test_eval_with_the_english_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", str(write_set(tmp_path / "set.jsonl", ROWS)), "--language", "en"])
    assert result.exit_code == 0, result.output
    rows = table(result.output)
    # Gold PER/LOC/ORG are compared as Comprehend's PERSON/LOCATION/ORGANIZATION.
    assert rows["PERSON"] == [1.0, 1.0, 1.0, 2, 2]
    assert rows["LOCATION"] == [1.0, 1.0, 1.0, 1, 1]
    assert rows["ORGANIZATION"] == [1.0, 1.0, 1.0, 1, 1]
    # "June" is a DATE the set does not annotate: a false positive unless left out.
    assert rows["DATE"] == [0.0, 0.0, 0.0, 0, 1]
    assert rows["overall (micro)"] == [0.8, 1.0, 0.889, 4, 5]
    assert "3 documents, 4 gold entities" in result.output
    assert re.search(r"17 words in [\d.]+ s: [\d,]+ words/s", result.output)

    only = runner.invoke(app, ["eval", str(tmp_path / "set.jsonl"), "-l", "en", "--gold-types-only", "--limit", "1"])
    assert only.exit_code == 0, only.output
    rows = table(only.output)
    assert "DATE" not in rows
    assert rows["overall (micro)"] == [1.0, 1.0, 1.0, 2, 2]


def test_eval_maps_multiconer_fine_types_and_leaves_its_medical_ones_out(tmp_path: Path) -> None:
    # MultiCoNER II labels (ner-train/multiconer-v2-*): fine types through the dataset's coarse grouping.
    text = "barack obama visited paris and read le monde about diabetes ."
    rows = [
        {
            "text": text,
            "entities": [
                {"begin": 0, "end": 12, "type": "Politician"},
                {"begin": 21, "end": 26, "type": "HumanSettlement"},
                {"begin": 36, "end": 44, "type": "WrittenWork"},
                {"begin": 51, "end": 59, "type": "Disease"},
            ],
        }
    ]
    result = runner.invoke(app, ["eval", str(write_set(tmp_path / "mc.jsonl", rows)), "-l", "en"])
    assert result.exit_code == 0, result.output
    rows_out = table(result.output)
    assert rows_out["PERSON"][3] == 1 and rows_out["LOCATION"][3] == 1 and rows_out["TITLE"][3] == 1
    assert "1 documents, 3 gold entities" in result.output  # the disease is no Comprehend entity
    assert rows_out.get("OTHER", [0, 0, 0, 0, 0])[3] == 0


@pytest.mark.slow
def test_eval_a_custom_model_with_raw_types(tmp_path: Path) -> None:
    text = "Anna Becker lives in Berlin."
    train = [LabelledDocument(text, ((0, 11, "PERSON"), (21, 27, "CITY")))] * 20
    model = tmp_path / "model"
    train_ner(train, train[:2], "en", model, TrainingOptions(max_epochs=10, patience=10))
    rows = [
        {
            "text": text,
            "entities": [{"begin": 0, "end": 11, "type": "PERSON"}, {"begin": 21, "end": 27, "type": "CITY"}],
        }
    ]
    dataset = write_set(tmp_path / "set.jsonl", rows)

    raw = runner.invoke(app, ["eval", str(dataset), "-l", "en", "--model", str(model), "--raw-types"])
    assert raw.exit_code == 0, raw.output
    assert table(raw.output)["CITY"] == [1.0, 1.0, 1.0, 1, 1]

    # Without --raw-types both sides go through Comprehend's map: CITY is OTHER there.
    mapped = runner.invoke(app, ["eval", str(dataset), "-l", "en", "--model", str(model)])
    assert mapped.exit_code == 0, mapped.output
    assert table(mapped.output)["OTHER"] == [1.0, 1.0, 1.0, 1, 1]
    assert "CITY" not in table(mapped.output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl", "-l", "en"], "no such file: "),
        (["set.jsonl", "-l", "xx"], "No entity model is installed for language 'xx'."),
        (["set.jsonl", "-l", "en", "--model", "no_such_model_package"], "model 'no_such_model_package'"),
        (["set.jsonl", "-l", "en", "--raw-types"], "--raw-types compares a custom model's own labels"),
        (["bad.jsonl", "-l", "en"], "bad.jsonl, line 2: expected"),
    ],
)
def test_eval_refuses_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    write_set(tmp_path / "set.jsonl", ROWS)
    (tmp_path / "bad.jsonl").write_text(json.dumps(ROWS[0]) + "\n{not json\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", *args])
    assert result.exit_code == 2
    assert message in result.output
