"""Fixtures shared by all test suites: real components, started on 127.0.0.1 by the tests themselves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.components import missing
from support.postgres import INSTALL_HINT as PG_INSTALL_HINT
from support.postgres import PostgreSQL, find_pg_bin, fresh_database, running_postgres
from support.seaweedfs import INSTALL_HINT, SeaweedFS, find_weed, running_seaweedfs


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A real SeaweedFS S3 server on 127.0.0.1 for the whole session (see tests/support/seaweedfs.py)."""
    weed = find_weed()
    if weed is None:
        missing(f"SeaweedFS `weed` binary not found; install it with: {INSTALL_HINT}")
    with running_seaweedfs(weed, tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgreSQL]:
    """A private PostgreSQL cluster on 127.0.0.1 for the whole session (see tests/support/postgres.py)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        missing(f"PostgreSQL server binaries (initdb, pg_ctl) not found; install with: {PG_INSTALL_HINT}")
    with running_postgres(bin_dir) as server:
        yield server


@pytest.fixture
def postgres_url(postgres: PostgreSQL) -> Iterator[str]:
    """A fresh, empty database in the session's cluster for one test; dropped after it."""
    with fresh_database(postgres) as url:
        yield url
