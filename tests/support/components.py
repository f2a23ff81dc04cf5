"""What a test does when a real component (S3 server, database, AWS CLI) is missing."""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Skip with a reason that says how to install it; in CI, where nothing may skip, fail instead."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must run every test)")
    pytest.skip(reason)


def free_ports(count: int) -> list[int]:
    """Free TCP ports on 127.0.0.1, all different.

    Every socket stays open until all are chosen, so no port is handed out twice; another process may
    still take one before our server binds it, which is why the starters retry with fresh ports.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]
