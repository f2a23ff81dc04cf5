"""One custom entity recognizer through training: read its data, train, store the model, report metrics.

SUBMITTED → TRAINING → TRAINED | TRAINED_WITH_WARNING | IN_ERROR, and STOP_REQUESTED → STOPPED (or
TRAINED when training finished first). Bad data ends IN_ERROR with a message that says what and where.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opencomprehend.config import Settings
from opencomprehend.io.objects import AccessDenied, NoSuchBucket, ObjectStore, StorageError
from opencomprehend.io.training_data import (
    AnnotatedDocument,
    TrainingDataProblem,
    apply_annotations,
    label_with_entity_list,
    read_annotated,
    read_corpus,
    read_entity_list,
    read_manifests,
)
from opencomprehend.jobs.access import usable_key
from opencomprehend.jobs.job_run import READ_DENIED, LeaseLost
from opencomprehend.jobs.recognizers import (
    IN_ERROR,
    STOP_REQUESTED,
    STOPPED,
    TRAINED,
    TRAINED_WITH_WARNING,
    RecognizerStore,
)
from opencomprehend.jobs.rows import Recognizer
from opencomprehend.metrics import Metrics
from opencomprehend.nlp.training import LabelledDocument, TrainingDataError, TrainingStopped
from opencomprehend.runtime.models import store_model, store_packed_model
from opencomprehend.runtime.pipeline import Volume
from opencomprehend.runtime.trainer import TrainingCrashed, train_in_process
from opencomprehend.security.keyring import Key, KeyRing, KeyringError

log = logging.getLogger("opencomprehend.training")


def model_uri(settings: Settings, recognizer: Recognizer) -> str:
    base = settings.models_uri.rstrip("/")
    version = recognizer.version_name or "-"
    return (
        f"{base}/{recognizer.account_id}/{recognizer.region}/{recognizer.recognizer_name}/"
        f"{version}/model.tar.gz"
    )


def _percent(value: float) -> float:
    # Comprehend reports plain-text recognizer metrics on a 0-100 scale (its CLI examples show 100.0).
    return round(value * 100, 4)


def recognizer_metadata(report: dict[str, Any], entity_types: list[str]) -> dict[str, Any]:
    types = report["types"]
    return {
        "NumberOfTrainedDocuments": report["train_documents"],
        "NumberOfTestDocuments": report["test_documents"],
        "EvaluationMetrics": {
            "Precision": _percent(report["precision"]),
            "Recall": _percent(report["recall"]),
            "F1Score": _percent(report["f1"]),
        },
        "EntityTypes": [
            {
                "Type": kind,
                "EvaluationMetrics": {
                    "Precision": _percent(types.get(kind, {}).get("precision", 0.0)),
                    "Recall": _percent(types.get(kind, {}).get("recall", 0.0)),
                    "F1Score": _percent(types.get(kind, {}).get("f1", 0.0)),
                },
                "NumberOfTrainMentions": types.get(kind, {}).get("train_mentions", 0),
            }
            for kind in entity_types
        ],
    }


INTERNAL_ERROR = "INTERNAL_SERVER_ERROR: An internal error stopped the training; the server's log has the details."


class VolumeKeyUnavailable(Exception):
    """The VolumeKmsKeyId key is no longer usable; str(e) is the recognizer's message."""


class TrainingDataDenied(Exception):
    """The data access role may not read the training data."""


class TrainingRun:
    def __init__(
        self,
        recognizer: Recognizer,
        store: RecognizerStore,
        objects: ObjectStore,
        settings: Settings,
        owner: str,
        shutdown: threading.Event,
        data: ObjectStore | None = None,
        keys: KeyRing | None = None,
        trainer: Callable[..., dict[str, Any]] = train_in_process,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics if metrics is not None else Metrics()
        self.recognizer = recognizer
        # Where the training runs: a process of this node's own, or the runner's (a Dask worker).
        self.trainer = trainer
        self.store = store
        self.objects = objects  # the server's own store: where the trained model goes
        self.data = data if data is not None else objects  # the training data, as the role sees it
        self.keys = keys
        self.settings = settings
        self.owner = owner
        self.shutdown = shutdown
        self.config = json.loads(recognizer.input_data_config)
        self.entity_types = [t["Type"] for t in self.config["EntityTypes"]]

    def run(self) -> None:
        arn = self.recognizer.recognizer_arn
        try:
            if self.recognizer.status == STOP_REQUESTED:
                raise TrainingStopped()
            try:
                train, test = self.training_data()
            except (AccessDenied, NoSuchBucket):
                raise TrainingDataDenied(READ_DENIED) from None
            except StorageError as exc:  # the store down, a key it cannot hold: said as such
                raise TrainingDataDenied(f"NO_READ_ACCESS_TO_INPUT: {exc}") from None
            self._train(train, test)
        except TrainingStopped:
            self._finish(STOPPED, None)
        except (TrainingDataDenied, VolumeKeyUnavailable) as exc:
            self._finish(IN_ERROR, str(exc))
        except (TrainingDataProblem, TrainingDataError) as exc:
            self._finish(IN_ERROR, f"INVALID_TRAINING_DATA: {exc}")
        except LeaseLost:
            log.info("recognizer %s: lease lost or server stopping; it will be trained again", arn)
        except StorageError as exc:
            self._finish(IN_ERROR, f"NO_WRITE_ACCESS_TO_MODEL: The trained model could not be stored: {exc}")
        except TrainingCrashed as exc:
            self._finish(IN_ERROR, f"INTERNAL_SERVER_ERROR: Training failed: {exc}")
        except Exception:  # noqa: BLE001  (a recognizer must never be left stuck in TRAINING)
            log.exception("recognizer %s failed", arn)
            self._finish(IN_ERROR, INTERNAL_ERROR)

    def _model_key(self) -> tuple[KeyRing, Key] | None:
        """The keyring and key of ModelKmsKeyId, if one was given; a key gone since Create fails the store."""
        reference = self.recognizer.model_kms_key_id
        if not reference:
            return None
        found = usable_key(self.keys, reference, self.recognizer.account_id, self.recognizer.region)
        if found is None:
            raise StorageError(f"the model KMS key {reference} is no longer usable")
        return found

    def _finish(self, status: str, message: str | None, **values: Any) -> None:
        if self.store.finish(self.recognizer.recognizer_arn, self.owner, status, message, **values):
            self.metrics.trainings.labels(outcome=status).inc()

    def _check(self) -> bool:
        """Heartbeat while training runs: True asks it to stop; a lost lease aborts it."""
        if self.shutdown.is_set():
            raise LeaseLost()
        status = self.store.heartbeat(self.recognizer.recognizer_arn, self.owner, self.settings.lease_s)
        if status is None:
            raise LeaseLost()
        return status == STOP_REQUESTED

    # --- the data -------------------------------------------------------------------------------

    def training_data(self) -> tuple[list[LabelledDocument], list[LabelledDocument]]:
        config, settings = self.config, self.settings
        explicit_test = False
        minimum = settings.min_annotations_per_type
        if config.get("DataFormat", "COMPREHEND_CSV") == "AUGMENTED_MANIFEST":
            train: list[AnnotatedDocument] = []
            test: list[AnnotatedDocument] = []
            for manifest in config.get("AugmentedManifests") or []:
                docs = read_manifests(self.data, manifest["S3Uri"], manifest["AttributeNames"], self.entity_types)
                if manifest.get("Split", "TRAIN") == "TEST":
                    test.extend(docs)
                    explicit_test = True
                else:
                    train.extend(docs)
        else:
            documents = config["Documents"]
            fmt = documents.get("InputFormat", "ONE_DOC_PER_LINE")
            line_mode = fmt == "ONE_DOC_PER_LINE"
            train = read_corpus(self.data, documents["S3Uri"], fmt, settings.max_document_bytes)
            test = []
            if documents.get("TestS3Uri"):
                test = read_corpus(self.data, documents["TestS3Uri"], fmt, settings.max_document_bytes)
                explicit_test = True
            if config.get("Annotations"):
                annotations = config["Annotations"]
                uri = annotations["S3Uri"]
                apply_annotations(train, read_annotated(self.data, uri), uri, line_mode, self.entity_types)
                if explicit_test:
                    test_uri = annotations.get("TestS3Uri")
                    if not test_uri:
                        raise TrainingDataProblem(
                            "Documents.TestS3Uri is set but Annotations.TestS3Uri is not: the test documents "
                            "need their own annotations."
                        )
                    apply_annotations(test, read_annotated(self.data, test_uri), test_uri, line_mode, self.entity_types)
            else:
                uri = config["EntityList"]["S3Uri"]
                entries = read_entity_list(read_annotated(self.data, uri), uri, self.entity_types)
                label_with_entity_list(train + test, entries)
                minimum = settings.min_entity_list_matches
        for doc in train + test:
            _check_overlaps(doc)
        if not explicit_test:
            train, test = self._hold_out(train)
        self._check_counts(train, test, minimum, explicit_test)
        return [_labelled(d) for d in train], [_labelled(d) for d in test]

    def _hold_out(self, corpus: list[AnnotatedDocument]) -> tuple[list[AnnotatedDocument], list[AnnotatedDocument]]:
        """Keep 10 % of the documents for testing (at least one), chosen the same way every time."""
        if len(corpus) < 3:
            raise TrainingDataProblem(f"There are {len(corpus)} training documents; at least 3 are needed.")
        order = list(range(len(corpus)))
        random.Random(self.recognizer.recognizer_arn).shuffle(order)
        held = set(order[: max(1, round(len(corpus) * self.settings.test_fraction))])
        return (
            [d for i, d in enumerate(corpus) if i not in held],
            [d for i, d in enumerate(corpus) if i in held],
        )

    def _check_counts(
        self, train: list[AnnotatedDocument], test: list[AnnotatedDocument], minimum: int, explicit_test: bool
    ) -> None:
        if not test:
            raise TrainingDataProblem("The test set is empty: it holds no documents.")
        counts = {kind: 0 for kind in self.entity_types}
        for doc in train:
            for _, _, kind in doc.entities:
                counts[kind] += 1
        for kind, count in counts.items():
            if count < minimum:
                raise TrainingDataProblem(
                    f"Too few annotations for entity type '{kind}': {count} in the training documents; "
                    f"at least {minimum} are needed."
                )
        if explicit_test:
            in_test = {kind for doc in test for _, _, kind in doc.entities}
            missing = [kind for kind in self.entity_types if kind not in in_test]
            if missing:
                raise TrainingDataProblem(
                    f"The test set has no annotation for entity type {', '.join(repr(k) for k in missing)}; "
                    "it needs at least one for every type."
                )

    # --- training -------------------------------------------------------------------------------

    def _volume(self) -> Volume | None:
        """VolumeKmsKeyId as a sealer of what the training spills to disk; a key disabled or removed since
        Create ends the training IN_ERROR, as it fails a job."""
        reference = self.recognizer.volume_kms_key_id
        if not reference:
            return None
        found = usable_key(self.keys, reference, self.recognizer.account_id, self.recognizer.region)
        if found is None:
            raise VolumeKeyUnavailable(
                f"KMS_KEY_UNAVAILABLE: The volume KMS key {reference} is disabled or no longer exists."
            )
        return Volume(*found)

    def _train(self, train: list[LabelledDocument], test: list[LabelledDocument]) -> None:
        options = {"max_epochs": self.settings.training_max_epochs, "max_seconds": self.settings.training_max_seconds}
        volume = self._volume()
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=self.settings.work_dir, prefix="training-"))
        try:
            # With a volume key the trainer leaves the model sealed under it (runtime/trainer.run_training),
            # as a job's parts are; it is opened in memory here only to be stored.
            sealing = {"volume_key": volume.key} if volume is not None else {}
            report = self.trainer(
                train,
                test,
                self.recognizer.language_code,
                folder / "model",
                options,
                check=self._check,
                poll_s=min(1.0, self.settings.heartbeat_s),
                **sealing,
            )
            uri = model_uri(self.settings, self.recognizer)
            if volume is None:
                store_model(self.objects, folder / "model", uri, self._model_key())
            else:
                try:
                    packed = volume.open((folder / "model").read_bytes())
                except KeyringError as exc:
                    raise VolumeKeyUnavailable(
                        f"KMS_KEY_UNAVAILABLE: The trained model, sealed under the volume key, does not open: {exc}."
                    ) from None
                store_packed_model(self.objects, packed, uri, self._model_key())
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        warnings = list(report.get("warnings") or [])
        self._finish(
            TRAINED_WITH_WARNING if warnings else TRAINED,
            "; ".join(warnings) if warnings else None,
            recognizer_metadata=json.dumps(recognizer_metadata(report, self.entity_types)),
            model_uri=uri,
        )


def _check_overlaps(doc: AnnotatedDocument) -> None:
    spans = sorted(set(doc.entities))
    for (b1, e1, t1), (b2, e2, t2) in zip(spans, spans[1:], strict=False):
        if b2 < e1:
            raise TrainingDataProblem(
                f"{doc.where}: entity {b1}-{e1} ({t1}) overlaps entity {b2}-{e2} ({t2}); "
                "overlapping entities are not supported."
            )
    doc.entities = spans


def _labelled(doc: AnnotatedDocument) -> LabelledDocument:
    return LabelledDocument(doc.text, tuple(doc.entities))
