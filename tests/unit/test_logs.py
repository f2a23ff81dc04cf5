"""The log's JSON lines, and the request id, account, operation and job id they carry from the request."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from support.wire import post

from opencomprehend import logs
from opencomprehend.service.registry import OPERATIONS


@pytest.fixture()
def json_log() -> Iterator[io.StringIO]:
    """JSON lines of every logger, as `serve --log-format json` writes them, into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_json_line_has_time_level_logger_and_message(json_log: io.StringIO) -> None:
    logging.getLogger("opencomprehend.test").warning("hello %s", "wörld")
    [line] = lines(json_log)
    assert line["level"] == "WARNING" and line["logger"] == "opencomprehend.test" and line["message"] == "hello wörld"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert not {"request_id", "account", "operation", "job_id"} & set(line)  # nothing known, nothing said


def test_an_exception_is_part_of_its_line(json_log: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("opencomprehend.test").exception("failed")
    [line] = lines(json_log)
    assert line["message"] == "failed" and "ValueError: boom" in line["exception"]


def test_a_handlers_lines_carry_the_request_id_the_response_gave(
    client: TestClient, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A handler logs from Starlette's threadpool: the request's context goes with it.
    def describe(env: Any, ctx: Any, **members: Any) -> dict[str, Any]:
        logging.getLogger("opencomprehend.test").info("describing")
        return {"EntitiesDetectionJobProperties": {}}

    monkeypatch.setitem(OPERATIONS, "DescribeEntitiesDetectionJob", describe)
    job_id = "0123456789abcdef0123456789abcdef"
    answer = post(client, "DescribeEntitiesDetectionJob", {"JobId": job_id}, key="123456789012")
    assert answer.status_code == 200
    [line] = [line for line in lines(json_log) if line["message"] == "describing"]
    assert line["request_id"] == answer.headers["x-amzn-RequestId"]
    assert line["account"] == "123456789012"
    assert line["operation"] == "DescribeEntitiesDetectionJob"
    assert line["job_id"] == job_id


def test_the_access_log_is_on_with_json_and_off_with_text() -> None:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        logs.configure("json")
        assert logging.getLogger(logs.ACCESS_LOGGER).isEnabledFor(logging.INFO)
        assert isinstance(root.handlers[0].formatter, logs.JsonFormatter)
        logs.configure("text")
        assert not logging.getLogger(logs.ACCESS_LOGGER).isEnabledFor(logging.INFO)
        assert root.handlers[0].formatter._fmt == logs.TEXT_FORMAT  # the format of before
        logs.configure("text", access_log=True)
        assert logging.getLogger(logs.ACCESS_LOGGER).isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger(logs.ACCESS_LOGGER).setLevel(logging.NOTSET)


def test_serve_takes_the_log_format_as_a_setting(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from opencomprehend.cli import app

    refused = CliRunner().invoke(app, ["serve", "--log-format", "xml", "--data-dir", str(tmp_path)])
    assert refused.exit_code == 2
    assert "log_format" in refused.output and "'text' or 'json'" in refused.output


def test_a_worker_process_logs_in_the_servers_format() -> None:
    code = (
        "import logging; from opencomprehend import logs; logs.configure_worker(); "
        "logging.getLogger('opencomprehend.worker').info('quiet'); "
        "logging.getLogger('opencomprehend.worker').warning('no engine for preloaded language xx')"
    )
    env = {**os.environ, logs.FORMAT_VARIABLE: "json"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    [line] = [json.loads(text) for text in done.stderr.splitlines()]
    assert line["logger"] == "opencomprehend.worker" and line["level"] == "WARNING"


def test_a_jobs_run_names_the_job_on_its_lines_and_only_there(json_log: io.StringIO, monkeypatch: Any) -> None:
    from support.rows import job_record

    from opencomprehend.jobs.job_run import JobRun

    def execute(self: JobRun) -> str:
        logging.getLogger("opencomprehend.job").warning("running")
        raise RuntimeError("boom")

    monkeypatch.setattr(JobRun, "_execute", execute)
    monkeypatch.setattr(JobRun, "_finish", lambda self, status, message: None)
    run = JobRun.__new__(JobRun)
    run.job = job_record(job_id="f" * 32)
    run.run()
    logging.getLogger("opencomprehend.test").warning("after")
    running, failed, after = lines(json_log)
    assert running["job_id"] == failed["job_id"] == "f" * 32 and "RuntimeError: boom" in failed["exception"]
    assert "job_id" not in after  # the caller's context is as it was
