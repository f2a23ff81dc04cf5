"""Starting a node of a cluster: what it does itself (a missing database, folders a killed run left), and
the one line it prints when it cannot start (no traceback), naming what it could not reach."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.components import free_port
from support.server import BIN

from opencomprehend.jobs.store import JobStore

pytestmark = pytest.mark.e2e

OC = str(BIN / "opencomprehend")


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`opencomprehend serve` that is expected to give up at start."""
    return subprocess.run(
        [OC, "serve", "--port", "0", "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **env},
    )  # fmt: skip


def test_a_missing_postgresql_database_is_created_when_the_role_may(postgres: Any) -> None:
    name = f"oc_{uuid.uuid4().hex[:16]}"
    store = JobStore(postgres.url_for(name))  # what `serve` opens first
    try:
        store.ping()
    finally:
        store.engine.dispose()
        postgres.drop_database(name)


def test_a_missing_database_the_role_may_not_create_is_one_line(postgres: Any, tmp_path: Path) -> None:
    role = f"oc_{uuid.uuid4().hex[:8]}"
    with postgres.connect() as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    url = f"postgresql+psycopg://{role}@{postgres.host}:{postgres.port}/nodb"
    done = serve(tmp_path, OPENCOMPREHEND_DATABASE_URL=url)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"Error: cannot open the job store {url}: "), line
    assert 'database "nodb" does not exist, and the server could not create it (permission denied' in line, line
    assert line.endswith("create it (createdb nodb, or CREATE DATABASE) or give the server's role the CREATEDB "
                         "privilege, so that it creates it itself"), line  # fmt: skip


def test_an_unreachable_scheduler_is_named_as_such(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    done = serve(tmp_path, "--runtime", "dask", "--scheduler", address, OPENCOMPREHEND_DASK_CONNECT_TIMEOUT_S="2")
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: cannot reach the Dask scheduler at {address} within 2 s: "), line
    assert "data folder" not in line


def test_tls_settings_that_do_not_fit_are_one_line(tmp_path: Path) -> None:
    done = serve(tmp_path, "--runtime", "dask", "--scheduler", f"tls://127.0.0.1:{free_port()}")
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "speaks TLS: give this node's certificate with OPENCOMPREHEND_DASK_TLS_CA_FILE" in line
