"""A node killed mid-job leaves its job's folder in its work folder; the next start clears what is not needed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.rows import job_row

from opencomprehend.config import Settings
from opencomprehend.jobs.store import JobStore
from opencomprehend.server import create_app


def _job(store: JobStore, status: str) -> str:
    job_id = uuid.uuid4().hex
    store.create_job(job_row(job_id=job_id, status=status, submit_time=1.0, token=job_id))
    return job_id


@pytest.mark.parametrize("cluster", [False, True], ids=["one node", "cluster"])
def test_job_folders_a_killed_run_left_are_cleared_at_start(tmp_path: Path, cluster: bool) -> None:
    # On a cluster the parts are kept in the object store (work_uri); on one node, in the work folder.
    extra = {"runtime": "dask", "dask_scheduler": "tcp://127.0.0.1:1"} if cluster else {}
    settings = Settings(data_dir=tmp_path, **extra)
    create_app(settings, run_workers=False)  # the data folder and the job store, as a first start makes them
    store = JobStore(settings.resolved_database_url())
    running, empty, finished = _job(store, "IN_PROGRESS"), _job(store, "IN_PROGRESS"), _job(store, "COMPLETED")
    unknown = uuid.uuid4().hex
    for job_id in (running, finished, unknown):
        folder = settings.work_dir / job_id
        folder.mkdir()
        (folder / "part-00000").write_text("{}\n")
    (settings.work_dir / empty).mkdir()

    create_app(settings, run_workers=False)  # the restart
    left = sorted(p.name for p in settings.work_dir.iterdir())
    # A running job's parts stay where only this node has them; nothing else is worth keeping.
    assert left == ([] if cluster else [running])
