"""Dominant language detection jobs have no LanguageCode: the column may be empty.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "entities_detection_jobs"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("language_code", existing_type=sa.String(8), nullable=True)


def downgrade() -> None:
    # Language jobs cannot keep their rows under NOT NULL: they go, with their shards.
    op.execute(
        sa.text(
            f"DELETE FROM entities_detection_job_shards WHERE job_id IN "
            f"(SELECT job_id FROM {TABLE} WHERE job_kind = 'LANGUAGE')"
        )
    )
    op.execute(sa.text(f"DELETE FROM {TABLE} WHERE job_kind = 'LANGUAGE'"))
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("language_code", existing_type=sa.String(8), nullable=False)
