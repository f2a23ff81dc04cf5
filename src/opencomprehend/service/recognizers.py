"""CreateEntityRecognizer and its family: custom recognizers trained on the user's own data."""

from __future__ import annotations

import copy
import json
import time
import uuid
from typing import Any

from opencomprehend.jobs.recognizers import (
    SUBMITTED,
    USABLE,
    InUse,
    RecognizerFilter,
)
from opencomprehend.jobs.rows import Recognizer
from opencomprehend.jobs.store import InvalidTransition
from opencomprehend.nlp.languages import CUSTOM_RECOGNIZER_LANGUAGES
from opencomprehend.service.access import check_kms_keys, check_role, owned
from opencomprehend.service.errors import ServiceError, invalid_request
from opencomprehend.service.idempotency import create_once, request_hash
from opencomprehend.service.pagination import Pager, list_operation, listed, submit_window
from opencomprehend.service.registry import Environment, RequestContext, operation
from opencomprehend.service.tags import check_tags, register_taggable

# Comprehend trains custom recognizers for these languages only.
CUSTOM_LANGUAGES = CUSTOM_RECOGNIZER_LANGUAGES
MAX_ENTITY_TYPES = 25
MAX_MANIFESTS = 5
MAX_ATTRIBUTE_NAMES = 5


def _resolved_input(config: dict[str, Any]) -> dict[str, Any]:
    """The input config with Comprehend's defaults filled in, after checking its combinations."""
    config = copy.deepcopy(config)
    data_format = config.setdefault("DataFormat", "COMPREHEND_CSV")
    types = [entry["Type"] for entry in config["EntityTypes"]]
    if not 1 <= len(types) <= MAX_ENTITY_TYPES:
        raise invalid_request(f"A recognizer needs between 1 and {MAX_ENTITY_TYPES} EntityTypes; got {len(types)}.")
    if len(set(types)) != len(types):
        raise invalid_request("EntityTypes lists a type more than once.")
    if data_format == "COMPREHEND_CSV":
        if "Documents" not in config:
            raise invalid_request("DataFormat COMPREHEND_CSV needs Documents.")
        if ("Annotations" in config) == ("EntityList" in config):
            raise invalid_request("DataFormat COMPREHEND_CSV needs either Annotations or EntityList, not both.")
        if "AugmentedManifests" in config:
            raise invalid_request("AugmentedManifests can only be used with DataFormat AUGMENTED_MANIFEST.")
        config["Documents"].setdefault("InputFormat", "ONE_DOC_PER_LINE")
        if "EntityList" in config and config["Documents"].get("TestS3Uri"):
            raise invalid_request("Documents.TestS3Uri is for annotated documents; an EntityList has no test set.")
    else:
        manifests = config.get("AugmentedManifests") or []
        if not manifests:
            raise invalid_request("DataFormat AUGMENTED_MANIFEST needs AugmentedManifests.")
        if len(manifests) > MAX_MANIFESTS:
            raise invalid_request(f"At most {MAX_MANIFESTS} AugmentedManifests are allowed.")
        for key in ("Documents", "Annotations", "EntityList"):
            if key in config:
                raise invalid_request(f"{key} can only be used with DataFormat COMPREHEND_CSV.")
        for manifest in manifests:
            manifest.setdefault("Split", "TRAIN")
            manifest.setdefault("DocumentType", "PLAIN_TEXT_DOCUMENT")
            if manifest["DocumentType"] != "PLAIN_TEXT_DOCUMENT":
                raise invalid_request("Only PLAIN_TEXT_DOCUMENT manifests are supported by this server.")
            if len(manifest["AttributeNames"]) > MAX_ATTRIBUTE_NAMES:
                raise invalid_request(f"A manifest may name at most {MAX_ATTRIBUTE_NAMES} AttributeNames.")
    return config


def recognizer_arn(ctx: RequestContext, name: str, version: str | None) -> str:
    resource = f"entity-recognizer/{name}" + (f"/version/{version}" if version else "")
    return ctx.arn(resource)


@operation("CreateEntityRecognizer")
def create_entity_recognizer(
    env: Environment,
    ctx: RequestContext,
    *,
    recognizer_name: str,
    data_access_role_arn: str,
    input_data_config: dict[str, Any],
    language_code: str,
    version_name: str | None = None,
    tags: list[dict[str, str]] | None = None,
    client_request_token: str | None = None,
    volume_kms_key_id: str | None = None,
    vpc_config: dict[str, Any] | None = None,
    model_kms_key_id: str | None = None,
    model_policy: str | None = None,
) -> dict[str, Any]:
    if language_code not in CUSTOM_LANGUAGES:
        raise ServiceError(
            "UnsupportedLanguageException",
            f"Custom entity recognizers support {', '.join(CUSTOM_LANGUAGES)}; '{language_code}' is not supported.",
        )
    resolved = _resolved_input(input_data_config)
    check_role(env, ctx, data_access_role_arn)
    check_kms_keys(env, ctx, VolumeKmsKeyId=volume_kms_key_id, ModelKmsKeyId=model_kms_key_id)
    tag_pairs = check_tags(env, tags)
    # Hashed with Comprehend's defaults filled in: a default left out and the same default given are one request.
    members = {**ctx.members, "InputDataConfig": resolved}
    arn = recognizer_arn(ctx, recognizer_name, version_name)
    row = {
        "recognizer_arn": arn,
        "account_id": ctx.account_id,
        "region": ctx.region,
        "recognizer_name": recognizer_name,
        "version_key": version_name or "",
        "version_name": version_name,
        "language_code": language_code,
        "status": SUBMITTED,
        "submit_time": time.time(),
        "input_data_config": json.dumps(resolved),
        "data_access_role_arn": data_access_role_arn,
        "volume_kms_key_id": volume_kms_key_id,
        "vpc_config": json.dumps(vpc_config) if vpc_config else None,
        "model_kms_key_id": model_kms_key_id,
        "model_policy": model_policy,
        "client_request_token": client_request_token or uuid.uuid4().hex,
        "request_hash": request_hash(members),
    }
    what = f"version '{version_name}' of " if version_name else ""
    recognizer, created = create_once(
        env.recognizers,
        row,
        tag_pairs,
        lambda: ServiceError("ResourceInUseException", f"{what}recognizer '{recognizer_name}' already exists ({arn})."),
    )
    if created:
        env.job_changed()
    return {"EntityRecognizerArn": recognizer.recognizer_arn}


def recognizer_properties(recognizer: Recognizer) -> dict[str, Any]:
    terminal = recognizer.status not in ("SUBMITTED", "TRAINING", "STOP_REQUESTED")
    props: dict[str, Any] = {
        "EntityRecognizerArn": recognizer.recognizer_arn,
        "LanguageCode": recognizer.language_code,
        "Status": recognizer.status,
        "Message": recognizer.message,
        "SubmitTime": recognizer.submit_time,
        "EndTime": recognizer.end_time if terminal else None,
        "TrainingStartTime": recognizer.training_start_time,
        "TrainingEndTime": recognizer.training_end_time if terminal else None,
        "InputDataConfig": json.loads(recognizer.input_data_config),
        "RecognizerMetadata": json.loads(recognizer.recognizer_metadata)
        if recognizer.recognizer_metadata
        else None,
        "DataAccessRoleArn": recognizer.data_access_role_arn,
        "VolumeKmsKeyId": recognizer.volume_kms_key_id,
        "VpcConfig": json.loads(recognizer.vpc_config) if recognizer.vpc_config else None,
        "ModelKmsKeyId": recognizer.model_kms_key_id,
        "VersionName": recognizer.version_name,
    }
    return {key: value for key, value in props.items() if value is not None}


def find_recognizer(env: Environment, ctx: RequestContext, arn: str) -> Recognizer:
    return owned(env.recognizers, ctx, arn)


def usable_recognizer(env: Environment, ctx: RequestContext, arn: str) -> Recognizer:
    """A recognizer a job or endpoint may use: it exists (else 404) and is trained (else unavailable)."""
    recognizer = find_recognizer(env, ctx, arn)
    if recognizer.status not in USABLE:
        raise ServiceError(
            "ResourceUnavailableException",
            f"The entity recognizer {arn} is {recognizer.status}; only a trained recognizer can be used.",
        )
    return recognizer


@operation("DescribeEntityRecognizer")
def describe_entity_recognizer(env: Environment, ctx: RequestContext, *, entity_recognizer_arn: str) -> dict[str, Any]:
    return {"EntityRecognizerProperties": recognizer_properties(find_recognizer(env, ctx, entity_recognizer_arn))}


list_operation(
    "ListEntityRecognizers",
    "EntityRecognizerPropertiesList",
    "entity-recognizers",
    where=lambda members: RecognizerFilter(
        status=members.get("Status"), recognizer_name=members.get("RecognizerName"), **submit_window(members)
    ),
    rows=lambda env, ctx, where, after, limit: env.recognizers.list(ctx.account_id, ctx.region, where, after, limit),
    position=lambda r: [r.submit_time, r.recognizer_arn],
    properties=lambda env, r: recognizer_properties(r),
)


@operation("ListEntityRecognizerSummaries")
def list_entity_recognizer_summaries(
    env: Environment, ctx: RequestContext, *, next_token: str | None = None, max_results: int | None = None
) -> dict[str, Any]:
    pager = Pager.open(env.secret, "entity-recognizer-summaries", None, next_token, max_results)
    if pager.after is not None and not isinstance(pager.after, str):
        raise invalid_request("Invalid pagination token.")
    rows = env.recognizers.summaries(ctx.account_id, ctx.region, pager.after, pager.limit + 1)
    page, token = pager.page(rows, lambda r: r.latest.recognizer_name)
    summaries = []
    for row in page:
        latest = row.latest
        summary = {
            "RecognizerName": latest.recognizer_name,
            "NumberOfVersions": row.versions,
            "LatestVersionCreatedAt": latest.submit_time,
            "LatestVersionName": latest.version_name,
            "LatestVersionStatus": latest.status,
        }
        summaries.append({key: value for key, value in summary.items() if value is not None})
    return listed("EntityRecognizerSummariesList", summaries, token)


@operation("DeleteEntityRecognizer")
def delete_entity_recognizer(env: Environment, ctx: RequestContext, *, entity_recognizer_arn: str) -> dict[str, Any]:
    find_recognizer(env, ctx, entity_recognizer_arn)
    try:
        env.recognizers.mark_deleting(entity_recognizer_arn)
    except InvalidTransition as exc:
        raise ServiceError(
            "ResourceUnavailableException",
            f"The entity recognizer is {exc.status}; only a recognizer that finished training can be deleted.",
        ) from None
    except InUse as exc:
        # What uses it is named: the endpoint or job is the caller's own (a recognizer is used in its account).
        users = []
        if exc.endpoints:
            users.append(("the endpoint " if len(exc.endpoints) == 1 else "the endpoints ") + ", ".join(exc.endpoints))
        if exc.jobs:
            users.append(_jobs_phrase(exc.jobs))
        raise ServiceError(
            "ResourceInUseException",
            f"The entity recognizer {entity_recognizer_arn} is used by {' and by '.join(users)}.",
        ) from None
    env.job_changed()
    return {}


@operation("StopTrainingEntityRecognizer")
def stop_training_entity_recognizer(
    env: Environment, ctx: RequestContext, *, entity_recognizer_arn: str
) -> dict[str, Any]:
    find_recognizer(env, ctx, entity_recognizer_arn)
    try:
        env.recognizers.request_stop(entity_recognizer_arn)
    except InvalidTransition as exc:
        raise invalid_request(
            f"The entity recognizer is {exc.status}, not training; there is nothing to stop."
        ) from None
    env.job_changed()
    return {}


def _taggable(env: Environment, ctx: RequestContext, resource_id: str) -> bool:
    arn = ctx.arn(f"entity-recognizer/{resource_id}")
    return env.recognizers.get_for(ctx.account_id, ctx.region, arn) is not None


register_taggable("entity-recognizer", _taggable)


def _jobs_phrase(job_ids: list[str]) -> str:
    if len(job_ids) == 1:
        return f"the job {job_ids[0]}, which has not finished"
    return f"{len(job_ids)} jobs that have not finished ({', '.join(job_ids[:3])}{', …' if len(job_ids) > 3 else ''})"
