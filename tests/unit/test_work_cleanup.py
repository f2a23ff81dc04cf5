"""A node killed mid-job leaves its job's folder in its work folder; the next start clears what is not needed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from opencomprehend.config import Settings
from opencomprehend.jobs.store import JobStore
from opencomprehend.server import create_app


def _job(store: JobStore, status: str) -> str:
    job_id = uuid.uuid4().hex
    store.create_job({
        "job_id": job_id, "account_id": "111122223333", "region": "us-east-1",
        "job_arn": f"arn:aws:comprehend:us-east-1:111122223333:entities-detection-job/{job_id}",
        "job_name": None, "status": status, "submit_time": 1.0, "language_code": "en",
        "input_s3_uri": "s3://docs/in/", "input_format": "ONE_DOC_PER_LINE", "output_s3_uri": "s3://docs/out/",
        "data_access_role_arn": "arn:aws:iam::111122223333:role/ComprehendData",
        "client_request_token": job_id, "request_hash": "a" * 64, "documents_done": 0, "job_kind": "ENTITIES",
    })  # fmt: skip
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
