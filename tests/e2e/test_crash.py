"""Crash safety: SIGKILL to a worker, to the API process alone, or to the whole process tree, at different
moments of a job and on its STOP and FAILED paths; after a restart every job ends as it should, with every
document exactly once and no worker left behind (tests/support/crash.py; bench/crash.py randomises it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.crash import trial

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("victim", "moment", "ending"),
    [
        ("worker", "first shard", "complete"),
        ("server", "listing", "complete"),
        ("tree", "last shard", "complete"),
        ("server", "assembly", "stop"),
        ("worker", "last shard", "fail"),
    ],
)
def test_a_job_survives_a_kill(tmp_path: Path, aws_available: None, victim: str, moment: str, ending: str) -> None:
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc to find the worker processes")
    outcome = trial(tmp_path, victim, moment, ending, lines=800)
    assert outcome.problems == [], outcome
