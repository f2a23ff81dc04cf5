"""The wire in-process: dispatch, validation from botocore's model, error envelopes, request ids."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient
from support.wire import START_JOB, post

GOOD_START = START_JOB


def call(client: TestClient, operation: str, body: Any, raw: bytes | None = None) -> tuple[int, dict, dict]:
    response = post(client, operation, body, "eu-west-3", raw)
    return response.status_code, response.json(), dict(response.headers)


def start(**changes: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(GOOD_START))
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


BAD_REQUESTS = [
    (
        "missing language",
        "StartEntitiesDetectionJob",
        start(LanguageCode=None),
        400,
        "ValidationException",
        "1 validation error detected: Value null at 'languageCode' failed to satisfy constraint: "
        "Member must not be null",
    ),
    (
        "language outside the enum",
        "StartEntitiesDetectionJob",
        start(LanguageCode="xx"),
        400,
        "ValidationException",
        "1 validation error detected: Value 'xx' at 'languageCode' failed to satisfy constraint: "
        "Member must satisfy enum value set: [en, es, fr, de, it, pt, ar, hi, ja, ko, zh, zh-TW]",
    ),
    (
        "input uri not s3",
        "StartEntitiesDetectionJob",
        start(InputDataConfig={"S3Uri": "https://docs/in/"}),
        400,
        "ValidationException",
        "1 validation error detected: Value 'https://docs/in/' at 'inputDataConfig.s3Uri' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: s3://[a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9](/.*)?",
    ),
    (
        "input format outside the enum",
        "StartEntitiesDetectionJob",
        start(InputDataConfig={"S3Uri": "s3://docs/in/", "InputFormat": "ONE_DOC_PER_PAGE"}),
        400,
        "ValidationException",
        "at 'inputDataConfig.inputFormat' failed to satisfy constraint: Member must satisfy enum value set",
    ),
    (
        "job name too long",
        "StartEntitiesDetectionJob",
        start(JobName="n" * 257),
        400,
        "ValidationException",
        "at 'jobName' failed to satisfy constraint: Member must have length less than or equal to 256",
    ),
    (
        "job name with a forbidden character",
        "StartEntitiesDetectionJob",
        start(JobName="bad#name"),
        400,
        "ValidationException",
        "at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern",
    ),
    (
        "role arn too short and malformed",
        "StartEntitiesDetectionJob",
        start(DataAccessRoleArn="arn:aws:iam::1:r"),
        400,
        "ValidationException",
        "2 validation errors detected: Value 'arn:aws:iam::1:r' at 'dataAccessRoleArn' failed to satisfy "
        "constraint: Member must have length greater than or equal to 20; Value 'arn:aws:iam::1:r' at "
        "'dataAccessRoleArn' failed to satisfy constraint: Member must satisfy regular expression pattern",
    ),
    (
        "token with underscore",
        "StartEntitiesDetectionJob",
        start(ClientRequestToken="has_underscore"),
        400,
        "ValidationException",
        "at 'clientRequestToken' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "^[a-zA-Z0-9-]+$",
    ),
    (
        "volume key not ascii",
        "StartEntitiesDetectionJob",
        start(VolumeKmsKeyId="clé"),
        400,
        "ValidationException",
        "at 'volumeKmsKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern",
    ),
    (
        "output kms key too long",
        "StartEntitiesDetectionJob",
        start(OutputDataConfig={"S3Uri": "s3://docs/out/", "KmsKeyId": "k" * 2049}),
        400,
        "ValidationException",
        "at 'outputDataConfig.kmsKeyId' failed to satisfy constraint: Member must have length less than or "
        "equal to 2048",
    ),
    (
        "too many security groups",
        "StartEntitiesDetectionJob",
        start(VpcConfig={"SecurityGroupIds": [f"sg-{i}" for i in range(6)], "Subnets": ["subnet-1"]}),
        400,
        "ValidationException",
        "at 'vpcConfig.securityGroupIds' failed to satisfy constraint: Member must have length less than or equal to 5",
    ),
    (
        "vpc config without subnets",
        "StartEntitiesDetectionJob",
        start(VpcConfig={"SecurityGroupIds": ["sg-1"]}),
        400,
        "ValidationException",
        "Value null at 'vpcConfig.subnets' failed to satisfy constraint: Member must not be null",
    ),
    (
        "tag key too long",
        "StartEntitiesDetectionJob",
        start(Tags=[{"Key": "k" * 129, "Value": "v"}]),
        400,
        "ValidationException",
        "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128",
    ),
    (
        "too many tags",
        "StartEntitiesDetectionJob",
        start(Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]),
        400,
        "TooManyTagsException",
        "at most 50 tags",
    ),
    (
        "reserved tag prefix",
        "StartEntitiesDetectionJob",
        start(Tags=[{"Key": "aws:owner", "Value": "v"}]),
        400,
        "InvalidRequestException",
        "reserved prefix 'aws:'",
    ),
    (
        "recognizer that does not exist",
        "StartEntitiesDetectionJob",
        start(EntityRecognizerArn="arn:aws:comprehend:us-east-1:111122223333:entity-recognizer/nope"),
        404,
        "ResourceNotFoundException",
        "RESOURCE_NOT_FOUND: Could not find specified resource.",
    ),
    (
        "job id too long",
        "DescribeEntitiesDetectionJob",
        {"JobId": "a" * 33},
        400,
        "ValidationException",
        "at 'jobId' failed to satisfy constraint: Member must have length less than or equal to 32",
    ),
    (
        "unknown job",
        "DescribeEntitiesDetectionJob",
        {"JobId": "0" * 32},
        404,
        "JobNotFoundException",
        "00000000000000000000000000000000",
    ),
    (
        "stop an unknown job",
        "StopEntitiesDetectionJob",
        {"JobId": "1" * 32},
        404,
        "JobNotFoundException",
        "11111111111111111111111111111111",
    ),
    (
        "max results zero",
        "ListEntitiesDetectionJobs",
        {"MaxResults": 0},
        400,
        "ValidationException",
        "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
    ),
    (
        "max results over 500",
        "ListEntitiesDetectionJobs",
        {"MaxResults": 501},
        400,
        "ValidationException",
        "Member must have value less than or equal to 500",
    ),
    (
        "filter status outside the enum",
        "ListEntitiesDetectionJobs",
        {"Filter": {"JobStatus": "DONE"}},
        400,
        "ValidationException",
        "Value 'DONE' at 'filter.jobStatus' failed to satisfy constraint",
    ),
    (
        "forged next token",
        "ListEntitiesDetectionJobs",
        {"NextToken": "eyJmIjoxfQ.deadbeef"},
        400,
        "InvalidRequestException",
        "Invalid pagination token.",
    ),
    (
        "empty time window",
        "ListEntitiesDetectionJobs",
        {"Filter": {"SubmitTimeBefore": 1000, "SubmitTimeAfter": 2000}},
        400,
        "InvalidFilterException",
        "SubmitTimeBefore must be later than SubmitTimeAfter",
    ),
    (
        "string where an integer belongs",
        "ListEntitiesDetectionJobs",
        {"MaxResults": "5"},
        400,
        "SerializationException",
        "Expected an integer at 'maxResults'",
    ),
    (
        "an object where a string belongs",
        "DescribeEntitiesDetectionJob",
        {"JobId": {"x": 1}},
        400,
        "SerializationException",
        "Expected a string at 'jobId'",
    ),
    (
        "operation not implemented yet",
        "DetectSentiment",
        {"Text": "Paris", "LanguageCode": "en"},
        501,
        "NotImplementedException",
        "The operation DetectSentiment is not implemented",
    ),
]


@pytest.mark.parametrize(
    ("operation", "body", "status", "code", "message"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_request_gets_the_exact_error(
    client: TestClient, operation: str, body: Any, status: int, code: str, message: str
) -> None:
    got_status, got_body, headers = call(client, operation, body)
    assert (got_status, got_body["__type"]) == (status, code), got_body
    assert message in got_body["Message"]
    assert set(got_body) == {"__type", "Message"}
    assert headers["x-amzn-requestid"]
    assert headers["content-type"] == "application/x-amz-json-1.1"


def test_unknown_target_and_bad_json(client: TestClient) -> None:
    status, body, _ = call(client, "NoSuchOperation", {})
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert "Comprehend_20171127.NoSuchOperation" in body["Message"]
    status, body, _ = call(client, "ListEntitiesDetectionJobs", None, raw=b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body, _ = call(client, "ListEntitiesDetectionJobs", [1, 2])
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body, _ = call(client, "ListEntitiesDetectionJobs", None, raw=b"")
    assert status == 200 and body == {"EntitiesDetectionJobPropertiesList": []}


def test_every_response_has_its_own_request_id(client: TestClient) -> None:
    ids = {call(client, "ListEntitiesDetectionJobs", {})[2]["x-amzn-requestid"] for _ in range(3)}
    assert len(ids) == 3


def test_start_then_describe_uses_the_region_from_the_credential_scope(client: TestClient) -> None:
    status, started, _ = call(client, "StartEntitiesDetectionJob", start(JobName="my job: 1"))
    assert status == 200
    assert started["JobStatus"] == "SUBMITTED"
    assert started["JobArn"] == f"arn:aws:comprehend:eu-west-3:111122223333:entities-detection-job/{started['JobId']}"
    status, described, _ = call(client, "DescribeEntitiesDetectionJob", {"JobId": started["JobId"]})
    props = described["EntitiesDetectionJobProperties"]
    assert props["JobName"] == "my job: 1"
    assert props["InputDataConfig"] == {"S3Uri": "s3://docs/in/", "InputFormat": "ONE_DOC_PER_LINE"}
    assert props["OutputDataConfig"] == {
        "S3Uri": f"s3://docs/out/111122223333-NER-{started['JobId']}/output/output.tar.gz"
    }
    assert isinstance(props["SubmitTime"], float)
    assert "EndTime" not in props and "Message" not in props and "VpcConfig" not in props


def test_stop_a_submitted_job_then_again(client: TestClient) -> None:
    _, started, _ = call(client, "StartEntitiesDetectionJob", start())
    job_id = started["JobId"]
    assert call(client, "StopEntitiesDetectionJob", {"JobId": job_id})[1] == {
        "JobId": job_id,
        "JobStatus": "STOP_REQUESTED",
    }
    assert call(client, "StopEntitiesDetectionJob", {"JobId": job_id})[1]["JobStatus"] == "STOP_REQUESTED"


def test_timestamps_in_filters_are_epoch_seconds_numbers(client: TestClient) -> None:
    call(client, "StartEntitiesDetectionJob", start(JobName="timed"))
    for value in (4102444800, 4102444800.5):
        status, body, _ = call(client, "ListEntitiesDetectionJobs", {"Filter": {"SubmitTimeBefore": value}})
        assert status == 200 and len(body["EntitiesDetectionJobPropertiesList"]) == 1


# A member of the wrong JSON type for botocore's model (AWS JSON 1.1: a timestamp is epoch seconds, a number)
# is a SerializationException, as AWS answers it, never quietly taken or ignored.
WRONG_TYPES = [
    ("ListEntitiesDetectionJobs", {"Filter": {"SubmitTimeAfter": "2024-01-01T00:00:00Z"}}, "filter.submitTimeAfter"),
    ("ListEntitiesDetectionJobs", {"Filter": {"SubmitTimeBefore": "1704067200"}}, "filter.submitTimeBefore"),
    ("ListEntitiesDetectionJobs", {"Filter": {"SubmitTimeAfter": True}}, "filter.submitTimeAfter"),
    ("ListEntitiesDetectionJobs", {"Filter": {"SubmitTimeAfter": [1]}}, "filter.submitTimeAfter"),
    ("ListEntityRecognizers", {"Filter": {"SubmitTimeAfter": "2024-01-01"}}, "filter.submitTimeAfter"),
    ("ListEntitiesDetectionJobs", {"Filter": "COMPLETED"}, "filter"),
    ("ListEntitiesDetectionJobs", {"Filter": [{"JobStatus": "COMPLETED"}]}, "filter"),
    ("ListEntitiesDetectionJobs", {"MaxResults": 5.0}, "maxResults"),
    ("ListEntitiesDetectionJobs", {"MaxResults": False}, "maxResults"),
    ("ListEntitiesDetectionJobs", {"MaxResults": 2**31}, "maxResults"),
    ("ListEntitiesDetectionJobs", {"MaxResults": -(10**40)}, "maxResults"),
    ("CreateEndpoint", {"EndpointName": "e", "DesiredInferenceUnits": 2**31,
                        "ModelArn": "arn:aws:comprehend:eu-west-3:111122223333:entity-recognizer/r"},
     "desiredInferenceUnits"),
    ("DetectEntities", {"Text": 5, "LanguageCode": "en"}, "text"),
    ("DetectEntities", {"Text": "Paris", "LanguageCode": ["en"]}, "languageCode"),
    ("BatchDetectEntities", {"TextList": "Paris", "LanguageCode": "en"}, "textList"),
    ("BatchDetectEntities", {"TextList": [1], "LanguageCode": "en"}, "textList.1.member"),
    ("StartEntitiesDetectionJob", start(Tags={"Key": "k", "Value": "v"}), "tags"),
    ("StartEntitiesDetectionJob", start(InputDataConfig="s3://docs/in/"), "inputDataConfig"),
    ("DetectEntities", {"Bytes": 5}, "bytes"),
]  # fmt: skip


@pytest.mark.parametrize(("operation", "body", "where"), WRONG_TYPES, ids=[f"{c[0]}:{c[2]}" for c in WRONG_TYPES])
def test_a_member_of_the_wrong_json_type_is_a_serialization_error(
    client: TestClient, operation: str, body: dict, where: str
) -> None:
    call(client, "StartEntitiesDetectionJob", start(JobName="present"))
    status, answer, headers = call(client, operation, body)
    assert (status, answer["__type"]) == (400, "SerializationException"), answer
    assert f"at '{where}'" in answer["Message"]
    assert headers["content-type"] == "application/x-amz-json-1.1" and headers["x-amzn-requestid"]
