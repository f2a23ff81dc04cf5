"""What runs on the Dask workers (runtime/cluster.py is the API node's side): the lanes' priorities and
resources, the WarmEngines plugin that keeps each worker's engines loaded, and the tasks (a shard, a few
texts, a training), with the models they are sent by digest and cache."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

from opencomprehend.io.documents import Document
from opencomprehend.runtime import worker
from opencomprehend.runtime.models import pack_model, unpack_model
from opencomprehend.runtime.runner import EngineRef, custom_engine_key
from opencomprehend.runtime.trainer import run_training

log = logging.getLogger("opencomprehend.cluster")

# Dask priorities: higher runs first.
REALTIME_PRIORITY = 100
BATCH_PRIORITY = 0
# The Dask worker resource that marks a worker kept for real-time requests (`dask worker --resources realtime=1`).
REALTIME_RESOURCE = "realtime"
# The resource every other worker declares as it joins (one per thread): what job shards require.
SHARDS_RESOURCE = "shards"
# How long the node trusts its view of which workers are kept for real time.
LANES_TTL_S = 2.0
PLUGIN_NAME = "opencomprehend-warm-engines"
# Packed custom models a node keeps in memory, ready to send to a worker that lacks one (a few MB each);
# one evicted is packed again from the node's model folder when next needed.
MAX_PACKED_MODELS = 8

_task_lock = threading.Lock()
# What this worker process ran: shards, their documents, real-time requests, trainings (`tasks_run`).
_counts = {"shards": 0, "documents": 0, "realtime": 0, "trainings": 0}


class WarmEngines(WorkerPlugin):
    """A Dask worker plugin: load the usual engines in each worker as it joins, before its first task.

    The loading runs off the worker's event loop, so the worker keeps answering its scheduler meanwhile.
    """

    name = PLUGIN_NAME

    def __init__(self, preload: list[EngineRef], models: dict[str, Any] | None = None) -> None:
        self.preload = list(preload)
        # The operator's models file, resolved: every worker resolves a language as the node does. Its folders
        # must exist on the workers' machines at the same paths (docs/models.md).
        self.models = dict(models or {})

    async def setup(self, worker: Any) -> None:
        import asyncio

        resources = worker.state.total_resources
        if not resources.get(REALTIME_RESOURCE) and not resources.get(SHARDS_RESOURCE):
            # A worker that runs shards says so, so that shards can be kept off the real-time workers.
            await worker.set_resources(**{SHARDS_RESOURCE: worker.state.nthreads})
        await asyncio.get_running_loop().run_in_executor(None, _warm, self.preload, self.models)


def _warm(engines: list[EngineRef], models: dict[str, Any] | None = None) -> None:
    with _task_lock:
        worker.configure(models)
        worker.warm(engines)


# ------------------------------------------------------------------------------------- on the workers


class ModelMissing(Exception):
    """A task named a custom model (by digest) that this worker does not have yet: send it along."""

    def __init__(self, digest: str) -> None:
        super().__init__(digest)
        self.digest = digest

    def __str__(self) -> str:
        return f"this Dask worker has no copy of the model {self.digest} yet"


def _models_dir() -> Path:
    """Where this worker keeps the models it was sent: under the Dask worker's own local directory (which
    Dask removes with the worker), else the system's temporary folder."""
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory) / "opencomprehend-models"
    except ValueError:  # not inside a Dask worker (a test calling the task function directly)
        return Path(tempfile.gettempdir()) / "opencomprehend-dask-models"


def _local_engine(engine: EngineRef, model: tuple[str, bytes | None] | None) -> EngineRef:
    """The engine key on this worker: a custom model's folder is this worker's copy of the model `model`
    names (digest, packed model or None); ModelMissing when it has none and none came with the task."""
    if model is None:
        return engine
    digest, packed = model
    folder = _models_dir() / digest / "model"
    if not folder.is_dir():
        if packed is None:
            raise ModelMissing(digest)
        unpack_model(packed, folder)
    return custom_engine_key(engine.language, folder)


def _ensure(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def recognise_shard(
    engine: EngineRef, documents: list[Document], model: tuple[str, bytes | None] | None = None
) -> list[str]:
    """A Dask task: the output lines of one shard (runtime/worker.py's, on this worker's warm engine)."""
    with _task_lock:
        lines = worker.recognise_shard(_local_engine(engine, model), documents)
        _counts["shards"] += 1
        _counts["documents"] += len(documents)
        return lines


def recognise_texts(
    engine: EngineRef, texts: list[str], model: tuple[str, bytes | None] | None = None
) -> list[list[dict] | None]:
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
