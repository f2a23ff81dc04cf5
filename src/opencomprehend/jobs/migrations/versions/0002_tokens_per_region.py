"""A ClientRequestToken is unique per account and region, not per account.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table -> (old constraint, new constraint)
RENAMED = {
    "entities_detection_jobs": ("uq_jobs_account_token", "uq_jobs_token"),
    "entity_recognizers": ("uq_recognizer_token", "uq_recognizers_token"),
    "endpoints": ("uq_endpoint_token", "uq_endpoints_token"),
}


def _unique_names(table: str) -> set[str]:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(table):
        return set()
    return {c["name"] for c in inspector.get_unique_constraints(table) if c["name"]}


def upgrade() -> None:
    for table, (old, new) in RENAMED.items():
        # A table made by a later create_all already has the new constraint.
        if old not in _unique_names(table):
            continue
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(old, type_="unique")
            batch.create_unique_constraint(new, ["account_id", "region", "client_request_token"])


def downgrade() -> None:
    for table, (old, new) in RENAMED.items():
        if new not in _unique_names(table):
            continue
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(new, type_="unique")
            batch.create_unique_constraint(old, ["account_id", "client_request_token"])
