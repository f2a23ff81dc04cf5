"""The cluster runtime: each shard a task on a Dask cluster (`serve --runtime dask --scheduler tcp://…`).

It offers what the local pool offers (runtime/runner.py), on Dask's own scheduler and workers rather than
a protocol of ours:

- warm workers: a worker plugin loads the usual languages when a Dask worker joins, and each worker
  process keeps every engine it loaded (runtime/worker.py's cache), as the local pool's workers do;
- a real-time lane: DetectEntities tasks carry a higher Dask priority than job shards, so they start next;
- a lost task is a WorkerLost: a Dask worker that dies (Dask gives up with KilledWorker), a connection
  that drops, or a task past `task_timeout_s`; the job runs the shard again.

Dask workers hold no credentials: the API node that runs a job reads its input (with the job's data
access role) and ships each shard's documents with its task; the lines come back to that node, which
stores the part in the server's object store (`work_uri`). A custom recognizer's model is shipped to the
workers once per job (Dask `scatter`), unpacked into a folder of their own, and kept there.

Run the workers with one thread each (`dask worker --nthreads 1`): a spaCy pipeline is not shared between
threads. Should a worker have more, a lock keeps its tasks one at a time.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from distributed import Client, KilledWorker, WorkerPlugin
from distributed.comm.core import CommClosedError

from opencomprehend.io.documents import Document
from opencomprehend.runtime import worker
from opencomprehend.runtime.models import pack_model, unpack_model
from opencomprehend.runtime.runner import WorkerLost, custom_engine_key, parse_engine_key
from opencomprehend.runtime.trainer import TrainingCrashed, run_training, training_report

log = logging.getLogger("opencomprehend.cluster")

# Dask priorities: higher runs first.
REALTIME_PRIORITY = 100
BATCH_PRIORITY = 0
PLUGIN_NAME = "opencomprehend-warm-engines"
# Custom models kept scattered on the cluster at once (each a few MB in the workers' memory).
MAX_SHIPPED_MODELS = 8

_task_lock = threading.Lock()
# What this worker process ran: shards, their documents, real-time requests, trainings (`tasks_run`).
_counts = {"shards": 0, "documents": 0, "realtime": 0, "trainings": 0}


class WarmEngines(WorkerPlugin):
    """A Dask worker plugin: load the usual engines in each worker as it joins, before its first task.

    The loading runs off the worker's event loop, so the worker keeps answering its scheduler meanwhile.
    """

    name = PLUGIN_NAME

    def __init__(self, preload: list[str]) -> None:
        self.preload = list(preload)

    async def setup(self, worker: Any) -> None:  # noqa: ARG002  (Dask's plugin interface)
        import asyncio

        await asyncio.get_running_loop().run_in_executor(None, _warm, self.preload)


def _warm(languages: list[str]) -> None:
    with _task_lock:
        worker.warm(languages)


# ------------------------------------------------------------------------------------- on the workers


def _models_dir() -> Path:
    return Path(tempfile.gettempdir()) / "opencomprehend-dask-models"


def _local_engine(engine: str, model: tuple[str, bytes] | None) -> str:
    """The engine key on this worker: a custom model's folder is the one unpacked here from `model`."""
    if model is None:
        return engine
    digest, packed = model
    language, _ = parse_engine_key(engine)
    return custom_engine_key(language, unpack_model(packed, _models_dir() / digest / "model"))


def _ensure(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def recognise_shard(engine: str, documents: list[Document], model: tuple[str, bytes] | None = None) -> list[str]:
    """A Dask task: the output lines of one shard (runtime/worker.py's, on this worker's warm engine)."""
    with _task_lock:
        lines = worker.recognise_shard(_local_engine(engine, model), documents)
        _counts["shards"] += 1
        _counts["documents"] += len(documents)
        return lines


def recognise_texts(engine: str, texts: list[str], model: tuple[str, bytes] | None = None) -> list[list[dict] | None]:
    """A Dask task: entities for DetectEntities and BatchDetectEntities."""
    with _task_lock:
        found = worker.recognise_texts(_local_engine(engine, model), texts)
        _counts["realtime"] += 1
        return found


def train_recognizer(
    train: list[Any],
    test: list[Any],
    language: str,
    options: dict[str, Any],
    stop_event: str,
    volume_key: Any = None,
) -> tuple[str, Any, bytes | None]:
    """A Dask task: train a custom recognizer on this worker; (outcome, detail, the packed model folder, or
    with `volume_key` that packed folder sealed under the key: trainer.run_training).

    Stopping is asked through the Dask Event `stop_event`, checked at most once a second.
    """
    import shutil
    import time

    from distributed import Event

    stop = Event(stop_event)
    checked = [0.0, False]

    def should_stop() -> bool:
        now = time.monotonic()
        if now - checked[0] >= 1.0:
            checked[0], checked[1] = now, stop.is_set()
        return bool(checked[1])

    folder = Path(tempfile.mkdtemp(prefix="training-", dir=_ensure(_models_dir())))
    try:
        result, detail = run_training(train, test, language, folder / "model", options, should_stop, volume_key)
        if result != "ok":
            return result, detail, None
        _counts["trainings"] += 1
        return result, detail, (folder / "model").read_bytes() if volume_key else pack_model(folder / "model")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tasks_run() -> dict[str, int]:
    """What this worker process ran so far (for `client.run(tasks_run)`: which workers did the work)."""
    return dict(_counts)


# ------------------------------------------------------------------------------------- on the API node


def _pack(folder: Path) -> tuple[str, bytes]:
    data = pack_model(folder)
    return hashlib.sha256(data).hexdigest()[:32], data


class DaskRunner:
    """The runner on a Dask cluster: the same shard pipeline, its tasks run by Dask's workers."""

    def __init__(self, scheduler: str, preload: list[str], task_timeout_s: float | None = None) -> None:
        self.scheduler = scheduler
        self.task_timeout_s = task_timeout_s if task_timeout_s and task_timeout_s > 0 else None
        self.client = Client(scheduler, set_as_default=False, timeout="30s")
        self.client.register_plugin(WarmEngines(preload), name=PLUGIN_NAME)
        # engine key -> the scattered (digest, packed model); the oldest are let go (Dask then frees them)
        self._models: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        """Task slots on the cluster now: its workers' threads, twice (a job keeps twice this many shards in
        flight, so each worker has two queued behind the one it runs and never waits on a round trip)."""
        try:
            return max(1, 2 * sum(self.client.nthreads().values()))
        except Exception:  # noqa: BLE001  (scheduler unreachable: the next task says so)
            return 1

    def live(self) -> int:
        """Dask workers connected to the scheduler (the health check's figure)."""
        try:
            return len(self.client.scheduler_info(n_workers=-1)["workers"])
        except TypeError:  # older distributed: every worker is listed anyway
            return len(self.client.scheduler_info()["workers"])
        except Exception:  # noqa: BLE001
            return 0

    def pids(self) -> list[int]:
        return []  # the workers are the cluster's processes, not this node's

    def warm_up(self, timeout: float = 300.0) -> bool:
        try:
            self.client.wait_for_workers(1, timeout=timeout)
            return True
        except Exception:  # noqa: BLE001  (jobs wait on the scheduler until workers join)
            log.warning("no Dask worker joined %s within %.0f s", self.scheduler, timeout)
            return False

    def _model(self, engine: str) -> Any:
        _, folder = parse_engine_key(engine)
        if folder is None:
            return None
        with self._lock:
            scattered = self._models.pop(engine, None)
            if scattered is None:
                scattered = self.client.scatter(_pack(folder), hash=True)
            self._models[engine] = scattered
            while len(self._models) > MAX_SHIPPED_MODELS:
                self._models.popitem(last=False)
            return scattered

    def _submit(self, fn: Any, engine: str, payload: list[Any], priority: int) -> Future[Any]:
        result: Future[Any] = Future()
        try:
            task = self.client.submit(fn, engine, payload, self._model(engine), pure=False, priority=priority)
        except Exception as exc:  # noqa: BLE001  (scheduler gone: the caller runs it again)
            result.set_exception(WorkerLost(f"The Dask scheduler {self.scheduler} could not take the task: {exc}"))
            return result
        timer: threading.Timer | None = None
        if self.task_timeout_s is not None:

            def expire() -> None:
                if not result.done():
                    task.cancel()
                    _settle(result, WorkerLost(f"The task did not finish in {self.task_timeout_s:.0f} s."))

            timer = threading.Timer(self.task_timeout_s, expire)
            timer.daemon = True
            timer.start()

        def done(finished: Any) -> None:
            if timer is not None:
                timer.cancel()
            try:
                value = finished.result()
            except BaseException as exc:  # noqa: BLE001  (classified: lost work, or the task's own error)
                _settle(result, _lost(exc) or exc)
                return
            if not result.done():
                result.set_result(value)

        task.add_done_callback(done)
        return result

    def submit(self, engine: str, documents: list[Document]) -> Future[list[str]]:
        """Output lines for one shard; fails with WorkerLost when the cluster lost the task (run it again)."""
        return self._submit(recognise_shard, engine, documents, BATCH_PRIORITY)

    def recognise(self, engine: str, texts: list[str]) -> Future[list[list[dict] | None]]:
        """Entities for a few texts, ahead of the job shards queued on the cluster."""
        return self._submit(recognise_texts, engine, texts, REALTIME_PRIORITY)

    def train(
        self,
        train: list[Any],
        test: list[Any],
        language: str,
        output_dir: Path,
        options: dict[str, Any],
        check: Any,
        poll_s: float = 1.0,
        volume_key: Any = None,
    ) -> dict[str, Any]:
        """Train a custom recognizer on a Dask worker (runtime/trainer.py's `train_in_process`, on the cluster):
        the trained model is unpacked into `output_dir` here (with `volume_key`, written there sealed, as
        the worker sealed it); `check` runs every `poll_s` s, True stops it."""
        import uuid
        from concurrent.futures import TimeoutError as FutureTimeout

        from distributed import Event

        name = f"opencomprehend-stop-{uuid.uuid4().hex}"
        stop = Event(name, client=self.client)
        task = self.client.submit(train_recognizer, train, test, language, options, name, volume_key, pure=False)
        try:
            while True:
                try:
                    result, detail, packed = task.result(timeout=poll_s)
                    break
                except (FutureTimeout, TimeoutError):
                    if check():
                        stop.set()
                except Exception as exc:  # noqa: BLE001  (the worker died, or the task raised)
                    raise TrainingCrashed(f"Training on the Dask cluster failed: {type(exc).__name__}: {exc}") from None
        except BaseException:
            task.cancel()
            raise
        report = training_report(result, detail)
        if volume_key is not None:
            Path(output_dir).parent.mkdir(parents=True, exist_ok=True)
            Path(output_dir).write_bytes(packed)  # type: ignore[arg-type]
        else:
            unpack_model(packed, output_dir)  # type: ignore[arg-type]
        return report

    def close(self) -> None:
        try:
            self.client.close(timeout=10)
        except Exception:  # noqa: BLE001  (the scheduler may be gone already)
            log.warning("the Dask client did not close cleanly")


def _settle(result: Future[Any], exc: BaseException) -> None:
    if not result.done():
        try:
            result.set_exception(exc)
        except Exception:  # noqa: BLE001  (set by the other path a moment before)
            pass


def _lost(exc: BaseException) -> WorkerLost | None:
    """A WorkerLost when `exc` says the cluster lost the task (not that the task itself failed)."""
    from concurrent.futures import CancelledError

    if isinstance(exc, KilledWorker):
        return WorkerLost(f"The Dask workers running this task died: {exc}")
    if isinstance(exc, (CommClosedError, CancelledError, OSError, TimeoutError)):
        return WorkerLost(f"The task was lost on the way to or from the Dask cluster: {type(exc).__name__}: {exc}")
    return None
