"""Requests as botocore sends them, to the app in-process (Starlette's TestClient)."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

ROLE = "arn:aws:iam::111122223333:role/ComprehendData"
# A valid StartEntitiesDetectionJob request, for tests to change one member at a time.
START_JOB = {
    "InputDataConfig": {"S3Uri": "s3://docs/in/"},
    "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
    "DataAccessRoleArn": ROLE,
    "LanguageCode": "en",
}


def post(
    client: TestClient,
    operation: str,
    body: Any,
    region: str = "us-east-1",
    raw: bytes | None = None,
    key: str = "AKID",
) -> Any:
    """POST one operation; the region travels in the SigV4 credential scope, as botocore puts it.

    In development mode a twelve-digit access key id `key` is the account the request acts as.
    """
    return client.post(
        "/",
        content=raw if raw is not None else json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"Comprehend_20171127.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20261129/{region}/comprehend/aws4_request, "
            "SignedHeaders=host, Signature=00",
        },
    )


def call(
    client: TestClient, operation: str, body: Any, region: str = "us-east-1", key: str = "AKID"
) -> tuple[int, dict]:
    response = post(client, operation, body, region, key=key)
    return response.status_code, response.json()
