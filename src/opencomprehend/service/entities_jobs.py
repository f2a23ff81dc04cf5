"""StartEntitiesDetectionJob and its family."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from opencomprehend.io.output import output_uri
from opencomprehend.jobs.records import IdempotencyMismatch
from opencomprehend.jobs.store import (
    SUBMITTED,
    TERMINAL,
    InvalidTransition,
    JobFilter,
)
from opencomprehend.service.access import check_kms_keys, check_role
from opencomprehend.service.errors import invalid_request, job_not_found, resource_not_found
from opencomprehend.service.idempotency import request_hash
from opencomprehend.service.pagination import Pager, check_time_window
from opencomprehend.service.recognizers import usable_recognizer
from opencomprehend.service.registry import Environment, RequestContext, operation
from opencomprehend.service.tags import check_tags

DEFAULT_INPUT_FORMAT = "ONE_DOC_PER_LINE"


@operation("StartEntitiesDetectionJob")
def start_entities_detection_job(
    env: Environment,
    ctx: RequestContext,
    *,
    input_data_config: dict[str, Any],
    output_data_config: dict[str, Any],
    data_access_role_arn: str,
    language_code: str,
    job_name: str | None = None,
    entity_recognizer_arn: str | None = None,
    client_request_token: str | None = None,
    volume_kms_key_id: str | None = None,
    vpc_config: dict[str, Any] | None = None,
    tags: list[dict[str, str]] | None = None,
    flywheel_arn: str | None = None,
) -> dict[str, Any]:
    members = {
        "InputDataConfig": input_data_config,
        "OutputDataConfig": output_data_config,
        "DataAccessRoleArn": data_access_role_arn,
        "LanguageCode": language_code,
        "JobName": job_name,
        "EntityRecognizerArn": entity_recognizer_arn,
        "VolumeKmsKeyId": volume_kms_key_id,
        "VpcConfig": vpc_config,
        "Tags": tags,
        "FlywheelArn": flywheel_arn,
    }
    check_role(env, ctx, data_access_role_arn)
    check_kms_keys(env, ctx, KmsKeyId=output_data_config.get("KmsKeyId"), VolumeKmsKeyId=volume_kms_key_id)
    if entity_recognizer_arn is not None:
        # The job runs the recognizer in its own language; LanguageCode is validated, then ignored.
        usable_recognizer(env, ctx, entity_recognizer_arn)
    # Flywheels do not exist here, so any flywheel ARN names a missing resource.
    if flywheel_arn is not None:
        raise resource_not_found(flywheel_arn)
    tag_pairs = check_tags(env, tags)

    job_id = uuid.uuid4().hex
    job_arn = ctx.arn(f"entities-detection-job/{job_id}")
    reader_config = input_data_config.get("DocumentReaderConfig")
    row = {
        "job_id": job_id,
        "account_id": ctx.account_id,
        "region": ctx.region,
        "job_arn": job_arn,
        "job_name": job_name,
        "status": SUBMITTED,
        "submit_time": time.time(),
        "language_code": language_code,
        "entity_recognizer_arn": entity_recognizer_arn,
        "flywheel_arn": flywheel_arn,
        "input_s3_uri": input_data_config["S3Uri"],
        "input_format": input_data_config.get("InputFormat", DEFAULT_INPUT_FORMAT),
        "document_reader_config": json.dumps(reader_config) if reader_config else None,
        "output_s3_uri": output_data_config["S3Uri"],
        "output_kms_key_id": output_data_config.get("KmsKeyId"),
        "data_access_role_arn": data_access_role_arn,
        "volume_kms_key_id": volume_kms_key_id,
        "vpc_config": json.dumps(vpc_config) if vpc_config else None,
        "client_request_token": client_request_token or uuid.uuid4().hex,
        "request_hash": request_hash(members),
        "documents_done": 0,
    }
    try:
        job, created = env.store.create_job(row, tag_pairs)
    except IdempotencyMismatch:
        raise invalid_request(
            "The ClientRequestToken was already used for a request with different parameters."
        ) from None
    if created:
        env.job_changed()
    response = {"JobId": job["job_id"], "JobArn": job["job_arn"], "JobStatus": job["status"]}
    if job["entity_recognizer_arn"]:
        response["EntityRecognizerArn"] = job["entity_recognizer_arn"]
    return response


def job_properties(env: Environment, job: dict[str, Any]) -> dict[str, Any]:
    """EntitiesDetectionJobProperties: optional members appear only when they were supplied."""
    input_config: dict[str, Any] = {"S3Uri": job["input_s3_uri"], "InputFormat": job["input_format"]}
    if job["document_reader_config"]:
        input_config["DocumentReaderConfig"] = json.loads(job["document_reader_config"])
    output_config: dict[str, Any] = {"S3Uri": output_uri(job["output_s3_uri"], job["account_id"], job["job_id"])}
    if job["output_kms_key_id"]:
        output_config["KmsKeyId"] = job["output_kms_key_id"]
    props: dict[str, Any] = {
        "JobId": job["job_id"],
        "JobArn": job["job_arn"],
        "JobName": job["job_name"],
        "JobStatus": job["status"],
        "Message": job["message"],
        "SubmitTime": job["submit_time"],
        "EndTime": job["end_time"] if job["status"] in TERMINAL else None,
        "EntityRecognizerArn": job["entity_recognizer_arn"],
        "InputDataConfig": input_config,
        "OutputDataConfig": output_config,
        "LanguageCode": job["language_code"],
        "DataAccessRoleArn": job["data_access_role_arn"],
        "VolumeKmsKeyId": job["volume_kms_key_id"],
        "VpcConfig": json.loads(job["vpc_config"]) if job["vpc_config"] else None,
        "FlywheelArn": job["flywheel_arn"],
    }
    return {key: value for key, value in props.items() if value is not None}


def _job_or_404(env: Environment, ctx: RequestContext, job_id: str) -> dict[str, Any]:
    job = env.store.get_for(ctx.account_id, ctx.region, job_id)
    if job is None:
        raise job_not_found(job_id)
    return job


@operation("DescribeEntitiesDetectionJob")
def describe_entities_detection_job(env: Environment, ctx: RequestContext, *, job_id: str) -> dict[str, Any]:
    return {"EntitiesDetectionJobProperties": job_properties(env, _job_or_404(env, ctx, job_id))}


@operation("ListEntitiesDetectionJobs")
def list_entities_detection_jobs(
    env: Environment,
    ctx: RequestContext,
    *,
    filter: dict[str, Any] | None = None,  # noqa: A002  (the member's name)
    next_token: str | None = None,
    max_results: int | None = None,
) -> dict[str, Any]:
    members = filter or {}
    job_filter = JobFilter(
        job_name=members.get("JobName"),
        job_status=members.get("JobStatus"),
        submit_time_before=members.get("SubmitTimeBefore"),
        submit_time_after=members.get("SubmitTimeAfter"),
    )
    check_time_window(job_filter.submit_time_before, job_filter.submit_time_after)
    pager = Pager.open(env.secret, "entities-detection-jobs", members, next_token, max_results)
    rows = env.store.list_jobs(ctx.account_id, ctx.region, job_filter, pager.keyset(), pager.limit + 1)
    page, token = pager.page(rows, lambda job: [job["submit_time"], job["job_id"]])
    response: dict[str, Any] = {"EntitiesDetectionJobPropertiesList": [job_properties(env, job) for job in page]}
    if token:
        response["NextToken"] = token
    return response


@operation("StopEntitiesDetectionJob")
def stop_entities_detection_job(env: Environment, ctx: RequestContext, *, job_id: str) -> dict[str, Any]:
    _job_or_404(env, ctx, job_id)
    try:
        status = env.store.request_stop(job_id)
    except InvalidTransition as exc:
        raise invalid_request(f"Job {job_id} is {exc.status} and can no longer be stopped.") from None
    env.job_changed()
    return {"JobId": job_id, "JobStatus": status}
