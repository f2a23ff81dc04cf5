"""Property: no request derived from the service model, valid or mutated, gets a 5xx or a non-JSON answer."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient
from support.fuzz import request

from opencomprehend.config import Settings
from opencomprehend.server import create_app

# CI runs a few hundred examples; bench/fuzz.py runs ten thousand against a real server.
EXAMPLES = int(os.environ.get("OPENCOMPREHEND_FUZZ_EXAMPLES", "300"))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("fuzz"), max_detect_bytes=2_000), run_workers=False)
    with TestClient(app) as test_client:
        yield test_client


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(drawn=request())
def test_no_request_is_answered_5xx(client: TestClient, drawn: tuple[str, object]) -> None:
    operation, body = drawn
    try:
        raw = json.dumps(body).encode()
    except (UnicodeEncodeError, ValueError):
        raw = json.dumps(body, ensure_ascii=True).encode()
    response = client.post(
        "/",
        content=raw,
        headers={
            "X-Amz-Target": f"Comprehend_20171127.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=123456789012/20261201/us-east-1/comprehend/aws4_request, "
            "SignedHeaders=host, Signature=00",
        },
    )
    assert response.status_code < 500, (operation, body, response.text[:500])
    answer = response.json()
    if response.status_code >= 400:
        assert set(answer) >= {"__type", "Message"}, answer
