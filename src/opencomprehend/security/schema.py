"""The security records' tables of the job store, and the store's one MetaData (jobs/schema.py defines
the job tables on it): credentials, roles and keys are records of the same database as the jobs, read by
security/records.py, which sits below jobs/ and so may not import it."""

from __future__ import annotations

from sqlalchemy import Column, Double, Integer, MetaData, String, Table, Text

metadata = MetaData()

# The operator's security records, shared by every node of a cluster: API credentials, data access roles and
# the KMS keyring (security/records.py). `body` is the record as JSON, its secret fields sealed under the
# master key; `record_id` is its access key id, role ARN or key id.
security_records = Table(
    "security_records",
    metadata,
    Column("kind", String(16), primary_key=True),  # "credentials", "roles", "keys"
    Column("record_id", String(256), primary_key=True),
    Column("body", Text, nullable=False),
    Column("created", Double, nullable=False),
)

# One row per kind, its version raised by every change: a node reads a kind's records again only when it moved.
security_versions = Table(
    "security_versions",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("version", Integer, nullable=False),
)
