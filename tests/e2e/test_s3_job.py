"""The same job against a real S3 server (SeaweedFS on loopback) instead of the local bucket folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.output import check_offsets, read_archive
from support.seaweedfs import SeaweedFS
from support.server import ROLE, Server, running_server

pytestmark = pytest.mark.e2e

LINES = ["Angela Merkel met Emmanuel Macron in Paris.", "", "👍🏽 東京 hosted Shinzo Abe in 2019."]


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory, seaweedfs: SeaweedFS, aws_available: None) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("s3-server"),
        OPENCOMPREHEND_S3_ENDPOINT_URL=seaweedfs.endpoint_url,
        OPENCOMPREHEND_S3_REGION=seaweedfs.region,
        OPENCOMPREHEND_S3_ACCESS_KEY_ID=seaweedfs.access_key_id,
        OPENCOMPREHEND_S3_SECRET_ACCESS_KEY=seaweedfs.secret_access_key,
        # SeaweedFS has no KMS: encrypted output is sealed before upload.
        OPENCOMPREHEND_S3_SSE_KMS="false",
    ) as server:
        yield server


def test_job_reads_from_and_writes_to_a_real_s3_server(s3_server: Server, seaweedfs: SeaweedFS) -> None:
    s3 = seaweedfs.s3_client()
    s3.create_bucket(Bucket="corpus")
    s3.create_bucket(Bucket="results")
    s3.put_object(Bucket="corpus", Key="news/a.txt", Body="\n".join(LINES).encode())
    s3.put_object(Bucket="corpus", Key="news/b/c.txt", Body=b"Microsoft is based in Redmond.")
    s3.put_object(Bucket="corpus", Key="other/x.txt", Body=b"Not in the input.")

    job_id = s3_server.aws_json(
        "start-entities-detection-job",
        "--input-data-config", "S3Uri=s3://corpus/news/,InputFormat=ONE_DOC_PER_LINE",
        "--output-data-config", "S3Uri=s3://results/runs/",
        "--data-access-role-arn", ROLE,
        "--language-code", "en",
    )["JobId"]  # fmt: skip
    props = s3_server.wait(job_id)
    assert props["JobStatus"] == "COMPLETED", props
    key = f"runs/111122223333-NER-{job_id}/output/output.tar.gz"
    assert props["OutputDataConfig"]["S3Uri"] == f"s3://results/{key}"
    records = read_archive(s3.get_object(Bucket="results", Key=key)["Body"].read())
    assert [(r["File"], r["Line"]) for r in records] == [
        ("a.txt", 0),
        ("a.txt", 1),
        ("a.txt", 2),
        ("b/c.txt", 0),
    ]
    documents = {("a.txt", i): text for i, text in enumerate(LINES)} | {
        ("b/c.txt", 0): "Microsoft is based in Redmond."
    }
    check_offsets(records, documents)
    assert ("Angela Merkel", "PERSON") in {(e["Text"], e["Type"]) for e in records[0]["Entities"]}
    assert not (Path(s3_server.data_dir) / "s3" / "results").exists(), "nothing goes to the local folder"


def test_missing_output_bucket_fails_the_job_with_a_reason(s3_server: Server, seaweedfs: SeaweedFS) -> None:
    s3 = seaweedfs.s3_client()
    s3.create_bucket(Bucket="corpus2")
    s3.put_object(Bucket="corpus2", Key="in/a.txt", Body=b"Rome is in Italy.")
    job_id = s3_server.start_job("s3://corpus2/in/", "s3://no-such-results/out/")
    props = s3_server.wait(job_id)
    assert props["JobStatus"] == "FAILED"
    assert props["Message"].startswith("NO_WRITE_ACCESS_TO_OUTPUT: ")


def test_missing_input_bucket_fails_the_job_with_a_reason(s3_server: Server) -> None:
    job_id = s3_server.start_job("s3://no-such-corpus/in/", "s3://results/out/")
    props = s3_server.wait(job_id)
    assert props["JobStatus"] == "FAILED"
    assert props["Message"].startswith("NO_READ_ACCESS_TO_INPUT: ")


def test_encrypted_output_on_a_store_without_kms_is_sealed_before_upload(
    s3_server: Server, seaweedfs: SeaweedFS
) -> None:
    import subprocess

    from support.server import BIN

    key_arn = subprocess.run(
        [str(BIN / "opencomprehend"), "kms", "create", "--account-id", "111122223333", "--data-dir",
         str(s3_server.data_dir)], capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    s3 = seaweedfs.s3_client()
    s3.create_bucket(Bucket="sealed-in")
    s3.put_object(Bucket="sealed-in", Key="a.txt", Body=b"Angela Merkel met Emmanuel Macron in Paris.")
    job_id = s3_server.client().start_entities_detection_job(
        InputDataConfig={"S3Uri": "s3://sealed-in/"},
        OutputDataConfig={"S3Uri": "s3://sealed-in/out/", "KmsKeyId": key_arn},
        DataAccessRoleArn=ROLE, LanguageCode="en",
    )["JobId"]  # fmt: skip
    props = s3_server.wait(job_id)
    assert props["JobStatus"] == "COMPLETED", props
    stored = s3.get_object(Bucket="sealed-in", Key=props["OutputDataConfig"]["S3Uri"].split("/", 3)[3])["Body"].read()
    assert stored.startswith(b"OCKMS1") and b"Merkel" not in stored
    sealed_file = s3_server.data_dir / "sealed.bin"
    sealed_file.write_bytes(stored)
    opened = s3_server.data_dir / "opened.tar.gz"
    subprocess.run(
        [str(BIN / "opencomprehend"), "output", "decrypt", str(sealed_file), "--account-id", "111122223333",
         "--out", str(opened), "--data-dir", str(s3_server.data_dir)], check=True, capture_output=True,
    )  # fmt: skip
    assert ("Angela Merkel", "PERSON") in {
        (e["Text"], e["Type"]) for e in read_archive(opened.read_bytes())[0]["Entities"]
    }
