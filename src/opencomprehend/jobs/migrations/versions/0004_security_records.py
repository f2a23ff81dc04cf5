"""Credentials, data access roles and the KMS keyring move from each node's data folder into the job store.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _has(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    # A database whose tables a later create_all made has them already.
    if not _has("security_records"):
        op.create_table(
            "security_records",
            sa.Column("kind", sa.String(16), primary_key=True),
            sa.Column("record_id", sa.String(256), primary_key=True),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("created", sa.Double, nullable=False),
        )
    if not _has("security_versions"):
        op.create_table(
            "security_versions",
            sa.Column("kind", sa.String(16), primary_key=True),
            sa.Column("version", sa.Integer, nullable=False),
        )


def downgrade() -> None:
    for table in ("security_versions", "security_records"):
        if _has(table):
            op.drop_table(table)
