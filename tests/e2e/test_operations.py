"""GET /metrics and the JSON log of a real `opencomprehend serve`: scraped before and after a real job and real
DetectEntities requests, parsed with prometheus_client's own parser."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.server import Server, running_server

pytestmark = pytest.mark.e2e

LINES = [
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "",
    "東京 and 北京 welcomed Shinzo Abe, said Reuters. 👍🏽",
    "Microsoft is based in Redmond, Washington.",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose log is JSON lines (the environment's way of `serve --log-format json`)."""
    with running_server(
        tmp_path_factory.mktemp("metrics"), OPENCOMPREHEND_LOG_FORMAT="json", OPENCOMPREHEND_WORKERS="1"
    ) as running:
        yield running


def scrape(server: Server) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of GET /metrics: (name, labels) -> value."""
    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = answer.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_a_job_and_detect_requests_move_the_counters(server: Server) -> None:
    run = uuid.uuid4().hex[:8]
    server.put("docs", f"{run}/in/a.txt", "\n".join(LINES[:2]) + "\n")
    server.put("docs", f"{run}/in/b.txt", "\n".join(LINES[2:]))
    before = scrape(server)

    job_id = server.start_job(f"s3://docs/{run}/in/", f"s3://docs/{run}/out/")
    assert server.wait(job_id)["JobStatus"] == "COMPLETED"
    client = server.client()
    for text in ("Paris is in France.", "Sony is in Tokyo."):
        client.detect_entities(Text=text, LanguageCode="en")
    after = scrape(server)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("opencomprehend_documents_processed_total", job_kind="ENTITIES") == len(LINES)
    # Characters are code points (the emoji with its skin tone is two), as Comprehend bills them.
    characters = sum(len(line) for line in LINES)
    assert moved("opencomprehend_characters_processed_total", job_kind="ENTITIES") == characters
    assert moved("opencomprehend_requests_total", operation="DetectEntities", status="200") == 2
    assert moved("opencomprehend_requests_total", operation="StartEntitiesDetectionJob", status="200") == 1
    assert moved("opencomprehend_request_duration_seconds_count", operation="DetectEntities") == 2
    assert moved("opencomprehend_shard_duration_seconds_count", job_kind="ENTITIES") >= 1
    assert moved("opencomprehend_job_duration_seconds_count", job_kind="ENTITIES", status="COMPLETED") == 1
    assert sample(after, "opencomprehend_jobs", job_kind="ENTITIES", status="COMPLETED") >= 1
    # The pool's workers, counted in the API process.
    assert sample(after, "opencomprehend_workers_alive") >= 1
    assert sample(after, "opencomprehend_workers_configured") >= 1
    assert ("opencomprehend_worker_recycles_total", frozenset()) in after


def test_json_log_lines_carry_the_request_id_of_the_response(server: Server) -> None:
    client = server.client()
    answer = client.detect_entities(Text="Angela Merkel visited Paris.", LanguageCode="en")
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert request_id == answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]

    lines = _json_lines(server.log_path)  # type: ignore[arg-type]
    mine = [line for line in lines if line.get("request_id") == request_id]
    assert mine, lines[-5:]
    [access] = [line for line in mine if line["logger"] == "opencomprehend.access"]
    assert access["operation"] == "DetectEntities"
    assert access["account"] == "111122223333"
    assert access["level"] == "INFO" and access["message"].startswith("DetectEntities 200 in ")
    assert {"time", "level", "logger", "message"} <= set(access)
    # The start line is a log record too.
    assert any(line["message"].startswith("OpenComprehend on http://") for line in lines)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    """The server's log, each line a JSON object (a line that is not fails the test)."""
    lines = []
    for text in path.read_text().splitlines():
        if text.strip():
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError:
                raise AssertionError(f"not a JSON line in the server's log: {text!r}") from None
    return lines
