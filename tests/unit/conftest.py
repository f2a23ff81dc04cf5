"""In-process fixtures: the app without worker processes (jobs stay queued; Detect runs inline)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from opencomprehend.config import Settings
from opencomprehend.server import create_app


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path), run_workers=False)) as test_client:
        yield test_client
