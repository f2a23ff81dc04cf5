"""Recognizer training in a process of its own: never in the API process, and stoppable at any time."""

from __future__ import annotations

import multiprocessing
import os
import queue
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opencomprehend.nlp.training import (
    LabelledDocument,
    TrainingDataError,
    TrainingOptions,
    TrainingStopped,
    train_ner,
)
from opencomprehend.runtime.models import pack_model
from opencomprehend.security.keyring import Key, seal

# Where a training sealed under a VolumeKmsKeyId stages spaCy's files before they are packed and sealed:
# memory (tmpfs), so that the model, whose vocabulary holds words of the training data, never reaches a
# disk in plain text. Without a tmpfs the system's temporary folder is used for those few seconds.
MEMORY_DIR = Path("/dev/shm")


def _staging_dir() -> str | None:
    return str(MEMORY_DIR) if MEMORY_DIR.is_dir() and os.access(MEMORY_DIR, os.W_OK | os.X_OK) else None


class TrainingCrashed(Exception):
    """The training process died or failed unexpectedly; str(e) says how."""


def run_training(
    train: list[LabelledDocument],
    test: list[LabelledDocument],
    language: str,
    output_dir: Path,
    options: dict[str, Any],
    should_stop: Callable[[], bool],
    volume_key: Key | None = None,
) -> tuple[str, Any]:
    """Train where this runs (a child process, a Dask worker): (result, detail), picklable, for `training_report`.

    The model is the folder `output_dir`; with `volume_key` (the recognizer's VolumeKmsKeyId) it is instead
    the file `output_dir`, the model folder packed (models.pack_model) and sealed under the key, as a job's
    parts are: spaCy's files are staged in memory and removed once sealed.
    """
    try:
        if volume_key is None:
            report = train_ner(train, test, language, output_dir, TrainingOptions(**options), should_stop=should_stop)
        else:
            with tempfile.TemporaryDirectory(prefix="opencomprehend-training-", dir=_staging_dir()) as staging:
                model = Path(staging) / "model"
                report = train_ner(train, test, language, model, TrainingOptions(**options), should_stop=should_stop)
                sealed = seal(volume_key, pack_model(model))
            _write_atomically(Path(output_dir), sealed)
        return "ok", report.to_dict()
    except TrainingStopped:
        return "stopped", None
    except TrainingDataError as exc:
        return "data", str(exc)
    except Exception as exc:  # noqa: BLE001  (reported to the caller, which ends the recognizer IN_ERROR)
        return "error", f"{type(exc).__name__}: {exc}"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.partial")
    with open(temp, "wb") as out:
        out.write(data)
    os.replace(temp, path)


def training_report(result: str, detail: Any) -> dict[str, Any]:
    """The report of a `run_training` result; raises TrainingStopped, TrainingDataError or TrainingCrashed."""
    if result == "ok":
        return detail
    if result == "stopped":
        raise TrainingStopped()
    if result == "data":
        raise TrainingDataError(detail)
    raise TrainingCrashed(detail)


def _train(
    train: list[LabelledDocument],
    test: list[LabelledDocument],
    language: str,
    output_dir: str,
    options: dict[str, Any],
    stop: Any,
    results: Any,
    volume_key: Key | None = None,
) -> None:
    results.put(run_training(train, test, language, Path(output_dir), options, stop.is_set, volume_key))


def train_in_process(
    train: list[LabelledDocument],
    test: list[LabelledDocument],
    language: str,
    output_dir: Path,
    options: dict[str, Any],
    check: Callable[[], bool],
    poll_s: float = 1.0,
    volume_key: Key | None = None,
) -> dict[str, Any]:
    """Train in a child process and return its report (the model as `run_training` leaves it).

    `check` runs every `poll_s` seconds in the caller's thread; True asks the child to stop (it then
    raises TrainingStopped here), and an exception from it kills the child and propagates.
    Raises TrainingDataError for unusable data and TrainingCrashed for anything else.
    """
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    results = context.Queue()
    child = context.Process(
        target=_train,
        args=(train, test, language, str(output_dir), options, stop, results, volume_key),
        name="recognizer-training",
        daemon=True,
    )
    child.start()
    try:
        while True:
            try:
                result, detail = results.get(timeout=poll_s)
                break
            except queue.Empty:
                if not child.is_alive():
                    raise TrainingCrashed(f"The training process exited with code {child.exitcode}.") from None
                if check():
                    stop.set()
    except BaseException:
        child.kill()
        child.join(timeout=10)
        raise
    child.join(timeout=30)
    return training_report(result, detail)
