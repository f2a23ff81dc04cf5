"""The scheduler: claims jobs and recognizer trainings from the store and runs each in its own thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from opencomprehend.config import Settings
from opencomprehend.io.objects import ObjectStore, StorageError
from opencomprehend.jobs.access import DataAccess
from opencomprehend.jobs.job_run import JobRun
from opencomprehend.jobs.recognizers import RecognizerStore
from opencomprehend.jobs.rows import Recognizer
from opencomprehend.jobs.store import JobStore, owner_id
from opencomprehend.jobs.tags import TagStore
from opencomprehend.jobs.training_run import TrainingRun
from opencomprehend.metrics import Metrics
from opencomprehend.runtime.models import delete_model
from opencomprehend.runtime.runner import Runner

log = logging.getLogger("opencomprehend.scheduler")


class Scheduler:
    def __init__(
        self,
        store: JobStore,
        recognizers: RecognizerStore,
        objects: ObjectStore,
        runner: Runner,
        settings: Settings,
        access: DataAccess | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics if metrics is not None else Metrics()
        self.store = store
        self.tags = TagStore(store.engine)
        self.recognizers = recognizers
        self.objects = objects
        self.access = access or DataAccess(objects, None, settings)
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
        self.recognizers.release(self.owner)

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
            if job.job_id in self._runs:
                continue
            data = self.access.store_for(job.data_access_role_arn, job.account_id)
            run = JobRun(
                job, self.store, self.recognizers, self.objects, self.runner, self.settings, self.owner, self._stopping,
                data, self.access.keys, self.metrics,
            )  # fmt: skip
            self._start(job.job_id, run.run, f"job-{job.job_id[:8]}")
        capacity = self.settings.training_capacity
        for recognizer in self.recognizers.claim(self.owner, self.settings.lease_s, capacity):
            arn = recognizer.recognizer_arn
            if arn in self._runs:
                continue
            data = self.access.store_for(recognizer.data_access_role_arn, recognizer.account_id)
            training = TrainingRun(
                recognizer, self.recognizers, self.objects, self.settings, self.owner, self._stopping, data,
                self.access.keys, self.runner.train, self.metrics,
            )  # fmt: skip
            self._start(arn, training.run, f"train-{recognizer.recognizer_name[:16]}")
        for recognizer in self.recognizers.deleting():
            self._delete(recognizer)

    def _start(self, key: str, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._runs[key] = thread
        thread.start()

    def _delete(self, recognizer: Recognizer) -> None:
        """Finish a deletion: the stored model goes, then the record."""
        if recognizer.model_uri:
            try:
                delete_model(self.objects, recognizer.model_uri)
            except StorageError:
                log.exception("could not delete the model of %s; the record goes anyway", recognizer.recognizer_arn)
        self.recognizers.remove(recognizer.recognizer_arn)
        self.tags.remove_all(recognizer.recognizer_arn)
