"""The warm workers under a real server: recycling, a hung worker, and a server killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from support.output import read_archive
from support.server import Server, running_server, worker_pids

pytestmark = pytest.mark.e2e

SENTENCE = "Line {i}: Angela Merkel flew from Berlin to Paris with Emmanuel Macron."


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def run_job(server: Server, name: str, lines: int) -> list[dict]:
    text = [SENTENCE.format(i=i) for i in range(lines)]
    server.put("docs", f"{name}/in/doc.txt", "\n".join(text) + "\n")
    props = server.wait(server.start_job(f"s3://docs/{name}/in/", f"s3://docs/{name}/out/"), timeout=300)
    assert props["JobStatus"] == "COMPLETED", (props, server.log()[-3000:])
    records = read_archive((server.bucket_root / props["OutputDataConfig"]["S3Uri"].removeprefix("s3://")).read_bytes())
    assert [r["Line"] for r in records] == list(range(lines)), "every document exactly once, in order"
    return records


@pytest.fixture
def needs_proc() -> None:
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc to find the worker processes")


def test_jobs_after_many_recyclings_complete_on_two_workers(
    tmp_path: Path, aws_available: None, needs_proc: None
) -> None:
    # Shards of 16 documents, a worker recycled every 4 shards: 2,000 lines recycle each worker many times.
    env = {"OPENCOMPREHEND_WORKER_RECYCLE_DOCUMENTS": "64", "OPENCOMPREHEND_SHARD_DOCUMENTS": "16"}
    with running_server(tmp_path, **env) as server:
        assert server.process is not None
        first = set(worker_pids(server.process.pid))
        for n in range(3):
            run_job(server, f"job{n}", 2_000)
        assert "served 4 tasks; starting its replacement" in server.log()
        deadline = time.time() + 30
        while len([p for p in worker_pids(server.process.pid) if alive(p)]) != 3 and time.time() < deadline:
            time.sleep(0.2)
        now = [p for p in worker_pids(server.process.pid) if alive(p)]
        # Three: two for shards, all replaced; one for real time, which ran no shard and is not due yet.
        assert len(now) == 3 and len(first & set(now)) <= 1, (first, now)
        found = server.client().detect_entities(Text="Angela Merkel lives in Berlin.", LanguageCode="en")
        assert {"Angela Merkel", "Berlin"} <= {e["Text"] for e in found["Entities"]}


def test_a_job_whose_workers_hang_is_finished_by_their_replacements(
    tmp_path: Path, aws_available: None, needs_proc: None
) -> None:
    with running_server(tmp_path, OPENCOMPREHEND_WORKER_TASK_TIMEOUT_S="4") as server:
        assert server.process is not None
        hung = worker_pids(server.process.pid)
        for pid in hung:
            os.kill(pid, signal.SIGSTOP)  # alive but never answering: what a deadlocked worker looks like
        records = run_job(server, "hung", 300)
        assert all(r["Entities"] for r in records)
        assert "did not answer in 4 s and was stopped" in server.log()
        # The shard workers were replaced; the real-time one, given no task, is found out by its first.
        assert sum(alive(p) for p in hung) <= 1
        found = server.client().detect_entities(Text="Angela Merkel lives in Berlin.", LanguageCode="en")
        assert {"Angela Merkel", "Berlin"} <= {e["Text"] for e in found["Entities"]}


def test_workers_exit_when_the_server_is_killed(tmp_path: Path, aws_available: None, needs_proc: None) -> None:
    with running_server(tmp_path) as server:
        assert server.process is not None
        workers = worker_pids(server.process.pid)
        assert len(workers) == 3  # two for shards, one for real time
        os.kill(server.process.pid, signal.SIGKILL)  # the server alone, as `kill -9 <pid>` does
        server.process.wait(20)
        deadline = time.time() + 15
        while any(alive(p) for p in workers) and time.time() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in workers), "workers outlived their server"
