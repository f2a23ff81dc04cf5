"""The object store failing mid-job: a private SeaweedFS stopped while a job reads its input, then started
again (the job rides it out and completes), or left down (the job FAILS with a clear message and nothing
appears at its output key)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.components import missing
from support.output import read_archive
from support.seaweedfs import INSTALL_HINT, Outage, find_weed, running_seaweedfs
from support.server import Server, running_server

pytestmark = pytest.mark.e2e

FILES = 24
LINES_PER_FILE = 400


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    weed = find_weed()
    if weed is None:
        missing(f"SeaweedFS `weed` binary not found; install it with: {INSTALL_HINT}")
    with running_seaweedfs(weed, tmp_path_factory.mktemp("weed-outage"), with_outages=True) as control:
        yield control  # type: ignore[misc]


def _server(path: Path, outage: Outage, **env: str):  # type: ignore[no-untyped-def]
    store = outage.server
    return running_server(
        path,
        OPENCOMPREHEND_S3_ENDPOINT_URL=store.endpoint_url,
        OPENCOMPREHEND_S3_REGION=store.region,
        OPENCOMPREHEND_S3_ACCESS_KEY_ID=store.access_key_id,
        OPENCOMPREHEND_S3_SECRET_ACCESS_KEY=store.secret_access_key,
        OPENCOMPREHEND_S3_SSE_KMS="false",
        OPENCOMPREHEND_SHARD_DOCUMENTS="16",
        **env,
    )


def _job(server: Server, outage: Outage) -> tuple[str, str]:
    """A job over many input objects (read one after another as the job goes), running once it returns."""
    bucket = f"outage-{uuid.uuid4().hex[:8]}"
    s3 = outage.server.s3_client()
    s3.create_bucket(Bucket=bucket)
    for n in range(FILES):
        lines = [f"File {n} line {i}: Angela Merkel flew from Berlin to Paris." for i in range(LINES_PER_FILE)]
        s3.put_object(Bucket=bucket, Key=f"in/{n:03d}.txt", Body="\n".join(lines).encode())
    job_id = server.start_job(f"s3://{bucket}/in/", f"s3://{bucket}/out/", InputFormat="ONE_DOC_PER_LINE")
    work = server.data_dir / "work" / job_id
    deadline = time.time() + 120
    while len(list(work.glob("part-*.jsonl"))) < 3:
        assert time.time() < deadline, server.log()[-3000:]
        time.sleep(0.02)
    return bucket, job_id


def test_a_store_that_comes_back_costs_the_job_nothing(tmp_path: Path, outage: Outage, aws_available: None) -> None:
    with _server(tmp_path, outage) as server:
        bucket, job_id = _job(server, outage)
        outage.stop()
        time.sleep(3)
        outage.start()
        props = server.wait(job_id, timeout=300)
    assert props["JobStatus"] == "COMPLETED", (props, server.log()[-3000:])
    key = props["OutputDataConfig"]["S3Uri"].removeprefix(f"s3://{bucket}/")
    records = read_archive(outage.server.s3_client().get_object(Bucket=bucket, Key=key)["Body"].read())
    expected = [(f"{n:03d}.txt", i) for n in range(FILES) for i in range(LINES_PER_FILE)]
    assert [(r["File"], r["Line"]) for r in records] == expected, "every document exactly once, in order"


def test_a_store_that_stays_down_fails_the_job_clearly(tmp_path: Path, outage: Outage, aws_available: None) -> None:
    with _server(tmp_path, outage, OPENCOMPREHEND_S3_MAX_ATTEMPTS="2") as server:
        bucket, job_id = _job(server, outage)
        outage.stop()
        try:
            props = server.wait(job_id, timeout=300)
        finally:
            outage.start()
    assert props["JobStatus"] == "FAILED", props
    assert props["Message"].startswith(f"NO_READ_ACCESS_TO_INPUT: Cannot read s3://{bucket}/in/"), props["Message"]
    assert "Could not connect" in props["Message"] or "connect" in props["Message"].lower(), props["Message"]
    left = outage.server.s3_client().list_objects_v2(Bucket=bucket, Prefix="out/").get("KeyCount", 0)
    assert left == 0, "no output, whole or partial, at the output key"
