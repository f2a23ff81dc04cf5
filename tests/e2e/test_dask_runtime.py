"""The Dask runtime against a real Dask scheduler and workers on 127.0.0.1, without the rest of a cluster.

What these check is the runner's own contract with Dask: custom models reach the workers by reference
and survive the loss of every worker, and real-time requests take their own lane.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.components import missing
from support.dask_cluster import INSTALL_HINT, DaskCluster, find_dask, running_dask

import opencomprehend
from opencomprehend.io.documents import Document
from opencomprehend.runtime.cluster import (
    BATCH_PRIORITY,
    FAIR_SPAN,
    REALTIME_PRIORITY,
    REALTIME_RESOURCE,
    SHARDS_RESOURCE,
    DaskRunner,
    tasks_run,
)
from opencomprehend.runtime.runner import LANGUAGE_ENGINE, custom_engine_key, entities_engine

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


def test_a_worker_kept_for_real_time_takes_the_detect_requests_and_no_shards(
    runner: DaskRunner, dask_cluster: DaskCluster
) -> None:
    reserved = dask_cluster.add_worker(args=["--resources", f"{REALTIME_RESOURCE}=1"])
    try:
        dask_cluster.wait_for_workers(3)
        realtime, batch = runner.lanes()
        assert len(realtime) == 1 and len(batch) == 2, (realtime, batch)
        # What every task is submitted with: real time on the kept worker at a higher priority, shards elsewhere.
        assert runner._lane(REALTIME_PRIORITY) == {
            "priority": REALTIME_PRIORITY + FAIR_SPAN, "workers": realtime, "allow_other_workers": True,
        }  # fmt: skip
        assert runner._lane(BATCH_PRIORITY) == {"priority": BATCH_PRIORITY, "resources": {SHARDS_RESOURCE: 1}}
        with dask_cluster.client() as client:
            before = client.run(tasks_run)
        shards = [runner.submit(entities_engine("en"), [Document("in.txt", i, TEXT)]) for i in range(6)]
        requests = [runner.recognise(entities_engine("en"), [TEXT]) for _ in range(3)]
        for future in [*shards, *requests]:
            future.result(timeout=180)
        with dask_cluster.client() as client:
            after = client.run(tasks_run)
        ran = {a: {k: after[a][k] - before.get(a, {}).get(k, 0) for k in ("shards", "realtime")} for a in after}
        # No shard on the kept worker; the requests there (an idle shard worker may take one: Dask's stealing).
        assert ran[realtime[0]]["shards"] == 0 and ran[realtime[0]]["realtime"] >= 1, ran
        assert sum(ran[a]["shards"] for a in batch) == 6 and sum(r["realtime"] for r in ran.values()) == 3, ran
        # /health's figures: workers, those kept for real time, threads, and the slots a job fills (apart).
        health = runner.health()
        assert (health["Live"], health["RealTime"], health["Threads"], health["Slots"]) == (3, 1, 3, 4)
        assert runner.workers == 4
    finally:
        reserved.terminate()
        reserved.wait(30)
        dask_cluster.workers.remove(reserved)


def test_real_time_requests_are_ordered_fairly_among_accounts_on_dask(runner: DaskRunner) -> None:
    # One account sends eight heavy requests at once, then another account one small one: the small one is
    # ranked ahead of the heavy account's queued ones (its Dask priority is higher), so it ends among the
    # first instead of last.
    heavy = " ".join([TEXT] * 600)  # ~18,000 characters
    finished: list[str] = []
    lock = threading.Lock()

    def note(name: str) -> Callable[[Any], None]:
        def done(_future: Any) -> None:
            with lock:
                finished.append(name)

        return done

    english = entities_engine("en")
    runner.recognise(english, [TEXT], account="warm-up").result(timeout=180)
    futures = []
    for n in range(8):
        future = runner.recognise(english, [heavy], account="busy")
        future.add_done_callback(note(f"busy-{n}"))
        futures.append(future)
    assert runner.realtime_load("busy") == 8 * len(heavy)
    small = runner.recognise(english, [TEXT], account="quiet")
    small.add_done_callback(note("quiet"))
    for future in [*futures, small]:
        future.result(timeout=300)
    assert finished.index("quiet") <= 4, finished
    assert runner.realtime_load("busy") == 0 and runner.realtime_load("quiet") == 0


def test_the_language_identifier_runs_on_dask_workers_for_requests_and_shards(runner: DaskRunner) -> None:
    [found] = runner.recognise(LANGUAGE_ENGINE, ["Heute regnet es in Berlin und Hamburg."]).result(timeout=180)
    assert found is not None and found[0]["LanguageCode"] == "de"
    documents = [Document("in.txt", 0, "It is raining in London again today."), Document("in.txt", 1, "")]
    lines = runner.submit(LANGUAGE_ENGINE, documents).result(timeout=180)
    first, second = (json.loads(line) for line in lines)
    assert first["Languages"][0]["LanguageCode"] == "en" and "Entities" not in first
    assert second == {"File": "in.txt", "Line": 1, "Languages": []}
