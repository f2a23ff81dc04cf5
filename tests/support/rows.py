"""A job row as StartEntitiesDetectionJob writes it, for tests that put jobs in the store directly."""

from __future__ import annotations

import uuid
from typing import Any

from opencomprehend.jobs.rows import Job

ACCOUNT = "111122223333"
REGION = "us-east-1"
T0 = 1_700_000_000.125  # submit times are fixed, so ties and ranges are exact
SUBMITTED = "SUBMITTED"


def job_row(
    *,
    account: str = ACCOUNT,
    region: str = REGION,
    submit_time: float = T0,
    status: str = SUBMITTED,
    name: str | None = None,
    token: str | None = None,
    request_hash: str = "a" * 64,
    **columns: Any,
) -> dict[str, Any]:
    """A row as StartEntitiesDetectionJob writes it; keyword arguments set any other column."""
    job_id = columns.pop("job_id", None) or uuid.uuid4().hex
    row = {
        "job_id": job_id,
        "account_id": account,
        "region": region,
        "job_arn": f"arn:aws:comprehend:{region}:{account}:entities-detection-job/{job_id}",
        "job_name": name,
        "status": status,
        "submit_time": submit_time,
        "language_code": "en",
        "entity_recognizer_arn": None,
        "flywheel_arn": None,
        "input_s3_uri": "s3://docs/in/",
        "input_format": "ONE_DOC_PER_LINE",
        "document_reader_config": None,
        "output_s3_uri": "s3://docs/out/",
        "output_kms_key_id": None,
        "data_access_role_arn": f"arn:aws:iam::{account}:role/ComprehendData",
        "volume_kms_key_id": None,
        "vpc_config": None,
        "client_request_token": token or uuid.uuid4().hex,
        "request_hash": request_hash,
        "documents_done": 0,
        "job_kind": "ENTITIES",
        "mode": None,
        "redaction_config": None,
    }
    row.update(columns)
    return row


def job_record(**kwargs: Any) -> Job:
    """The Job a store would give back for job_row(**kwargs), before it ran (no end time, lease or total)."""
    row = {"message": None, "end_time": None, "documents_total": None, "lease_owner": None, "lease_expires": None}
    return Job.from_row({**row, **job_row(**kwargs)})
