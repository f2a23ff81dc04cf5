"""Recognizer training in a process of its own: never in the API process, and stoppable at any time."""

from __future__ import annotations

import multiprocessing
import queue
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


class TrainingCrashed(Exception):
    """The training process died or failed unexpectedly; str(e) says how."""


def run_training(
    train: list[LabelledDocument],
    test: list[LabelledDocument],
    language: str,
    output_dir: Path,
    options: dict[str, Any],
    should_stop: Callable[[], bool],
) -> tuple[str, Any]:
    """Train where this runs (a child process, a Dask worker): (result, detail), picklable, for `training_report`."""
    try:
        report = train_ner(train, test, language, output_dir, TrainingOptions(**options), should_stop=should_stop)
        return "ok", report.to_dict()
    except TrainingStopped:
        return "stopped", None
    except TrainingDataError as exc:
        return "data", str(exc)
    except Exception as exc:  # noqa: BLE001  (reported to the caller, which ends the recognizer IN_ERROR)
        return "error", f"{type(exc).__name__}: {exc}"


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
) -> None:
    results.put(run_training(train, test, language, Path(output_dir), options, stop.is_set))


def train_in_process(
    train: list[LabelledDocument],
    test: list[LabelledDocument],
    language: str,
    output_dir: Path,
    options: dict[str, Any],
    check: Callable[[], bool],
    poll_s: float = 1.0,
) -> dict[str, Any]:
    """Train in a child process and return its report.

    `check` runs every `poll_s` seconds in the caller's thread; True asks the child to stop (it then
    raises TrainingStopped here), and an exception from it kills the child and propagates.
    Raises TrainingDataError for unusable data and TrainingCrashed for anything else.
    """
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    results = context.Queue()
    child = context.Process(
        target=_train,
        args=(train, test, language, str(output_dir), options, stop, results),
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
