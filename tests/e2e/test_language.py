"""Dominant language detection end to end: the AWS CLI and boto3 against `opencomprehend serve`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.components import free_port
from support.output import read_archive
from support.server import ACCOUNT, ROLE, Server

pytestmark = pytest.mark.e2e

LINES = [
    "The board approved the budget for next year after a long debate.",
    "El consejo aprobó el presupuesto del próximo año tras un largo debate.",
    "Le conseil a approuvé le budget de l'année prochaine après un long débat.",
    "Der Vorstand hat nach langer Debatte den Haushalt für das nächste Jahr genehmigt.",
    "Il consiglio ha approvato il bilancio del prossimo anno dopo un lungo dibattito.",
    "O conselho aprovou o orçamento do próximo ano após um longo debate.",
    "وافق المجلس على ميزانية العام المقبل بعد نقاش طويل.",
    "लंबी बहस के बाद बोर्ड ने अगले साल का बजट मंज़ूर कर दिया।",
    "長い議論の末、取締役会は来年度の予算を承認しました。",
    "이사회는 긴 토론 끝에 내년 예산을 승인했습니다.",
    "经过长时间的辩论，董事会批准了明年的预算。",
    "經過長時間的辯論，董事會批准了明年的預算。",
    "",
    "2024-05-01 12:30",
]
EXPECTED = ["en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW", None, None]


def test_detect_dominant_language_with_the_aws_cli(server: Server) -> None:
    found = server.aws_json("detect-dominant-language", "--text", "Bonjour, je voudrais réserver une table pour deux.")
    assert set(found) == {"Languages"}
    assert found["Languages"][0]["LanguageCode"] == "fr"
    assert 0.9 < found["Languages"][0]["Score"] <= 1.0
    found = server.aws_json("detect-dominant-language", "--text", LINES[11])
    assert found["Languages"][0]["LanguageCode"] == "zh-TW"


def test_batch_detect_dominant_language_with_the_aws_cli(server: Server) -> None:
    found = server.aws_json("batch-detect-dominant-language", "--text-list", LINES[8], LINES[10], LINES[9])
    assert found["ErrorList"] == []
    assert [(r["Index"], r["Languages"][0]["LanguageCode"]) for r in found["ResultList"]] == [
        (0, "ja"),
        (1, "zh"),
        (2, "ko"),
    ]


def test_scores_best_first_and_limits_in_boto3(server: Server) -> None:
    client = server.client()
    mixed = LINES[0] + " " + LINES[3] + " " + LINES[0]
    languages = client.detect_dominant_language(Text=mixed)["Languages"]
    assert [lang["LanguageCode"] for lang in languages[:2]] == ["en", "de"]
    assert [lang["Score"] for lang in languages] == sorted((lang["Score"] for lang in languages), reverse=True)
    with pytest.raises(client.exceptions.TextSizeLimitExceededException):
        client.detect_dominant_language(Text="é" * 50_000 + "x")
    with pytest.raises(client.exceptions.BatchSizeLimitExceededException):
        client.batch_detect_dominant_language(TextList=["hello world"] * 26)
    with pytest.raises(client.exceptions.TextSizeLimitExceededException):
        client.batch_detect_dominant_language(TextList=["hello world", "x" * 5001])


def test_a_job_of_mixed_language_lines_with_the_aws_cli(server: Server) -> None:
    server.put("lang", "in/a.txt", "\r\n".join(LINES[:7]) + "\r\n")
    server.put("lang", "in/b.txt", "\n".join(LINES[7:]))
    started = server.aws_json(
        "start-dominant-language-detection-job",
        "--input-data-config", "S3Uri=s3://lang/in/,InputFormat=ONE_DOC_PER_LINE",
        "--output-data-config", "S3Uri=s3://lang/out/",
        "--data-access-role-arn", ROLE,
        "--job-name", "mixed",
        "--tags", "Key=team,Value=search",
    )  # fmt: skip
    job_id = started["JobId"]
    assert started["JobArn"] == f"arn:aws:comprehend:us-east-1:{ACCOUNT}:dominant-language-detection-job/{job_id}"
    props = server.wait(job_id, kind="language")
    assert props["JobStatus"] == "COMPLETED", props
    key = f"lang/out/{ACCOUNT}-LANGUAGE-{job_id}/output/output.tar.gz"
    assert props["OutputDataConfig"]["S3Uri"] == f"s3://{key}"
    assert "LanguageCode" not in props and props["EndTime"] >= props["SubmitTime"]
    records = read_archive((server.bucket_root / key).read_bytes())
    assert [(r["File"], r["Line"]) for r in records] == [("a.txt", i) for i in range(7)] + [
        ("b.txt", i) for i in range(7)
    ]
    for record, expected in zip(records, EXPECTED, strict=True):
        assert set(record) == {"File", "Line", "Languages"}, record
        best = record["Languages"][0]["LanguageCode"] if record["Languages"] else None
        assert best == expected, record
    described = server.aws_json("describe-dominant-language-detection-job", "--job-id", job_id)
    assert described["DominantLanguageDetectionJobProperties"]["JobName"] == "mixed"
    listed = server.aws_json("list-dominant-language-detection-jobs", "--filter", "JobName=mixed")
    assert [j["JobId"] for j in listed["DominantLanguageDetectionJobPropertiesList"]] == [job_id]
    tags = server.aws_json("list-tags-for-resource", "--resource-arn", started["JobArn"])
    assert tags["Tags"] == [{"Key": "team", "Value": "search"}]


def test_a_stopped_job_with_boto3(server: Server) -> None:
    server.put("lang", "stop/a.txt", "\n".join(f"Sentence number {i} is written in English." for i in range(60000)))
    client = server.client()
    job_id = client.start_dominant_language_detection_job(
        InputDataConfig={"S3Uri": "s3://lang/stop/", "InputFormat": "ONE_DOC_PER_LINE"},
        OutputDataConfig={"S3Uri": "s3://lang/stopped/"},
        DataAccessRoleArn=ROLE,
        ClientRequestToken="stop-me",
    )["JobId"]
    again = client.start_dominant_language_detection_job(
        InputDataConfig={"S3Uri": "s3://lang/stop/", "InputFormat": "ONE_DOC_PER_LINE"},
        OutputDataConfig={"S3Uri": "s3://lang/stopped/"},
        DataAccessRoleArn=ROLE,
        ClientRequestToken="stop-me",
    )["JobId"]
    assert again == job_id
    assert client.stop_dominant_language_detection_job(JobId=job_id)["JobStatus"] in ("STOP_REQUESTED", "STOPPED")
    props = server.wait(job_id, kind="language")
    assert props["JobStatus"] == "STOPPED", props
    records = read_archive(
        (server.bucket_root / f"lang/stopped/{ACCOUNT}-LANGUAGE-{job_id}/output/output.tar.gz").read_bytes()
    )
    assert len(records) < 60000 and all(r["Languages"][0]["LanguageCode"] == "en" for r in records)
    with pytest.raises(client.exceptions.JobNotFoundException):
        client.describe_dominant_language_detection_job(JobId="0" * 32)
    with pytest.raises(client.exceptions.JobNotFoundException):
        client.stop_dominant_language_detection_job(JobId="0" * 32)
    pages = client.get_paginator("list_dominant_language_detection_jobs").paginate(PaginationConfig={"PageSize": 1})
    assert job_id in {j["JobId"] for page in pages for j in page["DominantLanguageDetectionJobPropertiesList"]}


def test_a_language_job_resumes_after_the_server_dies_and_writes_every_line_once(
    tmp_path: Path, aws_available: None
) -> None:
    server = Server(data_dir=tmp_path, port=free_port(), extra_env={"OPENCOMPREHEND_SHARD_DOCUMENTS": "20"})
    cycle = [(LINES[i], EXPECTED[i]) for i in (0, 3, 9, 11)]
    lines = [f"{cycle[i % 4][0]} ({i})" for i in range(40_000)]
    server.put("docs", "in/big.txt", "\n".join(lines) + "\n")
    server.start()
    try:
        job_id = server.client().start_dominant_language_detection_job(
            InputDataConfig={"S3Uri": "s3://docs/in/"},
            OutputDataConfig={"S3Uri": "s3://docs/out/"},
            DataAccessRoleArn=ROLE,
        )["JobId"]
        work = tmp_path / "work" / job_id
        deadline = time.time() + 180
        while len(list(work.glob("part-*.jsonl"))) < 3:
            assert time.time() < deadline, server.log()
            time.sleep(0.02)
        server.kill()
        server.port = free_port()
        server.start()
        props = server.wait(job_id, kind="language", timeout=300)
        assert props["JobStatus"] == "COMPLETED", props
        assert any(f"job {job_id} resumed" in line for line in server.log().splitlines()), server.log()
    finally:
        server.stop()
    archive = tmp_path / "s3" / f"docs/out/{ACCOUNT}-LANGUAGE-{job_id}/output/output.tar.gz"
    records = read_archive(archive.read_bytes())
    assert [r["Line"] for r in records] == list(range(len(lines)))
    assert [r["Languages"][0]["LanguageCode"] for r in records] == [cycle[i % 4][1] for i in range(len(lines))]
