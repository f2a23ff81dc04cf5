"""The local worker pool: warm processes on this machine, the embedded default runner."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from opencomprehend.io.documents import Document
from opencomprehend.runtime import worker

log = logging.getLogger("opencomprehend.pool")

T = TypeVar("T")


class LocalPool:
    """Process pool whose workers keep their models loaded and are recycled after N shards.

    A worker that dies (killed, out of memory) breaks a ProcessPoolExecutor for good, so the pool
    rebuilds itself and the caller resubmits what failed.
    """

    def __init__(self, workers: int, preload: list[str], recycle_after_shards: int) -> None:
        self.workers = max(1, workers)
        self._preload = list(preload)
        self._recycle = max(1, recycle_after_shards)
        self._lock = threading.Lock()
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the server process has threads, and recycling needs a non-fork start.
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker.warm,
            initargs=(self._preload,),
            max_tasks_per_child=self._recycle,
        )

    def warm_up(self) -> None:
        """Start every worker now (each loads its models), so the first job finds them warm."""
        seen: set[int] = set()
        for _ in range(4):
            futures = [self._executor.submit(worker.ping) for _ in range(self.workers)]
            seen.update(future.result() for future in futures)
            if len(seen) >= self.workers:
                return

    def _submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        # A worker that died breaks a ProcessPoolExecutor for good: the next submit builds a new one.
        with self._lock:
            try:
                return self._executor.submit(fn, *args)
            except BrokenProcessPool:
                log.warning("worker pool broke; starting a new one")
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
                return self._executor.submit(fn, *args)

    def submit(self, language: str, documents: list[Document]) -> Future[list[str]]:
        return self._submit(worker.recognise_shard, language, documents)

    def recognise(self, language: str, texts: list[str]) -> Future[list[list[dict] | None]]:
        """Entities for a few texts (DetectEntities, BatchDetectEntities) on a warm worker.

        A future that fails with BrokenProcessPool means a worker died under it; calling again runs
        on a rebuilt pool.
        """
        return self._submit(worker.recognise_texts, language, texts)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


class InlineRunner:
    """The runner's interface, run synchronously in this process: for an app started without workers.

    It uses the same worker functions, so the engines are the real ones, loaded once (on first use,
    never at construction) and kept. A lock serialises the work, since an engine is not safe to share
    between the threads that serve requests.
    """

    workers = 1

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

    def submit(self, language: str, documents: list[Document]) -> Future[list[str]]:
        return self._run(worker.recognise_shard, language, documents)

    def recognise(self, language: str, texts: list[str]) -> Future[list[list[dict] | None]]:
        return self._run(worker.recognise_texts, language, texts)

    def close(self) -> None:
        """Nothing to stop; here so that callers can treat both runners alike."""
