"""StartPiiEntitiesDetectionJob and its family: the second kind of job on the one job engine.

Decisions where Comprehend's documentation leaves room (docs/pii.md says the same for users):

- Mode ONLY_REDACTION needs a RedactionConfig with PiiEntityTypes (the model's documentation says so);
  without one the request is InvalidRequestException. MaskMode defaults to MASK and MaskCharacter to
  "*"; Describe echoes the RedactionConfig as it was given. With ONLY_OFFSETS a RedactionConfig is
  accepted and echoed, and has no effect.
- Describe's OutputDataConfig.S3Uri is the job's output folder, `<prefix>/<account>-PII-<JobId>/output/`,
  where each input file's `<File>.out` is written (no archive: PiiOutputDataConfig's documentation).
- Tags, ClientRequestToken, List filters and paging, Stop: as for entities jobs.
"""

from __future__ import annotations

import json
from typing import Any

from opencomprehend.io.pii_output import ONLY_REDACTION
from opencomprehend.jobs.kinds import output_location
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.schema import PII_JOB
from opencomprehend.service.analysis_jobs import create_job, job_operations, properties
from opencomprehend.service.errors import invalid_request
from opencomprehend.service.registry import Environment, RequestContext, operation
from opencomprehend.service.tags import check_tags


@operation("StartPiiEntitiesDetectionJob")
def start_pii_entities_detection_job(
    env: Environment,
    ctx: RequestContext,
    *,
    input_data_config: dict[str, Any],
    output_data_config: dict[str, Any],
    mode: str,
    data_access_role_arn: str,
    language_code: str,
    redaction_config: dict[str, Any] | None = None,
    job_name: str | None = None,
    client_request_token: str | None = None,
    tags: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    if mode == ONLY_REDACTION and not (redaction_config or {}).get("PiiEntityTypes"):
        raise invalid_request(
            "Mode ONLY_REDACTION needs a RedactionConfig with the PiiEntityTypes to redact (ALL for every type)."
        )
    tag_pairs = check_tags(env, tags)
    job = create_job(
        env,
        ctx,
        PII_JOB,
        "pii-entities-detection-job",
        ctx.members,
        client_request_token,
        tag_pairs,
        {
            "job_name": job_name,
            "language_code": language_code,
            "input_data_config": input_data_config,
            "output_data_config": output_data_config,
            "data_access_role_arn": data_access_role_arn,
            "mode": mode,
            "redaction_config": json.dumps(redaction_config) if redaction_config else None,
        },
    )
    return {"JobId": job.job_id, "JobArn": job.job_arn, "JobStatus": job.status}


def pii_job_properties(job: Job) -> dict[str, Any]:
    """PiiEntitiesDetectionJobProperties: optional members appear only when they were supplied."""
    return properties(
        job,
        output_location(job),
        RedactionConfig=json.loads(job.redaction_config) if job.redaction_config else None,
        Mode=job.mode,
    )


job_operations(PII_JOB, "PiiEntitiesDetection", "pii-entities-detection-jobs", lambda env, job: pii_job_properties(job))
