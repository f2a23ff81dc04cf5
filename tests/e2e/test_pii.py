"""PII end to end: the AWS CLI and boto3 against `opencomprehend serve`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.components import free_port
from support.seaweedfs import SeaweedFS
from support.server import ACCOUNT, ROLE, Server, running_server

pytestmark = pytest.mark.e2e

TEXT = "👍🏽 Hello John Smith, your card 4111 1111 1111 1111 is linked to john.smith@example.com."


def spans(text: str, entities: list[dict]) -> set[tuple[str, str]]:
    return {(text[e["BeginOffset"] : e["EndOffset"]], e["Type"]) for e in entities}


def test_detect_pii_entities_with_the_aws_cli(server: Server) -> None:
    found = server.aws_json("detect-pii-entities", "--text", TEXT, "--language-code", "en")
    assert set(found) == {"Entities"}
    assert all(set(e) == {"BeginOffset", "EndOffset", "Score", "Type"} for e in found["Entities"])
    assert {
        ("John Smith", "NAME"),
        ("4111 1111 1111 1111", "CREDIT_DEBIT_NUMBER"),
        ("john.smith@example.com", "EMAIL"),
    } <= spans(TEXT, found["Entities"])


def test_contains_pii_entities_with_the_aws_cli(server: Server) -> None:
    found = server.aws_json("contains-pii-entities", "--text", TEXT, "--language-code", "en")
    assert {label["Name"] for label in found["Labels"]} >= {"NAME", "CREDIT_DEBIT_NUMBER", "EMAIL"}


def test_pii_in_other_languages_and_errors_in_boto3(server: Server) -> None:
    client = server.client()
    text = "Mi DNI es 12345678Z."
    assert ("12345678Z", "SSN") in spans(text, client.detect_pii_entities(Text=text, LanguageCode="es")["Entities"])
    with pytest.raises(client.exceptions.TextSizeLimitExceededException):
        client.detect_pii_entities(Text="é" * 50_000 + "x", LanguageCode="en")
    with pytest.raises(client.exceptions.TextSizeLimitExceededException):
        client.contains_pii_entities(Text="é" * 50_000 + "x", LanguageCode="en")


LINES = [
    "Hello John Smith, mail john.smith@example.com.",
    "",
    "Card 4111 1111 1111 1111 and phone 206-555-0100.",
]
DOCUMENT = "\r\n".join(LINES) + "\r\n"


def found_in(records: list[dict], lines: list[str]) -> set[tuple[str, str]]:
    return {(lines[r["Line"]][e["BeginOffset"] : e["EndOffset"]], e["Type"]) for r in records for e in r["Entities"]}


def test_offsets_job_with_the_aws_cli_writes_one_out_file_per_input(server: Server) -> None:
    server.put("pii", "in/a.txt", DOCUMENT)
    server.put("pii", "in/sub/b.txt", "Nothing personal here.\n")
    started = server.aws_json(
        "start-pii-entities-detection-job",
        "--input-data-config", "S3Uri=s3://pii/in/,InputFormat=ONE_DOC_PER_LINE",
        "--output-data-config", "S3Uri=s3://pii/out/",
        "--mode", "ONLY_OFFSETS",
        "--data-access-role-arn", ROLE,
        "--language-code", "en",
        "--job-name", "offsets",
    )  # fmt: skip
    job_id = started["JobId"]
    assert started["JobArn"].endswith(f":pii-entities-detection-job/{job_id}")
    props = server.wait(job_id, kind="pii")
    assert props["JobStatus"] == "COMPLETED", props
    folder = f"pii/out/{ACCOUNT}-PII-{job_id}/output/"
    assert props["OutputDataConfig"]["S3Uri"] == f"s3://{folder}"
    described = server.aws_json("describe-pii-entities-detection-job", "--job-id", job_id)
    assert described["PiiEntitiesDetectionJobProperties"]["Mode"] == "ONLY_OFFSETS"
    out = server.bucket_root / folder
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == ["a.txt.out", "sub/b.txt.out"]
    records = [json.loads(line) for line in (out / "a.txt.out").read_text().splitlines()]
    assert [r["Line"] for r in records] == [0, 1, 2]
    assert {
        ("John Smith", "NAME"),
        ("john.smith@example.com", "EMAIL"),
        ("4111 1111 1111 1111", "CREDIT_DEBIT_NUMBER"),
        ("206-555-0100", "PHONE"),
    } <= found_in(records, LINES)
    listed = server.aws_json("list-pii-entities-detection-jobs", "--filter", "JobName=offsets")
    assert [j["JobId"] for j in listed["PiiEntitiesDetectionJobPropertiesList"]] == [job_id]


def test_redaction_job_with_boto3_keeps_every_byte_that_is_not_pii(server: Server) -> None:
    server.put("pii", "red/a.txt", DOCUMENT)
    client = server.client()
    request = {
        "InputDataConfig": {"S3Uri": "s3://pii/red/"},
        "OutputDataConfig": {"S3Uri": "s3://pii/redacted"},
        "Mode": "ONLY_REDACTION",
        "RedactionConfig": {"PiiEntityTypes": ["ALL"], "MaskMode": "REPLACE_WITH_PII_ENTITY_TYPE"},
        "DataAccessRoleArn": ROLE,
        "LanguageCode": "en",
        "ClientRequestToken": "redact-1",
        "Tags": [{"Key": "team", "Value": "privacy"}],
    }
    job_id = client.start_pii_entities_detection_job(**request)["JobId"]
    assert client.start_pii_entities_detection_job(**request)["JobId"] == job_id, "the same token, the same job"
    props = server.wait(job_id, kind="pii")
    assert props["JobStatus"] == "COMPLETED", props
    out = (server.bucket_root / f"pii/redacted/{ACCOUNT}-PII-{job_id}/output/a.txt.out").read_bytes()
    assert out == (
        b"Hello [NAME], mail [EMAIL].\r\n\r\nCard [CREDIT_DEBIT_NUMBER] and phone [PHONE].\r\n"
    )
    tags = client.list_tags_for_resource(ResourceArn=props["JobArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "privacy"}]
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.start_pii_entities_detection_job(**{**request, "LanguageCode": "es"})
    with pytest.raises(client.exceptions.JobNotFoundException):
        client.describe_pii_entities_detection_job(JobId="0" * 32)
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.stop_pii_entities_detection_job(JobId=job_id)  # COMPLETED can no longer be stopped


def test_a_stopped_pii_job_ends_stopped(server: Server) -> None:
    server.put("pii", "stop/a.txt", "\n".join(f"mail person{i}@example.com" for i in range(3000)) + "\n")
    client = server.client()
    job_id = client.start_pii_entities_detection_job(
        InputDataConfig={"S3Uri": "s3://pii/stop/"},
        OutputDataConfig={"S3Uri": "s3://pii/stopped/"},
        Mode="ONLY_REDACTION",
        RedactionConfig={"PiiEntityTypes": ["EMAIL"]},
        DataAccessRoleArn=ROLE,
        LanguageCode="en",
    )["JobId"]
    assert client.stop_pii_entities_detection_job(JobId=job_id)["JobStatus"] in ("STOP_REQUESTED", "STOPPED")
    props = server.wait(job_id, kind="pii")
    assert props["JobStatus"] == "STOPPED", props
    out = server.bucket_root / f"pii/stopped/{ACCOUNT}-PII-{job_id}/output/a.txt.out"
    if out.exists():  # the documents done before the stop, redacted, and nothing after them
        assert "@example.com" not in out.read_text()


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory, seaweedfs: SeaweedFS, aws_available: None) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("pii-s3-server"),
        OPENCOMPREHEND_S3_ENDPOINT_URL=seaweedfs.endpoint_url,
        OPENCOMPREHEND_S3_REGION=seaweedfs.region,
        OPENCOMPREHEND_S3_ACCESS_KEY_ID=seaweedfs.access_key_id,
        OPENCOMPREHEND_S3_SECRET_ACCESS_KEY=seaweedfs.secret_access_key,
    ) as server:
        yield server


def test_both_modes_on_a_real_s3_server(s3_server: Server, seaweedfs: SeaweedFS) -> None:
    s3 = seaweedfs.s3_client()
    s3.create_bucket(Bucket="pii-corpus")
    s3.put_object(Bucket="pii-corpus", Key="docs/a.txt", Body=DOCUMENT.encode())
    client = s3_server.client()
    common = {"InputDataConfig": {"S3Uri": "s3://pii-corpus/docs/"}, "DataAccessRoleArn": ROLE, "LanguageCode": "en"}
    offsets = client.start_pii_entities_detection_job(
        **common, OutputDataConfig={"S3Uri": "s3://pii-corpus/offsets/"}, Mode="ONLY_OFFSETS"
    )["JobId"]
    redacted = client.start_pii_entities_detection_job(
        **common,
        OutputDataConfig={"S3Uri": "s3://pii-corpus/redacted/"},
        Mode="ONLY_REDACTION",
        RedactionConfig={"PiiEntityTypes": ["EMAIL", "CREDIT_DEBIT_NUMBER"], "MaskMode": "MASK", "MaskCharacter": "!"},
    )["JobId"]
    for job_id in (offsets, redacted):
        assert s3_server.wait(job_id, kind="pii")["JobStatus"] == "COMPLETED"
    body = s3.get_object(Bucket="pii-corpus", Key=f"offsets/{ACCOUNT}-PII-{offsets}/output/a.txt.out")["Body"].read()
    records = [json.loads(line) for line in body.decode().splitlines()]
    assert ("john.smith@example.com", "EMAIL") in found_in(records, LINES)
    body = s3.get_object(Bucket="pii-corpus", Key=f"redacted/{ACCOUNT}-PII-{redacted}/output/a.txt.out")["Body"].read()
    assert body.decode() == (
        "Hello John Smith, mail !!!!!!!!!!!!!!!!!!!!!!.\r\n\r\nCard !!!! !!!! !!!! !!!! and phone 206-555-0100.\r\n"
    )
    assert not (Path(s3_server.data_dir) / "s3" / "pii-corpus").exists(), "nothing goes to the local folder"


def test_a_pii_job_resumes_after_the_server_dies(tmp_path: Path, aws_available: None) -> None:
    server = Server(data_dir=tmp_path, port=free_port(), extra_env={"OPENCOMPREHEND_SHARD_DOCUMENTS": "50"})
    lines = [f"Line {i}: write to person{i}@example.com or call 206-555-{i % 10000:04d}." for i in range(3000)]
    server.put("docs", "in/big.txt", "\n".join(lines) + "\n")
    server.start()
    try:
        job_id = server.client().start_pii_entities_detection_job(
            InputDataConfig={"S3Uri": "s3://docs/in/"},
            OutputDataConfig={"S3Uri": "s3://docs/out/"},
            Mode="ONLY_REDACTION",
            RedactionConfig={"PiiEntityTypes": ["EMAIL"]},
            DataAccessRoleArn=ROLE,
            LanguageCode="en",
        )["JobId"]
        work = tmp_path / "work" / job_id
        deadline = time.time() + 180
        while len(list(work.glob("part-*.jsonl"))) < 3:
            assert time.time() < deadline, server.log()
            time.sleep(0.05)
        server.kill()
        server.port = free_port()
        server.start()
        props = server.wait(job_id, kind="pii", timeout=300)
        assert props["JobStatus"] == "COMPLETED", props
        assert any(f"job {job_id} resumed" in line for line in server.log().splitlines()), server.log()
    finally:
        server.stop()
    out = (tmp_path / "s3" / f"docs/out/{ACCOUNT}-PII-{job_id}/output/big.txt.out").read_text().split("\n")
    assert len(out) == len(lines) + 1 and out[-1] == ""
    for original, redacted in zip(lines, out, strict=False):
        email = original.split("write to ")[1].split(" or")[0]
        assert redacted == original.replace(email, "*" * len(email))


def test_heavy_pii_requests_of_one_account_do_not_hold_back_another(server: Server) -> None:
    """Three DetectPiiEntities of ~99 KB (ten pieces each) from one account at once, then DetectEntities
    from another: it is answered while all three are still being worked on (it waits for the pieces in
    hand only, and the rest queue behind it), where it used to wait for one of them to finish whole."""
    line = "Call Jane Doe on (206) 555-0100, SSN 536-90-4399, card 4111 1111 1111 1111, mail jane@example.com.\n"
    heavy_text = line * (99_000 // len(line))
    heavy = server.client("111111111111", read_timeout=600)
    light = server.client("222222222222", read_timeout=600)
    light.detect_entities(Text="Warm up in Paris.", LanguageCode="en")
    answered: list[int] = []

    def detect_heavy() -> None:
        answered.append(len(heavy.detect_pii_entities(Text=heavy_text, LanguageCode="en")["Entities"]))

    threads = [threading.Thread(target=detect_heavy) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the three requests are read and their pieces queued (a piece takes about a second)
    entities = light.detect_entities(Text="Bob lives in Paris.", LanguageCode="en")["Entities"]
    heavy_done_then = len(answered)
    for thread in threads:
        thread.join()
    assert {e["Text"] for e in entities} >= {"Bob", "Paris"}
    assert heavy_done_then == 0
    assert len(answered) == 3 and min(answered) >= 4 * heavy_text.count("\n")
