"""KMS end to end: an encrypted job output that `opencomprehend output decrypt` gives back, a sealed model."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from support import training_sets
from support.output import read_archive
from support.server import BIN, ROLE, running_server

pytestmark = pytest.mark.e2e

OC = str(BIN / "opencomprehend")
ACCOUNT = "111122223333"  # the default account: the test client's key is not twelve digits


def oc(data_dir: Path, *args: str) -> str:
    done = subprocess.run([OC, *args, "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_encrypted_output_and_a_sealed_model(tmp_path: Path, aws_available: None) -> None:
    data = tmp_path / "data"
    key_arn = oc(data, "kms", "create", "--account-id", ACCOUNT, "--alias", "alias/comprehend")
    assert key_arn.startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    assert "alias/comprehend" in oc(data, "kms", "list")
    env = {"OPENCOMPREHEND_TRAINING_MAX_EPOCHS": "8", "OPENCOMPREHEND_TRAINING_MAX_SECONDS": "40"}
    with running_server(data, **env) as server:
        client = server.client()
        server.put("docs", "in/news.txt", "Angela Merkel met Emmanuel Macron in Paris.\n")
        job_id = client.start_entities_detection_job(
            InputDataConfig={"S3Uri": "s3://docs/in/"},
            OutputDataConfig={"S3Uri": "s3://docs/secret/", "KmsKeyId": "alias/comprehend"},
            DataAccessRoleArn=ROLE, LanguageCode="en",
        )["JobId"]  # fmt: skip
        props = server.wait(job_id)
        assert props["JobStatus"] == "COMPLETED", props
        assert props["OutputDataConfig"]["KmsKeyId"] == "alias/comprehend"
        stored = server.bucket_root / props["OutputDataConfig"]["S3Uri"].removeprefix("s3://")
        assert b"Merkel" not in stored.read_bytes() and not stored.read_bytes().startswith(b"\x1f\x8b")
        opened = tmp_path / "output.tar.gz"
        oc(data, "output", "decrypt", str(stored), "--account-id", ACCOUNT, "--out", str(opened))
        records = read_archive(opened.read_bytes())
        assert {"Angela Merkel", "Paris"} <= {e["Text"] for e in records[0]["Entities"]}
        refused = subprocess.run(
            [OC, "output", "decrypt", str(stored), "--account-id", "999999999999", "--out", str(tmp_path / "x"),
             "--data-dir", str(data)], capture_output=True, text=True,
        )  # fmt: skip
        assert refused.returncode == 2 and "not in this keyring for this account" in refused.stderr

        # A recognizer whose model is stored sealed under the key, then used by a job.
        corpus = training_sets.sentences(300)
        server.put("train", "docs/sentences.txt", training_sets.documents_file(corpus))
        server.put("train", "annotations.csv", training_sets.annotations_csv(corpus, "sentences.txt"))
        arn = client.create_entity_recognizer(
            RecognizerName="sealed", LanguageCode="en", DataAccessRoleArn=ROLE, ModelKmsKeyId=key_arn,
            InputDataConfig={"EntityTypes": [{"Type": "PERSON_NAME"}, {"Type": "ORG_NAME"}],
                             "Documents": {"S3Uri": "s3://train/docs/"},
                             "Annotations": {"S3Uri": "s3://train/annotations.csv"}},
        )["EntityRecognizerArn"]  # fmt: skip
        deadline = time.time() + 300
        while time.time() < deadline:
            status = client.describe_entity_recognizer(EntityRecognizerArn=arn)["EntityRecognizerProperties"]["Status"]
            if status not in ("SUBMITTED", "TRAINING"):
                break
            time.sleep(0.5)
        assert status == "TRAINED", server.log()[-2000:]
        models = list((server.bucket_root / "opencomprehend-models").rglob("*.tar.gz"))
        assert models and all(not m.read_bytes().startswith(b"\x1f\x8b") for m in models), "the model is sealed"
        server.put("docs", "custom/in/a.txt", training_sets.documents_file(training_sets.sentences(5, offset=900)))
        custom = server.start_job("s3://docs/custom/in/", "s3://docs/custom/out/", EntityRecognizerArn=arn)
        assert server.wait(custom)["JobStatus"] == "COMPLETED"


def oc_refused(data_dir: Path, *args: str) -> str:
    done = subprocess.run([OC, *args, "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done.stderr.strip()


def test_the_kms_cli_takes_a_key_as_a_request_names_it_and_only_real_region_names(tmp_path: Path) -> None:
    # Issue 17, item 13: `kms disable alias/comprehend-output` answered "no key comprehend-output", and
    # `kms create --region mars-1` was accepted.
    data = tmp_path / "data"
    arn = oc(data, "kms", "create", "--account-id", ACCOUNT, "--alias", "alias/comprehend-output")
    key_id = arn.rsplit("/", 1)[1]
    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/comprehend-output"
    for reference in ("alias/comprehend-output", alias_arn, arn, key_id):
        assert oc(data, "kms", "disable", reference) == f"{arn}  Disabled"
        assert f"{arn}  Disabled" in oc(data, "kms", "list")
        assert oc(data, "kms", "enable", reference) == f"{arn}  Enabled"
    assert oc_refused(data, "kms", "disable", "alias/no-such-alias") == "Error: no key alias/no-such-alias"

    # The same alias in another account: the alias alone is ambiguous, the account settles it.
    other = oc(data, "kms", "create", "--account-id", "123456789012", "--alias", "alias/comprehend-output")
    assert "--account-id" in oc_refused(data, "kms", "disable", "alias/comprehend-output")
    assert oc(data, "kms", "disable", "alias/comprehend-output", "--account-id", "123456789012") == f"{other}  Disabled"
    assert f"{arn}  Enabled" in oc(data, "kms", "list")

    for region in ("mars-1", "us-east", "US-EAST-1", "us-east-1 "):
        message = oc_refused(data, "kms", "create", "--account-id", ACCOUNT, "--region", region)
        assert message == f"Error: not an AWS region: {region!r} (a region name looks like us-east-1 or eu-west-3)"
    made = oc(data, "kms", "create", "--account-id", ACCOUNT, "--region", "eu-west-3")
    assert made.startswith(f"arn:aws:kms:eu-west-3:{ACCOUNT}:key/")
    assert "mars-1" not in oc(data, "kms", "list")

