"""The job store's database at start: created when missing (where the server's role may), else one clear line."""

from __future__ import annotations

import logging
import re

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("opencomprehend.store")

_MISSING_DATABASE = re.compile(r'database "(?P<name>[^"]+)" does not exist')


class StoreUnavailable(Exception):
    """The job store cannot be opened; str(e) is one line for the operator."""


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001  (not a URL at all: say so rather than fail)
        return "<an invalid database URL>"


def describe_database_error(url: str, exc: BaseException, not_created: str | None = None) -> str:
    """One line: which job store could not be opened, and the database's own first line on why (with
    `not_created`, why the server could not create a missing database itself)."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    first = re.sub(r"^\(\S+\)\s*", "", first)  # SQLAlchemy's "(psycopg.OperationalError) " prefix
    hint = ""
    missing = _MISSING_DATABASE.search(first)
    if missing:
        tried = f", and the server could not create it ({not_created})" if not_created else ""
        hint = (
            f"{tried}; create it (createdb {missing.group('name')}, or CREATE DATABASE) or give the server's "
            "role the CREATEDB privilege, so that it creates it itself"
        )
    return f"cannot open the job store {safe_url(url)}: {first}{hint}"


def create_missing_database(url: str, exc: BaseException) -> tuple[bool, str | None]:
    """After `exc` said a PostgreSQL database does not exist: create it, if the URL's role may (connected to
    the server's `postgres` database). (True, None) when it was created (or someone else just did); (False,
    why) when creating it failed; (False, None) when `exc` is about something else."""
    parsed = make_url(url)
    missing = _MISSING_DATABASE.search(str(getattr(exc, "orig", None) or exc))
    if not parsed.drivername.startswith("postgresql") or missing is None or missing.group("name") != parsed.database:
        return False, None
    name = parsed.database
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
        log.warning("created the job store's database %s", name)
        return True, None
    except SQLAlchemyError as failed:
        if "already exists" in str(failed):
            return True, None
        lines = str(getattr(failed, "orig", None) or failed).strip().splitlines()
        return False, (lines[0] if lines else type(failed).__name__)
    finally:
        admin.dispose()
