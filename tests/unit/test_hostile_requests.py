"""Hostile and malformed requests in-process: each gets AWS's JSON error form, and leaves nothing behind."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from support.wire import START_JOB, call, post

from opencomprehend.config import Settings
from opencomprehend.server import create_app

START = START_JOB


def jobs(client: TestClient, region: str = "us-east-1") -> list[dict]:
    status, body = call(client, "ListEntitiesDetectionJobs", {}, region)
    assert status == 200
    return body["EntitiesDetectionJobPropertiesList"]


def raw_call(client: TestClient, operation: str, raw: bytes) -> tuple[int, dict]:
    response = post(client, operation, None, raw=raw)
    assert response.headers["content-type"] == "application/x-amz-json-1.1", response.text
    return response.status_code, response.json()


def test_an_oversized_body_is_refused_before_it_is_read(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, max_request_bytes=10_000), run_workers=False)
    with TestClient(app) as client:
        status, body = raw_call(client, "DetectEntities", b'{"Text": "' + b"a" * 20_000 + b'", "LanguageCode": "en"}')
        assert status == 413 and body["__type"] == "RequestEntityTooLargeException", body
        assert "the limit is 10000 bytes" in body["Message"]

        # Without a Content-Length (chunked), the limit holds while the body streams in.
        def chunks():  # type: ignore[no-untyped-def]
            yield b'{"Text": "'
            for _ in range(100):
                yield b"a" * 1000
            yield b'"}'

        response = client.post("/", content=chunks(), headers={"X-Amz-Target": "Comprehend_20171127.DetectEntities"})
        assert response.status_code == 413 and response.json()["__type"] == "RequestEntityTooLargeException"
        # A request under the limit is served as usual.
        assert call(client, "ListEntitiesDetectionJobs", {})[0] == 200


def test_the_default_limit_admits_comprehends_largest_requests(client: TestClient) -> None:
    # 25 items of 5,000 bytes, each character a control character that JSON escapes to six bytes.
    batch = json.dumps({"TextList": ["\u0001" * 5000] * 25, "LanguageCode": "en"}).encode()
    assert len(batch) > 700_000
    status, body = raw_call(client, "BatchDetectEntities", batch)
    assert status == 200, body


def test_deeply_nested_json_is_a_serialization_error(client: TestClient) -> None:
    status, body = raw_call(client, "ListEntitiesDetectionJobs", b"[" * 100_000)
    assert (status, body["__type"]) == (400, "SerializationException"), body


HUGE = "9" * 5000  # past Python's 4,300-digit limit on converting a number's text


@pytest.mark.parametrize(
    ("operation", "raw"),
    [
        ("ListEntitiesDetectionJobs", b'{"MaxResults": ' + HUGE.encode() + b"}"),
        ("ListEntitiesDetectionJobs", b'{"MaxResults": -' + HUGE.encode() + b"}"),
        ("ListEntitiesDetectionJobs", b'{"NoSuchMember": ' + HUGE.encode() + b"}"),
        ("DetectEntities", b'{"Text": "Paris", "LanguageCode": "en", "x": [[{"y": ' + HUGE.encode() + b"}]]}"),
        ("StartEntitiesDetectionJob", json.dumps(START).encode()[:-1] + b', "Tags": [' + HUGE.encode() + b"]}"),
    ],
    ids=["known member", "negative", "unknown member", "nested", "in a list"],
)
def test_an_integer_too_long_to_read_is_a_serialization_error(client: TestClient, operation: str, raw: bytes) -> None:
    status, body = raw_call(client, operation, raw)
    assert (status, body["__type"]) == (400, "SerializationException"), body
    assert "more than 4,300 digits" in body["Message"]
    assert jobs(client) == []


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"Filter": {"SubmitTimeAfter": NaN}}', "NaN is not a JSON value"),
        (b'{"Filter": {"SubmitTimeAfter": -Infinity}}', "-Infinity is not a JSON value"),
        (b'{"Unknown": [Infinity]}', "Infinity is not a JSON value"),
        (b'{"Filter": {"SubmitTimeAfter": 1e400}}', "The timestamp at 'filter.submitTimeAfter' is out of range"),
    ],
)
def test_numbers_json_does_not_have_are_serialization_errors(client: TestClient, raw: bytes, words: str) -> None:
    # Python's json reads NaN and Infinity, and 1e400 as infinity: all were taken as timestamps (200).
    status, body = raw_call(client, "ListEntitiesDetectionJobs", raw)
    assert (status, body["__type"]) == (400, "SerializationException"), body
    assert words in body["Message"]


@pytest.mark.parametrize("where", ["tag key", "tag value", "job name", "text"])
def test_a_lone_surrogate_anywhere_is_a_400_and_creates_nothing(client: TestClient, where: str) -> None:
    request = json.loads(json.dumps(START))
    if where == "tag key":
        request["Tags"] = [{"Key": "\ud800", "Value": "v"}]
    elif where == "tag value":
        request["Tags"] = [{"Key": "k", "Value": "x\ud800"}]
    elif where == "job name":
        request["JobName"] = "\ud800" * 300  # fails validation (length, pattern) as well
    else:
        request = {"Text": "Paris \udfff", "LanguageCode": "en"}
    operation = "DetectEntities" if where == "text" else "StartEntitiesDetectionJob"
    # json.dumps escapes the surrogate as \ud800, exactly what a hostile client sends.
    status, body = raw_call(client, operation, json.dumps(request).encode())
    assert (status, body["__type"]) == (400, "InvalidRequestException"), body
    assert "unpaired surrogate" in body["Message"]
    assert jobs(client) == []


def test_job_and_tags_are_created_together_or_not_at_all(client: TestClient) -> None:
    # 51 tags: refused, and no job is left behind that a retry would duplicate.
    too_many = {**START, "Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]}
    assert call(client, "StartEntitiesDetectionJob", too_many)[1]["__type"] == "TooManyTagsException"
    assert jobs(client) == []
    status, created = call(client, "StartEntitiesDetectionJob", {**START, "Tags": [{"Key": "team", "Value": "nlp"}]})
    assert status == 200
    status, listed = call(client, "ListTagsForResource", {"ResourceArn": created["JobArn"]})
    assert listed["Tags"] == [{"Key": "team", "Value": "nlp"}]


def test_a_client_request_token_belongs_to_one_region(client: TestClient) -> None:
    request = {**START, "ClientRequestToken": "same-token"}
    status, east = call(client, "StartEntitiesDetectionJob", request, "us-east-1")
    assert status == 200
    status, west = call(client, "StartEntitiesDetectionJob", request, "eu-west-1")
    assert status == 200 and west["JobId"] != east["JobId"]
    assert ":eu-west-1:" in west["JobArn"]
    status, described = call(client, "DescribeEntitiesDetectionJob", {"JobId": west["JobId"]}, "eu-west-1")
    assert status == 200
    # The same token again in each region returns that region's job.
    assert call(client, "StartEntitiesDetectionJob", request, "us-east-1")[1]["JobId"] == east["JobId"]
    assert call(client, "StartEntitiesDetectionJob", request, "eu-west-1")[1]["JobId"] == west["JobId"]


@pytest.mark.parametrize(
    "region",
    ['evil"region<script>', "x" * 5000, "us-east-1:999999999999:x", "US-EAST-1", "us-east-", "east"],
)
def test_only_well_formed_regions_are_accepted(client: TestClient, region: str) -> None:
    status, body = call(client, "StartEntitiesDetectionJob", START, region)
    assert (status, body) == (
        400,
        {"__type": "InvalidSignatureException", "Message": "Credential should be scoped to a valid region."},
    )
    assert jobs(client) == []


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-2", "cn-north-1"])
def test_real_region_names_are_accepted(client: TestClient, region: str) -> None:
    assert call(client, "ListEntitiesDetectionJobs", {}, region)[0] == 200


@pytest.mark.parametrize(
    ("uri", "constraint"),
    [
        ("file:///etc/passwd#s3://abc", "Member must satisfy regular expression pattern: ^s3://"),
        ("s3://my-bucket/../../etc/", "Member must not have '.' or '..' path segments"),
        ("s3://my-bucket/in/./x", "Member must not have '.' or '..' path segments"),
        ("s3://../etc/", "Member must satisfy regular expression pattern"),
        ("s3:///etc/passwd", "Member must satisfy regular expression pattern"),
        ("s3://my-bucket/in/\u0000/x", "Member must not contain NUL characters"),
    ],
)
def test_s3_uris_must_be_s3_locations_from_their_first_character(client: TestClient, uri: str, constraint: str) -> None:
    status, body = call(client, "StartEntitiesDetectionJob", {**START, "InputDataConfig": {"S3Uri": uri}})
    assert (status, body["__type"]) == (400, "ValidationException"), body
    assert f"at 'inputDataConfig.s3Uri' failed to satisfy constraint: {constraint}" in body["Message"]
    assert jobs(client) == []


def test_validation_errors_do_not_echo_huge_values(client: TestClient) -> None:
    status, body = call(client, "StartEntitiesDetectionJob", {**START, "JobName": "x" * 1_000_000})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert len(body["Message"]) < 1_000, len(body["Message"])
    assert "'" + "x" * 256 + "...'" in body["Message"]
    # A document's text is sensitive: it is never echoed at all.
    status, body = call(client, "DetectEntities", {"Text": "y" * 200_000, "LanguageCode": "xx"})
    assert "yyy" not in body["Message"]


def test_unknown_paths_and_methods_answer_in_aws_form(client: TestClient) -> None:
    for response in (client.get("/etc/passwd"), client.put("/", content=b"{}"), client.delete("/")):
        assert response.status_code in (404, 405)
        assert response.json()["__type"] == "UnknownOperationException"
    # A browser opening the server's address is sent to the console.
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/console"


def test_health_reports_the_store_and_the_workers(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"Status": "OK", "Store": "OK", "Workers": {"Live": 1, "Configured": 1}}


def test_the_data_folder_and_job_store_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with TestClient(create_app(Settings(data_dir=data), run_workers=False)) as client:
        assert call(client, "StartEntitiesDetectionJob", START)[0] == 200
    for folder in (data, data / "s3", data / "work", data / "models"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for file in data.glob("opencomprehend.db*"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert stat.S_IMODE((data / "secret.key").stat().st_mode) == 0o600


def test_encoded_dots_are_literal_key_characters_that_stay_inside_the_bucket(tmp_path: Path) -> None:
    # S3 keys are not URL-decoded: "%2e%2e" is a folder of that name inside the bucket, not a way out.
    from opencomprehend.io.objects import LocalFolderStore

    store = LocalFolderStore(tmp_path / "s3")
    store.create_bucket("docs")
    store.put_bytes("docs", "in/%2e%2e/%2e%2e/x.txt", b"inside")
    assert (tmp_path / "s3" / "docs" / "in" / "%2e%2e" / "%2e%2e" / "x.txt").read_bytes() == b"inside"
    assert [o.key for o in store.list_objects("docs", "in/")] == ["in/%2e%2e/%2e%2e/x.txt"]


def test_the_per_client_connection_limit_counts_an_ipv6_client_by_its_64() -> None:
    from opencomprehend.api.http import client_key, health_reserve

    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"  # a dual-stack socket's IPv4 client
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert (health_reserve(1000), health_reserve(40)) == (50, 8)
