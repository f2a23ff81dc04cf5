"""TagResource, UntagResource and ListTagsForResource in-process, on entities detection jobs."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from support.wire import call

from opencomprehend.service import tags as tags_module

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/ComprehendData"


def start_job(client: TestClient, tags: list[dict] | None = None, region: str = REGION) -> str:
    body: dict[str, Any] = {
        "InputDataConfig": {"S3Uri": "s3://docs/in/"},
        "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
        "DataAccessRoleArn": ROLE,
        "LanguageCode": "en",
    }
    if tags is not None:
        body["Tags"] = tags
    status, started = call(client, "StartEntitiesDetectionJob", body, region)
    assert status == 200, started
    return started["JobArn"]


def tag(client: TestClient, arn: str, pairs: dict[str, str], region: str = REGION) -> tuple[int, dict]:
    return call(
        client, "TagResource", {"ResourceArn": arn, "Tags": [{"Key": k, "Value": v} for k, v in pairs.items()]}, region
    )


def untag(client: TestClient, arn: str, keys: list[str], region: str = REGION) -> tuple[int, dict]:
    return call(client, "UntagResource", {"ResourceArn": arn, "TagKeys": keys}, region)


def listed(client: TestClient, arn: str) -> dict[str, str]:
    status, body = call(client, "ListTagsForResource", {"ResourceArn": arn})
    assert status == 200, body
    assert body["ResourceArn"] == arn
    return {t["Key"]: t["Value"] for t in body["Tags"]}


def test_tags_from_start_are_listed_then_added_overwritten_and_removed(client: TestClient) -> None:
    arn = start_job(client, [{"Key": "team", "Value": "nlp"}])
    assert call(client, "ListTagsForResource", {"ResourceArn": arn}) == (
        200,
        {"ResourceArn": arn, "Tags": [{"Key": "team", "Value": "nlp"}]},
    )
    assert tag(client, arn, {"team": "search", "cost-center": "42", "Team": "keys are case-sensitive"}) == (200, {})
    assert listed(client, arn) == {"team": "search", "cost-center": "42", "Team": "keys are case-sensitive"}
    # Removing a key the resource lacks is fine.
    assert untag(client, arn, ["team", "never-there"]) == (200, {})
    assert listed(client, arn) == {"cost-center": "42", "Team": "keys are case-sensitive"}


def test_a_tag_without_a_value_has_an_empty_one(client: TestClient) -> None:
    arn = start_job(client)
    assert listed(client, arn) == {}
    assert call(client, "TagResource", {"ResourceArn": arn, "Tags": [{"Key": "flag"}]}) == (200, {})
    assert listed(client, arn) == {"flag": ""}


def test_fifty_tags_counting_existing_ones_then_too_many(client: TestClient) -> None:
    arn = start_job(client, [{"Key": f"k{i}", "Value": "v"} for i in range(48)])
    assert tag(client, arn, {"k0": "overwritten", "new-1": "v", "new-2": "v"})[0] == 200
    assert len(listed(client, arn)) == 50
    # Overwriting at the limit adds nothing; one new key is one too many.
    assert tag(client, arn, {"k1": "again"})[0] == 200
    assert tag(client, arn, {"k2": "x", "one-more": "v"}) == (
        400,
        {
            "__type": "TooManyTagsException",
            "Message": "A resource can have at most 50 tags; this request would give it 51.",
        },
    )
    tags = listed(client, arn)
    assert len(tags) == 50 and tags["k2"] == "v" and tags["k1"] == "again"  # the refused request changed nothing


def test_a_single_request_of_51_tags_is_too_many(client: TestClient) -> None:
    arn = start_job(client)
    status, body = tag(client, arn, {f"k{i}": "v" for i in range(51)})
    assert (status, body["__type"]) == (400, "TooManyTagsException")
    assert listed(client, arn) == {}


@pytest.mark.parametrize("key", ["aws:createdBy", "AWS:Team"])
def test_reserved_keys_can_be_neither_added_nor_removed(client: TestClient, key: str) -> None:
    arn = start_job(client)
    assert tag(client, arn, {"ok": "v", key: "v"}) == (
        400,
        {"__type": "InvalidRequestException", "Message": f"Tag key '{key}' uses the reserved prefix 'aws:'."},
    )
    assert untag(client, arn, ["ok", key]) == (
        400,
        {
            "__type": "InvalidRequestException",
            "Message": f"Tag key '{key}' uses the reserved prefix 'aws:' and cannot be removed.",
        },
    )
    assert listed(client, arn) == {}


def test_untag_removes_at_most_50_keys_in_one_request(client: TestClient) -> None:
    arn = start_job(client, [{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert untag(client, arn, [f"k{i}" for i in range(51)]) == (
        400,
        {
            "__type": "TooManyTagKeysException",
            "Message": "A request can remove at most 50 tag keys; this one has 51.",
        },
    )
    assert len(listed(client, arn)) == 50
    assert untag(client, arn, [f"k{i}" for i in range(50)]) == (200, {})
    assert listed(client, arn) == {}


def not_found(arn: str) -> tuple[int, dict]:
    return 404, {
        "__type": "ResourceNotFoundException",
        "Message": f"RESOURCE_NOT_FOUND: Could not find specified resource. ({arn})",
    }


def other_arns(job_arn: str) -> list[str]:
    job_id = job_arn.rsplit("/", 1)[1]
    return [
        f"arn:aws:comprehend:{REGION}:111122223333:entities-detection-job/{'0' * 32}",  # no such job
        f"arn:aws:comprehend:{REGION}:444455556666:entities-detection-job/{job_id}",  # another account
        f"arn:aws:comprehend:eu-west-3:111122223333:entities-detection-job/{job_id}",  # another region
        f"arn:aws-cn:comprehend:{REGION}:111122223333:entities-detection-job/{job_id}",  # another partition
        f"arn:aws:comprehend:{REGION}:111122223333:entity-recognizer/my-recognizer/version/v1",
        f"arn:aws:comprehend:{REGION}:111122223333:entity-recognizer-endpoint/my-endpoint",
        f"arn:aws:comprehend:{REGION}:111122223333:document-classifier/{job_id}",
    ]


def test_an_arn_that_names_no_resource_of_the_caller_is_not_found(client: TestClient) -> None:
    job_arn = start_job(client)
    for arn in other_arns(job_arn):
        assert tag(client, arn, {"k": "v"}) == not_found(arn), arn
        assert untag(client, arn, ["k"]) == not_found(arn), arn
        assert call(client, "ListTagsForResource", {"ResourceArn": arn}) == not_found(arn), arn
    assert listed(client, job_arn) == {}


def test_a_job_is_taggable_only_from_its_own_region(client: TestClient) -> None:
    arn = start_job(client, region="eu-west-3")
    assert tag(client, arn, {"k": "v"}, region="eu-west-3") == (200, {})
    assert tag(client, arn, {"k": "v"}, region=REGION) == not_found(arn)


def test_another_family_registers_its_resource_type(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    arn = f"arn:aws:comprehend:{REGION}:111122223333:entity-recognizer/my-recognizer/version/v1"
    seen: list[str] = []

    def lookup(env: Any, ctx: Any, resource_id: str) -> bool:
        seen.append(resource_id)
        return resource_id == "my-recognizer/version/v1"

    monkeypatch.setitem(tags_module._TAGGABLE, "entity-recognizer", lookup)
    assert tag(client, arn, {"team": "nlp"}) == (200, {})
    assert listed(client, arn) == {"team": "nlp"}
    other = arn.replace("/v1", "/v2")
    assert tag(client, other, {"team": "nlp"}) == not_found(other)
    assert seen[-1] == "my-recognizer/version/v2"


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        ("TagResource", {"ResourceArn": "not-an-arn", "Tags": []}, "at 'resourceArn' failed to satisfy constraint"),
        ("TagResource", {"ResourceArn": "arn:aws:comprehend:us-east-1:111122223333:x/y"}, "Value null at 'tags'"),
        (
            "TagResource",
            {"ResourceArn": "arn:aws:comprehend:us-east-1:111122223333:x/y", "Tags": [{"Key": "k" * 129}]},
            "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128",
        ),
        ("UntagResource", {"ResourceArn": "arn:aws:comprehend:us-east-1:111122223333:x/y"}, "Value null at 'tagKeys'"),
        ("ListTagsForResource", {}, "Value null at 'resourceArn'"),
    ],
    ids=["arn pattern", "no tags", "key too long", "no keys", "no arn"],
)
def test_malformed_tag_requests_are_validation_errors(
    client: TestClient, operation: str, body: dict, message: str
) -> None:
    status, got = call(client, operation, body)
    assert (status, got["__type"]) == (400, "ValidationException")
    assert message in got["Message"]
