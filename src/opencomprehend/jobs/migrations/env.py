"""Alembic's environment for the job store: run on the connection the store hands over (see jobs/migrate.py)."""

from __future__ import annotations

from alembic import context

from opencomprehend.jobs.schema import metadata

# render_as_batch: SQLite alters a table by copying it, which Alembic's batch mode does for us.
context.configure(connection=context.config.attributes["connection"], target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
