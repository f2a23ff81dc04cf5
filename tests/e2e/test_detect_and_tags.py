"""DetectEntities, BatchDetectEntities and tagging end to end: the AWS CLI and boto3 against `opencomprehend serve`."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest
from support.server import Server, worker_pids

pytestmark = pytest.mark.e2e


def check_offsets(text: str, entities: list[dict]) -> None:
    for entity in entities:
        assert set(entity) == {"BeginOffset", "EndOffset", "Score", "Text", "Type"}
        assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
        assert 0.0 <= entity["Score"] <= 1.0


def test_detect_entities_with_the_aws_cli(server: Server) -> None:
    # 👍🏽 is two code points (four UTF-16 units): offsets count code points, as Python's str does.
    text = "👍🏽 Zhang Wei flew from 東京 to Paris."
    found = server.aws_json("detect-entities", "--text", text, "--language-code", "en")
    check_offsets(text, found["Entities"])
    by_text = {e["Text"]: e for e in found["Entities"]}
    assert by_text["Zhang Wei"]["Type"] == "PERSON"
    assert (by_text["Zhang Wei"]["BeginOffset"], by_text["Zhang Wei"]["EndOffset"]) == (3, 12)
    assert by_text["Paris"]["Type"] == "LOCATION"
    assert (by_text["Paris"]["BeginOffset"], by_text["Paris"]["EndOffset"]) == (29, 34)


def test_batch_detect_entities_with_the_aws_cli(server: Server) -> None:
    texts = ["Angela Merkel met Emmanuel Macron in Berlin.", "nothing to see here", "Apple is based in Cupertino."]
    found = server.aws_json("batch-detect-entities", "--text-list", *texts, "--language-code", "en")
    assert found["ErrorList"] == []
    assert [item["Index"] for item in found["ResultList"]] == [0, 1, 2]
    for item in found["ResultList"]:
        check_offsets(texts[item["Index"]], item["Entities"])
    assert found["ResultList"][1]["Entities"] == []
    assert ("Angela Merkel", "PERSON") in {(e["Text"], e["Type"]) for e in found["ResultList"][0]["Entities"]}
    assert ("Cupertino", "LOCATION") in {(e["Text"], e["Type"]) for e in found["ResultList"][2]["Entities"]}


def test_limits_raise_the_modeled_exceptions_in_boto3(server: Server) -> None:
    client = server.client()
    assert client.detect_entities(Text="é" * 50_000, LanguageCode="en")["Entities"] == []
    with pytest.raises(client.exceptions.TextSizeLimitExceededException) as too_long:
        client.detect_entities(Text="é" * 50_000 + "x", LanguageCode="en")
    assert too_long.value.response["Error"]["Message"] == (
        "Input text size exceeds limit. Max length of request text allowed is 100000 bytes "
        "while in this request the text size is 100001 bytes"
    )
    with pytest.raises(client.exceptions.BatchSizeLimitExceededException) as too_many:
        client.batch_detect_entities(TextList=["Paris"] * 26, LanguageCode="en")
    assert too_many.value.response["Error"]["Message"] == (
        "Please use a smaller number of items in a single batch. Maximum batch size is 25."
    )
    with pytest.raises(client.exceptions.TextSizeLimitExceededException):
        client.batch_detect_entities(TextList=["Paris", "x" * 5001], LanguageCode="en")
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.detect_entities(Text="Paris")


def test_tag_list_and_untag_a_job_with_the_aws_cli(server: Server) -> None:
    run = f"tags-{uuid.uuid4().hex[:8]}"
    job_id = server.start_job(f"s3://docs/{run}/in/", f"s3://docs/{run}/out/", Tags=[{"Key": "team", "Value": "nlp"}])
    arn = server.client().describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]["JobArn"]

    server.aws("tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=search", "Key=stage,Value=test")
    listed = server.aws_json("list-tags-for-resource", "--resource-arn", arn)
    assert listed["ResourceArn"] == arn
    assert {t["Key"]: t["Value"] for t in listed["Tags"]} == {"team": "search", "stage": "test"}

    server.aws("untag-resource", "--resource-arn", arn, "--tag-keys", "stage", "not-there")
    assert server.aws_json("list-tags-for-resource", "--resource-arn", arn)["Tags"] == [
        {"Key": "team", "Value": "search"}
    ]

    missing = arn[: -len(job_id)] + "0" * 32
    failed = server.aws("list-tags-for-resource", "--resource-arn", missing, check=False)
    assert failed.returncode != 0 and "ResourceNotFoundException" in failed.stderr


def test_too_many_tags_through_boto3(server: Server) -> None:
    run = f"tags-{uuid.uuid4().hex[:8]}"
    job_id = server.start_job(f"s3://docs/{run}/in/", f"s3://docs/{run}/out/")
    client = server.client()
    arn = client.describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]["JobArn"]
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(client.exceptions.TooManyTagsException):
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    with pytest.raises(client.exceptions.TooManyTagKeysException):
        client.untag_resource(ResourceArn=arn, TagKeys=[f"k{i}" for i in range(51)])
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": "aws:reserved", "Value": "v"}])
    assert len(client.list_tags_for_resource(ResourceArn=arn)["Tags"]) == 50


def test_detect_survives_its_workers_being_killed(server: Server) -> None:
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc to find the worker processes")
    assert server.process is not None
    text = "Barack Obama visited Berlin."
    client = server.client()
    assert client.detect_entities(Text=text, LanguageCode="en")["Entities"]
    killed = worker_pids(server.process.pid)
    assert killed, "found no worker processes"
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    # The pool is rebuilt (its new workers load the model), and the requests after it succeed too.
    for _ in range(3):
        found = client.detect_entities(Text=text, LanguageCode="en")["Entities"]
        assert {"Barack Obama", "Berlin"} <= {e["Text"] for e in found}
    assert not set(killed) & set(worker_pids(server.process.pid))
