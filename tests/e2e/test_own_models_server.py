"""Bring your own model, end to end: `opencomprehend serve --models` with an ONNX token-classification model
for French and a spaCy pipeline with a label map for German at once (the rest on the shipped models), driven
through the AWS CLI and boto3; the same file on Dask workers; and the one line `serve` prints when a
configured model cannot load. The models are built by the tests (tests/support/token_classifier.py)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from support.components import missing  # noqa: E402
from support.output import check_offsets, read_archive  # noqa: E402
from support.server import BIN, Server, running_server  # noqa: E402
from support.token_classifier import tiny_ner_model  # noqa: E402

import opencomprehend  # noqa: E402

pytestmark = pytest.mark.e2e

SHIPPED_DE = Path(opencomprehend.__file__).parent / "models" / "de"
PIECES = {"Ada": "B-PER", "Lovelace": "I-PER", "Zo": "B-PER", "##ë": "I-PER", "Lyon": "B-LOC", "Acme": "B-ORG",
          "Corp": "I-ORG", "Euro": "B-MISC"}  # fmt: skip
FRENCH = "Zoë et Ada Lovelace travaillent chez Acme Corp à Lyon, payés en Euro."


def models_file(folder: Path, french_model: Path) -> Path:
    path = folder / "models.toml"
    path.write_text(
        f"""
[languages.fr]
engine = "transformers.v1"
model = "{french_model}"
labels = {{ PER = "PERSON", LOC = "LOCATION", ORG = "ORGANIZATION" }}   # MISC left out: dropped

[languages.de]
engine = "spacy.v1"
model = "{SHIPPED_DE}"
labels = {{ PERSON = "PERSON", LOCATION = "LOCATION" }}   # the model's ORGANIZATION and OTHER dropped
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    return models_file(folder, tiny_ner_model(folder / "fr-ner", PIECES))


@pytest.fixture(scope="module")
def byom_server(tmp_path_factory: pytest.TempPathFactory, aws_available: None, models: Path) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("byom"), OPENCOMPREHEND_MODELS=str(models), OPENCOMPREHEND_WORKERS="1"
    ) as running:
        yield running


def test_detect_entities_through_the_aws_cli_with_an_onnx_and_a_spacy_model_at_once(byom_server: Server) -> None:
    french = byom_server.aws_json("detect-entities", "--text", FRENCH, "--language-code", "fr")["Entities"]
    check_offsets([{"File": "t", "Entities": french}], {("t", None): FRENCH})
    assert [(e["Text"], e["Type"], e["BeginOffset"]) for e in french] == [
        ("Zoë", "PERSON", 0), ("Ada Lovelace", "PERSON", 7), ("Acme Corp", "ORGANIZATION", 37),
        ("Lyon", "LOCATION", 49),
    ]  # fmt: skip

    german = "Angela Merkel besuchte Hamburg und sprach mit Siemens."
    found = byom_server.aws_json("detect-entities", "--text", german, "--language-code", "de")["Entities"]
    assert {(e["Text"], e["Type"]) for e in found} >= {("Angela Merkel", "PERSON"), ("Hamburg", "LOCATION")}
    assert {e["Type"] for e in found} <= {"PERSON", "LOCATION"}, found

    english = byom_server.aws_json(
        "detect-entities", "--text", "Angela Merkel visited Berlin.", "--language-code", "en"
    )
    assert ("Angela Merkel", "PERSON") in {(e["Text"], e["Type"]) for e in english["Entities"]}  # the default


def test_batch_detect_entities_runs_the_onnx_model(byom_server: Server) -> None:
    answer = byom_server.client().batch_detect_entities(TextList=[FRENCH, "le chat dort", "Ada"], LanguageCode="fr")
    assert answer["ErrorList"] == []
    by_index = {r["Index"]: [(e["Text"], e["Type"]) for e in r["Entities"]] for r in answer["ResultList"]}
    assert by_index[1] == [] and by_index[2] == [("Ada", "PERSON")]
    assert ("Acme Corp", "ORGANIZATION") in by_index[0]


def test_a_job_in_the_onnx_models_language_runs_on_the_worker_pool(byom_server: Server) -> None:
    run = f"byom-{uuid.uuid4().hex[:8]}"
    # A document far longer than the model's 64 positions: windows, with offsets into the whole line.
    long = " ".join(["Ada Lovelace et Zoë visitent Lyon chez Acme Corp ."] * 40)
    lines = [FRENCH, "", long]
    byom_server.put("docs", f"{run}/in/a.txt", "\n".join(lines) + "\n")
    job_id = byom_server.start_job(f"s3://docs/{run}/in/", f"s3://docs/{run}/out/", language="fr")
    props = byom_server.wait(job_id)
    assert props["JobStatus"] == "COMPLETED", props
    uri = props["OutputDataConfig"]["S3Uri"].removeprefix("s3://")
    records = read_archive((byom_server.bucket_root / uri).read_bytes())
    check_offsets(records, {("a.txt", i): t for i, t in enumerate(lines)})
    assert records[1]["Entities"] == []
    assert [e["Text"] for e in records[2]["Entities"]] == ["Ada Lovelace", "Zoë", "Lyon", "Acme Corp"] * 40


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "opencomprehend"), "serve", "--port", "0", "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True, text=True, timeout=180, env=dict(os.environ),
    )  # fmt: skip


def test_serve_refuses_to_start_with_a_model_that_cannot_load_and_names_its_language(tmp_path: Path) -> None:
    broken = tiny_ner_model(tmp_path / "fr-ner", PIECES)
    (broken / "model.onnx").write_bytes(b"\x08\x07 truncated")
    done = serve(tmp_path, "--models", str(models_file(tmp_path, broken)))
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"Error: models file {tmp_path / 'models.toml'}, language 'fr': the transformers.v1 "
                           f"model {broken} cannot be loaded: ONNX Runtime cannot load"), line  # fmt: skip


def test_serve_refuses_a_models_file_with_a_mistake_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text('[languages.fr]\nengine = "transformers.v2"\nmodel = "/nowhere"\n', encoding="utf-8")
    done = serve(tmp_path, "--models", str(path))
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: models file {path}, language 'fr': engine 'transformers.v2' does not exist"), line


def test_models_list_shows_what_each_language_resolves_to(models: Path) -> None:
    done = subprocess.run(
        [str(BIN / "opencomprehend"), "models", "list", "--models", str(models)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    assert len(rows) == 24  # twelve languages, each a line and its labels
    fr = rows.index(next(r for r in rows if r.startswith("fr ")))
    assert "transformers.v1" in rows[fr] and f"models file {models}" in rows[fr] and " MB" in rows[fr]
    assert rows[fr + 1].strip() == "labels: LOC→LOCATION, MISC→(dropped), ORG→ORGANIZATION, PER→PERSON"
    de = rows.index(next(r for r in rows if r.startswith("de ")))
    assert "ORGANIZATION→(dropped)" in rows[de + 1] and "PERSON→PERSON" in rows[de + 1]
    en = rows.index(next(r for r in rows if r.startswith("en ")))
    assert "shipped default" in rows[en]


def test_dask_workers_take_the_models_file(tmp_path: Path, models: Path) -> None:
    from support.dask_cluster import INSTALL_HINT, find_dask, running_dask

    from opencomprehend.io.documents import Document
    from opencomprehend.nlp.models_file import read_models_file
    from opencomprehend.runtime.cluster import DaskRunner
    from opencomprehend.runtime.runner import entities_engine

    dask = find_dask()
    if dask is None:
        missing(f"the `dask` command was not found; {INSTALL_HINT}")
    with running_dask(dask, tmp_path / "dask", workers=1) as cluster:
        runner = DaskRunner(
            cluster.address, preload=[entities_engine("fr")], task_timeout_s=300, models=read_models_file(models)
        )
        try:
            [found] = runner.recognise(entities_engine("fr"), [FRENCH]).result(timeout=180)
            assert found is not None
            assert [(e["Text"], e["Type"]) for e in found] == [
                ("Zoë", "PERSON"), ("Ada Lovelace", "PERSON"), ("Acme Corp", "ORGANIZATION"), ("Lyon", "LOCATION"),
            ]  # fmt: skip
            [line] = runner.submit(entities_engine("fr"), [Document("in.txt", 0, FRENCH)]).result(timeout=180)
            assert '"Text": "Acme Corp"' in line and "Euro" not in line
        finally:
            runner.close()
