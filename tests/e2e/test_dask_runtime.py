"""The Dask runtime against a real Dask scheduler and workers on 127.0.0.1, without the rest of a cluster.

What these check is the runner's own contract with Dask: custom models reach the workers by reference
and survive the loss of every worker, and real-time requests take their own lane.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.components import missing
from support.dask_cluster import INSTALL_HINT, DaskCluster, find_dask, running_dask

import opencomprehend
from opencomprehend.io.documents import Document
from opencomprehend.runtime.cluster import DaskRunner
from opencomprehend.runtime.runner import custom_engine_key

pytestmark = pytest.mark.e2e

EN_MODEL = Path(opencomprehend.__file__).parent / "models" / "en"
TEXT = "Angela Merkel visited Berlin."


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    dask = find_dask()
    if dask is None:
        missing(f"the `dask` command was not found; {INSTALL_HINT}")
    with running_dask(dask, tmp_path_factory.mktemp("dask"), workers=2) as cluster:
        yield cluster


@pytest.fixture
def runner(dask_cluster: DaskCluster) -> Iterator[DaskRunner]:
    made = DaskRunner(dask_cluster.address, preload=[], task_timeout_s=300)
    try:
        yield made
    finally:
        made.close()


def _replace_every_worker(cluster: DaskCluster) -> None:
    """SIGKILL every Dask worker, then start as many fresh ones (new processes, empty local folders)."""
    victims = list(cluster.workers)
    for victim in victims:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        cluster.workers.remove(victim)
    for _ in victims:
        cluster.add_worker()
    cluster.wait_for_workers(len(victims))


def test_a_custom_model_survives_the_death_of_every_worker_that_had_it(
    tmp_path: Path, runner: DaskRunner, dask_cluster: DaskCluster
) -> None:
    # A copy of the shipped English pipeline stands in for a trained recognizer (custom.v1 loads any
    # spaCy folder and reports its labels unchanged).
    model = tmp_path / "models" / "abc" / "model"
    shutil.copytree(EN_MODEL, model)
    key = custom_engine_key("en", model)

    [found] = runner.recognise(key, [TEXT]).result(timeout=180)
    assert found is not None and ("Angela Merkel", "PERSON") in {(e["Text"], e["Type"]) for e in found}

    _replace_every_worker(dask_cluster)

    # The same node, the same model: real-time and shard tasks both still run, on the fresh workers.
    [again] = runner.recognise(key, [TEXT]).result(timeout=180)
    assert again == found
    lines = runner.submit(key, [Document("in.txt", 0, TEXT), Document("in.txt", 1, "")]).result(timeout=180)
    assert len(lines) == 2 and "Angela Merkel" in lines[0]
