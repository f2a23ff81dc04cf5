"""Custom entity recognizers end to end: train from each of Comprehend's formats, use, stop and delete."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support import training_sets
from support.output import check_offsets, read_archive
from support.server import ROLE, Server, running_server

pytestmark = pytest.mark.e2e

TYPES = [{"Type": "PERSON_NAME"}, {"Type": "ORG_NAME"}]
TRAIN = training_sets.sentences(400)
UNSEEN = training_sets.sentences(40, offset=1200)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, aws_available: None) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("recognizers"),
        OPENCOMPREHEND_TRAINING_MAX_EPOCHS="12",
        OPENCOMPREHEND_MIN_ENTITY_LIST_MATCHES="25",
        OPENCOMPREHEND_TRAINING_CAPACITY="2",
        OPENCOMPREHEND_TRAINING_MAX_SECONDS="45",
    ) as running:
        yield running


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _wait(server: Server, arn: str, timeout: float = 600) -> dict[str, Any]:
    client = server.client()
    deadline = time.time() + timeout
    while time.time() < deadline:
        props = client.describe_entity_recognizer(EntityRecognizerArn=arn)["EntityRecognizerProperties"]
        if props["Status"] not in ("SUBMITTED", "TRAINING", "STOP_REQUESTED"):
            return props
        time.sleep(0.25)
    raise AssertionError(f"{arn} still {props['Status']}: {server.log()[-3000:]}")


def _put_annotated(server: Server, run: str) -> None:
    server.put("train", f"{run}/docs/sentences.txt", training_sets.documents_file(TRAIN))
    server.put("train", f"{run}/annotations.csv", training_sets.annotations_csv(TRAIN, "sentences.txt"))


def _check_metrics(props: dict[str, Any], documents: int) -> None:
    metadata = props["RecognizerMetadata"]
    assert metadata["NumberOfTrainedDocuments"] + metadata["NumberOfTestDocuments"] == documents
    assert metadata["NumberOfTestDocuments"] >= documents // 20
    # A recognizer that learns nothing scores under 10 on these sentences (see the manifest test).
    assert metadata["EvaluationMetrics"]["F1Score"] > 25, metadata
    assert 0 <= metadata["EvaluationMetrics"]["Precision"] <= 100
    kinds = {t["Type"]: t for t in metadata["EntityTypes"]}
    assert set(kinds) == {"PERSON_NAME", "ORG_NAME"}
    assert all(t["NumberOfTrainMentions"] >= 25 for t in kinds.values())
    assert kinds["PERSON_NAME"]["EvaluationMetrics"]["F1Score"] > 25


def test_train_from_annotations_with_the_cli_then_run_a_job_with_it(server: Server) -> None:
    run = _name("annot")
    _put_annotated(server, run)
    created = server.aws_json(
        "create-entity-recognizer",
        "--recognizer-name", run,
        "--version-name", "v1",
        "--language-code", "en",
        "--data-access-role-arn", ROLE,
        "--input-data-config",
        f'{{"EntityTypes": [{{"Type": "PERSON_NAME"}}, {{"Type": "ORG_NAME"}}], '
        f'"Documents": {{"S3Uri": "s3://train/{run}/docs/"}}, '
        f'"Annotations": {{"S3Uri": "s3://train/{run}/annotations.csv"}}}}',
    )  # fmt: skip
    arn = created["EntityRecognizerArn"]
    assert arn.endswith(f":entity-recognizer/{run}/version/v1")
    props = _wait(server, arn)
    assert props["Status"] == "TRAINED", props
    assert props["InputDataConfig"]["DataFormat"] == "COMPREHEND_CSV"
    assert props["InputDataConfig"]["Documents"]["InputFormat"] == "ONE_DOC_PER_LINE"
    assert props["VersionName"] == "v1"
    assert props["TrainingEndTime"] >= props["TrainingStartTime"] >= props["SubmitTime"]
    _check_metrics(props, len(TRAIN))
    refused = server.aws("stop-training-entity-recognizer", "--entity-recognizer-arn", arn, check=False)
    assert refused.returncode != 0 and "InvalidRequestException" in refused.stderr

    # A job with the recognizer: LanguageCode is ignored, the output carries the custom types.
    server.put("docs", f"{run}/in/unseen.txt", training_sets.documents_file(UNSEEN))
    job_id = server.start_job(f"s3://docs/{run}/in/", f"s3://docs/{run}/out/", language="de", EntityRecognizerArn=arn)
    # While the job runs, the recognizer cannot be deleted.
    with pytest.raises(ClientError) as raised:
        server.client().delete_entity_recognizer(EntityRecognizerArn=arn)
    assert raised.value.response["Error"]["Code"] in ("ResourceInUseException",)
    job = server.wait(job_id)
    assert job["JobStatus"] == "COMPLETED", job
    assert job["EntityRecognizerArn"] == arn
    records = read_archive((server.bucket_root / job["OutputDataConfig"]["S3Uri"].removeprefix("s3://")).read_bytes())
    assert len(records) == len(UNSEEN)
    check_offsets(records, {("unseen.txt", i): text for i, (text, _) in enumerate(UNSEEN)})
    found = [e for r in records for e in r["Entities"]]
    assert {e["Type"] for e in found} <= {"PERSON_NAME", "ORG_NAME"}
    gold = {(i, b, e, t) for i, (_, spans) in enumerate(UNSEEN) for b, e, t in spans}
    predicted = {(r["Line"], e["BeginOffset"], e["EndOffset"], e["Type"]) for r in records for e in r["Entities"]}
    assert len(gold & predicted) >= len(gold) // 3, "the recognizer finds real mentions in unseen text"

    # Real time through an endpoint, with the AWS CLI.
    endpoint = server.aws_json(
        "create-endpoint", "--endpoint-name", run, "--model-arn", arn, "--desired-inference-units", "1",
        "--tags", "Key=team,Value=nlp",
    )["EndpointArn"]  # fmt: skip
    assert endpoint.endswith(f":entity-recognizer-endpoint/{run}")
    described = server.aws_json("describe-endpoint", "--endpoint-arn", endpoint)["EndpointProperties"]
    assert (described["Status"], described["ModelArn"]) == ("IN_SERVICE", arn)
    text, spans = UNSEEN[0]
    detected = server.aws_json("detect-entities", "--endpoint-arn", endpoint, "--text", text)["Entities"]
    assert detected, "the endpoint's model finds the mentions it was trained for"
    for entity in detected:
        assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
        assert entity["Type"] in ("PERSON_NAME", "ORG_NAME") and 0 <= entity["Score"] <= 1
    listed = server.aws_json("list-endpoints", "--filter", f"ModelArn={arn}")["EndpointPropertiesList"]
    assert [e["EndpointArn"] for e in listed] == [endpoint]
    assert server.aws_json("list-tags-for-resource", "--resource-arn", endpoint)["Tags"] == [
        {"Key": "team", "Value": "nlp"}
    ]
    server.aws("tag-resource", "--resource-arn", arn, "--tags", "Key=stage,Value=test")
    assert server.aws_json("list-tags-for-resource", "--resource-arn", arn)["Tags"] == [
        {"Key": "stage", "Value": "test"}
    ]
    in_use = server.aws("delete-entity-recognizer", "--entity-recognizer-arn", arn, check=False)
    assert in_use.returncode != 0 and "ResourceInUseException" in in_use.stderr
    server.aws("delete-endpoint", "--endpoint-arn", endpoint)
    gone = server.aws("describe-endpoint", "--endpoint-arn", endpoint, check=False)
    assert gone.returncode != 0 and "ResourceNotFoundException" in gone.stderr

    # Finished job, no endpoint: the recognizer can go; it is DELETING, then gone.
    server.aws("delete-entity-recognizer", "--entity-recognizer-arn", arn)
    deadline = time.time() + 30
    while True:
        gone = server.aws("describe-entity-recognizer", "--entity-recognizer-arn", arn, check=False)
        if gone.returncode != 0:
            assert "ResourceNotFoundException" in gone.stderr
            break
        assert time.time() < deadline
        time.sleep(0.2)


def test_train_from_an_entity_list(server: Server) -> None:
    run = _name("list")
    server.put("train", f"{run}/docs/sentences.txt", training_sets.documents_file(TRAIN))
    server.put("train", f"{run}/entities.csv", training_sets.entity_list_csv(TRAIN))
    arn = server.client().create_entity_recognizer(
        RecognizerName=run,
        LanguageCode="en",
        DataAccessRoleArn=ROLE,
        InputDataConfig={
            "EntityTypes": TYPES,
            "Documents": {"S3Uri": f"s3://train/{run}/docs/"},
            "EntityList": {"S3Uri": f"s3://train/{run}/entities.csv"},
        },
    )["EntityRecognizerArn"]
    props = _wait(server, arn)
    assert props["Status"] in ("TRAINED", "TRAINED_WITH_WARNING"), props
    _check_metrics(props, len(TRAIN))


def test_train_from_an_augmented_manifest_with_a_test_split(server: Server) -> None:
    run = _name("manifest")
    test_part = training_sets.sentences(60, offset=600)
    server.put("train", f"{run}/train.manifest", training_sets.augmented_manifest(TRAIN, "ner-labels"))
    server.put("train", f"{run}/test.manifest", training_sets.augmented_manifest(test_part, "ner-labels"))
    arn = server.client().create_entity_recognizer(
        RecognizerName=run,
        LanguageCode="en",
        DataAccessRoleArn=ROLE,
        InputDataConfig={
            "DataFormat": "AUGMENTED_MANIFEST",
            "EntityTypes": TYPES,
            "AugmentedManifests": [
                {"S3Uri": f"s3://train/{run}/train.manifest", "AttributeNames": ["ner-labels"]},
                {"S3Uri": f"s3://train/{run}/test.manifest", "AttributeNames": ["ner-labels"], "Split": "TEST"},
            ],
        },
    )["EntityRecognizerArn"]
    props = _wait(server, arn)
    assert props["Status"] == "TRAINED", props
    metadata = props["RecognizerMetadata"]
    assert (metadata["NumberOfTrainedDocuments"], metadata["NumberOfTestDocuments"]) == (len(TRAIN), len(test_part))
    baseline = training_sets.trivial_baseline_f1(TRAIN, test_part)
    assert baseline < 25  # the generated sentences start with names often enough that capitals alone score ~22
    assert metadata["EvaluationMetrics"]["F1Score"] > baseline + 15, (metadata, baseline)


def _annotated_config(run: str, annotations: str = "annotations.csv") -> dict[str, Any]:
    return {
        "EntityTypes": TYPES,
        "Documents": {"S3Uri": f"s3://train/{run}/docs/"},
        "Annotations": {"S3Uri": f"s3://train/{run}/{annotations}"},
    }


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing-column", "has no 'End Offset' column"),
        ("outside", "row 2: offsets 0-9999 are outside sentences.txt line 0"),
        ("unknown-type", "row 2: type 'DEVICE' is not one of the recognizer's EntityTypes"),
        ("too-few", "Too few annotations for entity type 'ORG_NAME'"),
        ("empty-test", "The test set"),
    ],
)
def test_bad_training_data_ends_in_error_with_what_and_where(server: Server, case: str, expected: str) -> None:
    run = _name(case)
    corpus = TRAIN[:60]
    server.put("train", f"{run}/docs/sentences.txt", training_sets.documents_file(corpus))
    annotations = training_sets.annotations_csv(corpus, "sentences.txt")
    header, first, *rest = annotations.splitlines()
    config = _annotated_config(run)
    if case == "missing-column":
        annotations = "\n".join(",".join(row.split(",")[:3] + row.split(",")[4:]) for row in annotations.splitlines())
    elif case == "outside":
        annotations = "\n".join([header, "sentences.txt,0,0,9999,PERSON_NAME", *rest])
    elif case == "unknown-type":
        annotations = "\n".join([header, "sentences.txt,0,0,3,DEVICE", *rest])
    elif case == "too-few":
        annotations = "\n".join([header, *[row for row in [first, *rest] if not row.endswith("ORG_NAME")]])
    elif case == "empty-test":
        server.put("train", f"{run}/test-docs/empty.txt", "")
        server.put("train", f"{run}/test-annotations.csv", "File,Line,Begin Offset,End Offset,Type\n")
        config["Documents"]["TestS3Uri"] = f"s3://train/{run}/test-docs/"
        config["Annotations"]["TestS3Uri"] = f"s3://train/{run}/test-annotations.csv"
    server.put("train", f"{run}/annotations.csv", annotations + "\n")
    arn = server.client().create_entity_recognizer(
        RecognizerName=run, LanguageCode="en", DataAccessRoleArn=ROLE, InputDataConfig=config
    )["EntityRecognizerArn"]
    props = _wait(server, arn)
    assert props["Status"] == "IN_ERROR", props
    assert expected in props["Message"], props["Message"]
    assert "EndTime" in props


def test_stop_training_then_use_and_delete_rules(server: Server) -> None:
    run = _name("stop")
    bigger = training_sets.sentences(1500)
    server.put("train", f"{run}/docs/sentences.txt", training_sets.documents_file(bigger))
    server.put("train", f"{run}/annotations.csv", training_sets.annotations_csv(bigger, "sentences.txt"))
    client = server.client()
    arn = client.create_entity_recognizer(
        RecognizerName=run, LanguageCode="en", DataAccessRoleArn=ROLE, InputDataConfig=_annotated_config(run)
    )["EntityRecognizerArn"]
    deadline = time.time() + 60
    while client.describe_entity_recognizer(EntityRecognizerArn=arn)["EntityRecognizerProperties"]["Status"] != (
        "TRAINING"
    ):
        assert time.time() < deadline
        time.sleep(0.1)
    # Not trained yet: a job may not use it, and it may not be deleted.
    with pytest.raises(client.exceptions.ResourceUnavailableException):
        server.start_job("s3://docs/x/", "s3://docs/y/", EntityRecognizerArn=arn)
    with pytest.raises(client.exceptions.ResourceUnavailableException):
        client.delete_entity_recognizer(EntityRecognizerArn=arn)
    server.aws("stop-training-entity-recognizer", "--entity-recognizer-arn", arn)
    props = _wait(server, arn, timeout=60)
    assert props["Status"] == "STOPPED", props
    assert "RecognizerMetadata" not in props
    client.stop_training_entity_recognizer(EntityRecognizerArn=arn)  # stopping a stopped one is a no-op
    client.delete_entity_recognizer(EntityRecognizerArn=arn)


def test_create_rules_names_versions_tokens_and_languages(server: Server) -> None:
    run = _name("rules")
    _put_annotated(server, run)
    client = server.client()
    config = _annotated_config(run)
    with pytest.raises(client.exceptions.UnsupportedLanguageException):
        client.create_entity_recognizer(
            RecognizerName=run, LanguageCode="ja", DataAccessRoleArn=ROLE, InputDataConfig=config
        )
    first = client.create_entity_recognizer(
        RecognizerName=run, LanguageCode="en", DataAccessRoleArn=ROLE, InputDataConfig=config, ClientRequestToken=run
    )["EntityRecognizerArn"]
    again = client.create_entity_recognizer(
        RecognizerName=run, LanguageCode="en", DataAccessRoleArn=ROLE, InputDataConfig=config, ClientRequestToken=run
    )["EntityRecognizerArn"]
    assert again == first and first.endswith(f":entity-recognizer/{run}")
    with pytest.raises(client.exceptions.ResourceInUseException):
        client.create_entity_recognizer(
            RecognizerName=run, LanguageCode="en", DataAccessRoleArn=ROLE, InputDataConfig=config
        )
    v2 = client.create_entity_recognizer(
        RecognizerName=run, VersionName="v2", LanguageCode="en", DataAccessRoleArn=ROLE, InputDataConfig=config
    )["EntityRecognizerArn"]
    assert v2 == f"{first}/version/v2"
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.create_entity_recognizer(
            RecognizerName=run + "x",
            LanguageCode="en",
            DataAccessRoleArn=ROLE,
            InputDataConfig={**config, "EntityList": {"S3Uri": "s3://train/x.csv"}},
        )
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_entity_recognizer(EntityRecognizerArn=first.replace(run, run + "-nope"))

    listed = server.aws_json("list-entity-recognizers", "--filter", f"RecognizerName={run}", "--page-size", "1")
    assert {p["EntityRecognizerArn"] for p in listed["EntityRecognizerPropertiesList"]} == {first, v2}
    summaries = client.list_entity_recognizer_summaries()["EntityRecognizerSummariesList"]
    mine = [s for s in summaries if s["RecognizerName"] == run]
    assert mine and mine[0]["NumberOfVersions"] == 2 and mine[0]["LatestVersionName"] == "v2"
    for arn in (first, v2):
        client.stop_training_entity_recognizer(EntityRecognizerArn=arn)
