"""Two accounts, every operation: the other account's ids and ARNs behave exactly like unknown ones.

Development mode (twelve-digit access keys are accounts) in-process; SigV4 accounts map to accounts the
same way (tests/unit/test_auth.py), so what holds here holds there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
from opencomprehend.service.registry import OPERATIONS

A, B = "123456789012", "210987654321"
REGION = "us-east-1"


def as_a(client: TestClient, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = call(client, operation, body, REGION, key=A)
    assert status == 200, (operation, answer)
    return answer


def as_b(client: TestClient, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return call(client, operation, body, REGION, key=B)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Account A with a job, a trained recognizer, an endpoint, each tagged."""
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings, run_workers=False)) as client:
        role = f"arn:aws:iam::{A}:role/ComprehendData"
        job = as_a(client, "StartEntitiesDetectionJob", {
            "InputDataConfig": {"S3Uri": "s3://docs/in/"}, "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
            "DataAccessRoleArn": role, "LanguageCode": "en", "Tags": [{"Key": "owner", "Value": "a"}],
        })  # fmt: skip
        recognizer = as_a(client, "CreateEntityRecognizer", {
            "RecognizerName": "secret-recognizer", "LanguageCode": "en", "DataAccessRoleArn": role,
            "InputDataConfig": {"EntityTypes": [{"Type": "DEVICE"}], "Documents": {"S3Uri": "s3://train/docs/"},
                                "Annotations": {"S3Uri": "s3://train/annotations.csv"}},
            "Tags": [{"Key": "owner", "Value": "a"}],
        })["EntityRecognizerArn"]  # fmt: skip
        # The training itself is not what this suite is about: the record says it finished.
        store = JobStore(settings.resolved_database_url())
        with store.engine.begin() as conn:
            conn.execute(
                update(entity_recognizers)
                .where(entity_recognizers.c.recognizer_arn == recognizer)
                .values(status="TRAINED", model_uri="s3://opencomprehend-models/a/model.tar.gz")
            )
        store.engine.dispose()
        endpoint = as_a(client, "CreateEndpoint", {
            "EndpointName": "secret-endpoint", "ModelArn": recognizer, "DesiredInferenceUnits": 1,
            "Tags": [{"Key": "owner", "Value": "a"}],
        })["EndpointArn"]  # fmt: skip
        pii = as_a(client, "StartPiiEntitiesDetectionJob", {
            "InputDataConfig": {"S3Uri": "s3://docs/in/"}, "OutputDataConfig": {"S3Uri": "s3://docs/pii/"},
            "Mode": "ONLY_OFFSETS", "DataAccessRoleArn": role, "LanguageCode": "en",
            "Tags": [{"Key": "owner", "Value": "a"}],
        })  # fmt: skip
        language = as_a(client, "StartDominantLanguageDetectionJob", {
            "InputDataConfig": {"S3Uri": "s3://docs/in/"}, "OutputDataConfig": {"S3Uri": "s3://docs/lang/"},
            "DataAccessRoleArn": role, "Tags": [{"Key": "owner", "Value": "a"}],
        })  # fmt: skip
        yield client, {
            "job_id": job["JobId"], "job_arn": job["JobArn"], "recognizer": recognizer, "endpoint": endpoint,
            "pii_job_id": pii["JobId"], "pii_job_arn": pii["JobArn"],
            "language_job_id": language["JobId"], "language_job_arn": language["JobArn"],
        }  # fmt: skip


def unknown_twin(value: str) -> str:
    """The same id or ARN with its resource part changed: a resource that exists nowhere."""
    if value.startswith("arn:"):
        return re.sub(r"(secret-recognizer|secret-endpoint|[0-9a-f]{32})", lambda m: "nothing" + m.group(1)[7:], value)
    return "f" * 32


def requests(ids: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Every operation that names a resource, as account B would send it with account A's ids."""
    role = f"arn:aws:iam::{B}:role/ComprehendData"
    job = {"InputDataConfig": {"S3Uri": "s3://docs/in/"}, "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
           "DataAccessRoleArn": role, "LanguageCode": "en"}  # fmt: skip
    found = [
        ("DescribeEntitiesDetectionJob", {"JobId": ids["job_id"]}),
        ("StopEntitiesDetectionJob", {"JobId": ids["job_id"]}),
        ("StartEntitiesDetectionJob", {**job, "EntityRecognizerArn": ids["recognizer"]}),
        ("DescribeEntityRecognizer", {"EntityRecognizerArn": ids["recognizer"]}),
        ("StopTrainingEntityRecognizer", {"EntityRecognizerArn": ids["recognizer"]}),
        ("DeleteEntityRecognizer", {"EntityRecognizerArn": ids["recognizer"]}),
        ("CreateEndpoint", {"EndpointName": "mine", "ModelArn": ids["recognizer"], "DesiredInferenceUnits": 1}),
        ("DescribeEndpoint", {"EndpointArn": ids["endpoint"]}),
        ("UpdateEndpoint", {"EndpointArn": ids["endpoint"], "DesiredInferenceUnits": 2}),
        ("DeleteEndpoint", {"EndpointArn": ids["endpoint"]}),
        ("DetectEntities", {"Text": "Paris", "EndpointArn": ids["endpoint"]}),
        ("DescribePiiEntitiesDetectionJob", {"JobId": ids["pii_job_id"]}),
        ("StopPiiEntitiesDetectionJob", {"JobId": ids["pii_job_id"]}),
        ("DescribeDominantLanguageDetectionJob", {"JobId": ids["language_job_id"]}),
        ("StopDominantLanguageDetectionJob", {"JobId": ids["language_job_id"]}),
    ]
    for arn in (ids["job_arn"], ids["recognizer"], ids["endpoint"], ids["pii_job_arn"], ids["language_job_arn"]):
        found += [
            ("TagResource", {"ResourceArn": arn, "Tags": [{"Key": "owner", "Value": "b"}]}),
            ("UntagResource", {"ResourceArn": arn, "TagKeys": ["owner"]}),
            ("ListTagsForResource", {"ResourceArn": arn}),
        ]
    return found


def twin_request(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    twins = {value: unknown_twin(value) for value in ids.values()}
    return {key: twins.get(value, value) if isinstance(value, str) else value for key, value in body.items()}


def test_every_id_of_another_account_is_as_good_as_unknown(world: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = world
    for operation, body in requests(ids):
        status, answer = as_b(client, operation, body)
        twin_status, twin_answer = as_b(client, operation, twin_request(body, ids))
        assert status in (400, 404), (operation, status, answer)
        assert (status, answer["__type"]) == (twin_status, twin_answer["__type"]), operation
        # The message may name the id, and says nothing else: the two differ only by the id.
        shown = answer["Message"]
        for value in sorted(ids.values(), key=len, reverse=True):  # an ARN before the id inside it
            shown = shown.replace(value, unknown_twin(value))
        assert shown == twin_answer["Message"], operation


def test_lists_never_show_another_accounts_resources(world: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = world
    assert as_b(client, "ListEntitiesDetectionJobs", {})[1]["EntitiesDetectionJobPropertiesList"] == []
    assert as_b(client, "ListEntityRecognizers", {})[1]["EntityRecognizerPropertiesList"] == []
    assert as_b(client, "ListEntityRecognizerSummaries", {})[1]["EntityRecognizerSummariesList"] == []
    assert as_b(client, "ListEndpoints", {})[1]["EndpointPropertiesList"] == []
    assert as_b(client, "ListPiiEntitiesDetectionJobs", {})[1]["PiiEntitiesDetectionJobPropertiesList"] == []
    listed = as_b(client, "ListDominantLanguageDetectionJobs", {})[1]
    assert listed["DominantLanguageDetectionJobPropertiesList"] == []
    # A's names are free in B's account.
    role = f"arn:aws:iam::{B}:role/ComprehendData"
    status, _ = as_b(client, "CreateEntityRecognizer", {
        "RecognizerName": "secret-recognizer", "LanguageCode": "en", "DataAccessRoleArn": role,
        "InputDataConfig": {"EntityTypes": [{"Type": "DEVICE"}], "Documents": {"S3Uri": "s3://train/docs/"},
                            "Annotations": {"S3Uri": "s3://train/annotations.csv"}},
    })  # fmt: skip
    assert status == 200


def test_nothing_b_tried_changed_what_a_owns(world: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = world
    for operation, body in requests(ids):
        as_b(client, operation, body)
    job = as_a(client, "DescribeEntitiesDetectionJob", {"JobId": ids["job_id"]})["EntitiesDetectionJobProperties"]
    assert job["JobStatus"] == "SUBMITTED"
    recognizer = as_a(client, "DescribeEntityRecognizer", {"EntityRecognizerArn": ids["recognizer"]})
    assert recognizer["EntityRecognizerProperties"]["Status"] == "TRAINED"
    endpoint = as_a(client, "DescribeEndpoint", {"EndpointArn": ids["endpoint"]})["EndpointProperties"]
    assert endpoint["DesiredInferenceUnits"] == 1
    pii = as_a(client, "DescribePiiEntitiesDetectionJob", {"JobId": ids["pii_job_id"]})
    assert pii["PiiEntitiesDetectionJobProperties"]["JobStatus"] == "SUBMITTED"
    language = as_a(client, "DescribeDominantLanguageDetectionJob", {"JobId": ids["language_job_id"]})
    assert language["DominantLanguageDetectionJobProperties"]["JobStatus"] == "SUBMITTED"
    for arn in (ids["job_arn"], ids["recognizer"], ids["endpoint"], ids["pii_job_arn"], ids["language_job_arn"]):
        assert as_a(client, "ListTagsForResource", {"ResourceArn": arn})["Tags"] == [{"Key": "owner", "Value": "a"}]


def test_the_suite_covers_every_operation_that_names_a_resource() -> None:
    kinds = ("job", "pii_job", "language_job")
    ids = dict.fromkeys(("recognizer", "endpoint", *(f"{k}_id" for k in kinds), *(f"{k}_arn" for k in kinds)), "x")
    named = {operation for operation, _ in requests(ids)}
    listing = {"ListEntitiesDetectionJobs", "ListEntityRecognizers", "ListEntityRecognizerSummaries", "ListEndpoints",
               "ListPiiEntitiesDetectionJobs", "ListDominantLanguageDetectionJobs"}  # fmt: skip
    # These name nothing that exists already.
    creating = {"CreateEntityRecognizer", "BatchDetectEntities", "DetectPiiEntities", "ContainsPiiEntities",
                "StartPiiEntitiesDetectionJob", "DetectDominantLanguage", "BatchDetectDominantLanguage",
                "StartDominantLanguageDetectionJob"}  # fmt: skip
    assert set(OPERATIONS) == named | listing | creating
