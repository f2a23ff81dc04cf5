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
