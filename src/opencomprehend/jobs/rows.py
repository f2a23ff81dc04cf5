"""The typed records the job store gives the layers above it: one frozen dataclass a table, a field a column.

Each class's fields are its table's columns, in the same order and with the same names (tests check that
they stay so), so a record is read from a row by name (`from_row`) and the store's SQL never lists them
twice. Nothing above jobs/ sees a row or a dict of columns: it reads attributes, and a changed copy is
`dataclasses.replace(record, ...)`. Records are immutable snapshots: a state change goes through the store,
which returns a fresh one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

R = TypeVar("R", bound="Row")


class Row:
    """A record read from one row of a table (a frozen dataclass whose fields are the table's columns)."""

    __slots__ = ()
    key: ClassVar[str]  # the column that identifies a record
    # Every record is owned by an account in a region and was created with a token (jobs.records.Records).
    account_id: str
    region: str
    client_request_token: str
    request_hash: str

    @classmethod
    def from_row(cls: type[R], mapping: Mapping[str, Any]) -> R:
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Job(Row):
    """An analysis job of any kind (entities, PII, dominant language): jobs.schema.jobs."""

    key: ClassVar[str] = "job_id"

    job_id: str
    job_kind: str  # ENTITIES_JOB, PII_JOB or LANGUAGE_JOB
    account_id: str
    region: str
    job_arn: str
    job_name: str | None
    status: str
    message: str | None
    submit_time: float
    end_time: float | None
    language_code: str | None  # None for a dominant language detection job
    entity_recognizer_arn: str | None
    flywheel_arn: str | None
    input_s3_uri: str
    input_format: str
    document_reader_config: str | None  # JSON
    output_s3_uri: str
    output_kms_key_id: str | None
    data_access_role_arn: str
    volume_kms_key_id: str | None
    vpc_config: str | None  # JSON
    client_request_token: str
    request_hash: str
    documents_done: int
    documents_total: int | None  # once the run knows
    lease_owner: str | None
    lease_expires: float | None
    mode: str | None  # PII jobs: ONLY_OFFSETS or ONLY_REDACTION
    redaction_config: str | None  # PII jobs: JSON


@dataclass(frozen=True, slots=True)
class Recognizer(Row):
    """One version of a custom entity recognizer: jobs.schema.entity_recognizers."""

    key: ClassVar[str] = "recognizer_arn"

    recognizer_arn: str
    account_id: str
    region: str
    recognizer_name: str
    version_key: str  # "" when the recognizer has no version
    version_name: str | None
    language_code: str
    status: str
    message: str | None
    submit_time: float
    end_time: float | None
    training_start_time: float | None
    training_end_time: float | None
    input_data_config: str  # JSON
    data_access_role_arn: str
    volume_kms_key_id: str | None
    vpc_config: str | None  # JSON
    model_kms_key_id: str | None
    model_policy: str | None
    recognizer_metadata: str | None  # JSON, Comprehend's RecognizerMetadata once trained
    model_uri: str | None
    client_request_token: str
    request_hash: str
    lease_owner: str | None
    lease_expires: float | None


@dataclass(frozen=True, slots=True)
class RecognizerSummary:
    """A recognizer name's latest version and how many versions it has (ListEntityRecognizerSummaries)."""

    latest: Recognizer
    versions: int


@dataclass(frozen=True, slots=True)
class Endpoint(Row):
    """An endpoint, a name for a trained recognizer: jobs.schema.endpoints."""

    key: ClassVar[str] = "endpoint_arn"

    endpoint_arn: str
    account_id: str
    region: str
    endpoint_name: str
    status: str
    message: str | None
    model_arn: str
    desired_inference_units: int
    data_access_role_arn: str | None
    flywheel_arn: str | None
    creation_time: float
    last_modified_time: float
    client_request_token: str
    request_hash: str
