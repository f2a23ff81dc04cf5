"""The local worker pool with real processes: recycling, dead and hung workers, priorities, shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from support import pool_tasks

from opencomprehend.runtime.pool import BATCH, REALTIME, LocalPool
from opencomprehend.runtime.runner import WorkerLost


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) is as good as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def until(condition, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def pool():  # type: ignore[no-untyped-def]
    made: list[LocalPool] = []

    def make(workers: int = 2, recycle_after: int = 1000, task_timeout_s: float | None = None) -> LocalPool:
        created = LocalPool(workers, [], recycle_after, task_timeout_s)
        made.append(created)
        assert created.warm_up(60), "the workers did not start"
        return created

    yield make
    for created in made:
        created.close()


def run(pool: LocalPool, fn, *args, priority: int = BATCH) -> Future:  # type: ignore[no-untyped-def]
    return pool._submit(priority, fn, *args)


def test_recycling_never_loses_a_worker_or_a_task(pool) -> None:  # type: ignore[no-untyped-def]
    workers = pool(workers=2, recycle_after=3)
    futures = [run(workers, pool_tasks.pid_after, 0.1) for _ in range(80)]
    live = []
    while not all(f.done() for f in futures):
        live.append(workers.live())
        time.sleep(0.02)
    served_by = {future.result(timeout=1) for future in futures}
    assert len(served_by) >= 4, f"only {len(served_by)} worker processes: nothing was recycled"
    # A worker due for recycling serves on while its replacement loads: never fewer than two at work.
    assert min(live) == 2, f"the pool ran with {min(live)} ready workers at times"
    # Once the last replacements are in, the pool runs exactly its two workers, and the retired ones are gone.
    assert until(lambda: len([p for p in workers.pids() if alive(p)]) == 2)
    assert until(lambda: not [p for p in served_by - set(workers.pids()) if alive(p)])
    # The metrics' figures (GET /metrics): each process beyond the first two came in by a planned recycle.
    stats = workers.worker_stats()
    assert stats["recycles"] >= len(served_by) - 2 and stats["replacements"] == {}
    assert (stats["configured"], stats["alive"]) == (2, 2)
    assert until(lambda: workers.worker_stats()["busy"] == 0)  # a slot is free a moment after its result


def test_a_worker_that_dies_fails_its_task_and_is_replaced(pool) -> None:  # type: ignore[no-untyped-def]
    workers = pool(workers=2)
    before = set(workers.pids())
    lost = run(workers, pool_tasks.exit_now)
    with pytest.raises(WorkerLost, match="exited with code 3"):
        lost.result(timeout=30)
    # Both slots serve again, one of them on a new process.
    assert len({run(workers, pool_tasks.pid_after, 0.3).result(timeout=60) for _ in range(1)}) == 1
    assert until(lambda: len(workers.pids()) == 2 and set(workers.pids()) != before)
    assert workers.worker_stats()["replacements"] == {"lost_task": 1}


def test_a_killed_worker_is_replaced_and_the_pool_keeps_its_size(pool) -> None:  # type: ignore[no-untyped-def]
    workers = pool(workers=2)
    busy = run(workers, pool_tasks.pid_after, 30)
    victim = None
    assert until(lambda: workers.pids() and any(alive(p) for p in workers.pids()))
    assert until(busy.running)  # the task is on a worker now
    assert until(lambda: workers.worker_stats()["busy"] == 1)
    for pid in workers.pids():
        victim = pid
        os.kill(pid, signal.SIGKILL)
        break
    # Either the busy worker died (its task fails) or the idle one did; the pool is whole again either way.
    assert until(lambda: len(workers.pids()) == 2 and victim not in workers.pids(), timeout=60)
    results = [run(workers, pool_tasks.pid_after, 0.01) for _ in range(4)]
    assert all(isinstance(f.result(timeout=60), int) for f in results)
    busy.cancel()


def test_a_hung_task_times_out_and_its_worker_is_replaced(pool) -> None:  # type: ignore[no-untyped-def]
    workers = pool(workers=1, task_timeout_s=1.5)
    (hung_pid,) = workers.pids()
    # The task would sleep 60 s: its WorkerLost within the 30 s wait is the timeout's doing.
    with pytest.raises(WorkerLost, match="did not answer in 2 s"):
        run(workers, pool_tasks.pid_after, 60).result(timeout=30)
    assert until(lambda: not alive(hung_pid))
    assert run(workers, pool_tasks.pid_after, 0).result(timeout=60) != hung_pid


def test_task_errors_come_back_through_the_future(pool) -> None:  # type: ignore[no-untyped-def]
    workers = pool(workers=1)
    (pid,) = workers.pids()
    with pytest.raises(ValueError, match="bad document"):
        run(workers, pool_tasks.fail, "bad document").result(timeout=30)
    assert workers.pids() == [pid]  # an error is not a lost worker


def test_realtime_requests_go_ahead_of_queued_shards(pool) -> None:  # type: ignore[no-untyped-def]
    workers = pool(workers=1)
    first = run(workers, pool_tasks.pid_after, 1.0)
    assert until(first.running)
    queued = [run(workers, pool_tasks.pid_after, 0.2) for _ in range(5)]
    urgent = run(workers, pool_tasks.pid_after, 0, priority=REALTIME)
    urgent.result(timeout=30)
    assert first.done()
    assert sum(f.done() for f in queued) <= 1


def test_close_is_bounded_even_with_a_hung_task() -> None:
    workers = LocalPool(1, [], 1000)
    assert workers.warm_up(60)
    (pid,) = workers.pids()
    hung = workers._submit(BATCH, pool_tasks.pid_after, 600)
    queued = workers._submit(BATCH, pool_tasks.pid_after, 0)
    assert until(hung.running)
    # The hung task sleeps 600 s: close() returning at all (within the 120 s the thread is given) is the bound.
    closing = threading.Thread(target=workers.close)
    closing.start()
    closing.join(timeout=120)
    assert not closing.is_alive(), "close() waited for the hung task"
    assert queued.cancelled()
    with pytest.raises(WorkerLost):
        hung.result(timeout=5)
    assert until(lambda: not alive(pid))


SERVER_STANDIN = """
import sys, time
from opencomprehend.runtime.pool import LocalPool
pool = LocalPool(2, [], 1000)
assert pool.warm_up(60)
print(" ".join(str(p) for p in pool.pids()), flush=True)
time.sleep(600)
"""


def test_workers_exit_when_their_server_is_killed() -> None:
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc to see the worker processes")
    standin = subprocess.Popen([sys.executable, "-c", SERVER_STANDIN], stdout=subprocess.PIPE, text=True)
    try:
        line = standin.stdout.readline()  # type: ignore[union-attr]
        pids = [int(p) for p in line.split()]
        assert len(pids) == 2 and all(alive(p) for p in pids)
    finally:
        standin.kill()
        standin.wait(10)
    assert until(lambda: not any(alive(p) for p in pids), timeout=15), "workers outlived their server"


def test_a_realtime_worker_serves_detect_while_every_batch_worker_is_busy() -> None:
    workers = LocalPool(1, [], 1000, realtime_workers=1)
    try:
        assert workers.warm_up(60)
        assert workers.live() == 2
        # The batch worker yields the CPU to the real-time one (field 19 of /proc/<pid>/stat is the nice value).
        if Path("/proc").is_dir():
            stats = [Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split() for pid in workers.pids()]
            assert sorted(int(fields[16]) for fields in stats) == [os.nice(0), min(19, os.nice(0) + 10)]
        shards = [workers._submit(BATCH, pool_tasks.pid_after, 2.0) for _ in range(3)]
        assert until(shards[0].running)
        urgent = workers._submit(REALTIME, pool_tasks.pid_after, 0)
        urgent_pid = urgent.result(timeout=30)
        assert not shards[0].done(), "the real-time task waited for a shard"
        # The shards never ran on the real-time worker, and each ran exactly once.
        assert {f.result(timeout=30) for f in shards}.isdisjoint({urgent_pid})
        # With the batch worker idle, real-time tasks are served by whichever slot is free, each once.
        many = [workers._submit(REALTIME, pool_tasks.pid_after, 0.05) for _ in range(20)]
        assert len([f.result(timeout=30) for f in many]) == 20
    finally:
        workers.close()


def test_an_account_with_less_realtime_work_goes_first(pool) -> None:  # type: ignore[no-untyped-def]
    """Fair queueing: one account's queued heavy requests do not hold back another account's request."""
    workers = pool(workers=1)
    busy = run(workers, pool_tasks.pid_after, 1.0)
    assert until(busy.running)
    heavy = [workers.realtime("111111111111", 100_000, pool_tasks.pid_after, 1.0) for _ in range(3)]
    assert workers.realtime_load("111111111111") == 300_000
    light = workers.realtime("222222222222", 20, pool_tasks.pid_after, 0)
    light.result(timeout=30)
    assert busy.done()
    # The heavy account's first request was queued before the light one and goes first; its others wait.
    assert heavy[0].done() and not heavy[1].done() and not heavy[2].done()
    for future in heavy:
        future.result(timeout=30)
    assert workers.realtime_load("111111111111") == 0
    assert workers.realtime_load("222222222222") == 0
