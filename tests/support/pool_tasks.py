"""Tasks for the worker pool's tests: module-level so that a spawned worker can import them."""

from __future__ import annotations

import os
import time


def pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def exit_now() -> None:
    os._exit(3)


def fail(message: str) -> None:
    raise ValueError(message)
