"""Settings rules that span several settings, checked wherever Settings are made (serve, the CLI, tests)."""

from __future__ import annotations

import pydantic
import pytest
from typer.testing import CliRunner

from opencomprehend.cli import app
from opencomprehend.config import Settings


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.org"])
def test_development_mode_refuses_a_host_that_is_not_loopback(host: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=f"refusing to bind {host}"):
        Settings(host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_development_mode_binds_loopback(host: str) -> None:
    assert Settings(host=host).host == host


def test_sigv4_may_bind_any_address() -> None:
    assert Settings(host="0.0.0.0", auth="sigv4").host == "0.0.0.0"


def test_serve_says_so_in_one_line_and_binds_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "refusing to bind 0.0.0.0" in lines[0] and "--auth sigv4" in lines[0], result.output
