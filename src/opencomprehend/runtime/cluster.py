"""The cluster runtime: each shard a task on a Dask cluster (`serve --runtime dask --scheduler tcp://…`).

It offers what the local pool offers (runtime/runner.py), on Dask's own scheduler and workers rather than
a protocol of ours:

- warm workers: a worker plugin loads the usual languages when a Dask worker joins, and each worker
  process keeps every engine it loaded (runtime/worker.py's cache), as the local pool's workers do;
- a real-time lane: Dask workers started with `--resources realtime=1` are kept for DetectEntities and
  BatchDetectEntities. Every other worker declares the resource `shards` as it joins (the worker plugin),
  and while some worker is kept for real time, job shards and trainings require `shards`, so they never
  land on a kept worker (Dask's work stealing included). Real-time tasks go to the kept workers loosely
  (an idle shard worker may still take one, and they run anywhere when no kept worker is left), and carry
  a higher Dask priority than shards, so without a kept worker they start next, after the running shard;
- a lost task is a WorkerLost: a Dask worker that dies (Dask gives up with KilledWorker), a connection
  that drops, or a task past `task_timeout_s`; the job runs the shard again.

Dask workers hold no credentials: the API node that runs a job reads its input (with the job's data
access role) and ships each shard's documents with its task; the lines come back to that node, which
stores the part in the server's object store (`work_uri`).

A custom recognizer's model travels by reference: each task names the model by the digest of its content,
and a worker that has no folder for that digest yet answers ModelMissing; the node then sends that task
again with the packed model inline, which the worker unpacks into its own folder and keeps. Nothing of a
model lives only in a worker's memory (no `scatter`), so a worker that dies loses nothing: the node still
has the model (its own copy, from the models store), and a worker that joins later asks for it the same
way.

Run the workers with one thread each (`dask worker --nthreads 1`): a spaCy pipeline is not shared between
threads. Should a worker have more, a lock keeps its tasks one at a time.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from distributed import Client, KilledWorker
from distributed.comm.core import CommClosedError

from opencomprehend.config import Settings
from opencomprehend.io.documents import Document
from opencomprehend.runtime.dask_worker import (  # noqa: F401  (tasks_run: the tests run it on workers)
    BATCH_PRIORITY,
    LANES_TTL_S,
    MAX_PACKED_MODELS,
    PLUGIN_NAME,
    REALTIME_PRIORITY,
    REALTIME_RESOURCE,
    SHARDS_RESOURCE,
    ModelMissing,
    WarmEngines,
    recognise_shard,
    recognise_texts,
    tasks_run,
    train_recognizer,
)
from opencomprehend.runtime.models import pack_model, unpack_model
from opencomprehend.runtime.runner import AccountLoad, EngineRef, SchedulerUnreachable, WorkerLost
from opencomprehend.runtime.trainer import TrainingCrashed, training_report

log = logging.getLogger("opencomprehend.cluster")

# ------------------------------------------------------------------------------------- on the API node


def model_digest(folder: Path) -> str:
    """A model folder's content digest (its files' relative paths and bytes): the model's name on the workers,
    the same for every node that has the same model, whatever folder it keeps it in."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix().encode()
        digest.update(len(name).to_bytes(4, "big") + name)
        with path.open("rb") as data:
            digest.update(path.stat().st_size.to_bytes(8, "big"))
            for block in iter(lambda: data.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:32]


def _pack(folder: Path) -> tuple[str, bytes]:
    return model_digest(folder), pack_model(folder)


def tls_security(ca_file: Path | None, cert: Path | None, key: Path | None, scheduler: str) -> Any:
    """Dask's `Security` for a tls:// scheduler from the node's settings (None for a tcp:// one).

    TLS is all or nothing: the three files together, and only toward a tls:// address; anything else is a
    ValueError that says what is missing.
    """
    from distributed import Security

    given = {"OPENCOMPREHEND_DASK_TLS_CA_FILE": ca_file, "OPENCOMPREHEND_DASK_TLS_CERT": cert,
             "OPENCOMPREHEND_DASK_TLS_KEY": key}  # fmt: skip
    tls = scheduler.startswith("tls://")
    if not any(given.values()):
        if tls:
            raise ValueError(
                f"the Dask scheduler {scheduler} speaks TLS: give this node's certificate with " + ", ".join(given)
            )
        return None
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise ValueError(f"TLS toward the Dask cluster needs {', '.join(missing)} too")
    if not tls:
        raise ValueError(f"TLS certificates are configured, but the Dask scheduler {scheduler} is not a tls:// address")
    for name, value in given.items():
        if not Path(value).is_file():  # type: ignore[arg-type]
            raise ValueError(f"{name}: no such file {value}")
    return Security(
        tls_ca_file=str(ca_file),
        tls_client_cert=str(cert),
        tls_client_key=str(key),
        require_encryption=True,
    )


# Real-time tasks are ordered fairly among accounts, as the local pool orders them: a task's Dask priority is
# the real-time lane's (above every shard's) plus FAIR_SPAN less the characters of real-time work its account
# already has queued or running through this node, so the scheduler and the workers start another account's
# short request before the rest of one account's many. (Each API node counts its own requests.)
FAIR_SPAN = 1_000_000_000


class DaskRunner:
    """The runner on a Dask cluster: the same shard pipeline, its tasks run by Dask's workers."""

    def __init__(
        self,
        scheduler: str,
        preload: list[EngineRef],
        task_timeout_s: float | None = None,
        security: Any = None,
        connect_timeout_s: float = 30.0,
        models: dict[str, Any] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.task_timeout_s = task_timeout_s if task_timeout_s and task_timeout_s > 0 else None
        try:
            self.client = Client(scheduler, set_as_default=False, timeout=f"{connect_timeout_s}s", security=security)
        except (OSError, TimeoutError) as exc:
            reason = str(exc).strip() or type(exc).__name__
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler at {scheduler} within {connect_timeout_s:g} s: {reason}"
            ) from None
        self.client.register_plugin(WarmEngines(preload, models), name=PLUGIN_NAME)
        # engine key -> (digest, packed model), the least recently used let go (packed again when needed)
        self._models: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._lanes: tuple[float, list[str], list[str]] = (float("-inf"), [], [])
        # account -> characters of its real-time work queued or running through this node
        self._realtime_load = AccountLoad()

    def _workers_info(self) -> dict[str, Any]:
        try:
            return self.client.scheduler_info(n_workers=-1)["workers"]
        except TypeError:  # older distributed: every worker is listed anyway
            return self.client.scheduler_info()["workers"]

    def lanes(self) -> tuple[list[str], list[str]]:
        """(workers kept for real time, workers that run shards): addresses, as the scheduler saw them at most
        LANES_TTL_S ago."""
        now = time.monotonic()
        with self._lock:
            seen, realtime, batch = self._lanes
            if now - seen < LANES_TTL_S:
                return realtime, batch
        try:
            info = self._workers_info()
        except Exception:  # noqa: BLE001  (scheduler unreachable: no restrictions; the task itself will say so)
            info = {}
        realtime = sorted(a for a, w in info.items() if (w.get("resources") or {}).get(REALTIME_RESOURCE))
        batch = sorted(a for a, w in info.items() if (w.get("resources") or {}).get(SHARDS_RESOURCE))
        with self._lock:
            self._lanes = (now, realtime, batch)
        return realtime, batch

    def _lane(self, priority: int, share: int = 0) -> dict[str, Any]:
        """Dask's submit options for a task of this lane: its priority and, while some worker is kept for real
        time, where it may run. Shards require the `shards` resource (hard: never on a kept worker); real-time
        tasks prefer the kept workers (loose: an idle shard worker may take one, and any worker when no kept
        one is left), ranked by `share`, the characters of real-time work their account already has here."""
        realtime, batch = self.lanes()
        if priority == REALTIME_PRIORITY:
            ranked = REALTIME_PRIORITY + FAIR_SPAN - min(max(share, 0), FAIR_SPAN)
            if realtime:
                return {"priority": ranked, "workers": realtime, "allow_other_workers": True}
            return {"priority": ranked}
        elif realtime and batch:
            return {"priority": priority, "resources": {SHARDS_RESOURCE: 1}}
        return {"priority": priority}

    @property
    def workers(self) -> int:
        """Task slots for job shards now: the threads of the workers that run shards, twice (a job keeps twice this
        many shards in flight, so each worker has two queued behind the one it runs and never waits on a round
        trip). Workers kept for real time do not count, unless they are all there is."""
        try:
            threads = self.client.nthreads()
        except Exception:  # noqa: BLE001  (scheduler unreachable: the next task says so)
            return 1
        realtime, batch = self.lanes()
        counted = [address for address in threads if address in batch] if realtime and batch else list(threads)
        return max(1, 2 * sum(threads[address] for address in counted))

    @property
    def realtime_workers(self) -> int:
        """Dask workers kept for real-time tasks (started with the real-time resource), as last seen."""
        return len(self.lanes()[0])

    def worker_stats(self) -> None:
        return None  # the processes are Dask's: health() says what the scheduler knows of them

    def live(self) -> int:
        """Dask workers connected to the scheduler (the health check's figure)."""
        try:
            return len(self._workers_info())
        except Exception:  # noqa: BLE001
            return 0

    def health(self) -> dict[str, Any]:
        """What /health reports of the cluster: Dask workers (and those kept for real time) and task slots."""
        try:
            info = self._workers_info()
        except Exception:  # noqa: BLE001
            info = {}
        realtime = sum(1 for w in info.values() if (w.get("resources") or {}).get(REALTIME_RESOURCE))
        return {
            "Live": len(info),
            "RealTime": realtime,
            "Threads": sum(int(w.get("nthreads", 0)) for w in info.values()),
            "Slots": self.workers if info else 0,
            "Scheduler": self.scheduler,
        }

    def pids(self) -> list[int]:
        return []  # the workers are the cluster's processes, not this node's

    def warm_up(self, timeout: float = 300.0) -> bool:
        try:
            self.client.wait_for_workers(1, timeout=timeout)
            return True
        except Exception:  # noqa: BLE001  (jobs wait on the scheduler until workers join)
            log.warning("no Dask worker joined %s within %.0f s", self.scheduler, timeout)
            return False

    def _packed(self, engine: EngineRef) -> tuple[str, bytes] | None:
        """(digest, packed model) of a custom engine; None for every other engine."""
        folder = engine.folder
        if folder is None:
            return None
        with self._lock:
            packed = self._models.pop(engine, None)
        if packed is None:
            packed = _pack(folder)  # outside the lock: a few MB of file work
        with self._lock:
            self._models[engine] = packed
            while len(self._models) > MAX_PACKED_MODELS:
                self._models.popitem(last=False)
        return packed

    def _submit(self, fn: Any, engine: EngineRef, payload: list[Any], priority: int, share: int = 0) -> Future[Any]:
        """Run `fn(engine, payload, model)` on the cluster. A custom model goes by reference first; a worker
        without it answers ModelMissing and gets the task again with the model inline (once)."""
        result: Future[Any] = Future()
        try:
            packed = self._packed(engine)
        except OSError as exc:  # the node's model folder is unreadable: a fault of this node, not of a worker
            result.set_exception(exc)
            return result
        self._send(result, fn, engine, payload, priority, packed, inline=False, share=share)
        return result

    def _send(
        self,
        result: Future[Any],
        fn: Any,
        engine: EngineRef,
        payload: list[Any],
        priority: int,
        packed: tuple[str, bytes] | None,
        inline: bool,
        share: int = 0,
    ) -> None:
        model = None if packed is None else (packed[0], packed[1] if inline else None)
        try:
            task = self.client.submit(fn, engine, payload, model, pure=False, **self._lane(priority, share))
        except Exception as exc:  # noqa: BLE001  (scheduler gone: the caller runs it again)
            _settle(result, WorkerLost(f"The Dask scheduler {self.scheduler} could not take the task: {exc}"))
            return
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
            except ModelMissing:
                if packed is not None and not inline and not result.done():
                    self._send(result, fn, engine, payload, priority, packed, inline=True, share=share)
                else:  # cannot happen: a task with the model inline never misses it
                    _settle(result, RuntimeError("a Dask worker did not take the model sent with the task"))
                return
            except BaseException as exc:  # noqa: BLE001  (classified: lost work, or the task's own error)
                _settle(result, _lost(exc) or exc)
                return
            if not result.done():
                result.set_result(value)

        task.add_done_callback(done)

    def submit(self, engine: EngineRef, documents: list[Document]) -> Future[list[str]]:
        """Output lines for one shard; fails with WorkerLost when the cluster lost the task (run it again)."""
        return self._submit(recognise_shard, engine, documents, BATCH_PRIORITY)

    def recognise(self, engine: EngineRef, texts: list[str], account: str = "") -> Future[list[list[dict] | None]]:
        """Entities for a few texts, ahead of the job shards queued on the cluster, and behind the real-time
        tasks of accounts with less real-time work queued or running through this node (FAIR_SPAN)."""
        weight = sum(len(text) for text in texts)
        share = self._realtime_load.take(account, weight)
        result = self._submit(recognise_texts, engine, texts, REALTIME_PRIORITY, share)
        result.add_done_callback(lambda _: self._realtime_load.release(account, weight))
        return result

    def realtime_load(self, account: str) -> int:
        """Characters of `account`'s real-time work queued or running through this node."""
        return self._realtime_load.of(account)

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
        # On a worker that runs shards: a training takes minutes, and must not hold a real-time worker.
        task = self.client.submit(
            train_recognizer, train, test, language, options, name, volume_key, pure=False, **self._lane(BATCH_PRIORITY)
        )
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


def open_dask_runner(settings: Settings, preload: list[EngineRef], models: dict[str, Any] | None = None) -> DaskRunner:
    """The workers of the Dask cluster at settings.dask_scheduler (runtime "dask"), over TLS where it says so."""
    if not settings.dask_scheduler:
        raise ValueError("The dask runtime needs the scheduler's address (--scheduler tcp://host:port).")
    security = tls_security(
        settings.dask_tls_ca_file, settings.dask_tls_cert, settings.dask_tls_key, settings.dask_scheduler
    )
    return DaskRunner(
        settings.dask_scheduler, preload, settings.worker_task_timeout_s, security, settings.dask_connect_timeout_s,
        models,
    )  # fmt: skip
