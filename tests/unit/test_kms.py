"""The local KMS keyring: keys by id, ARN and alias, validation at Start/Create, envelope encryption."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from support.wire import call

from opencomprehend.config import Settings
from opencomprehend.security.keyring import KeyringError
from opencomprehend.server import create_app, open_keyring

A, B = "123456789012", "210987654321"
START = {
    "InputDataConfig": {"S3Uri": "s3://docs/in/"},
    "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
    "DataAccessRoleArn": f"arn:aws:iam::{A}:role/ComprehendData",
    "LanguageCode": "en",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_workers=False)) as test_client:
        yield test_client


def test_a_key_is_named_by_id_arn_alias_or_alias_arn(settings: Settings, client: TestClient) -> None:
    keys = open_keyring(settings)
    key = keys.create(A, "us-east-1", alias="comprehend-output")
    for reference in (
        key.key_id,
        key.arn,
        "alias/comprehend-output",
        f"arn:aws:kms:us-east-1:{A}:alias/comprehend-output",
    ):
        body = {**START, "OutputDataConfig": {"S3Uri": "s3://docs/out/", "KmsKeyId": reference}}
        status, answer = call(client, "StartEntitiesDetectionJob", {**body, "VolumeKmsKeyId": key.key_id}, key=A)
        assert status == 200, (reference, answer)


@pytest.mark.parametrize("case", ["unknown", "other account", "other region", "disabled"])
def test_unusable_keys_are_a_kms_validation_error(settings: Settings, client: TestClient, case: str) -> None:
    keys = open_keyring(settings)
    owner, region = (
        (B, "us-east-1") if case == "other account" else (A, "eu-west-1" if case == "other region" else "us-east-1")
    )
    key = keys.create(owner, region)
    if case == "disabled":
        keys.set_enabled(key.key_id, False)
    reference = "alias/nothing" if case == "unknown" else key.arn
    body = {**START, "OutputDataConfig": {"S3Uri": "s3://docs/out/", "KmsKeyId": reference}}
    status, answer = call(client, "StartEntitiesDetectionJob", body, key=A)
    assert (status, answer["__type"]) == (400, "KmsKeyValidationException"), answer
    status, answer = call(client, "CreateEntityRecognizer", {
        "RecognizerName": "r", "LanguageCode": "en", "DataAccessRoleArn": START["DataAccessRoleArn"],
        "InputDataConfig": {"EntityTypes": [{"Type": "DEVICE"}], "Documents": {"S3Uri": "s3://train/docs/"},
                            "Annotations": {"S3Uri": "s3://train/annotations.csv"}},
        "ModelKmsKeyId": reference,
    }, key=A)  # fmt: skip
    assert (status, answer["__type"]) == (400, "KmsKeyValidationException"), answer
    assert call(client, "ListEntitiesDetectionJobs", {}, key=A)[1]["EntitiesDetectionJobPropertiesList"] == []


def test_sealed_objects_open_only_with_their_key_and_account(settings: Settings) -> None:
    keys = open_keyring(settings)
    key = keys.create(A, "us-east-1")
    sealed = keys.seal(key, b"the archive" * 1000)
    assert b"the archive" not in sealed
    assert keys.open(sealed, A) == b"the archive" * 1000
    with pytest.raises(KeyringError, match="not in this keyring for this account"):
        keys.open(sealed, B)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(KeyringError, match="does not open"):
        keys.open(tampered, A)
    keys.set_enabled(key.key_id, False)
    with pytest.raises(KeyringError, match="disabled"):
        keys.open(sealed, A)
    # The key material itself is stored encrypted under the master key.
    from sqlalchemy import select

    from opencomprehend.jobs.schema import security_records
    from opencomprehend.server import security_engine

    with security_engine(settings).connect() as conn:
        bodies = [row.body for row in conn.execute(select(security_records.c.body))]
    assert bodies and all(key.material not in body for body in bodies)
