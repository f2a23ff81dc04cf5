"""A job's document count, once its run knows it: the console shows documents done of total.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "entities_detection_jobs"


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}


def upgrade() -> None:
    if "documents_total" in _columns():  # a database made from today's schema before it was stamped
        return
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("documents_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("documents_total")
