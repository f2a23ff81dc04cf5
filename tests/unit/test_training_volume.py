"""A recognizer's VolumeKmsKeyId: what its training spills to local disk is sealed under it, as a job's parts
are (tests/unit/test_job_run.py). The training itself is not what this is about: spaCy's training is replaced
by a stand-in that writes a model folder whose files hold the training text, as spaCy's vocabulary does; the
rest (TrainingRun, trainer.run_training, the keyring, the store) is the real code."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from support.wire import call

from opencomprehend.config import Settings
from opencomprehend.jobs.recognizers import RecognizerStore
from opencomprehend.jobs.store import JobStore, owner_id
from opencomprehend.jobs.training_run import TrainingRun
from opencomprehend.runtime import trainer as trainer_module
from opencomprehend.runtime.models import fetch_model
from opencomprehend.server import create_app, open_keyring, open_object_store

ACCOUNT = "111122223333"
SECRET = "Zebulon Quartermaine-Fitzwilliam"  # a name in the training data that must not lie on disk in plain text
LINES = [f"{SECRET} met Ada Lovelace in Leeds on day {i}." for i in range(6)]


class _Report:
    def to_dict(self) -> dict[str, Any]:
        metrics = {"precision": 1.0, "recall": 1.0, "f1": 1.0, "train_mentions": 5}
        return {"train_documents": 5, "test_documents": 1, "precision": 1.0, "recall": 1.0, "f1": 1.0,
                "types": {"PERSON": metrics}, "warnings": []}  # fmt: skip


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    settings = Settings(data_dir=tmp_path, min_annotations_per_type=1)
    keys = open_keyring(settings)
    key = keys.create(ACCOUNT, "us-east-1", alias="training-volume")
    seen: dict[str, Any] = {"asked": []}

    def fake_train_ner(train: list, test: list, language: str, output_dir: Path, *_: Any, **__: Any) -> _Report:
        seen["asked"].append(Path(output_dir))
        Path(output_dir).mkdir(parents=True)
        (Path(output_dir) / "strings.json").write_text("\n".join(doc.text for doc in [*train, *test]))
        return _Report()

    monkeypatch.setattr(trainer_module, "train_ner", fake_train_ner)

    def trainer(train: list, test: list, language: str, output_dir: Path, options: dict, check: Any,
                poll_s: float = 1.0, **sealing: Any) -> dict[str, Any]:  # fmt: skip
        # train_in_process's child, run in this process so that the stand-in above is the one called.
        result, detail = trainer_module.run_training(
            train, test, language, output_dir, options, lambda: False, **sealing
        )
        seen["left on disk"] = [p for p in settings.work_dir.rglob("*") if p.is_file()]
        seen["plain"] = [p for p in seen["left on disk"] if SECRET.encode() in p.read_bytes()]
        seen["sealed"] = [p.read_bytes().startswith(b"OCKMS1") for p in seen["left on disk"]]
        return trainer_module.training_report(result, detail)

    with TestClient(create_app(settings, run_workers=False)) as client:
        root = settings.store_root / "train"
        (root / "docs").mkdir(parents=True)
        (root / "docs" / "a.txt").write_text("\n".join(LINES) + "\n")
        (root / "annotations.csv").write_text(
            "File,Line,Begin Offset,End Offset,Type\n"
            + "".join(f"a.txt,{i},0,{len(SECRET)},PERSON\n" for i in range(6))
        )
        status, created = call(client, "CreateEntityRecognizer", {
            "RecognizerName": "sealed-spills", "LanguageCode": "en", "VolumeKmsKeyId": "alias/training-volume",
            "DataAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ComprehendData",
            "InputDataConfig": {"EntityTypes": [{"Type": "PERSON"}], "Documents": {"S3Uri": "s3://train/docs/"},
                                "Annotations": {"S3Uri": "s3://train/annotations.csv"}},
        })  # fmt: skip
        assert status == 200, created
        store = JobStore(settings.resolved_database_url())
        recognizers = RecognizerStore(store.engine)
        owner = owner_id()
        [claimed] = recognizers.claim(owner, 60, 1)
        run = TrainingRun(claimed, recognizers, open_object_store(settings), settings, owner, threading.Event(),
                          keys=keys, trainer=trainer)  # fmt: skip
        yield {"run": run, "recognizers": recognizers, "arn": created["EntityRecognizerArn"], "seen": seen,
               "settings": settings, "keys": keys, "key": key}  # fmt: skip
        store.engine.dispose()


def test_training_spills_are_sealed_under_the_volume_key(world: dict[str, Any]) -> None:
    # Issue 17, item 12: the trained model (its vocabulary holds the training text) lay in the work folder
    # in plain text while it was stored.
    world["run"].run()
    recognizer = world["recognizers"].get(world["arn"])
    assert (recognizer.status, recognizer.message) == ("TRAINED", None)
    seen, settings = world["seen"], world["settings"]
    assert seen["left on disk"], "the trained model is on disk when the trainer returns"
    assert seen["plain"] == [], "nothing the training left on disk holds the training text"
    assert all(seen["sealed"]), "sealed as a job's parts are"
    assert all(settings.work_dir not in asked.parents for asked in seen["asked"]), "spaCy's files are staged off disk"
    assert not any(asked.exists() for asked in seen["asked"]), "and removed once sealed"
    assert list(settings.work_dir.rglob("*.*")) == []
    # The stored model (ModelKmsKeyId governs it, not the volume key) is the model the training made.
    folder = fetch_model(world["run"].objects, recognizer.model_uri, settings.model_cache, world["keys"])
    assert SECRET in (folder / "strings.json").read_text()


def test_a_volume_key_disabled_since_create_ends_the_training_in_error(world: dict[str, Any]) -> None:
    world["keys"].set_enabled(world["key"].key_id, False)
    world["run"].run()
    recognizer = world["recognizers"].get(world["arn"])
    assert recognizer.status == "IN_ERROR"
    assert recognizer.message == (
        "KMS_KEY_UNAVAILABLE: The volume KMS key alias/training-volume is disabled or no longer exists."
    )
    assert world["seen"]["asked"] == [], "nothing was trained, so nothing was spilled"
