"""The scheduler: claims jobs from the store and runs each in its own thread on the shared runner."""

from __future__ import annotations

import logging
import threading

from opencomprehend.config import Settings
from opencomprehend.io.objects import ObjectStore
from opencomprehend.jobs.job_run import JobRun
from opencomprehend.jobs.store import JobStore, owner_id
from opencomprehend.runtime.runner import Runner

log = logging.getLogger("opencomprehend.scheduler")


class Scheduler:
    def __init__(self, store: JobStore, objects: ObjectStore, runner: Runner, settings: Settings) -> None:
        self.store = store
        self.objects = objects
        self.runner = runner
        self.settings = settings
        self.owner = owner_id()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._runs: dict[str, threading.Thread] = {}
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Look for work now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout=10)
        for run in list(self._runs.values()):
            run.join(timeout=10)
        self.store.release(self.owner)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001  (a database hiccup must not kill the scheduler)
                log.exception("scheduler tick failed")
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()

    def tick(self) -> None:
        for job_id, thread in list(self._runs.items()):
            if not thread.is_alive():
                del self._runs[job_id]
        for job in self.store.claim(self.owner, self.settings.lease_s, self.settings.max_active_jobs):
            if job["job_id"] in self._runs:
                continue
            run = JobRun(job, self.store, self.objects, self.runner, self.settings, self.owner, self._stopping)
            thread = threading.Thread(target=run.run, name=f"job-{job['job_id'][:8]}", daemon=True)
            self._runs[job["job_id"]] = thread
            thread.start()
