"""Fixtures shared by all test suites."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from support.seaweedfs import INSTALL_HINT, SeaweedFS, find_weed, running_seaweedfs


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A real SeaweedFS S3 server on 127.0.0.1 for the whole session (see tests/support/seaweedfs.py)."""
    weed = find_weed()
    if weed is None:
        reason = f"SeaweedFS `weed` binary not found; install it with: {INSTALL_HINT}"
        # CI must exercise the real S3 path, so a missing binary there is a broken setup, not a skip.
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    with running_seaweedfs(weed, tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A private PostgreSQL cluster on 127.0.0.1 for the whole session (see tests/support/postgres.py)."""
    from support.postgres import INSTALL_HINT as PG_INSTALL_HINT
    from support.postgres import find_pg_bin, running_postgres

    bin_dir = find_pg_bin()
    if bin_dir is None:
        reason = f"PostgreSQL server binaries (initdb, pg_ctl) not found; install with: {PG_INSTALL_HINT}"
        # CI must exercise the PostgreSQL job store, so missing binaries there are a broken setup.
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    with running_postgres(bin_dir) as server:
        yield server


@pytest.fixture
def postgres_url(postgres: object) -> Iterator[str]:
    """A fresh, empty database in the session's cluster for one test; dropped after it."""
    from support.postgres import fresh_database

    with fresh_database(postgres) as url:  # type: ignore[arg-type]
        yield url
