"""Fixtures shared by all test suites: real components, started on 127.0.0.1 by the tests themselves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.components import missing
from support.postgres import INSTALL_HINT as PG_INSTALL_HINT
from support.postgres import PostgreSQL, find_pg_bin, fresh_database, running_postgres
from support.seaweedfs import INSTALL_HINT, SeaweedFS, find_weed, running_seaweedfs

# Unit test modules that train spaCy models (minutes in all): marked `training`.
TRAINING_MODULES = frozenset({"test_training.py", "test_rehearsal.py", "test_languages.py", "test_calibration.py"})
# Unit test modules that start worker processes: marked `slow`.
SLOW_MODULES = frozenset({"test_pool.py", "test_fuzz.py"})
# Fixtures that start a real server (PostgreSQL, SeaweedFS): tests using them are marked `integration`.
SERVER_FIXTURES = frozenset({"postgres", "postgres_url", "seaweedfs", "s3_server", "server"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers by where a test lives and what it starts, so that `make test-fast` (`-m fast`'s complement:
    no e2e, integration, training or slow tests) runs the in-process tests alone."""
    for item in items:
        path = item.path
        if "e2e" in path.parts:
            item.add_marker(pytest.mark.e2e)
        if "integration" in path.parts or SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        if path.name in TRAINING_MODULES:
            item.add_marker(pytest.mark.training)
        if path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


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
