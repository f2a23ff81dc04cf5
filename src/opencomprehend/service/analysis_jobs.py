"""What every kind of analysis job does alike at the API: create once per token, look up, list, stop.

An entities detection job and a PII entities detection job are two kinds of one job (jobs/schema.py
`job_kind`), on one engine; each operation family sees only its own kind, so DescribePiiEntitiesDetectionJob
on an entities job's id is JobNotFoundException, as it is on AWS, where the two are different resources.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.schema import ENTITIES_JOB
from opencomprehend.jobs.store import SUBMITTED, TERMINAL, InvalidTransition, JobFilter
from opencomprehend.service.access import check_kms_keys, check_role, owned
from opencomprehend.service.errors import invalid_request, job_not_found
from opencomprehend.service.idempotency import create_once, request_hash
from opencomprehend.service.pagination import list_operation, list_page, submit_window
from opencomprehend.service.registry import Environment, RequestContext, operation

DEFAULT_INPUT_FORMAT = "ONE_DOC_PER_LINE"
# Each job kind's operation family ("EntitiesDetection" for ENTITIES: DescribeEntitiesDetectionJob, …), as
# job_operations registered them.
JOB_FAMILIES: dict[str, str] = {}


def create_job(
    env: Environment,
    ctx: RequestContext,
    kind: str,
    arn_type: str,
    members: dict[str, Any],
    client_request_token: str | None,
    tag_pairs: list[tuple[str, str]],
    fields: dict[str, Any],
) -> dict[str, Any]:
    """Queue a job of `kind` (or return the one this token made); `members` are the request's, for the hash.

    `fields` holds the kind's columns, with `input_data_config` and `output_data_config` as the request
    gave them.
    """
    fields = dict(fields)
    input_data_config = fields.pop("input_data_config")
    output_data_config = fields.pop("output_data_config")
    check_role(env, ctx, fields["data_access_role_arn"])
    check_kms_keys(
        env, ctx, KmsKeyId=output_data_config.get("KmsKeyId"), VolumeKmsKeyId=fields.get("volume_kms_key_id")
    )
    job_id = uuid.uuid4().hex
    reader_config = input_data_config.get("DocumentReaderConfig")
    row = {
        "job_id": job_id,
        "job_kind": kind,
        "account_id": ctx.account_id,
        "region": ctx.region,
        "job_arn": ctx.arn(f"{arn_type}/{job_id}"),
        "status": SUBMITTED,
        "submit_time": time.time(),
        "input_s3_uri": input_data_config["S3Uri"],
        "input_format": input_data_config.get("InputFormat", DEFAULT_INPUT_FORMAT),
        "document_reader_config": json.dumps(reader_config) if reader_config else None,
        "output_s3_uri": output_data_config["S3Uri"],
        "output_kms_key_id": output_data_config.get("KmsKeyId"),
        "client_request_token": client_request_token or uuid.uuid4().hex,
        # Another kind's request with the same token is another request (entities jobs hash as they always
        # did, so tokens stored before job kinds existed still replay).
        "request_hash": request_hash(members if kind == ENTITIES_JOB else {**members, "__kind": kind}),
        "documents_done": 0,
        **fields,
    }
    job, created = create_once(env.store, row, tag_pairs)
    if created:
        env.job_changed()
    return job


def input_config(job: Job) -> dict[str, Any]:
    """InputDataConfig as Describe echoes it, with the resolved InputFormat."""
    config: dict[str, Any] = {"S3Uri": job.input_s3_uri, "InputFormat": job.input_format}
    if job.document_reader_config:
        config["DocumentReaderConfig"] = json.loads(job.document_reader_config)
    return config


def properties(job: Job, output_s3_uri: str, **members: Any) -> dict[str, Any]:
    """A job's Properties: the members every kind has, then the kind's own `members` (by their wire names).

    Optional members appear only when they were supplied (None is left out).
    """
    output_config: dict[str, Any] = {"S3Uri": output_s3_uri}
    if job.output_kms_key_id:
        output_config["KmsKeyId"] = job.output_kms_key_id
    props: dict[str, Any] = {
        "JobId": job.job_id,
        "JobArn": job.job_arn,
        "JobName": job.job_name,
        "JobStatus": job.status,
        "Message": job.message,
        "SubmitTime": job.submit_time,
        "EndTime": job.end_time if job.status in TERMINAL else None,
        "InputDataConfig": input_config(job),
        "OutputDataConfig": output_config,
        "LanguageCode": job.language_code,
        "DataAccessRoleArn": job.data_access_role_arn,
        **members,
    }
    return {key: value for key, value in props.items() if value is not None}


def job_or_404(env: Environment, ctx: RequestContext, kind: str, job_id: str) -> Job:
    job = owned(env.store, ctx, job_id, job_not_found)
    if job.job_kind != kind:  # another kind's Describe does not see it
        raise job_not_found(job_id)
    return job


def job_position(job: Job) -> list[Any]:
    """Where a job stands in a listing (its NextToken's position): submit time, then id."""
    return [job.submit_time, job.job_id]


def job_filter(kind: str | None, members: dict[str, Any], newest_first: bool = False) -> JobFilter:
    """The store's filter for a List of jobs of `kind` (None: every kind) (InvalidFilterException for an empty
    time window); `newest_first` whatever the filter (the console's order; the API lists oldest first under
    SubmitTimeBefore alone, as the model documents)."""
    return JobFilter(
        kind=kind, job_name=members.get("JobName"), job_status=members.get("JobStatus"), newest_first=newest_first,
        **submit_window(members),
    )


def list_jobs(
    env: Environment,
    ctx: RequestContext,
    kind: str | None,
    listing: str,
    members: dict[str, Any],
    next_token: str | None,
    max_results: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the caller's jobs of `kind` (None: every kind), newest first whatever the filter, and the
    NextToken of the next page: the console's job list, paged in the database as the List operations are."""
    chosen = job_filter(kind, members, newest_first=True)
    return list_page(
        env.secret, listing, members, next_token, max_results,
        lambda after, limit: env.store.list_jobs(ctx.account_id, ctx.region, chosen, after, limit), job_position,
    )  # fmt: skip


def stop_job(env: Environment, ctx: RequestContext, kind: str, job_id: str) -> dict[str, Any]:
    job_or_404(env, ctx, kind, job_id)
    try:
        status = env.store.request_stop(job_id)
    except InvalidTransition as exc:
        raise invalid_request(f"Job {job_id} is {exc.status} and can no longer be stopped.") from None
    env.job_changed()
    return {"JobId": job_id, "JobStatus": status}


def job_of_kind(env: Environment, ctx: RequestContext, job_id: str, *, kind: str) -> bool:
    """Whether the caller has a job of this kind with this id (tagging's resource lookup)."""
    job = env.store.get_for(ctx.account_id, ctx.region, job_id)
    return job is not None and job.job_kind == kind


def job_operations(
    kind: str, family: str, scope: str, properties_of: Callable[[Environment, Job], dict[str, Any]]
) -> None:
    """Register the Describe, List and Stop operations of one job kind, named as Comprehend names them:
    `family` "EntitiesDetection" gives DescribeEntitiesDetectionJob (answering EntitiesDetectionJobProperties),
    ListEntitiesDetectionJobs (EntitiesDetectionJobPropertiesList, paged under `scope`) and
    StopEntitiesDetectionJob. `properties_of` makes a job row the kind's Properties shape."""
    member = f"{family}JobProperties"
    JOB_FAMILIES[kind] = family

    @operation(f"Describe{family}Job")
    def describe(env: Environment, ctx: RequestContext, *, job_id: str) -> dict[str, Any]:
        return {member: properties_of(env, job_or_404(env, ctx, kind, job_id))}

    list_operation(
        f"List{family}Jobs",
        f"{member}List",
        scope,
        where=lambda members: job_filter(kind, members),
        rows=lambda env, ctx, where, after, limit: env.store.list_jobs(ctx.account_id, ctx.region, where, after, limit),
        position=job_position,
        properties=properties_of,
    )

    @operation(f"Stop{family}Job")
    def stop(env: Environment, ctx: RequestContext, *, job_id: str) -> dict[str, Any]:
        return stop_job(env, ctx, kind, job_id)
