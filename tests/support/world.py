"""An in-process job engine for tests: a real job store (SQLite), the local bucket folder, the inline runner
with real engines; jobs are put in the store directly and run to their end one scheduler step at a time."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opencomprehend.config import Settings
from opencomprehend.io.objects import LocalFolderStore
from opencomprehend.jobs.job_run import JobRun
from opencomprehend.jobs.recognizers import RecognizerStore
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.store import JobStore, owner_id
from opencomprehend.runtime.pool import InlineRunner
from opencomprehend.runtime.runner import Runner
from support.rows import job_row

OWNER = owner_id()


@dataclass
class World:
    settings: Settings
    store: JobStore
    recognizers: RecognizerStore
    objects: LocalFolderStore
    runner: Runner  # a test may put a runner of its own here


def make_world(folder: Path) -> World:
    """A fresh world in `folder`, with an empty bucket "docs" and shards of two documents."""
    store = JobStore(f"sqlite:///{folder / 'jobs.db'}")
    objects = LocalFolderStore(folder / "s3")
    objects.create_bucket("docs")
    return World(Settings(data_dir=folder, shard_documents=2), store, RecognizerStore(store.engine), objects,
                 InlineRunner())  # fmt: skip


def submit(world: World, language: str | None = "en", **columns: Any) -> Job:
    """A job of the account 111122223333 reading s3://docs/in/ and writing under s3://docs/out/, queued."""
    job_id = uuid.uuid4().hex
    row = job_row(
        job_id=job_id, submit_time=time.time(), language_code=language, token=job_id, request_hash="x",
        data_access_role_arn="arn:aws:iam::111122223333:role/R", **columns,
    )  # fmt: skip
    job, _ = world.store.create_job(row)
    return job


def submit_pii(world: World, mode: str, redaction: dict[str, Any] | None = None, **columns: Any) -> Job:
    return submit(
        world, job_kind="PII", mode=mode, redaction_config=json.dumps(redaction) if redaction else None, **columns
    )


def run_claimed(world: World) -> None:
    """One scheduler step, synchronously: claim what is queued and run it to its end."""
    for job in world.store.claim(OWNER, 30.0, 10):
        JobRun(job, world.store, world.recognizers, world.objects, world.runner, world.settings, OWNER,
               threading.Event()).run()  # fmt: skip


def output_of(world: World, job_id: str) -> Path:
    return world.settings.store_root / "docs" / "out" / f"111122223333-NER-{job_id}" / "output" / "output.tar.gz"


def pii_output(world: World, job_id: str) -> Path:
    return world.settings.store_root / "docs" / "out" / f"111122223333-PII-{job_id}" / "output"
