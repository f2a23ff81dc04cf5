"""Crash trials: a real server running a real job, something killed with SIGKILL at a chosen moment, then
the server restarted (if it died) and the job's end checked: every document exactly once, no orphans.

Used by tests/e2e/test_crash.py (a few fixed trials) and bench/crash.py (randomised trials).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from support.components import free_port
from support.output import read_archive
from support.server import Server, worker_pids

SENTENCE = "Line {i}: Angela Merkel flew from Berlin to Paris with Emmanuel Macron."
SHARD_DOCUMENTS = 16

VICTIMS = ("worker", "server", "tree")  # one worker process; the API process alone; the whole process tree
MOMENTS = ("listing", "first shard", "last shard", "assembly")
ENDINGS = ("complete", "stop", "fail")  # left alone; STOP requested mid-job; output unwritable (FAILED)


@dataclass
class Outcome:
    status: str
    records: int
    problems: list[str]
    lost: int = 0  # documents a COMPLETED job's output lacks
    duplicated: int = 0  # documents an output holds more than once


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _parts(server: Server, job_id: str) -> int:
    return len(list((server.data_dir / "work" / job_id).glob("part-*.jsonl")))


def _wait_for_moment(server: Server, job_id: str, moment: str, shards: int, timeout: float = 120) -> None:
    client = server.client()
    wanted = {"listing": 0, "first shard": 1, "last shard": shards - 1, "assembly": shards}[moment]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if moment == "listing":
            props = client.describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]
            if props["JobStatus"] != "SUBMITTED":
                return
        elif _parts(server, job_id) >= wanted:
            return
        time.sleep(0.005)
    raise AssertionError(f"job {job_id} never reached {moment!r}: {server.log()[-2000:]}")


def _stop(server: Server, job_id: str) -> None:
    """StopEntitiesDetectionJob; a job that ended first (COMPLETED, FAILED) refuses it, as Comprehend does."""
    from botocore.exceptions import ClientError

    try:
        server.client().stop_entities_detection_job(JobId=job_id)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "InvalidRequestException":
            raise


def trial(data_dir: Path, victim: str, moment: str, ending: str = "complete", lines: int = 1_200) -> Outcome:
    """One crash trial in its own data folder; the Outcome lists every broken promise in `problems`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {"OPENCOMPREHEND_SHARD_DOCUMENTS": str(SHARD_DOCUMENTS)}
    server = Server(data_dir=data_dir, port=free_port(), extra_env=env)
    text = [SENTENCE.format(i=i) for i in range(lines)]
    server.put("docs", "in/doc.txt", "\n".join(text) + "\n")
    output = "s3://docs/out/"
    if ending == "fail":
        server.put("docs", "blocked", "an object where the output prefix's folder would be")
        output = "s3://docs/blocked/out/"
    shards = -(-lines // SHARD_DOCUMENTS)
    problems: list[str] = []
    server.start()
    try:
        job_id = server.start_job("s3://docs/in/", output, InputFormat="ONE_DOC_PER_LINE")
        _wait_for_moment(server, job_id, moment, shards)
        assert server.process is not None
        pool = worker_pids(server.process.pid)
        if victim == "worker":
            if pool:
                os.kill(pool[0], signal.SIGKILL)
        elif victim == "server":
            os.kill(server.process.pid, signal.SIGKILL)  # the API process alone: its workers must follow
            server.process.wait(20)
        else:
            server.kill()  # the whole process group at once
        if ending == "stop" and victim == "worker":
            _stop(server, job_id)
        if victim != "worker":
            deadline = time.time() + 15
            while any(_alive(p) for p in pool) and time.time() < deadline:
                time.sleep(0.1)
            if any(_alive(p) for p in pool):
                problems.append(f"workers {pool} outlived their server")
            server.port = free_port()
            server.start()
            if ending == "stop":
                _stop(server, job_id)
        props = server.wait(job_id, timeout=300)
    finally:
        server.stop()
    status = props["JobStatus"]
    expected = {"complete": ("COMPLETED",), "stop": ("STOPPED", "COMPLETED"), "fail": ("FAILED",)}[ending]
    if status not in expected:
        problems.append(f"ended {status} ({props.get('Message')}), expected {' or '.join(expected)}")
    archive = data_dir / "s3" / props["OutputDataConfig"]["S3Uri"].removeprefix("s3://")
    records: list[dict] = []
    lost = duplicated = 0
    if status == "FAILED":
        if archive.exists():
            problems.append("a FAILED job left an output at its output key")
    elif not archive.exists():
        problems.append(f"a {status} job has no output")
    else:
        records = read_archive(archive.read_bytes())
        seen = [(r["File"], r["Line"]) for r in records]
        duplicated = len(seen) - len(set(seen))
        if duplicated:
            problems.append(f"duplicated documents: {duplicated}")
        if status == "COMPLETED":
            lost = lines - len(set(seen))
            if [line for _, line in seen] != list(range(lines)):
                problems.append(f"COMPLETED with {len(set(seen))} of {lines} documents, or out of order")
        if status == "STOPPED" and sorted(seen) != seen:
            problems.append("a STOPPED job's documents are out of order")
    return Outcome(status, len(records), problems, lost, duplicated)
