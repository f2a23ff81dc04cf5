"""Recognizers and the endpoints that serve them: what a delete answers while one is in use, and the role an
endpoint names (checked as a job's is). In-process; the training itself is not what these are about, so the
record is marked TRAINED directly, as tests/unit/test_cross_account.py does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient
from support.wire import call
from test_auth import as_key

from opencomprehend.config import Settings
from opencomprehend.jobs.schema import entity_recognizers
from opencomprehend.jobs.store import JobStore
from opencomprehend.server import create_app, open_credentials, open_roles

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ComprehendData"
RECOGNIZER = {
    "RecognizerName": "devices", "LanguageCode": "en", "DataAccessRoleArn": ROLE,
    "InputDataConfig": {"EntityTypes": [{"Type": "DEVICE"}], "Documents": {"S3Uri": "s3://docs/in/"},
                        "Annotations": {"S3Uri": "s3://docs/in/annotations.csv"}},
}  # fmt: skip


def _trained(settings: Settings, arn: str) -> None:
    store = JobStore(settings.resolved_database_url())
    with store.engine.begin() as conn:
        conn.execute(
            update(entity_recognizers)
            .where(entity_recognizers.c.recognizer_arn == arn)
            .values(status="TRAINED", model_uri="s3://opencomprehend-models/a/model.tar.gz")
        )
    store.engine.dispose()


def test_deleting_a_recognizer_an_endpoint_uses_names_the_endpoint(tmp_path: Path) -> None:
    # Issue 17, item 10: it said "is used by a job that has not finished" when no job existed.
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings, run_workers=False)) as client:
        status, created = call(client, "CreateEntityRecognizer", RECOGNIZER, key=ACCOUNT)
        assert status == 200, created
        arn = created["EntityRecognizerArn"]
        _trained(settings, arn)
        status, endpoint = call(client, "CreateEndpoint", {
            "EndpointName": "devices-live", "ModelArn": arn, "DesiredInferenceUnits": 1,
        }, key=ACCOUNT)  # fmt: skip
        assert status == 200, endpoint
        status, refused = call(client, "DeleteEntityRecognizer", {"EntityRecognizerArn": arn}, key=ACCOUNT)
        assert (status, refused["__type"]) == (400, "ResourceInUseException"), refused
        assert refused["Message"] == f"The entity recognizer {arn} is used by the endpoint {endpoint['EndpointArn']}."
        assert "job" not in refused["Message"]

        # A job that has not finished is named by its id.
        call(client, "DeleteEndpoint", {"EndpointArn": endpoint["EndpointArn"]}, key=ACCOUNT)
        status, job = call(client, "StartEntitiesDetectionJob", {
            "InputDataConfig": {"S3Uri": "s3://docs/in/"}, "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
            "DataAccessRoleArn": ROLE, "LanguageCode": "en", "EntityRecognizerArn": arn,
        }, key=ACCOUNT)  # fmt: skip
        assert status == 200, job
        status, refused = call(client, "DeleteEntityRecognizer", {"EntityRecognizerArn": arn}, key=ACCOUNT)
        assert refused["Message"] == (
            f"The entity recognizer {arn} is used by the job {job['JobId']}, which has not finished."
        )


@pytest.fixture
def sigv4(tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    settings = Settings(data_dir=tmp_path, auth="sigv4")
    key = open_credentials(settings).add(ACCOUNT)
    open_roles(settings).add(ACCOUNT, "ComprehendData", read=["s3://docs/in/"], write=["s3://docs/out/"])
    with TestClient(create_app(settings, run_workers=False), base_url="http://127.0.0.1:8080") as client:
        status, created = as_key(client, key, "CreateEntityRecognizer", RECOGNIZER)
        assert status == 200, created
        _trained(settings, created["EntityRecognizerArn"])
        yield client, key, created["EntityRecognizerArn"]


@pytest.mark.parametrize(
    "role", ["arn:aws:iam::123456789012:role/NoSuchRole", "arn:aws:iam::210987654321:role/ComprehendData"]
)
def test_an_endpoint_role_the_account_does_not_have_is_refused_as_a_jobs_is(sigv4: tuple, role: str) -> None:
    # Issue 17, item 12: an endpoint's DataAccessRoleArn was stored and echoed, never checked.
    client, key, model = sigv4
    expected = (
        f"The data access role {role} does not exist in account {ACCOUNT}, or Amazon Comprehend cannot assume it."
    )
    status, refused = as_key(client, key, "CreateEndpoint", {
        "EndpointName": "live", "ModelArn": model, "DesiredInferenceUnits": 1, "DataAccessRoleArn": role,
    })  # fmt: skip
    assert (status, refused["__type"], refused["Message"]) == (400, "InvalidRequestException", expected)
    status, job = as_key(client, key, "StartEntitiesDetectionJob", {
        "InputDataConfig": {"S3Uri": "s3://docs/in/"}, "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
        "DataAccessRoleArn": role, "LanguageCode": "en",
    })  # fmt: skip
    assert (status, job["__type"], job["Message"]) == (400, "InvalidRequestException", expected), "the same as a job"

    status, made = as_key(client, key, "CreateEndpoint", {
        "EndpointName": "live", "ModelArn": model, "DesiredInferenceUnits": 1, "DataAccessRoleArn": ROLE,
    })  # fmt: skip
    assert status == 200, made
    status, refused = as_key(client, key, "UpdateEndpoint", {
        "EndpointArn": made["EndpointArn"], "DesiredDataAccessRoleArn": role,
    })  # fmt: skip
    assert (status, refused["__type"], refused["Message"]) == (400, "InvalidRequestException", expected)
    described = as_key(client, key, "DescribeEndpoint", {"EndpointArn": made["EndpointArn"]})[1]
    assert described["EndpointProperties"]["DataAccessRoleArn"] == ROLE, "nothing changed"
