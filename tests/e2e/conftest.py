"""End-to-end fixtures: a real `opencomprehend serve` subprocess, driven by the AWS CLI and boto3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.components import missing
from support.server import AWS_INSTALL_HINT, Server, aws_cli, running_server


@pytest.fixture(scope="session")
def aws_available() -> None:
    if aws_cli() is None:
        missing(f"the AWS CLI is not installed; {AWS_INSTALL_HINT}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, aws_available: None) -> Iterator[Server]:
    """One server for the session, with a small per-document limit so the limit can be exercised."""
    with running_server(
        tmp_path_factory.mktemp("server"),
        OPENCOMPREHEND_MAX_DOCUMENT_BYTES="5000",
    ) as running:
        yield running
