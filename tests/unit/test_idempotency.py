"""ClientRequestToken: a request is the same request when every member of it is the same.

The members hashed come from the operation's input shape in botocore's model (api.app.invoke), not from a
list each handler writes, so no member can be left out of the hash by mistake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient
from support.wire import call

from opencomprehend.config import Settings
from opencomprehend.jobs.schema import entity_recognizers
from opencomprehend.jobs.store import JobStore
from opencomprehend.server import create_app

ROLE = "arn:aws:iam::111122223333:role/ComprehendData"
IO = {"InputDataConfig": {"S3Uri": "s3://docs/in/"}, "OutputDataConfig": {"S3Uri": "s3://docs/out/"}}
# Each Start/Create operation with a request, and for each member a different value of it.
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "StartEntitiesDetectionJob": (
        {**IO, "DataAccessRoleArn": ROLE, "LanguageCode": "en"},
        {"InputDataConfig": {"S3Uri": "s3://docs/other/"}, "OutputDataConfig": {"S3Uri": "s3://docs/o2/"},
         "LanguageCode": "de", "JobName": "n", "Tags": [{"Key": "k", "Value": "v"}],
         "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}},
    ),
    "StartPiiEntitiesDetectionJob": (
        {**IO, "DataAccessRoleArn": ROLE, "LanguageCode": "en", "Mode": "ONLY_OFFSETS"},
        {"InputDataConfig": {"S3Uri": "s3://docs/other/"}, "LanguageCode": "de", "JobName": "n",
         "RedactionConfig": {"PiiEntityTypes": ["SSN"], "MaskMode": "MASK"}, "Tags": [{"Key": "k", "Value": "v"}]},
    ),
    "StartDominantLanguageDetectionJob": (
        {**IO, "DataAccessRoleArn": ROLE},
        {"OutputDataConfig": {"S3Uri": "s3://docs/o2/"}, "JobName": "n", "Tags": [{"Key": "k", "Value": "v"}],
         "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}},
    ),
    "CreateEntityRecognizer": (
        {"RecognizerName": "r", "LanguageCode": "en", "DataAccessRoleArn": ROLE,
         "InputDataConfig": {"EntityTypes": [{"Type": "DEVICE"}], "Documents": {"S3Uri": "s3://train/docs/"},
                             "Annotations": {"S3Uri": "s3://train/a.csv"}}},
        {"LanguageCode": "de", "VersionName": "v2", "Tags": [{"Key": "k", "Value": "v"}],
         "ModelPolicy": '{"Version": "2012-10-17"}',
         "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}},
    ),
}  # fmt: skip


@pytest.fixture()
def client(tmp_path: Path) -> Any:
    with TestClient(create_app(Settings(data_dir=tmp_path), run_workers=False)) as made:
        yield made


@pytest.mark.parametrize("operation", sorted(CASES))
def test_a_token_replays_its_request_and_refuses_a_change_in_any_member(client: TestClient, operation: str) -> None:
    request, changes = CASES[operation]
    status, first = call(client, operation, {**request, "ClientRequestToken": "tok"})
    assert status == 200, first
    status, again = call(client, operation, {**request, "ClientRequestToken": "tok"})
    assert (status, again) == (200, first), "the same request under the same token is answered the same"
    for member, value in changes.items():
        status, answer = call(client, operation, {**request, member: value, "ClientRequestToken": "tok"})
        assert status == 400, (member, answer)
        assert "already used for a request with different parameters" in answer["Message"], (member, answer)


def test_an_endpoints_token_covers_its_members(client: TestClient, tmp_path: Path) -> None:
    request, _ = CASES["CreateEntityRecognizer"]
    status, made = call(client, "CreateEntityRecognizer", request)
    assert status == 200, made
    store = JobStore(Settings(data_dir=tmp_path).resolved_database_url())
    with store.engine.begin() as conn:
        conn.execute(update(entity_recognizers).values(status="TRAINED", model_uri="s3://opencomprehend-models/m"))
    store.engine.dispose()
    endpoint = {"EndpointName": "e", "ModelArn": made["EntityRecognizerArn"], "DesiredInferenceUnits": 1}
    assert call(client, "CreateEndpoint", {**endpoint, "ClientRequestToken": "tok"})[0] == 200
    assert call(client, "CreateEndpoint", {**endpoint, "ClientRequestToken": "tok"})[0] == 200
    for member, value in (("DesiredInferenceUnits", 2), ("Tags", [{"Key": "k", "Value": "v"}])):
        status, answer = call(client, "CreateEndpoint", {**endpoint, member: value, "ClientRequestToken": "tok"})
        assert status == 400 and "different parameters" in answer["Message"], (member, answer)
