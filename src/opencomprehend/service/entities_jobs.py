"""StartEntitiesDetectionJob and its family (what job families share is in service/analysis_jobs.py)."""

from __future__ import annotations

import json
from typing import Any

from opencomprehend.jobs.kinds import output_location
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.schema import ENTITIES_JOB
from opencomprehend.service.analysis_jobs import create_job, job_operations, properties
from opencomprehend.service.errors import resource_not_found
from opencomprehend.service.recognizers import usable_recognizer
from opencomprehend.service.registry import Environment, RequestContext, operation
from opencomprehend.service.tags import check_tags


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
    if entity_recognizer_arn is not None:
        # The job runs the recognizer in its own language; LanguageCode is validated, then ignored.
        usable_recognizer(env, ctx, entity_recognizer_arn)
    # Flywheels do not exist here, so any flywheel ARN names a missing resource.
    if flywheel_arn is not None:
        raise resource_not_found(flywheel_arn)
    tag_pairs = check_tags(env, tags)

    job = create_job(
        env,
        ctx,
        ENTITIES_JOB,
        "entities-detection-job",
        ctx.members,
        client_request_token,
        tag_pairs,
        {
            "job_name": job_name,
            "language_code": language_code,
            "entity_recognizer_arn": entity_recognizer_arn,
            "flywheel_arn": flywheel_arn,
            "input_data_config": input_data_config,
            "output_data_config": output_data_config,
            "data_access_role_arn": data_access_role_arn,
            "volume_kms_key_id": volume_kms_key_id,
            "vpc_config": json.dumps(vpc_config) if vpc_config else None,
        },
    )
    response = {"JobId": job.job_id, "JobArn": job.job_arn, "JobStatus": job.status}
    if job.entity_recognizer_arn:
        response["EntityRecognizerArn"] = job.entity_recognizer_arn
    return response


def job_properties(env: Environment, job: Job) -> dict[str, Any]:
    """EntitiesDetectionJobProperties: optional members appear only when they were supplied."""
    return properties(
        job,
        output_location(job),
        EntityRecognizerArn=job.entity_recognizer_arn,
        VolumeKmsKeyId=job.volume_kms_key_id,
        VpcConfig=json.loads(job.vpc_config) if job.vpc_config else None,
        FlywheelArn=job.flywheel_arn,
    )


job_operations(ENTITIES_JOB, "EntitiesDetection", "entities-detection-jobs", job_properties)
