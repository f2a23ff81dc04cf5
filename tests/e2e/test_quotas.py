"""Per-account quotas on a real server: request rates that SDK retries ride through, fair job slots."""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support.server import ROLE, Server, running_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, aws_available: None) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("quotas"),
        OPENCOMPREHEND_CONTROL_TPS="5",
        OPENCOMPREHEND_DETECT_TPS="5",
        OPENCOMPREHEND_MAX_ACTIVE_JOBS="2",
    ) as running:
        yield running


def client_for(server: Server, account: str, **retries: object) -> object:
    return boto3.client(
        "comprehend",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=account,  # development mode: a twelve-digit key is the account
        aws_secret_access_key="secret",
        config=Config(retries=retries or {"total_max_attempts": 1}),
    )


def test_a_burst_past_the_rate_is_refused_without_retries(server: Server) -> None:
    client = client_for(server, "100000000001", total_max_attempts=1)
    codes = set()
    for _ in range(30):
        try:
            client.list_entities_detection_jobs()
        except ClientError as exc:
            codes.add((exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]))
    assert codes == {("TooManyRequestsException", 429)}
    with pytest.raises(ClientError) as raised:
        for _ in range(30):
            client.detect_entities(Text="Paris", LanguageCode="en")
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"


def test_boto3_standard_retries_ride_through_a_burst(server: Server) -> None:
    client = client_for(server, "100000000002", mode="standard", max_attempts=10)
    started = time.monotonic()
    for _ in range(20):
        client.list_entities_detection_jobs()  # every call succeeds in the end
    # 20 calls at 5 a second (a burst of 5 allowed) cannot take less than about 3 s.
    assert time.monotonic() - started > 2.5
    # Another account's rate is its own: not slowed by this one's.
    other = client_for(server, "100000000003", total_max_attempts=1)
    for _ in range(4):
        other.list_entities_detection_jobs()


def test_one_accounts_flood_does_not_starve_anothers_jobs(server: Server) -> None:
    lines = "\n".join(f"Line {i}: Angela Merkel met Emmanuel Macron in Paris." for i in range(3000)) + "\n"
    server.put("docs", "flood/in/doc.txt", lines)
    server.put("docs", "small/in/doc.txt", "Barack Obama visited Berlin.\n")
    flood = client_for(server, "200000000001", mode="standard", max_attempts=10)
    job_ids = [
        flood.start_entities_detection_job(
            InputDataConfig={"S3Uri": "s3://docs/flood/in/"}, OutputDataConfig={"S3Uri": "s3://docs/flood/out/"},
            DataAccessRoleArn=ROLE, LanguageCode="en",
        )["JobId"]
        for _ in range(6)
    ]  # fmt: skip
    # Past the account's two active jobs, the rest wait in SUBMITTED: once the scheduler has taken two.
    deadline = time.time() + 60
    while True:
        statuses = [
            flood.describe_entities_detection_job(JobId=j)["EntitiesDetectionJobProperties"]["JobStatus"]
            for j in job_ids
        ]
        if len(job_ids) - statuses.count("SUBMITTED") >= 2 or time.time() > deadline:
            break
        time.sleep(0.05)
    assert statuses.count("SUBMITTED") >= 3, statuses
    other = client_for(server, "200000000002", mode="standard", max_attempts=10)
    small = other.start_entities_detection_job(
        InputDataConfig={"S3Uri": "s3://docs/small/in/"}, OutputDataConfig={"S3Uri": "s3://docs/small/out/"},
        DataAccessRoleArn=ROLE, LanguageCode="en",
    )["JobId"]  # fmt: skip
    deadline = time.time() + 120
    while time.time() < deadline:
        props = other.describe_entities_detection_job(JobId=small)["EntitiesDetectionJobProperties"]
        if props["JobStatus"] == "COMPLETED":
            break
        time.sleep(0.2)
    assert props["JobStatus"] == "COMPLETED", props
    # The other account's job finished while the flood still waits.
    statuses = [
        flood.describe_entities_detection_job(JobId=j)["EntitiesDetectionJobProperties"]["JobStatus"] for j in job_ids
    ]
    assert "SUBMITTED" in statuses, statuses
    # Clean-up: stop the flood; a job may finish between the look above and its Stop, which Comprehend
    # answers InvalidRequestException ("is COMPLETED and can no longer be stopped").
    for job_id in job_ids:
        try:
            flood.stop_entities_detection_job(JobId=job_id)
        except flood.exceptions.InvalidRequestException as exc:
            assert "can no longer be stopped" in str(exc), exc
