"""Jobs have a kind (ENTITIES or PII); PII jobs keep their Mode and RedactionConfig.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "entities_detection_jobs"
NAMES = ("job_kind", "mode", "redaction_config")


def _columns() -> list[sa.Column]:
    return [
        # Every job before this revision is an entities detection job.
        sa.Column("job_kind", sa.String(16), nullable=False, server_default="ENTITIES"),
        sa.Column("mode", sa.String(16)),
        sa.Column("redaction_config", sa.Text),
    ]


def _column_names() -> set[str]:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(TABLE):
        return set()
    return {c["name"] for c in inspector.get_columns(TABLE)}


def upgrade() -> None:
    # A table made by a later create_all already has the columns.
    existing = _column_names()
    missing = [column for column in _columns() if column.name not in existing]
    if not missing:
        return
    with op.batch_alter_table(TABLE) as batch:
        for column in missing:
            batch.add_column(column)


def downgrade() -> None:
    existing = _column_names()
    present = [name for name in NAMES if name in existing]
    if not present:
        return
    with op.batch_alter_table(TABLE) as batch:
        for name in present:
            batch.drop_column(name)
