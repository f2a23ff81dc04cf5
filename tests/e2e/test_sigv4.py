"""A shared server with `--auth sigv4`: keys made with `opencomprehend credentials`, used by the AWS CLI and boto3."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support.server import BIN, Server, aws_cli, client_env, running_server

pytestmark = pytest.mark.e2e

OC = str(BIN / "opencomprehend")
ROLE_A = "arn:aws:iam::123456789012:role/ComprehendData"
ROLE_B = "arn:aws:iam::210987654321:role/ComprehendData"


def credentials(data_dir: Path, *args: str) -> str:
    done = subprocess.run([OC, "credentials", *args, "--data-dir", str(data_dir)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def add_key(data_dir: Path, account: str, *args: str) -> tuple[str, ...]:
    """A key made with `credentials add`: (key, secret), or (key, secret, session token) with `--session`."""
    lines = dict(
        line.split(": ", 1) for line in credentials(data_dir, "add", "--account-id", account, *args).splitlines()
    )
    return (lines["AccessKeyId"], lines["SecretAccessKey"]) + ((lines["SessionToken"],) if "--session" in args else ())


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, aws_available: None) -> Iterator[tuple[Server, dict]]:
    data_dir = tmp_path_factory.mktemp("sigv4")
    keys = {"a": add_key(data_dir, "123456789012"), "b": add_key(data_dir, "210987654321")}
    for account in ("123456789012", "210987654321"):
        done = subprocess.run(
            [OC, "roles", "add", "--account-id", account, "--name", "ComprehendData", "--read", "s3://docs/in/",
             "--write", "s3://docs/out/", "--data-dir", str(data_dir)], capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0 and done.stdout.strip() == f"arn:aws:iam::{account}:role/ComprehendData"
    with running_server(data_dir, OPENCOMPREHEND_AUTH="sigv4", OPENCOMPREHEND_WORKERS="1") as server:
        yield server, keys


def cli(server: Server, key: tuple[str, ...], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **client_env(),
        "AWS_ACCESS_KEY_ID": key[0],
        "AWS_SECRET_ACCESS_KEY": key[1],
        "AWS_DEFAULT_REGION": "eu-west-1",
        **({"AWS_SESSION_TOKEN": key[2]} if len(key) > 2 else {}),
    }
    return subprocess.run(
        [aws_cli(), "comprehend", *args, "--endpoint-url", server.endpoint, "--output", "json"],  # type: ignore[list-item]
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def boto(server: Server, key: tuple[str, ...]) -> object:
    return boto3.client(
        "comprehend", endpoint_url=server.endpoint, region_name="eu-west-1", aws_access_key_id=key[0],
        aws_secret_access_key=key[1], aws_session_token=key[2] if len(key) > 2 else None,
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip


def test_the_cli_and_boto3_work_with_real_keys_each_in_its_account(shared: tuple[Server, dict]) -> None:
    server, keys = shared
    done = cli(server, keys["a"], "detect-entities", "--language-code", "en", "--text", "Angela Merkel visited Paris.")
    assert done.returncode == 0, done.stderr
    assert "Angela Merkel" in done.stdout
    server.put("docs", "in/a.txt", "Barack Obama visited Berlin.\n")
    started = boto(server, keys["a"]).start_entities_detection_job(  # type: ignore[attr-defined]
        InputDataConfig={"S3Uri": "s3://docs/in/"}, OutputDataConfig={"S3Uri": "s3://docs/out/"},
        DataAccessRoleArn=ROLE_A, LanguageCode="en",
    )  # fmt: skip
    assert started["JobArn"].startswith("arn:aws:comprehend:eu-west-1:123456789012:")
    theirs = cli(server, keys["b"], "describe-entities-detection-job", "--job-id", started["JobId"])
    assert theirs.returncode != 0 and "JobNotFoundException" in theirs.stderr


def test_wrong_or_unknown_keys_are_refused_as_aws_refuses_them(shared: tuple[Server, dict]) -> None:
    server, keys = shared
    wrong = cli(server, (keys["a"][0], "x" * 40), "list-entities-detection-jobs")
    assert wrong.returncode != 0 and "InvalidSignatureException" in wrong.stderr
    with pytest.raises(ClientError) as raised:
        boto(server, ("AKIAIOSFODNN7EXAMPLE", "x" * 40)).list_endpoints()  # type: ignore[attr-defined]
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_a_removed_key_stops_working_at_once(shared: tuple[Server, dict]) -> None:
    server, _ = shared
    key = add_key(server.data_dir, "333333333333")
    assert cli(server, key, "list-endpoints").returncode == 0
    listed = credentials(server.data_dir, "list")
    assert key[0] in listed and key[1] not in listed
    credentials(server.data_dir, "remove", key[0])
    refused = cli(server, key, "list-endpoints")
    assert refused.returncode != 0 and "UnrecognizedClientException" in refused.stderr


def test_temporary_credentials_work_with_their_session_token_until_they_expire(shared: tuple[Server, dict]) -> None:
    server, _ = shared
    session = add_key(server.data_dir, "123456789012", "--session", "--duration-seconds", "3600")
    assert session[0].startswith("OCAS")
    done = cli(server, session, "detect-entities", "--language-code", "en", "--text", "Angela Merkel visited Paris.")
    assert done.returncode == 0 and "Angela Merkel" in done.stdout, done.stderr
    assert boto(server, session).list_endpoints()["EndpointPropertiesList"] == []  # type: ignore[attr-defined]
    listed = credentials(server.data_dir, "list")
    assert f"{session[0]}  123456789012" in listed and "session, expires" in listed and session[2] not in listed
    # Without its token, or with another's, the key is refused; a long-term key with a token is too.
    for key in (session[:2], (*session[:2], session[2][::-1])):
        with pytest.raises(ClientError) as raised:
            boto(server, key).list_endpoints()  # type: ignore[attr-defined]
        assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"
    # Once expired: ExpiredTokenException (botocore would refresh refreshable credentials on it).
    short = add_key(server.data_dir, "123456789012", "--session", "--duration-seconds", "1")
    time.sleep(1.5)
    expired = cli(server, short, "list-endpoints")
    assert expired.returncode != 0 and "ExpiredTokenException" in expired.stderr, expired.stderr
    assert "session, expired" in credentials(server.data_dir, "list")


def test_a_header_added_after_signing_is_refused(shared: tuple[Server, dict]) -> None:
    # botocore signs every header it sends; one added later (an X-Amz-Target swapped in) is refused.
    import json
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    server, keys = shared
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=b'{"JobId": "x"}')
    SigV4Auth(Credentials(*keys["a"]), "comprehend", "eu-west-1").add_auth(request)
    headers = {**dict(request.headers.items()), "X-Amz-Target": "Comprehend_20171127.StopEntitiesDetectionJob"}
    sent = urllib.request.Request(server.endpoint + "/", data=request.body, headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(sent, timeout=30)
    assert raised.value.code == 400
    assert json.loads(raised.value.read())["__type"] == "IncompleteSignatureException"


def test_development_mode_never_binds_beyond_loopback(tmp_path: Path) -> None:
    done = subprocess.run(
        [OC, "serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)], capture_output=True, text=True,
        timeout=60, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 2 and "start it with --auth sigv4" in done.stderr


def _start(server: Server, key: tuple[str, str], role: str, source: str, target: str) -> str:
    return boto(server, key).start_entities_detection_job(  # type: ignore[attr-defined]
        InputDataConfig={"S3Uri": source}, OutputDataConfig={"S3Uri": target}, DataAccessRoleArn=role,
        LanguageCode="en",
    )["JobId"]  # fmt: skip


def test_a_role_the_account_does_not_have_is_refused_at_start(shared: tuple[Server, dict]) -> None:
    server, keys = shared
    for role in ("arn:aws:iam::123456789012:role/NoSuchRole", ROLE_B):
        with pytest.raises(ClientError) as raised:
            _start(server, keys["a"], role, "s3://docs/in/", "s3://docs/out/")
        assert raised.value.response["Error"]["Code"] == "InvalidRequestException"
        assert "does not exist in account 123456789012" in raised.value.response["Error"]["Message"]


def test_a_job_reads_and_writes_only_where_its_role_may(shared: tuple[Server, dict]) -> None:
    server, keys = shared
    server.put("docs", "in/ok.txt", "Angela Merkel visited Paris.\n")
    server.put("private", "in/secret.txt", "Barack Obama visited Berlin.\n")
    client = boto(server, keys["a"])
    cases = {
        _start(server, keys["a"], ROLE_A, "s3://private/in/", "s3://docs/out/"): "NO_READ_ACCESS_TO_INPUT:",
        _start(server, keys["a"], ROLE_A, "s3://docs/in/", "s3://private/out/"): "NO_WRITE_ACCESS_TO_OUTPUT:",
        _start(server, keys["a"], ROLE_A, "s3://docs/in/", "s3://docs/out/role/"): None,
    }
    for job_id, reason in cases.items():
        deadline = time.time() + 120
        while True:
            props = client.describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]  # type: ignore[attr-defined]
            if props["JobStatus"] in ("COMPLETED", "FAILED") or time.time() > deadline:
                break
            time.sleep(0.2)
        if reason is None:
            assert props["JobStatus"] == "COMPLETED", props
        else:
            assert props["JobStatus"] == "FAILED" and props["Message"].startswith(reason), props
    assert not (server.bucket_root / "private" / "out").exists(), "nothing was written outside the role's prefixes"


def _roles(data_dir: Path, *args: str) -> None:
    done = subprocess.run([OC, "roles", *args, "--data-dir", str(data_dir)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("revoke", "reason"),
    [
        # Gone altogether: whichever comes first, the next shard's read or the next write, fails the job.
        ("remove", ("NO_READ_ACCESS_TO_INPUT: ", "NO_WRITE_ACCESS_TO_OUTPUT: ")),
        ("narrow-read", ("NO_READ_ACCESS_TO_INPUT: ",)),
        ("narrow-write", ("NO_WRITE_ACCESS_TO_OUTPUT: ",)),
    ],
)
def test_a_role_removed_or_narrowed_mid_job_fails_the_job_at_its_next_read_or_write(
    shared: tuple[Server, dict], revoke: str, reason: tuple[str, ...]
) -> None:
    # Issue 17, item 8: the job went on and wrote its output; a KMS key disabled mid-job does fail it.
    server, keys = shared
    name = f"Revocable{revoke.title().replace('-', '')}"
    role = f"arn:aws:iam::123456789012:role/{name}"
    source, target = f"s3://docs/in-{revoke}/", f"s3://docs/out-{revoke}/"
    _roles(server.data_dir, "add", "--account-id", "123456789012", "--name", name, "--read", source, "--write", target)
    lines = "".join(f"Angela Merkel visited Paris on day {i}.\n" for i in range(20_000))
    server.put("docs", f"in-{revoke}/big.txt", lines)
    client = boto(server, keys["a"])
    job_id = _start(server, keys["a"], role, source, target)

    def status() -> str:
        return client.describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]["JobStatus"]  # type: ignore[attr-defined]

    deadline = time.time() + 120
    while status() == "SUBMITTED" and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(2)
    assert status() == "IN_PROGRESS", "the job is still running when its role is revoked"
    if revoke == "remove":
        _roles(server.data_dir, "remove", role)
    else:  # the same role, in one write, no longer allowed to read the input, or to write the output
        read, write = (("s3://docs/elsewhere/", target) if revoke == "narrow-read" else (source, "s3://docs/elsewhere/"))
        _roles(server.data_dir, "add", "--account-id", "123456789012", "--name", name, "--read", read,
               "--write", write, "--replace")  # fmt: skip
    deadline = time.time() + 300
    while True:
        props = client.describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]  # type: ignore[attr-defined]
        if props["JobStatus"] in ("COMPLETED", "FAILED", "STOPPED") or time.time() > deadline:
            break
        time.sleep(0.2)
    assert props["JobStatus"] == "FAILED", props
    assert props["Message"].startswith(reason), props["Message"]
    assert not (server.bucket_root / "docs" / f"out-{revoke}").exists(), "nothing was written after the revocation"


@pytest.mark.parametrize("outside", ["documents", "annotations"])
def test_a_recognizer_whose_training_data_its_role_may_not_read_ends_in_error_no_read_access(
    shared: tuple[Server, dict], outside: str
) -> None:
    # Issue 17, item 13: docs/security.md promises NO_READ_ACCESS_TO_INPUT; INVALID_TRAINING_DATA came back.
    server, keys = shared
    inside, private = f"s3://docs/in/train-{outside}/", f"s3://private/train-{outside}/"
    for where in (inside, private):
        bucket, prefix = where.removeprefix("s3://").split("/", 1)
        server.put(bucket, f"{prefix}docs/a.txt", "Angela Merkel visited Paris.\n" * 40)
        server.put(bucket, f"{prefix}annotations.csv", "File,Line,Begin Offset,End Offset,Type\na.txt,0,0,13,PERSON\n")
    documents = private if outside == "documents" else inside
    client = boto(server, keys["a"])
    arn = client.create_entity_recognizer(  # type: ignore[attr-defined]
        RecognizerName=f"outside-{outside}", LanguageCode="en", DataAccessRoleArn=ROLE_A,
        InputDataConfig={
            "EntityTypes": [{"Type": "PERSON"}], "Documents": {"S3Uri": f"{documents}docs/"},
            "Annotations": {"S3Uri": f"{private if outside == 'annotations' else inside}annotations.csv"},
        },
    )["EntityRecognizerArn"]  # fmt: skip
    deadline = time.time() + 120
    while True:
        props = client.describe_entity_recognizer(EntityRecognizerArn=arn)["EntityRecognizerProperties"]  # type: ignore[attr-defined]
        if props["Status"] not in ("SUBMITTED", "TRAINING") or time.time() > deadline:
            break
        time.sleep(0.2)
    assert props["Status"] == "IN_ERROR", props
    assert props["Message"].startswith("NO_READ_ACCESS_TO_INPUT: "), props["Message"]
