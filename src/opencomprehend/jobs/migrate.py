"""The job store's schema over time: Alembic migrations (jobs/migrations), applied when a store opens.

- A new database gets today's schema (metadata.create_all) and is stamped with the newest revision.
- A database from before migrations existed (tables, no alembic_version) is stamped as the baseline,
  0001, and upgraded from there; tables it lacks are created first, as create_all always did.
- Otherwise the database is upgraded to the newest revision.

On PostgreSQL, nodes starting together take turns (a transaction-scoped advisory lock), so one of them
migrates and the others find the work done.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text

from opencomprehend.jobs.schema import jobs, metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
_LOCK_KEY = 0x0C0E_0001  # any constant that other users of the database are unlikely to pick

# Alembic says what it does at INFO on every start ("Context impl SQLiteImpl."): only its warnings matter.
logging.getLogger("alembic").setLevel(logging.WARNING)


def upgrade(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        inspector = inspect(conn)
        fresh = not inspector.has_table(jobs.name)
        versioned = inspector.has_table("alembic_version")
        metadata.create_all(conn)
        if fresh:
            command.stamp(config, "head")
            return
        if not versioned:
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
