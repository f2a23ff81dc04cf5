"""One analysis job through its states: claim, run the pipeline on the runner, finish.

Every kind of job runs here: an entities detection job recognises with the language's entity model (or a
custom recognizer) and writes one archive; a PII job recognises with the language's PII engine and writes
one object per input file, offsets or redacted text (its Mode); a dominant language detection job runs the
language identifier and writes one archive, as an entities job does, under `-LANGUAGE-`.

The lease is renewed while the job runs; a stop request is seen at the next heartbeat.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field

from opencomprehend import logs
from opencomprehend.config import Settings
from opencomprehend.io.documents import InputListing, InputNotFound, list_input
from opencomprehend.io.objects import (
    AccessDenied,
    NoSuchBucket,
    ObjectStore,
    ScopedStore,
    StorageError,
    parse_s3_uri,
)
from opencomprehend.io.pii_output import Redaction
from opencomprehend.jobs.access import usable_key
from opencomprehend.jobs.kinds import kind_of, output_location
from opencomprehend.jobs.recognizers import ModelResolver, RecognizerStore
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.store import COMPLETED, FAILED, STOP_REQUESTED, STOPPED, JobStore
from opencomprehend.metrics import Metrics
from opencomprehend.nlp.registry import supported_languages
from opencomprehend.runtime.pipeline import (
    SealingStore,
    Shard,
    SharedParts,
    Volume,
    assemble,
    assemble_pii,
    cut_shards,
    write_part,
)
from opencomprehend.runtime.runner import (
    EngineRef,
    Runner,
    WorkerLost,
    entities_engine,
)
from opencomprehend.security.keyring import KeyRing

log = logging.getLogger("opencomprehend.job")

READ_DENIED = "NO_READ_ACCESS_TO_INPUT: The provided data access role does not have proper access to the input data."
WRITE_DENIED = (
    "NO_WRITE_ACCESS_TO_OUTPUT: The provided data access role does not have write access to the output S3 URI."
)
INTERNAL_ERROR = "INTERNAL_SERVER_ERROR: An internal error stopped the job; the server's log has the details."
WRITE_DENIED_KMS = (
    "NO_WRITE_ACCESS_TO_OUTPUT: The provided data access role does not have write access to the output S3 URI "
    "or it does not have access to the output S3 KMS Key."
)
# A shard whose worker is lost this many times is run again one document at a time, to find the document
# that kills the worker; a document whose worker is lost this many times fails the job, named.
MAX_SHARD_ATTEMPTS = 3


@dataclass
class _Attempt:
    """A task in flight: a shard, or one document of a shard being run alone (`split`, at `index`)."""

    shard: Shard
    attempt: int
    split: _Split | None = None
    index: int = 0
    submitted: float = field(default_factory=time.monotonic)


@dataclass
class _Split:
    """A shard run one document a time after repeated worker loss; its part is written when all are back."""

    shard: Shard
    lines: list[str | None]


def _write_failure(exc: StorageError, denied: str) -> str:
    """The job's message for an output that could not be written: the role's refusal as Comprehend words
    it; a missing bucket, or a key the store cannot hold, said as such."""
    if isinstance(exc, AccessDenied):
        return denied
    if isinstance(exc, NoSuchBucket):
        return f"NO_WRITE_ACCESS_TO_OUTPUT: The output bucket does not exist: {exc}"
    return f"NO_WRITE_ACCESS_TO_OUTPUT: {exc}"


class JobFailed(Exception):
    """Ends the job FAILED with this message (a Comprehend reason token, then a sentence)."""


class LeaseLost(Exception):
    """Another node took the job over; this run stops without touching it."""


class JobRun:
    def __init__(
        self,
        job: Job,
        store: JobStore,
        recognizers: RecognizerStore,
        objects: ObjectStore,
        runner: Runner,
        settings: Settings,
        owner: str,
        shutdown: threading.Event,
        data: ObjectStore | None = None,
        keys: KeyRing | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.job = job
        self.metrics = metrics if metrics is not None else Metrics()
        self.store = store
        self.recognizers = recognizers
        self.objects = objects  # the server's own store: trained models
        self.data = data if data is not None else objects  # the input and output, as the job's role sees them
        self.keys = keys
        # The engine the shards run with: chosen when the run starts (_engine), the job's language until then.
        self.engine: EngineRef = entities_engine(job.language_code or "")
        self.runner = runner
        self.settings = settings
        self.owner = owner
        self.shutdown = shutdown
        self.work = settings.work_dir / job.job_id
        self.stop_requested = job.status == STOP_REQUESTED
        work_uri = settings.resolved_work_uri()
        self.shared = None if work_uri is None else SharedParts.for_job(objects, work_uri, job.job_id)
        self._progress = time.monotonic()  # when a shard last finished (or the run began)
        self._started = time.monotonic()  # when this node began running the job

    def run(self) -> None:
        job_id = self.job.job_id
        naming = logs.job_id.set(job_id)  # the run's log lines name the job
        self._started = time.monotonic()
        try:
            status = self._execute()
            self._finish(status, None)
        except JobFailed as exc:
            self._finish(FAILED, str(exc))
        except LeaseLost:
            log.info("job %s: lease lost or server stopping; leaving it to be resumed", job_id)
        except Exception:  # noqa: BLE001  (a job must never be left stuck)
            log.exception("job %s failed", job_id)
            # The details (paths, internals) are for the operator's log, not for the API's caller.
            self._finish(FAILED, INTERNAL_ERROR)
        finally:
            logs.job_id.reset(naming)

    def _finish(self, status: str, message: str | None) -> None:
        job_id = self.job.job_id
        shards = self.store.finished_shards(job_id) if self.shared is not None else set()
        if self.store.finish(job_id, self.owner, status, message):
            self.metrics.job_duration.labels(job_kind=self.job.job_kind, status=status).observe(
                time.monotonic() - self._started
            )
            self.store.forget_shards(job_id)
            shutil.rmtree(self.work, ignore_errors=True)
            if self.shared is not None:
                try:
                    self.shared.delete(shards)
                except StorageError:
                    log.warning("job %s: could not delete its parts under %s", job_id, self.shared.uri)

    def _heartbeat(self) -> None:
        if self.shutdown.is_set():
            raise LeaseLost()
        status = self.store.heartbeat(self.job.job_id, self.owner, self.settings.lease_s)
        if status is None:
            raise LeaseLost()
        if status == STOP_REQUESTED:
            self.stop_requested = True

    def _execute(self) -> str:
        job = self.job
        self.work.mkdir(parents=True, exist_ok=True)
        done = self.store.finished_shards(job.job_id)
        if done:
            log.info("job %s resumed with %d shards already done", job.job_id, len(done))
        if not self.stop_requested:
            self.engine = self._engine()
            total = self._recognise(done)
            if total == 0:
                raise JobFailed(f"INVALID_INPUT: The input data at {job.input_s3_uri} contains no documents.")
            done = self.store.finished_shards(job.job_id)
        self._assemble(sorted(done))
        return STOPPED if self.stop_requested else COMPLETED

    def _engine(self) -> EngineRef:
        """The runner's engine key: the job's language (its PII engine for a PII job), or the custom
        recognizer's model (LanguageCode ignored)."""
        job = self.job
        kind = kind_of(job)
        arn = job.entity_recognizer_arn
        if arn is None:
            if kind.per_language and job.language_code not in supported_languages():
                raise JobFailed(
                    f"UNSUPPORTED_LANGUAGE: No entity model for language '{job.language_code}' "
                    "is installed on this server."
                )
            return kind.engine(job.language_code or "")
        models = ModelResolver(self.recognizers, self.objects, self.settings.model_cache, self.keys)
        try:
            engine = models.engine(arn)
        except StorageError as exc:
            raise JobFailed(f"RESOURCE_UNAVAILABLE: The model of {arn} could not be read: {exc}") from None
        if engine is None:
            raise JobFailed(f"RESOURCE_UNAVAILABLE: The entity recognizer {arn} is not available.")
        return engine

    @contextmanager
    def _reading_input(self) -> Iterator[None]:
        """Listing the input: a bucket the role cannot read, or nothing under the prefix, fails the job."""
        try:
            yield
        except (NoSuchBucket, AccessDenied):
            raise JobFailed(READ_DENIED) from None
        except InputNotFound as exc:
            raise JobFailed(f"INVALID_INPUT: {exc}") from None
        except StorageError as exc:  # a key the store cannot hold (a segment too long for a local folder)
            raise JobFailed(f"NO_READ_ACCESS_TO_INPUT: {exc}") from None

    def _input(self) -> InputListing:
        with self._reading_input():
            # Listed lazily (again for the shards): a job of a million files does not hold their names.
            infos = InputListing(self.data, self.job.input_s3_uri).measure()
        size = infos.size
        if size > self.settings.max_job_input_bytes:
            raise JobFailed(
                f"INPUT_SIZE_EXCEEDED: The input data is {size} bytes; the limit is "
                f"{self.settings.max_job_input_bytes} bytes per job."
            )
        if self.job.input_format == "ONE_DOC_PER_FILE" and infos.count > self.settings.max_job_documents:
            raise JobFailed(self._too_many_documents())
        return infos

    def _too_many_documents(self) -> str:
        limit = self.settings.max_job_documents
        return (
            f"INPUT_SIZE_EXCEEDED: The input data holds more than {limit} documents (files or lines); "
            f"the limit is {limit} per job."
        )

    def _recognise(self, done: set[int]) -> int:
        """Run every shard not yet done; return how many documents the input holds."""
        job = self.job
        infos = self._input()
        if job.input_format == "ONE_DOC_PER_FILE":
            self.store.record_total(job.job_id, infos.count)
        in_flight: dict[Future[list[str]], _Attempt] = {}
        limit = 2 * self.runner.workers
        total = 0
        try:
            shards = cut_shards(
                self.data,
                job.input_s3_uri,
                infos,
                job.input_format,
                self.settings.max_document_bytes,
                self.settings.shard_documents,
                self.settings.shard_chars,
            )
            for shard in shards:
                total += len(shard.documents)
                if total > self.settings.max_job_documents:
                    raise JobFailed(self._too_many_documents())
                if shard.number in done:
                    continue
                while len(in_flight) >= limit:
                    self._collect(in_flight)
                if self.stop_requested:
                    break
                self._check_grant(shard)
                in_flight[self._submit(shard)] = _Attempt(shard, 1)
            if not self.stop_requested:
                self.store.record_total(job.job_id, total)  # every shard cut: the input is read through
            while in_flight:
                self._collect(in_flight)
        except (NoSuchBucket, AccessDenied):
            raise JobFailed(READ_DENIED) from None
        except StorageError as exc:
            raise JobFailed(f"NO_READ_ACCESS_TO_INPUT: {exc}") from None
        finally:
            for future in in_flight:
                future.cancel()
        return total

    def _check_grant(self, shard: Shard | None = None) -> None:
        """The role's grant, looked up again (jobs/access.py): it must still let the job read the shard's
        files and write its output, else the job fails now, as it does when its KMS key is disabled."""
        data = self.data
        if not isinstance(data, ScopedStore):  # no role registry (development mode): the store is the node's
            return
        job = self.job
        if shard is not None:
            bucket, prefix = parse_s3_uri(job.input_s3_uri)
            folder = prefix[: prefix.rfind("/") + 1]
            for file in sorted({doc.file for doc in shard.documents}):
                if not data.may_read(f"s3://{bucket}/{folder}{file}"):
                    raise JobFailed(READ_DENIED)
        if not data.may_write(output_location(job)):
            raise JobFailed(WRITE_DENIED)

    def _submit(self, shard: Shard) -> Future[list[str]]:
        return self.runner.submit(self.engine, shard.documents)

    def _collect(self, in_flight: dict[Future[list[str]], _Attempt]) -> None:
        finished, _ = wait(list(in_flight), timeout=self.settings.heartbeat_s, return_when=FIRST_COMPLETED)
        if finished:
            self._progress = time.monotonic()
        elif time.monotonic() - self._progress > self.settings.job_stall_s:
            # No lease renewal without progress: the lease runs out and the job is taken over afresh.
            stall = self.settings.job_stall_s
            log.error("job %s: no shard finished in %.0f s; giving up its lease", self.job.job_id, stall)
            raise LeaseLost()
        self._heartbeat()
        for future in finished:
            task = in_flight.pop(future)
            try:
                lines = future.result()
            except WorkerLost:
                self._retry(task, in_flight)
                continue
            if task.split is None:
                kind = self.job.job_kind
                self.metrics.shard_duration.labels(job_kind=kind).observe(time.monotonic() - task.submitted)
                self._write_part(task.shard, lines)
                continue
            task.split.lines[task.index] = lines[0]
            if all(line is not None for line in task.split.lines):
                self._write_part(task.split.shard, task.split.lines)  # type: ignore[arg-type]

    def _retry(self, task: _Attempt, in_flight: dict[Future[list[str]], _Attempt]) -> None:
        """Run a task whose worker was lost again; a shard that keeps losing its worker runs a document at a
        time, and a document that does fails the job, named."""
        if task.attempt < MAX_SHARD_ATTEMPTS:
            in_flight[self._submit(task.shard)] = _Attempt(task.shard, task.attempt + 1, task.split, task.index)
            return
        if task.split is None and len(task.shard.documents) > 1:
            log.warning(
                "job %s: shard %d lost its worker %d times; running its documents one at a time",
                self.job.job_id, task.shard.number, task.attempt,
            )  # fmt: skip
            split = _Split(task.shard, [None] * len(task.shard.documents))
            for index, doc in enumerate(task.shard.documents):
                alone = Shard(task.shard.number, [doc])
                in_flight[self._submit(alone)] = _Attempt(alone, 1, split, index)
            return
        doc = task.shard.documents[0]
        where = f"the document {doc.file}" + ("" if doc.line is None else f" (line {doc.line})")
        raise JobFailed(
            f"INTERNAL_SERVER_ERROR: The worker processing {where} was lost {task.attempt} times "
            "(it crashed or ran past the task time limit); the job stops at that document."
        )

    def _write_part(self, shard: Shard, lines: list[str]) -> None:
        self._check_grant()
        try:
            write_part(self.work, shard.number, lines, self._volume(), self.shared)
        except StorageError as exc:
            raise JobFailed(f"INTERNAL_SERVER_ERROR: The job's parts could not be stored: {exc}") from None
        self.store.record_shard(self.job.job_id, shard.number, len(shard.documents))
        # Counted once the shard is recorded (a shard done again after a takeover is counted again, as it was
        # processed again); the characters are what Comprehend bills: the documents' text, in code points.
        kind = self.job.job_kind
        self.metrics.documents.labels(job_kind=kind).inc(len(shard.documents))
        characters = sum(len(doc.text) for doc in shard.documents if doc.text is not None)
        self.metrics.characters.labels(job_kind=kind).inc(characters)

    def _assemble(self, shard_numbers: list[int]) -> None:
        job = self.job
        self._heartbeat_quietly()
        if self.shared is not None:
            try:
                self.shared.fetch(self.work, shard_numbers)  # the shards other nodes ran
            except StorageError as exc:
                raise JobFailed(f"INTERNAL_SERVER_ERROR: The job's parts could not be read: {exc}") from None
        if kind_of(job).per_file:
            self._assemble_pii(shard_numbers)
            return
        target = self._output_store()
        try:
            assemble(target, self.work, shard_numbers, output_location(job), self._volume())
        except StorageError as exc:
            raise JobFailed(_write_failure(exc, WRITE_DENIED_KMS if job.output_kms_key_id else WRITE_DENIED)) from None

    def _output_store(self) -> ObjectStore:
        """Where the output is written: the job's store, encrypting under OutputDataConfig.KmsKeyId if one was
        given (runtime/pipeline.py SealingStore); a key gone since Start fails the job."""
        job = self.job
        if not job.output_kms_key_id:
            return self.data
        found = usable_key(self.keys, job.output_kms_key_id, job.account_id, job.region)
        if found is None:  # disabled or removed since Start
            raise JobFailed(WRITE_DENIED_KMS)
        return SealingStore(self.data, *found)

    def _volume(self) -> Volume | None:
        """The job's VolumeKmsKeyId as a sealer of what it spills to disk; a key disabled since Start fails it."""
        reference = self.job.volume_kms_key_id
        if not reference:
            return None
        found = usable_key(self.keys, reference, self.job.account_id, self.job.region)
        if found is None:
            raise JobFailed(f"KMS_KEY_UNAVAILABLE: The volume KMS key {reference} is disabled or no longer exists.")
        return Volume(*found)

    def _assemble_pii(self, shard_numbers: list[int]) -> None:
        job = self.job
        prefix = output_location(job)
        # Redaction copies the input around the entities, so the input is listed (and read) again here.
        with self._reading_input():
            infos = list_input(self.data, job.input_s3_uri) if shard_numbers else []
        redaction = Redaction.from_config(json.loads(job.redaction_config) if job.redaction_config else None)
        try:
            target = self._output_store()
            assemble_pii(
                target, self.work, shard_numbers, prefix, job.mode, job.input_s3_uri, infos,
                job.input_format, redaction,
            )  # fmt: skip
        except StorageError as exc:
            # The input was read a moment ago, so what failed is the write.
            raise JobFailed(_write_failure(exc, WRITE_DENIED)) from None

    def _heartbeat_quietly(self) -> None:
        # Stopping after the parts are done only costs a re-assembly; losing the lease must abort.
        status = self.store.heartbeat(self.job.job_id, self.owner, self.settings.lease_s)
        if status is None:
            raise LeaseLost()
