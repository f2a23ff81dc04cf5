"""SigV4 verification in-process, with requests signed by botocore itself; development mode's accounts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.testclient import TestClient

from opencomprehend.config import Settings
from opencomprehend.server import create_app, open_credentials, open_roles

TARGET = "Comprehend_20171127."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, auth="sigv4")


@pytest.fixture
def keys(settings: Settings) -> dict[str, Any]:
    store = open_credentials(settings)
    open_roles(settings).add("123456789012", "ComprehendData", read=["s3://docs/in/"], write=["s3://docs/out/"])
    return {"a": store.add("123456789012"), "b": store.add("210987654321"), "store": store}


@pytest.fixture
def client(settings: Settings, keys: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_workers=False), base_url="http://127.0.0.1:8080") as test_client:
        yield test_client


def signed(
    operation: str,
    body: dict[str, Any],
    key: str,
    secret: str,
    region: str = "eu-west-1",
    service: str = "comprehend",
    at: dt.datetime | None = None,
    token: str | None = None,
    raw: bytes | None = None,
    unsigned: tuple[str, ...] = (),
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a request as botocore signs it (at `at`, default now), with a session token
    when `token` is given; the `unsigned` headers are added only after signing."""
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"X-Amz-Target": TARGET + operation, "Content-Type": "application/x-amz-json-1.1"}
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8080/",
        data=data,
        headers={name: value for name, value in headers.items() if name not in unsigned},
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=at or dt.datetime.now(dt.UTC)):
        SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    return data, {**dict(request.headers.items()), **{name: headers[name] for name in unsigned}}


def send(client: TestClient, data: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    response = client.post("/", content=data, headers=headers)
    return response.status_code, response.json()


def as_key(client: TestClient, credential: Any, operation: str, body: dict[str, Any], **how: Any) -> tuple[int, dict]:
    how.setdefault("token", credential.session_token or None)
    return send(client, *signed(operation, body, credential.access_key_id, credential.secret_access_key, **how))


START = {
    "InputDataConfig": {"S3Uri": "s3://docs/in/"},
    "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
    "DataAccessRoleArn": "arn:aws:iam::123456789012:role/ComprehendData",
    "LanguageCode": "en",
}


def test_a_signed_request_acts_as_its_keys_account_in_its_scopes_region(client: TestClient, keys: dict) -> None:
    status, created = as_key(client, keys["a"], "StartEntitiesDetectionJob", START)
    assert status == 200, created
    assert created["JobArn"].startswith("arn:aws:comprehend:eu-west-1:123456789012:entities-detection-job/")
    # The other account's key does not see it; the same key in another region does not either.
    assert as_key(client, keys["b"], "ListEntitiesDetectionJobs", {})[1]["EntitiesDetectionJobPropertiesList"] == []
    assert (
        as_key(client, keys["a"], "ListEntitiesDetectionJobs", {}, region="us-east-1")[1][
            "EntitiesDetectionJobPropertiesList"
        ]
        == []
    )
    listed = as_key(client, keys["a"], "ListEntitiesDetectionJobs", {})[1]["EntitiesDetectionJobPropertiesList"]
    assert [job["JobId"] for job in listed] == [created["JobId"]]


def test_a_wrong_secret_is_an_invalid_signature(client: TestClient, keys: dict) -> None:
    data, headers = signed("ListEntitiesDetectionJobs", {}, keys["a"].access_key_id, "not-the-secret-at-all")
    status, body = send(client, data, headers)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["Message"].startswith("The request signature we calculated does not match")


def test_a_body_changed_after_signing_is_an_invalid_signature(client: TestClient, keys: dict) -> None:
    data, headers = signed("ListEntitiesDetectionJobs", {"MaxResults": 5}, keys["a"].access_key_id,
                           keys["a"].secret_access_key)  # fmt: skip
    status, body = send(client, data.replace(b"5", b"6"), headers)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


def test_a_changed_signed_header_is_an_invalid_signature(client: TestClient, keys: dict) -> None:
    data, headers = signed("ListEntitiesDetectionJobs", {}, keys["a"].access_key_id, keys["a"].secret_access_key)
    headers["X-Amz-Target"] = TARGET + "ListEntityRecognizers"
    assert send(client, data, headers)[1]["__type"] == "InvalidSignatureException"


def test_an_unknown_key_is_an_unrecognized_client(client: TestClient) -> None:
    status, body = send(client, *signed("ListEntitiesDetectionJobs", {}, "AKIAIOSFODNN7EXAMPLE", "x" * 40))
    assert (status, body) == (
        400,
        {"__type": "UnrecognizedClientException", "Message": "The security token included in the request is invalid."},
    )


def test_no_signature_at_all_is_a_missing_token(client: TestClient) -> None:
    response = client.post("/", content=b"{}", headers={"X-Amz-Target": TARGET + "ListEntitiesDetectionJobs"})
    assert (response.status_code, response.json()["__type"]) == (400, "MissingAuthenticationTokenException")


@pytest.mark.parametrize(("minutes", "words"), [(-20, "Signature expired"), (20, "Signature not yet current")])
def test_a_request_dated_more_than_15_minutes_away_is_refused(
    client: TestClient, keys: dict, minutes: int, words: str
) -> None:
    at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    status, body = as_key(client, keys["a"], "ListEntitiesDetectionJobs", {}, at=at)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["Message"].startswith(words)
    # Within the window it is accepted.
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    assert as_key(client, keys["a"], "ListEntitiesDetectionJobs", {}, at=at)[0] == 200


def test_a_captured_request_replayed_after_its_window_is_refused(client: TestClient, keys: dict) -> None:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=14)  # inside the window, with a minute to spare
    data, headers = signed("StartEntitiesDetectionJob", START, keys["a"].access_key_id, keys["a"].secret_access_key,
                           at=at)  # fmt: skip
    assert send(client, data, headers)[0] == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    with mock.patch("opencomprehend.api.auth._now", return_value=later):  # the server's clock, two minutes on
        status, body = send(client, data, headers)
    assert (status, body["__type"]) == (400, "InvalidSignatureException") and "expired" in body["Message"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("no date", "IncompleteSignatureException"),
        ("no credential", "IncompleteSignatureException"),
        ("other service", "InvalidSignatureException"),
        ("bad region", "InvalidSignatureException"),
        ("unsigned host", "InvalidSignatureException"),
    ],
)
def test_malformed_signatures_get_the_codes_clients_expect(
    client: TestClient, keys: dict, change: str, code: str
) -> None:
    key, secret = keys["a"].access_key_id, keys["a"].secret_access_key
    if change == "other service":
        data, headers = signed("ListEntitiesDetectionJobs", {}, key, secret, service="s3")
    elif change == "bad region":
        data, headers = signed("ListEntitiesDetectionJobs", {}, key, secret, region='evil"<script>')
    else:
        data, headers = signed("ListEntitiesDetectionJobs", {}, key, secret)
    if change == "no date":
        del headers["X-Amz-Date"]
    elif change == "no credential":
        headers["Authorization"] = headers["Authorization"].replace("Credential=", "Cred=")
    elif change == "unsigned host":
        headers["Authorization"] = headers["Authorization"].replace("SignedHeaders=", "SignedHeaders=x-none;")
    status, body = send(client, data, headers)
    assert (status, body["__type"]) == (400, code), body


def test_a_target_not_signed_cannot_be_swapped_for_another(client: TestClient, keys: dict) -> None:
    # A Describe signed over host;x-amz-date only, its X-Amz-Target then changed to Stop: was run.
    status, started = as_key(client, keys["a"], "StartEntitiesDetectionJob", START)
    assert status == 200
    data, headers = signed("DescribeEntitiesDetectionJob", {"JobId": started["JobId"]}, keys["a"].access_key_id,
                           keys["a"].secret_access_key, unsigned=("X-Amz-Target", "Content-Type"))  # fmt: skip
    assert "SignedHeaders=host;x-amz-date," in headers["Authorization"]
    headers["X-Amz-Target"] = TARGET + "StopEntitiesDetectionJob"
    status, body = send(client, data, headers)
    assert (status, body["__type"]) == (400, "IncompleteSignatureException"), body
    assert body["Message"].startswith("'content-type', 'x-amz-target' must be 'SignedHeaders' in the AWS Authorization")
    described = as_key(client, keys["a"], "DescribeEntitiesDetectionJob", {"JobId": started["JobId"]})[1]
    assert described["EntitiesDetectionJobProperties"]["JobStatus"] == "SUBMITTED"


@pytest.mark.parametrize("header", ["X-Amz-Target", "Content-Type", "X-Amz-Anything"])
def test_every_x_amz_header_and_the_content_type_must_be_signed(client: TestClient, keys: dict, header: str) -> None:
    key, secret = keys["a"].access_key_id, keys["a"].secret_access_key
    data, headers = signed(
        "ListEntitiesDetectionJobs", {}, key, secret, unsigned=(header,) * (header != "X-Amz-Anything")
    )
    if header == "X-Amz-Anything":
        headers[header] = "added after signing"
    status, body = send(client, data, headers)
    assert (status, body["__type"]) == (400, "IncompleteSignatureException"), body
    assert body["Message"].startswith(f"'{header.lower()}' must be a 'SignedHeader' in the AWS Authorization")
    # Signed, each is accepted.
    data, headers = signed("ListEntitiesDetectionJobs", {}, key, secret)
    assert send(client, data, headers)[0] == 200


def test_an_integer_too_long_to_read_in_a_signed_request_is_a_serialization_error(
    client: TestClient, keys: dict
) -> None:
    raw = b'{"MaxResults": ' + b"9" * 5000 + b"}"
    data, headers = signed("ListEntitiesDetectionJobs", {}, keys["a"].access_key_id, keys["a"].secret_access_key,
                           raw=raw)  # fmt: skip
    status, body = send(client, data, headers)
    assert (status, body["__type"]) == (400, "SerializationException"), body


# -- temporary credentials (X-Amz-Security-Token) ---------------------------------------------------------


def test_a_temporary_credential_works_only_with_its_session_token(client: TestClient, keys: dict) -> None:
    session = keys["store"].add("123456789012", session_seconds=3600)
    assert session.access_key_id.startswith("OCAS") and len(session.session_token) >= 64
    status, created = as_key(client, session, "StartEntitiesDetectionJob", START)
    assert status == 200 and ":123456789012:" in created["JobArn"], created
    # Its own account's key sees the job: the same account.
    listed = as_key(client, keys["a"], "ListEntitiesDetectionJobs", {})[1]["EntitiesDetectionJobPropertiesList"]
    assert [job["JobId"] for job in listed] == [created["JobId"]]
    for token in (
        None,
        session.session_token[:-1] + "x",
        keys["store"].add("123456789012", session_seconds=60).session_token,
    ):
        status, body = as_key(client, session, "ListEntitiesDetectionJobs", {}, token=token)
        assert (status, body) == (
            400,
            {
                "__type": "UnrecognizedClientException",
                "Message": "The security token included in the request is invalid.",
            },
        )


def test_an_expired_temporary_credential_is_an_expired_token(client: TestClient, keys: dict) -> None:
    session = keys["store"].add("123456789012", session_seconds=900)
    assert as_key(client, session, "ListEntitiesDetectionJobs", {})[0] == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=901)
    with mock.patch("opencomprehend.api.auth._now", return_value=later):
        status, body = as_key(client, session, "ListEntitiesDetectionJobs", {}, at=later)
    assert (status, body) == (
        400,
        {"__type": "ExpiredTokenException", "Message": "The security token included in the request is expired"},
    )


def test_a_long_term_key_with_a_session_token_is_refused(client: TestClient, keys: dict) -> None:
    status, body = as_key(client, keys["a"], "ListEntitiesDetectionJobs", {}, token="a-token-we-never-issued")
    assert (status, body["__type"]) == (400, "UnrecognizedClientException")


def test_session_tokens_are_stored_encrypted(settings: Settings, keys: dict) -> None:
    from sqlalchemy import select

    from opencomprehend.jobs.schema import security_records
    from opencomprehend.server import security_engine

    session = keys["store"].add("123456789012", session_seconds=3600)
    with security_engine(settings).connect() as conn:
        text = "\n".join(row.body for row in conn.execute(select(security_records.c.body)))
    assert session.access_key_id in text and session.session_token not in text
    assert keys["store"].get(session.access_key_id).session_token == session.session_token


def test_a_removed_key_is_refused_without_a_restart(client: TestClient, keys: dict) -> None:
    assert as_key(client, keys["b"], "ListEntitiesDetectionJobs", {})[0] == 200
    keys["store"].remove(keys["b"].access_key_id)
    assert as_key(client, keys["b"], "ListEntitiesDetectionJobs", {})[1]["__type"] == "UnrecognizedClientException"
    added = keys["store"].add("210987654321")
    assert as_key(client, added, "ListEntitiesDetectionJobs", {})[0] == 200


def test_secrets_are_stored_encrypted(settings: Settings, keys: dict) -> None:
    from sqlalchemy import select

    from opencomprehend.jobs.schema import security_records
    from opencomprehend.server import security_engine

    with security_engine(settings).connect() as conn:
        text = "\n".join(row.body for row in conn.execute(select(security_records.c.body)))
    assert keys["a"].access_key_id in text and keys["a"].secret_access_key not in text
    assert oct((settings.data_dir / "opencomprehend.db").stat().st_mode & 0o777) == "0o600"
    # Another master key cannot open them.
    from cryptography.fernet import Fernet

    from opencomprehend.security.credentials import SECRET_FIELDS, CredentialError, CredentialStore
    from opencomprehend.security.records import RecordsTable

    other = RecordsTable(
        security_engine(settings), "credentials", Fernet(Fernet.generate_key()), "access_key_id", SECRET_FIELDS
    )
    with pytest.raises(CredentialError, match="does not open with this master key"):
        CredentialStore(other).list()


# -- development mode -------------------------------------------------------------------------------------


def test_development_mode_takes_a_twelve_digit_key_as_the_account(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path), run_workers=False)) as client:
        first = send(client, *signed("StartEntitiesDetectionJob", START, "123456789012", "anything"))[1]
        assert ":123456789012:" in first["JobArn"]
        # Another twelve-digit key is another account; any other key is the configured default account.
        assert (
            send(client, *signed("ListEntitiesDetectionJobs", {}, "210987654321", "x"))[1][
                "EntitiesDetectionJobPropertiesList"
            ]
            == []
        )
        other = send(client, *signed("StartEntitiesDetectionJob", START, "AKIDEXAMPLE", "x"))[1]
        assert ":111122223333:" in other["JobArn"]
        # No signature is checked: a wrong secret is the same account.
        listed = send(client, *signed("ListEntitiesDetectionJobs", {}, "123456789012", "wrong"))[1]
        assert [j["JobId"] for j in listed["EntitiesDetectionJobPropertiesList"]] == [first["JobId"]]
