"""The local worker pool: warm processes on this machine, the embedded default runner.

Each of the pool's slots owns one worker process and a thread in the server that feeds it one task at
a time over a pipe. Owning the processes (rather than leaving them to ProcessPoolExecutor) is what
lets the pool keep its promises:

- capacity never drops: a worker due for recycling keeps serving while its replacement loads its
  models, and a worker that dies is replaced at once;
- a task never hangs: one whose worker died, or ran past `task_timeout_s` (the worker is killed),
  fails with WorkerLost, and the caller runs it again;
- real-time requests (DetectEntities) go ahead of queued job shards, and among them an account with
  less real-time work already queued or running goes first (fair queueing by characters): one account's
  flood of heavy requests delays another account's request by one task at most, not by the flood;
- workers exit when the server dies, even by SIGKILL (runtime/worker.py watches its parent).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any, TypeVar

from opencomprehend.config import Settings
from opencomprehend.io.documents import Document
from opencomprehend.runtime import worker
from opencomprehend.runtime.runner import AccountLoad, EngineRef, WorkerLost
from opencomprehend.runtime.trainer import train_in_process

log = logging.getLogger("opencomprehend.pool")

T = TypeVar("T")

# Lower runs first: a person waiting on DetectEntities goes ahead of a batch job's next shard.
REALTIME, BATCH = 0, 1
# How long a new worker may take to load its models before it counts as failed.
START_TIMEOUT_S = 300.0
# The nice increment of batch workers beside a real-time worker.
BATCH_NICE = 10
# How long a worker asked to exit gets before it is killed.
EXIT_GRACE_S = 5.0


@dataclass(order=True)
class _Task:
    priority: int
    # Real-time tasks: the characters of its account's real-time work queued or running when it came.
    share: int
    seq: int
    fn: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    future: Future[Any] = field(compare=False)
    taken: bool = field(default=False, compare=False)

    def claim(self) -> bool:
        """True for the one slot that may run this task (a real-time task waits in two queues at once);
        False for the others, and for a cancelled task."""
        with _CLAIMS:
            if self.taken:
                return False
            self.taken = True
        return self.future.set_running_or_notify_cancel()


_CLAIMS = threading.Lock()


class _Worker:
    """One worker process and the server's end of its pipe."""

    def __init__(
        self, context: Any, preload: list[EngineRef], nice: int = 0, models: dict[str, Any] | None = None
    ) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=worker.serve,
            args=(child, preload, multiprocessing.current_process().pid, nice, models),
            daemon=True,
        )
        self.process.start()
        child.close()
        self.ready = False
        self.tasks = 0
        self.started = time.monotonic()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def poll_ready(self) -> bool:
        """True once the worker reported its models loaded; raises WorkerLost if it died first."""
        if self.ready:
            return True
        try:
            if self.conn.poll():
                message = self.conn.recv()
                self.ready = message[0] == "ready"
        except (EOFError, OSError):
            pass
        if not self.ready and not self.process.is_alive():
            raise WorkerLost(f"worker {self.pid} exited with code {self.process.exitcode} while starting")
        return self.ready

    def retire(self) -> None:
        """Ask the worker to exit; kill it if it does not."""
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(EXIT_GRACE_S)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(EXIT_GRACE_S)
        self.conn.close()


class _Slot:
    """A thread that keeps one live worker and feeds it tasks from the pool's queue."""

    def __init__(self, pool: LocalPool, number: int, tasks: queue.PriorityQueue[_Task], nice: int = 0) -> None:
        self.pool = pool
        self.number = number
        self.tasks = tasks  # the pool's shared queue, or (a real-time slot) the real-time queue
        self.nice = nice  # the worker's CPU priority: batch workers yield to the real-time one
        self.current: _Worker | None = None
        self.replacement: _Worker | None = None
        self.busy = False  # a task is on its worker now
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"pool-slot-{number}", daemon=True)

    def serving(self) -> bool:
        current = self.current
        return current is not None and current.ready and current.process.is_alive()

    def pids(self) -> list[int]:
        return [w.pid for w in (self.current, self.replacement) if w is not None and w.pid is not None]

    # -- worker lifecycle ---------------------------------------------------------------------------------

    def _start_worker(self) -> _Worker:
        return _Worker(self.pool.context, self.pool.preload, self.nice, self.pool.models)

    def _ensure_worker(self) -> _Worker | None:
        """A ready worker, starting one (and waiting for it) when there is none; None when closing."""
        delay = 1.0
        while not self.pool.closing.is_set():
            if self.current is not None and self.current.ready and not self.current.process.is_alive():
                # Died while idle (killed, out of memory): replaced now, before a task is sent to it.
                log.warning(
                    "worker %s exited with code %s while idle; starting a new one",
                    self.current.pid,
                    self.current.process.exitcode,
                )
                self.current.kill()
                self.current = None
                self.pool.count_replacement("exited_idle")
            if self.current is None:
                # A replacement already loading takes over; otherwise a new worker starts.
                self.current, self.replacement = self.replacement or self._start_worker(), None
            try:
                if self._wait_ready(self.current):
                    self.ready.set()
                    return self.current
                log.error(
                    "worker %s did not load its models in %.0f s; starting another", self.current.pid, START_TIMEOUT_S
                )
            except WorkerLost as exc:
                log.error("%s; starting another in %.0f s", exc, delay)
            self.pool.count_replacement("start_failed")
            self.current.kill()
            self.current = None
            self.pool.closing.wait(delay)
            delay = min(delay * 2, 30.0)
        return None

    def _wait_ready(self, candidate: _Worker) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not candidate.poll_ready():
            if time.monotonic() > deadline or self.pool.closing.is_set():
                return False
            wait([candidate.conn, candidate.process.sentinel], timeout=0.5)
        return True

    def _maybe_recycle(self) -> None:
        """Start a replacement once the current worker is due; switch to it once it is ready."""
        current = self.current
        if current is None or current.tasks < self.pool.recycle_after:
            return
        if self.replacement is None:
            log.info("worker %s served %d tasks; starting its replacement", current.pid, current.tasks)
            self.replacement = self._start_worker()
            return
        try:
            ready = self.replacement.poll_ready()
        except WorkerLost as exc:
            log.error("%s (replacement); trying again", exc)
            self.replacement.kill()
            self.replacement = None
            return
        if ready:
            self.current, self.replacement = self.replacement, None
            current.retire()
            self.pool.count_recycle()

    # -- tasks ----------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                active = self._ensure_worker()
                if active is None:
                    return
                self._maybe_recycle()
                try:
                    # A short wait so that a due replacement is switched in even while the queue is empty.
                    task = self.tasks.get(timeout=0.5)
                except queue.Empty:
                    continue
                if task.fn is None:  # close() puts one per slot
                    return
                if task.claim():
                    self.busy = True
                    try:
                        self._run(self.current, task)  # type: ignore[arg-type]
                    finally:
                        self.busy = False
        finally:
            for leftover in (self.replacement, self.current):
                if leftover is not None:
                    leftover.retire()
            self.current = self.replacement = None

    def _run(self, active: _Worker, task: _Task) -> None:
        active.tasks += 1
        try:
            active.conn.send((task.fn, task.args))
        except (OSError, ValueError, EOFError):
            self._lost(active, task, "its pipe was closed")
            return
        timeout = self.pool.task_timeout_s
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self._lost(active, task, f"it did not answer in {timeout:.0f} s and was stopped")
                return
            ready = wait([active.conn, active.process.sentinel], timeout=min(remaining or 1.0, 1.0))
            if active.conn in ready:
                try:
                    outcome, value = active.conn.recv()
                except (EOFError, OSError):
                    active.process.join(1)  # the pipe closes a moment before the exit status is known
                    self._lost(active, task, f"it exited with code {active.process.exitcode}")
                    return
                if outcome == "ok":
                    task.future.set_result(value)
                else:
                    task.future.set_exception(value)
                return
            if active.process.sentinel in ready:
                active.process.join(1)
                self._lost(active, task, f"it exited with code {active.process.exitcode}")
                return
            if self.pool.closing.is_set():
                self._lost(active, task, "the server is stopping")
                return

    def _lost(self, active: _Worker, task: _Task, why: str) -> None:
        log.warning("worker %s lost a task (%s); starting a new one", active.pid, why)
        self.pool.count_replacement("lost_task")
        active.kill()
        if self.current is active:
            self.current = None
        task.future.set_exception(WorkerLost(f"The worker running this task was lost: {why}."))


class LocalPool:
    """Warm worker processes that keep their models loaded, recycled after `recycle_after` tasks each.

    `realtime_workers` more processes take real-time tasks only, so that DetectEntities never waits for a
    job's shard to finish: a real-time task waits in both queues and the first slot free runs it.
    `models` (the operator's models file, resolved) is every worker's language configuration.
    """

    def __init__(
        self,
        workers: int,
        preload: list[EngineRef],
        recycle_after: int,
        task_timeout_s: float | None = None,
        realtime_workers: int = 0,
        models: dict[str, Any] | None = None,
    ) -> None:
        self.workers = max(1, workers)
        self.preload = list(preload)
        self.models = dict(models or {})
        self.recycle_after = max(1, recycle_after)
        self.task_timeout_s = task_timeout_s if task_timeout_s and task_timeout_s > 0 else None
        # spawn, not fork: the server process has threads.
        self.context = multiprocessing.get_context("spawn")
        self.tasks: queue.PriorityQueue[_Task] = queue.PriorityQueue()
        self.realtime_tasks: queue.PriorityQueue[_Task] = queue.PriorityQueue()
        self.closing = threading.Event()
        self._seq = itertools.count()
        self._realtime_load = AccountLoad()  # account -> characters of real-time work queued or running
        # The metrics' figures (metrics.py reads them at scrape time): workers switched for a fresh one after
        # `recycle_after` tasks, and workers replaced, by why.
        self._counts_lock = threading.Lock()
        self.recycles = 0
        self.replacements: dict[str, int] = {}
        self.realtime_workers = max(0, realtime_workers)
        # With a real-time worker, the batch workers run at a lower CPU priority (nice), so a request's few
        # milliseconds of work preempt a job's shards rather than share the cores with them.
        batch_nice = BATCH_NICE if self.realtime_workers else 0
        self._slots = [_Slot(self, n, self.tasks, batch_nice) for n in range(self.workers)]
        self._slots += [_Slot(self, self.workers + n, self.realtime_tasks) for n in range(self.realtime_workers)]
        for slot in self._slots:
            slot.thread.start()

    def warm_up(self, timeout: float = START_TIMEOUT_S) -> bool:
        """Wait until every worker has loaded its models, so the first job finds them warm."""
        deadline = time.monotonic() + timeout
        return all(slot.ready.wait(max(0.0, deadline - time.monotonic())) for slot in self._slots)

    def live(self) -> int:
        """How many workers are up and ready for tasks (the health check's figure; `workers` plus
        `realtime_workers` when whole)."""
        return sum(slot.serving() for slot in self._slots)

    def health(self) -> dict[str, Any]:
        return {"Live": self.live(), "Configured": self.workers}

    def busy(self) -> int:
        """How many workers are running a task now."""
        return sum(slot.busy for slot in self._slots)

    def count_recycle(self) -> None:
        with self._counts_lock:
            self.recycles += 1

    def count_replacement(self, reason: str) -> None:
        with self._counts_lock:
            self.replacements[reason] = self.replacements.get(reason, 0) + 1

    def worker_stats(self) -> dict[str, Any]:
        """The metrics' figures of this node's workers (real-time ones included)."""
        with self._counts_lock:
            replacements = dict(self.replacements)
        return {
            "configured": len(self._slots),
            "alive": self.live(),
            "busy": self.busy(),
            "recycles": self.recycles,
            "replacements": replacements,
        }

    def train(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Train in a child process of this node (runtime/trainer.py), not on a warm worker."""
        return train_in_process(*args, **kwargs)

    def pids(self) -> list[int]:
        """The worker processes now running (replacements still loading included)."""
        return [pid for slot in self._slots for pid in slot.pids()]

    def _submit(self, priority: int, fn: Callable[..., T], *args: Any, share: int = 0) -> Future[T]:
        future: Future[T] = Future()
        if self.closing.is_set():
            future.set_exception(WorkerLost("The worker pool is stopping."))
            return future
        task = _Task(priority, share, next(self._seq), fn, args, future)
        self.tasks.put(task)
        if priority == REALTIME and self.realtime_workers:
            self.realtime_tasks.put(task)
        return future

    def submit(self, engine: EngineRef, documents: list[Document]) -> Future[list[str]]:
        """Output lines for one shard; fails with WorkerLost if its worker died or hung (run it again)."""
        return self._submit(BATCH, worker.recognise_shard, engine, documents)

    def recognise(self, engine: EngineRef, texts: list[str], account: str = "") -> Future[list[list[dict] | None]]:
        """Entities for a few texts (DetectEntities, BatchDetectEntities), ahead of queued shards; behind the
        real-time tasks of accounts that have less real-time work in the pool than `account`."""
        return self.realtime(account, sum(len(text) for text in texts), worker.recognise_texts, engine, texts)

    def realtime(self, account: str, weight: int, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run `fn(*args)` on the real-time lane as `weight` characters of `account`'s work: ahead of job
        shards, behind the tasks of accounts with less real-time work queued or running."""
        share = self._realtime_load.take(account, weight)
        future = self._submit(REALTIME, fn, *args, share=share)
        future.add_done_callback(lambda _: self._realtime_load.release(account, weight))
        return future

    def realtime_load(self, account: str) -> int:
        """Characters of `account`'s real-time work queued or running."""
        return self._realtime_load.of(account)

    def close(self) -> None:
        """Stop every worker; queued tasks are cancelled and running ones fail with WorkerLost. Bounded."""
        self.closing.set()
        for tasks in (self.tasks, self.realtime_tasks):
            while True:
                try:
                    task = tasks.get_nowait()
                except queue.Empty:
                    break
                if task.fn is not None:
                    task.future.cancel()
        for slot in self._slots:
            slot.tasks.put(_Task(BATCH + 1, 0, next(self._seq), None, (), Future()))  # type: ignore[arg-type]
        for slot in self._slots:
            slot.thread.join(EXIT_GRACE_S * 3)


class InlineRunner:
    """The runner's interface, run synchronously in this process: for an app started without workers.

    It uses the same worker functions, so the engines are the real ones, loaded once (on first use,
    never at construction) and kept. A lock serialises the work, since an engine is not safe to share
    between the threads that serve requests.
    """

    workers = 1
    realtime_workers = 0

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def _run(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            try:
                future.set_result(fn(*args))
            except Exception as exc:  # noqa: BLE001  (delivered through the future, as a pool would)
                future.set_exception(exc)
        return future

    def submit(self, engine: EngineRef, documents: list[Document]) -> Future[list[str]]:
        return self._run(worker.recognise_shard, engine, documents)

    def recognise(self, engine: EngineRef, texts: list[str], account: str = "") -> Future[list[list[dict] | None]]:
        return self._run(worker.recognise_texts, engine, texts)

    def health(self) -> dict[str, Any]:
        return {"Live": 1, "Configured": 1}

    def worker_stats(self) -> None:
        return None  # no processes of its own: health() says what there is

    def warm_up(self, timeout: float = 300.0) -> bool:
        return True  # engines load on first use, in this process

    def train(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return train_in_process(*args, **kwargs)

    def close(self) -> None:
        """Nothing to stop; here so that callers can treat both runners alike."""


def open_local_pool(settings: Settings, preload: list[EngineRef], models: dict[str, Any] | None = None) -> LocalPool:
    """This node's warm worker processes, as the settings size them (runtime "local")."""
    return LocalPool(
        settings.workers,
        preload,
        max(1, settings.worker_recycle_documents // max(1, settings.shard_documents)),
        settings.worker_task_timeout_s,
        settings.realtime_workers,
        models,
    )
