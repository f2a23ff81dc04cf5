"""The job store's schema (SQLAlchemy Core): one definition for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Double,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# One MetaData for the whole job store (Alembic's target): the security records' tables are defined beside
# the code that reads them (security/schema.py), below this layer, on the same MetaData.
from opencomprehend.security.schema import metadata, security_records, security_versions  # noqa: F401  (re-exported)

# Every kind of analysis job, one engine: ENTITIES (entities detection), PII (PII entities detection) and
# LANGUAGE (dominant language detection). The table keeps its first name; `job_kind` says which operation
# family a row belongs to.
ENTITIES_JOB = "ENTITIES"
PII_JOB = "PII"
LANGUAGE_JOB = "LANGUAGE"

jobs = Table(
    "entities_detection_jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("job_kind", String(16), nullable=False, default=ENTITIES_JOB, server_default=ENTITIES_JOB),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("job_arn", String(256), nullable=False),
    Column("job_name", String(256)),
    Column("status", String(20), nullable=False),
    Column("message", Text),
    Column("submit_time", Double, nullable=False),
    Column("end_time", Double),
    # None for a dominant language detection job, which has no LanguageCode (migration 0005).
    Column("language_code", String(8)),
    Column("entity_recognizer_arn", String(256)),
    Column("flywheel_arn", String(256)),
    Column("input_s3_uri", String(1024), nullable=False),
    Column("input_format", String(20), nullable=False),
    Column("document_reader_config", Text),
    Column("output_s3_uri", String(1024), nullable=False),
    Column("output_kms_key_id", String(2048)),
    Column("data_access_role_arn", String(2048), nullable=False),
    Column("volume_kms_key_id", String(2048)),
    Column("vpc_config", Text),
    Column("client_request_token", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("documents_done", Integer, nullable=False, default=0),
    # How many documents the input holds, once the run knows (at the start for ONE_DOC_PER_FILE, once the input
    # has been read through for ONE_DOC_PER_LINE): the console's progress bar (migration 0006).
    Column("documents_total", Integer),
    Column("lease_owner", String(200)),
    Column("lease_expires", Double),
    # PII jobs: ONLY_OFFSETS or ONLY_REDACTION, and the RedactionConfig as JSON.
    Column("mode", String(16)),
    Column("redaction_config", Text),
    UniqueConstraint("account_id", "region", "client_request_token", name="uq_jobs_token"),
)
Index("ix_jobs_account_submit", jobs.c.account_id, jobs.c.region, jobs.c.submit_time, jobs.c.job_id)
Index("ix_jobs_status", jobs.c.status)

# A shard is recorded once its part file is written, so a resumed job never redoes or duplicates it.
job_shards = Table(
    "entities_detection_job_shards",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("shard_no", Integer, primary_key=True),
    Column("documents", Integer, nullable=False),
    Column("finished_at", Double, nullable=False),
)

tags = Table(
    "resource_tags",
    metadata,
    Column("resource_arn", String(512), primary_key=True),
    Column("tag_key", String(128), primary_key=True),
    Column("tag_value", String(256), nullable=False),
)

entity_recognizers = Table(
    "entity_recognizers",
    metadata,
    Column("recognizer_arn", String(512), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("recognizer_name", String(63), nullable=False),
    # "" when the recognizer has no version, so the unique key also holds on PostgreSQL (NULLs are distinct).
    Column("version_key", String(63), nullable=False),
    Column("version_name", String(63)),
    Column("language_code", String(8), nullable=False),
    Column("status", String(24), nullable=False),
    Column("message", Text),
    Column("submit_time", Double, nullable=False),
    Column("end_time", Double),
    Column("training_start_time", Double),
    Column("training_end_time", Double),
    Column("input_data_config", Text, nullable=False),
    Column("data_access_role_arn", String(2048), nullable=False),
    Column("volume_kms_key_id", String(2048)),
    Column("vpc_config", Text),
    Column("model_kms_key_id", String(2048)),
    Column("model_policy", Text),
    Column("recognizer_metadata", Text),
    Column("model_uri", String(1024)),
    Column("client_request_token", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("lease_owner", String(200)),
    Column("lease_expires", Double),
    UniqueConstraint("account_id", "region", "recognizer_name", "version_key", name="uq_recognizer_version"),
    UniqueConstraint("account_id", "region", "client_request_token", name="uq_recognizers_token"),
)
Index(
    "ix_recognizers_account_submit",
    entity_recognizers.c.account_id,
    entity_recognizers.c.region,
    entity_recognizers.c.submit_time,
)

# An endpoint is a name for a trained model, served by the warm workers: nothing is provisioned, so it
# is IN_SERVICE as soon as it exists and costs nothing while idle.
endpoints = Table(
    "endpoints",
    metadata,
    Column("endpoint_arn", String(256), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("endpoint_name", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text),
    Column("model_arn", String(256), nullable=False),
    Column("desired_inference_units", Integer, nullable=False),
    Column("data_access_role_arn", String(2048)),
    Column("flywheel_arn", String(256)),
    Column("creation_time", Double, nullable=False),
    Column("last_modified_time", Double, nullable=False),
    Column("client_request_token", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    UniqueConstraint("account_id", "region", "endpoint_name", name="uq_endpoint_name"),
    UniqueConstraint("account_id", "region", "client_request_token", name="uq_endpoints_token"),
)
