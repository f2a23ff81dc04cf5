"""In-process fixtures: the app without worker processes (jobs stay queued; Detect runs inline)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from support.world import World, make_world

from opencomprehend.config import Settings
from opencomprehend.server import create_app


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path), run_workers=False)) as test_client:
        yield test_client


@pytest.fixture()
def world(tmp_path: Path) -> World:
    """The job engine in-process (support/world.py): a real store, the local bucket folder, real engines."""
    return make_world(tmp_path)
