"""A server killed mid-job resumes the job after restart, and its output holds every document once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.components import free_port
from support.output import read_archive
from support.server import Server

pytestmark = pytest.mark.e2e


def test_job_in_progress_when_the_server_dies_finishes_after_restart(tmp_path: Path, aws_available: None) -> None:
    server = Server(data_dir=tmp_path, port=free_port())
    lines = [f"Line {i}: Angela Merkel flew from Berlin to Paris with Emmanuel Macron." for i in range(12_000)]
    server.put("docs", "in/big.txt", "\n".join(lines) + "\n")
    server.start()
    try:
        job_id = server.start_job("s3://docs/in/", "s3://docs/out/")
        work = tmp_path / "work" / job_id
        deadline = time.time() + 120
        while len(list(work.glob("part-*.jsonl"))) < 3:
            assert time.time() < deadline, server.log()
            time.sleep(0.05)
        server.kill()
        parts_before = len(list(work.glob("part-*.jsonl")))
        # The same data dir, a new process: it takes the job over and skips the shards already done.
        server.port = free_port()
        server.start()
        props = server.wait(job_id)
        assert props["JobStatus"] == "COMPLETED", props
        resumed = [line for line in server.log().splitlines() if f"job {job_id} resumed" in line]
        assert resumed, server.log()
        # A part is written, then its shard recorded: the kill may fall between the two for the last one,
        # which then runs again (its file is rewritten whole).
        done = int(resumed[0].split("resumed with ")[1].split()[0])
        assert parts_before - 1 <= done <= parts_before and done >= 2, (done, parts_before)
    finally:
        server.stop()
    records = read_archive((tmp_path / "s3" / props["OutputDataConfig"]["S3Uri"].removeprefix("s3://")).read_bytes())
    assert [r["Line"] for r in records] == list(range(len(lines))), "every document exactly once, in order"
    assert parts_before > 0
    for record, text in zip(records, lines, strict=True):
        for entity in record["Entities"]:
            assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
