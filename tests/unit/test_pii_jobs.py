"""The PII job operations in-process: Start, Describe, List, Stop, tokens and tags (jobs stay queued here)."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient
from support.wire import call

ROLE = "arn:aws:iam::111122223333:role/ComprehendAccess"
ACCOUNT = "111122223333"


def start(client: TestClient, **members: Any) -> tuple[int, dict]:
    body = {
        "InputDataConfig": {"S3Uri": "s3://docs/in/"},
        "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
        "Mode": "ONLY_OFFSETS",
        "DataAccessRoleArn": ROLE,
        "LanguageCode": "en",
        **members,
    }
    return call(client, "StartPiiEntitiesDetectionJob", body)


def describe(client: TestClient, job_id: str) -> tuple[int, dict]:
    return call(client, "DescribePiiEntitiesDetectionJob", {"JobId": job_id})


def test_start_and_describe_echo_the_request_with_comprehends_output_folder(client: TestClient) -> None:
    redaction = {"PiiEntityTypes": ["NAME", "SSN"], "MaskMode": "MASK", "MaskCharacter": "#"}
    status, started = start(client, Mode="ONLY_REDACTION", RedactionConfig=redaction, JobName="pii-1")
    assert status == 200, started
    job_id = started["JobId"]
    assert re.fullmatch(r"[0-9a-f]{32}", job_id), job_id
    assert started == {
        "JobId": job_id,
        "JobArn": f"arn:aws:comprehend:us-east-1:{ACCOUNT}:pii-entities-detection-job/{job_id}",
        "JobStatus": "SUBMITTED",
    }
    status, body = describe(client, job_id)
    assert status == 200
    props = body["PiiEntitiesDetectionJobProperties"]
    assert {k: v for k, v in props.items() if k != "SubmitTime"} == {
        "JobId": job_id,
        "JobArn": started["JobArn"],
        "JobName": "pii-1",
        "JobStatus": "SUBMITTED",
        "InputDataConfig": {"S3Uri": "s3://docs/in/", "InputFormat": "ONE_DOC_PER_LINE"},
        "OutputDataConfig": {"S3Uri": f"s3://docs/out/{ACCOUNT}-PII-{job_id}/output/"},
        "RedactionConfig": redaction,
        "LanguageCode": "en",
        "DataAccessRoleArn": ROLE,
        "Mode": "ONLY_REDACTION",
    }


def test_redaction_without_its_types_is_an_invalid_request(client: TestClient) -> None:
    status, body = start(client, Mode="ONLY_REDACTION")
    assert (status, body["__type"]) == (400, "InvalidRequestException")
    status, body = start(client, Mode="ONLY_REDACTION", RedactionConfig={"MaskMode": "MASK"})
    assert (status, body["__type"]) == (400, "InvalidRequestException")


def test_members_are_validated_from_the_model(client: TestClient) -> None:
    bad = [
        {"Mode": "EVERYTHING"},
        {"Mode": "ONLY_REDACTION", "RedactionConfig": {"PiiEntityTypes": ["ALL"], "MaskCharacter": "x"}},
        {"Mode": "ONLY_REDACTION", "RedactionConfig": {"PiiEntityTypes": ["FAVOURITE_COLOUR"]}},
        {"LanguageCode": "xx"},
    ]
    for members in bad:
        status, body = start(client, **members)
        assert (status, body["__type"]) == (400, "ValidationException"), members


def test_the_same_token_replays_and_other_parameters_are_refused(client: TestClient) -> None:
    first = start(client, ClientRequestToken="tok-1")[1]
    assert start(client, ClientRequestToken="tok-1")[1] == first
    status, body = start(client, ClientRequestToken="tok-1", LanguageCode="es")
    assert (status, body["__type"]) == (400, "InvalidRequestException")


def test_pii_jobs_and_entities_jobs_are_separate_resources(client: TestClient) -> None:
    pii_id = start(client)[1]["JobId"]
    status, entities = call(
        client,
        "StartEntitiesDetectionJob",
        {
            "InputDataConfig": {"S3Uri": "s3://docs/in/"},
            "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
            "DataAccessRoleArn": ROLE,
            "LanguageCode": "en",
        },
    )
    assert status == 200
    assert describe(client, entities["JobId"])[1]["__type"] == "JobNotFoundException"
    status, body = call(client, "DescribeEntitiesDetectionJob", {"JobId": pii_id})
    assert body["__type"] == "JobNotFoundException"
    listed = call(client, "ListPiiEntitiesDetectionJobs", {})[1]["PiiEntitiesDetectionJobPropertiesList"]
    assert [job["JobId"] for job in listed] == [pii_id]
    listed = call(client, "ListEntitiesDetectionJobs", {})[1]["EntitiesDetectionJobPropertiesList"]
    assert [job["JobId"] for job in listed] == [entities["JobId"]]


def test_list_filters_and_pages(client: TestClient) -> None:
    ids = [start(client, JobName=f"job-{n % 2}")[1]["JobId"] for n in range(5)]
    status, body = call(client, "ListPiiEntitiesDetectionJobs", {"Filter": {"JobName": "job-0"}})
    assert [j["JobId"] for j in body["PiiEntitiesDetectionJobPropertiesList"]] == [ids[4], ids[2], ids[0]]
    seen, token = [], None
    while True:
        request: dict[str, Any] = {"MaxResults": 2}
        if token:
            request["NextToken"] = token
        body = call(client, "ListPiiEntitiesDetectionJobs", request)[1]
        seen += [j["JobId"] for j in body["PiiEntitiesDetectionJobPropertiesList"]]
        token = body.get("NextToken")
        if not token:
            break
    assert seen == ids[::-1]


def test_stop_and_unknown_jobs(client: TestClient) -> None:
    job_id = start(client)[1]["JobId"]
    assert call(client, "StopPiiEntitiesDetectionJob", {"JobId": job_id}) == (
        200,
        {"JobId": job_id, "JobStatus": "STOP_REQUESTED"},
    )
    assert describe(client, job_id)[1]["PiiEntitiesDetectionJobProperties"]["JobStatus"] == "STOP_REQUESTED"
    status, body = call(client, "StopPiiEntitiesDetectionJob", {"JobId": "0" * 32})
    assert body["__type"] == "JobNotFoundException"  # with the HTTP status botocore's model gives it


def test_tags_given_at_start_belong_to_the_job(client: TestClient) -> None:
    started = start(client, Tags=[{"Key": "team", "Value": "privacy"}])[1]
    status, body = call(client, "ListTagsForResource", {"ResourceArn": started["JobArn"]})
    assert status == 200, body
    assert body["Tags"] == [{"Key": "team", "Value": "privacy"}]
    tagged = call(client, "TagResource", {"ResourceArn": started["JobArn"], "Tags": [{"Key": "k", "Value": "v"}]})
    assert tagged == (200, {})
