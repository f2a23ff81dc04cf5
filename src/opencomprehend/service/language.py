"""DetectDominantLanguage, BatchDetectDominantLanguage and the dominant language detection job family.

The real-time operations run as DetectEntities does (service/detect.py): the same throttle lane, the same
size limits and messages (100,000 bytes of UTF-8 for one text; 25 texts of 5,000 bytes for a batch), on the
warm workers' real-time lane, with the language identifier (nlp/language_id.py) as the engine, loaded once
per worker. The job is the third kind on the one job engine (jobs/schema.py LANGUAGE_JOB), written as an
entities job writes its archive, under `<prefix>/<account>-LANGUAGE-<JobId>/output/output.tar.gz`, one
`{"File", "Line", "Languages"}` record per document.

Decisions where Comprehend's documentation leaves room (docs/language.md says the same for users):

- A text with no letter (digits, punctuation, emoji only) has no dominant language: `"Languages": []`.
- A batch item over 5,000 bytes fails the whole request (TextSizeLimitExceededException), as
  BatchDetectEntities does (spec gap 10).
- Describe's OutputDataConfig.S3Uri is the archive's location from submission on, as for entities jobs.
- Tags, ClientRequestToken, KMS keys, roles, List filters and paging, Stop: as for entities jobs.
"""

from __future__ import annotations

import json
from typing import Any

from opencomprehend.jobs.kinds import output_location
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.schema import LANGUAGE_JOB
from opencomprehend.runtime.runner import LANGUAGE_ENGINE
from opencomprehend.service.analysis_jobs import create_job, job_operations, properties
from opencomprehend.service.detect import (
    batch_answer,
    check_batch,
    check_size,
    internal_error,
    recognise_on_workers,
)
from opencomprehend.service.registry import Environment, RequestContext, operation
from opencomprehend.service.tags import check_tags

# ------------------------------------------------------------------------------------------------ real time


@operation("DetectDominantLanguage", lane="detect")
def detect_dominant_language(env: Environment, ctx: RequestContext, *, text: str) -> dict[str, Any]:
    check_size(text, env.settings.max_detect_bytes)
    [languages] = recognise_on_workers(env, LANGUAGE_ENGINE, [text], ctx.account_id)
    if languages is None:
        raise internal_error()
    return {"Languages": languages}


@operation("BatchDetectDominantLanguage", lane="detect")
def batch_detect_dominant_language(env: Environment, ctx: RequestContext, *, text_list: list[str]) -> dict[str, Any]:
    check_batch(env, text_list)
    return batch_answer(recognise_on_workers(env, LANGUAGE_ENGINE, text_list, ctx.account_id), "Languages")


# ------------------------------------------------------------------------------------------------ jobs


@operation("StartDominantLanguageDetectionJob")
def start_dominant_language_detection_job(
    env: Environment,
    ctx: RequestContext,
    *,
    input_data_config: dict[str, Any],
    output_data_config: dict[str, Any],
    data_access_role_arn: str,
    job_name: str | None = None,
    client_request_token: str | None = None,
    volume_kms_key_id: str | None = None,
    vpc_config: dict[str, Any] | None = None,
    tags: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    tag_pairs = check_tags(env, tags)
    job = create_job(
        env,
        ctx,
        LANGUAGE_JOB,
        "dominant-language-detection-job",
        ctx.members,
        client_request_token,
        tag_pairs,
        {
            "job_name": job_name,
            "language_code": None,
            "input_data_config": input_data_config,
            "output_data_config": output_data_config,
            "data_access_role_arn": data_access_role_arn,
            "volume_kms_key_id": volume_kms_key_id,
            "vpc_config": json.dumps(vpc_config) if vpc_config else None,
        },
    )
    return {"JobId": job.job_id, "JobArn": job.job_arn, "JobStatus": job.status}


def language_job_properties(job: Job) -> dict[str, Any]:
    """DominantLanguageDetectionJobProperties: optional members appear only when they were supplied."""
    return properties(
        job,
        output_location(job),
        VolumeKmsKeyId=job.volume_kms_key_id,
        VpcConfig=json.loads(job.vpc_config) if job.vpc_config else None,
    )


job_operations(
    LANGUAGE_JOB, "DominantLanguageDetection", "dominant-language-detection-jobs",
    lambda env, job: language_job_properties(job),
)  # fmt: skip
