"""Languages other than English end to end: the AWS CLI and boto3 against `opencomprehend serve`."""

from __future__ import annotations

import uuid

import pytest
from support.output import check_offsets, read_archive
from support.server import Server

pytestmark = pytest.mark.e2e


def test_detect_entities_in_german_with_the_aws_cli(server: Server) -> None:
    text = "Angela Merkel besuchte am Montag Hamburg."
    found = server.aws_json("detect-entities", "--text", text, "--language-code", "de")
    check_offsets([{"File": "text", "Entities": found["Entities"]}], {("text", None): text})
    assert {(e["Text"], e["Type"], e["BeginOffset"]) for e in found["Entities"]} >= {
        ("Angela Merkel", "PERSON", 0),
        ("Hamburg", "LOCATION", 33),
    }


def test_a_japanese_and_a_traditional_chinese_job_complete(server: Server) -> None:
    lines = {
        "ja": ["安倍晋三は東京で生まれた。", "", "これはペンです。"],
        "zh-TW": ["毛澤東出生於湖南省湘潭縣。"],
    }
    for language, texts in lines.items():
        run = f"lang-{language.lower()}-{uuid.uuid4().hex[:8]}"
        server.put("docs", f"{run}/in/a.txt", "\n".join(texts) + "\n")
        job_id = server.start_job(f"s3://docs/{run}/in/", f"s3://docs/{run}/out/", language=language)
        props = server.wait(job_id)
        assert props["JobStatus"] == "COMPLETED", props
        assert props["LanguageCode"] == language
        uri = props["OutputDataConfig"]["S3Uri"].removeprefix("s3://")
        records = read_archive((server.bucket_root / uri).read_bytes())
        assert [r["Line"] for r in records] == list(range(len(texts)))
        check_offsets(records, {("a.txt", i): t for i, t in enumerate(texts)})
        people = {e["Text"] for e in records[0]["Entities"] if e["Type"] == "PERSON"}
        assert people == ({"安倍晋三"} if language == "ja" else {"毛澤東"}), records[0]
