"""Credentials, roles and KMS keys live in the job store: every node of a cluster sees one truth.

Two API nodes (in-process apps, each with a data folder of its own) share one job store, SQLite or a real
PostgreSQL; what the CLI does through one node's settings is live on the other at its next request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.fernet import Fernet
from starlette.testclient import TestClient
from typer.testing import CliRunner

from opencomprehend.cli import app as cli_app
from opencomprehend.config import Settings
from opencomprehend.security.credentials import SECRET_FIELDS, Credential
from opencomprehend.security.files import RecordsFile
from opencomprehend.security.keys import master_cipher
from opencomprehend.server import create_app, open_credentials, open_keyring

ACCOUNT = "123456789012"
START = {
    "InputDataConfig": {"S3Uri": "s3://docs/in/"},
    "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
    "DataAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ComprehendData",
    "LanguageCode": "en",
}


def as_key(client: TestClient, key: Credential, operation: str, body: dict[str, Any]) -> tuple[int, dict]:
    """A request signed by botocore with `key` (region eu-west-1), and its answer."""
    data = json.dumps(body).encode()
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8080/",
        data=data,
        headers={"X-Amz-Target": f"Comprehend_20171127.{operation}", "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "comprehend", "eu-west-1").add_auth(request)
    response = client.post("/", content=data, headers=dict(request.headers.items()))
    return response.status_code, response.json()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    yield request.getfixturevalue("postgres_url")


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> dict[str, Any]:
    """What the nodes share (database, master key) and each node's settings."""
    shared = {"database_url": database_url, "master_key": Fernet.generate_key().decode(), "auth": "sigv4"}
    return {
        "env": {"OPENCOMPREHEND_DATABASE_URL": database_url, "OPENCOMPREHEND_MASTER_KEY": shared["master_key"]},
        "a": Settings(data_dir=tmp_path / "a", **shared),
        "b": Settings(data_dir=tmp_path / "b", **shared),
    }


def oc(cluster: dict[str, Any], node: str, *args: str) -> str:
    """`opencomprehend …` as an operator runs it on `node`, with the cluster's environment."""
    done = CliRunner().invoke(cli_app, [*args, "--data-dir", str(cluster[node].data_dir)], env=cluster["env"])
    assert done.exit_code == 0, done.output
    return done.output


def test_a_credential_role_and_key_made_on_one_node_are_live_on_the_other(cluster: dict[str, Any]) -> None:
    with (
        TestClient(create_app(cluster["a"], run_workers=False), base_url="http://127.0.0.1:8080") as a,
        TestClient(create_app(cluster["b"], run_workers=False), base_url="http://127.0.0.1:8080") as b,
    ):
        made = dict(
            line.split(": ", 1) for line in oc(cluster, "a", "credentials", "add", "--account-id", ACCOUNT).splitlines()
        )
        key = Credential(made["AccessKeyId"], ACCOUNT, made["SecretAccessKey"], 0.0)
        oc(
            cluster,
            "a",
            "roles",
            "add",
            "--account-id",
            ACCOUNT,
            "--name",
            "ComprehendData",
            "--read",
            "s3://docs/in/",
            "--write",
            "s3://docs/out/",
        )
        key_arn = oc(cluster, "a", "kms", "create", "--account-id", ACCOUNT, "--region", "eu-west-1").strip()
        assert key_arn in oc(cluster, "b", "kms", "list")

        # Node B, which never had a file of A's, knows the key, the role and the KMS key at once.
        status, answer = as_key(b, key, "StartEntitiesDetectionJob", {**START, "VolumeKmsKeyId": key_arn})
        assert status == 200, answer
        status, answer = as_key(a, key, "DescribeEntitiesDetectionJob", {"JobId": answer["JobId"]})
        assert status == 200, answer

        # Removed through node B's settings: refused on A at its next request.
        oc(cluster, "b", "credentials", "remove", key.access_key_id)
        status, answer = as_key(a, key, "ListEntitiesDetectionJobs", {})
        assert (status, answer["__type"]) == (400, "UnrecognizedClientException")
        oc(cluster, "b", "kms", "disable", key_arn)
        assert "Disabled" in oc(cluster, "a", "kms", "list")
    for node in ("a", "b"):
        assert not list(cluster[node].data_dir.glob("*.json")), "nothing of it in a node's data folder"


def test_the_files_of_a_node_are_imported_once(cluster: dict[str, Any]) -> None:
    settings = cluster["a"]
    settings.data_dir.mkdir(parents=True)
    cipher = master_cipher(settings.data_dir, settings.master_key)
    legacy = RecordsFile(settings.data_dir / "credentials.json", cipher, "credentials", secret_fields=SECRET_FIELDS)
    old = Credential("OCAKOLDKEY0000000001", ACCOUNT, "a-secret-of-before-0001", 1.0, "from the file")
    legacy.save([old.__dict__])
    sealed = json.loads((settings.data_dir / "credentials.json").read_text())["credentials"][0]
    assert sealed["secret_access_key"] != old.secret_access_key

    assert open_credentials(settings).get(old.access_key_id) == old
    assert not (settings.data_dir / "credentials.json").exists()
    assert (settings.data_dir / "credentials.json.imported").exists()
    # Seen by the other node; removed there, it is not imported again by anyone.
    assert open_credentials(cluster["b"]).remove(old.access_key_id) == old
    assert open_credentials(settings).get(old.access_key_id) is None
    assert open_keyring(settings).list() == []


def test_the_migration_adds_and_drops_the_security_tables(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import MetaData, create_engine, inspect

    from opencomprehend.jobs import migrate
    from opencomprehend.jobs.schema import metadata

    engine = create_engine(database_url)
    old = MetaData()
    for table in metadata.sorted_tables:
        if not table.name.startswith("security_"):
            table.to_metadata(old)
    old.create_all(engine)
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", str(migrate.MIGRATIONS))
            config.attributes["connection"] = conn
            command.stamp(config, "0003")
            command.upgrade(config, "0004")  # the migration itself, without create_all's help
            assert {"security_records", "security_versions"} <= set(inspect(conn).get_table_names())
            command.downgrade(config, "0003")
            assert not {"security_records", "security_versions"} & set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
