"""Requests as botocore sends them, to the app in-process (Starlette's TestClient)."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient


def post(client: TestClient, operation: str, body: Any, region: str = "us-east-1", raw: bytes | None = None) -> Any:
    """POST one operation; the region travels in the SigV4 credential scope, as botocore puts it."""
    return client.post(
        "/",
        content=raw if raw is not None else json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"Comprehend_20171127.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=AKID/20261129/{region}/comprehend/aws4_request, "
            "SignedHeaders=host, Signature=00",
        },
    )


def call(client: TestClient, operation: str, body: Any, region: str = "us-east-1") -> tuple[int, dict]:
    response = post(client, operation, body, region)
    return response.status_code, response.json()
