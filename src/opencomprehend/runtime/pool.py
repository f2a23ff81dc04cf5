"""The local worker pool: warm processes on this machine, the embedded default runner."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from opencomprehend.io.documents import Document
from opencomprehend.runtime import worker

log = logging.getLogger("opencomprehend.pool")


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

    def submit(self, language: str, documents: list[Document]) -> Future[list[str]]:
        with self._lock:
            try:
                return self._executor.submit(worker.recognise_shard, language, documents)
            except BrokenProcessPool:
                log.warning("worker pool broke; starting a new one")
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
                return self._executor.submit(worker.recognise_shard, language, documents)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
