"""JobStore on both databases it supports: a SQLite file and a real PostgreSQL (the `postgres` fixture).

Every test gets an empty database: a new SQLite file, or a new database in the session's cluster.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from support.rows import ACCOUNT, REGION, T0, job_record, job_row

from opencomprehend.jobs.records import IdempotencyMismatch
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.schema import jobs
from opencomprehend.jobs.store import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    STOP_REQUESTED,
    STOPPED,
    SUBMITTED,
    InvalidTransition,
    JobFilter,
    JobStore,
)
from opencomprehend.jobs.tags import TagStore

OTHER_ACCOUNT = "444455556666"
LEASE_S = 30.0


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    job_store = JobStore(url)
    try:
        yield job_store
    finally:
        job_store.engine.dispose()


def add(store: JobStore, **kwargs: Any) -> Job:
    job, created = store.create_job(job_row(**kwargs))
    assert created
    return job


def ids(rows: list[Job]) -> list[str]:
    return [row.job_id for row in rows]


def in_parallel(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..count-1) on threads released together, so they really race."""
    barrier = threading.Barrier(count)

    def start(i: int) -> Any:
        barrier.wait(timeout=30)
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start, range(count)))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- create and idempotency ----------------------------------------------------------------------


def test_create_job_stores_every_column(store: JobStore) -> None:
    row = job_row(
        name="a-job",
        document_reader_config='{"DocumentReadAction": "TEXTRACT_DETECT_DOCUMENT_TEXT"}',
        vpc_config='{"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}',
        output_kms_key_id="alias/out",
    )
    job, created = store.create_job(row)
    assert created
    expected = job_record(**row)
    assert job == expected
    assert store.get(row["job_id"]) == expected
    assert store.get(uuid.uuid4().hex) is None


def test_a_second_store_on_the_same_database_sees_the_jobs(store: JobStore) -> None:
    job = add(store)
    other = JobStore(store.engine.url.render_as_string(hide_password=False))  # create_all runs again
    try:
        assert other.get(job.job_id) == job
    finally:
        other.engine.dispose()


def test_same_token_and_parameters_return_the_original_job(store: JobStore) -> None:
    original = add(store, token="token-1", request_hash="1" * 64)
    again, created = store.create_job(job_row(token="token-1", request_hash="1" * 64))
    assert not created
    assert again == original


def test_same_token_with_other_parameters_is_a_mismatch(store: JobStore) -> None:
    original = add(store, token="token-1", request_hash="1" * 64)
    with pytest.raises(IdempotencyMismatch):
        store.create_job(job_row(token="token-1", request_hash="2" * 64))
    # Tokens are per account: another account may use the same one.
    theirs, created = store.create_job(job_row(account=OTHER_ACCOUNT, token="token-1", request_hash="2" * 64))
    assert created and theirs.job_id != original.job_id
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar_one() == 2


def test_concurrent_creates_with_one_token_make_one_job(store: JobStore) -> None:
    results = in_parallel(8, lambda _: store.create_job(job_row(token="racing", request_hash="3" * 64)))
    assert sum(created for _, created in results) == 1
    assert len({job.job_id for job, _ in results}) == 1
    with store.engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(jobs).where(jobs.c.client_request_token == "racing")
        ).scalar_one()
    assert count == 1


def test_get_for_is_scoped_to_account_and_region(store: JobStore) -> None:
    job = add(store)
    assert store.get_for(ACCOUNT, REGION, job.job_id) == job
    assert store.get_for(OTHER_ACCOUNT, REGION, job.job_id) is None
    assert store.get_for(ACCOUNT, "eu-west-1", job.job_id) is None
    assert store.get_for(ACCOUNT, REGION, uuid.uuid4().hex) is None


# --- listing ---------------------------------------------------------------------------------------


def test_list_is_newest_first_and_submit_time_before_alone_is_oldest_first(store: JobStore) -> None:
    made = [add(store, submit_time=T0 + i) for i in range(5)]
    newest_first = ids(list(reversed(made)))
    assert ids(store.list_jobs(ACCOUNT, REGION, JobFilter(), None, 100)) == newest_first
    assert (
        ids(store.list_jobs(ACCOUNT, REGION, JobFilter(submit_time_after=T0 + 1), None, 100))
        == (newest_first[:3])
    )
    # SubmitTimeBefore is exclusive and lists oldest to newest …
    assert ids(store.list_jobs(ACCOUNT, REGION, JobFilter(submit_time_before=T0 + 3), None, 100)) == ids(
        made[:3]
    )
    # … unless SubmitTimeAfter is given too.
    both = JobFilter(submit_time_before=T0 + 4, submit_time_after=T0)
    assert ids(store.list_jobs(ACCOUNT, REGION, both, None, 100)) == ids([made[3], made[2], made[1]])
    assert ids(store.list_jobs(ACCOUNT, REGION, JobFilter(), None, 2)) == newest_first[:2]


def test_list_is_scoped_and_filters_combine(store: JobStore) -> None:
    wanted = add(store, name="alpha", submit_time=T0 + 2)
    add(store, name="alpha", submit_time=T0 + 3, status=COMPLETED)  # other status
    add(store, name="beta", submit_time=T0 + 2)  # other name
    add(store, name="alpha", submit_time=T0 + 9)  # too late
    add(store, name="alpha", submit_time=T0 - 9)  # too early
    add(store, name="alpha", submit_time=T0 + 2, account=OTHER_ACCOUNT)
    add(store, name="alpha", submit_time=T0 + 2, region="eu-west-1")

    combined = JobFilter(
        job_name="alpha", job_status=SUBMITTED, submit_time_after=T0, submit_time_before=T0 + 5
    )
    assert ids(store.list_jobs(ACCOUNT, REGION, combined, None, 100)) == [wanted.job_id]
    assert len(store.list_jobs(ACCOUNT, REGION, JobFilter(job_name="alpha"), None, 100)) == 4
    assert len(store.list_jobs(ACCOUNT, REGION, JobFilter(job_status=COMPLETED), None, 100)) == 1
    assert len(store.list_jobs(ACCOUNT, REGION, JobFilter(), None, 100)) == 5
    assert len(store.list_jobs(OTHER_ACCOUNT, REGION, JobFilter(), None, 100)) == 1
    assert len(store.list_jobs(ACCOUNT, "eu-west-1", JobFilter(), None, 100)) == 1
    assert store.list_jobs(ACCOUNT, REGION, JobFilter(job_name="gamma"), None, 100) == []


@pytest.mark.parametrize("job_filter", [JobFilter(), JobFilter(submit_time_before=T0 + 100)])
@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_keyset_pages_cover_every_job_once_across_equal_submit_times(
    store: JobStore, job_filter: JobFilter, page_size: int
) -> None:
    # Three jobs share one submit time and two another, so page ends fall inside ties.
    times = [T0, T0 + 0.5, T0 + 0.5, T0 + 0.5, T0 + 1, T0 + 2, T0 + 2, T0 + 3]
    made = [add(store, submit_time=t) for t in times]
    expected = sorted(
        made, key=lambda j: (j.submit_time, j.job_id), reverse=not job_filter.oldest_first
    )

    seen: list[Job] = []
    after = None
    for _ in range(len(made) + 1):
        page = store.list_jobs(ACCOUNT, REGION, job_filter, after, page_size)
        assert len(page) <= page_size
        if not page:
            break
        seen += page
        after = (page[-1].submit_time, page[-1].job_id)
    assert ids(seen) == ids(expected)
    assert seen[-1].submit_time == (T0 if not job_filter.oldest_first else T0 + 3)


# --- stop --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (SUBMITTED, STOP_REQUESTED),
        (IN_PROGRESS, STOP_REQUESTED),
        (STOP_REQUESTED, STOP_REQUESTED),
        (STOPPED, STOPPED),
    ],
)
def test_request_stop(store: JobStore, before: str, after: str) -> None:
    job = add(store, status=before)
    assert store.request_stop(job.job_id) == after
    assert store.get(job.job_id).status == after  # type: ignore[index]


@pytest.mark.parametrize("final", [COMPLETED, FAILED])
def test_request_stop_on_a_finished_job_is_invalid(store: JobStore, final: str) -> None:
    job = add(store, status=final)
    with pytest.raises(InvalidTransition) as raised:
        store.request_stop(job.job_id)
    assert raised.value.status == final
    assert store.get(job.job_id).status == final  # type: ignore[index]


# --- claim, heartbeat, finish ----------------------------------------------------------------------


def test_claim_starts_queued_jobs_oldest_first_within_the_per_account_limit(store: JobStore) -> None:
    mine = [add(store, submit_time=T0 + i) for i in range(3)]
    theirs = add(store, account=OTHER_ACCOUNT, submit_time=T0 + 5)
    before = time.time()
    claimed = store.claim("node-a", LEASE_S, max_active_per_account=2)
    assert ids(claimed) == [mine[0].job_id, mine[1].job_id, theirs.job_id]
    for job in claimed:
        assert job.status == IN_PROGRESS and job.lease_owner == "node-a"
        assert before + LEASE_S <= job.lease_expires <= time.time() + LEASE_S
    assert store.get(mine[2].job_id).status == SUBMITTED  # type: ignore[index]

    # Nothing new while the account is at its limit, by this node or another.
    assert store.claim("node-a", LEASE_S, max_active_per_account=2) == []
    assert store.claim("node-b", LEASE_S, max_active_per_account=2) == []
    assert store.finish(mine[0].job_id, "node-a", COMPLETED)
    assert ids(store.claim("node-b", LEASE_S, max_active_per_account=2)) == [mine[2].job_id]


def test_a_job_stopped_before_it_ran_is_claimed_even_at_the_limit(store: JobStore) -> None:
    running = add(store, submit_time=T0)
    queued = add(store, submit_time=T0 + 1)
    assert ids(store.claim("node-a", LEASE_S, max_active_per_account=1)) == [running.job_id]
    store.request_stop(queued.job_id)
    claimed = store.claim("node-a", LEASE_S, max_active_per_account=1)
    assert ids(claimed) == [queued.job_id]
    assert claimed[0].status == STOP_REQUESTED and claimed[0].lease_owner == "node-a"


def test_concurrent_claims_never_hand_one_job_to_two_owners(store: JobStore) -> None:
    made = [add(store, account=f"{i % 4:012d}", submit_time=T0 + i) for i in range(24)]
    owners = [f"node-{i}" for i in range(4)]
    results = in_parallel(len(owners), lambda i: store.claim(owners[i], LEASE_S, max_active_per_account=100))
    claimed = [job.job_id for result in results for job in result]
    assert len(claimed) == len(set(claimed)) == len(made)
    for owner, result in zip(owners, results, strict=True):
        for job in result:
            assert store.get(job.job_id).lease_owner == owner  # type: ignore[index]


def test_concurrent_schedulers_never_exceed_the_per_account_limit(store: JobStore) -> None:
    queued = [add(store, submit_time=T0 + i) for i in range(6)]
    # Separate stores are separate nodes on PostgreSQL; SQLite serves one node, so its schedulers share one.
    url = store.engine.url.render_as_string(hide_password=False)
    nodes = [JobStore(url) if store.engine.dialect.name == "postgresql" else store for _ in range(4)]
    try:
        for _ in range(3):
            results = in_parallel(4, lambda i: nodes[i].claim(f"node-{i}", LEASE_S, max_active_per_account=2))
            assert sum(len(result) for result in results) <= 2
        running = [job for job in (store.get(q.job_id) for q in queued) if job.status == IN_PROGRESS]
        assert len(running) == 2
    finally:
        for node in nodes:
            if node is not store:
                node.engine.dispose()


def test_concurrent_takeovers_of_an_expired_lease_have_one_winner(store: JobStore) -> None:
    orphans = [
        add(store, status=IN_PROGRESS, lease_owner="gone-host:1:0000", lease_expires=time.time() - 1)
        for _ in range(6)
    ]
    owners = [f"node-{i}" for i in range(4)]
    results = in_parallel(len(owners), lambda i: store.claim(owners[i], LEASE_S, max_active_per_account=100))
    claimed = [job.job_id for result in results for job in result]
    assert sorted(claimed) == sorted(ids(orphans))


def test_an_expired_lease_is_taken_over(store: JobStore) -> None:
    expired = add(
        store, status=IN_PROGRESS, lease_owner="other-host:4242:beef", lease_expires=time.time() - 1
    )
    stopping = add(
        store, status=STOP_REQUESTED, lease_owner="other-host:4242:beef", lease_expires=time.time() - 1
    )
    claimed = {job.job_id: job for job in store.claim("node-a", LEASE_S, max_active_per_account=10)}
    assert set(claimed) == {expired.job_id, stopping.job_id}
    assert claimed[expired.job_id].status == IN_PROGRESS
    assert claimed[stopping.job_id].status == STOP_REQUESTED
    assert all(
        job.lease_owner == "node-a" and job.lease_expires > time.time() for job in claimed.values()
    )


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(store: JobStore) -> None:
    owner = f"{socket.gethostname()}:{dead_pid()}:dead"
    job = add(store, status=IN_PROGRESS, lease_owner=owner, lease_expires=time.time() + 3600)
    claimed = store.claim("node-a", LEASE_S, max_active_per_account=10)
    assert ids(claimed) == [job.job_id]
    assert claimed[0].lease_owner == "node-a"


def test_a_live_owners_unexpired_lease_is_kept(store: JobStore) -> None:
    future = time.time() + 3600
    owners = [
        f"{socket.gethostname()}:{os.getpid()}:live",  # a live process on this host
        "other-host:1:cafe",  # another host: only its lease's expiry counts
    ]
    held = [add(store, status=IN_PROGRESS, lease_owner=o, lease_expires=future) for o in owners]
    assert store.claim("node-a", LEASE_S, max_active_per_account=10) == []
    for job in held:
        assert store.get(job.job_id) == job


def test_heartbeat_extends_the_lease_and_reports_the_status(store: JobStore) -> None:
    job = add(store)
    [claimed] = store.claim("node-a", 1.0, max_active_per_account=10)
    assert store.heartbeat(job.job_id, "node-a", LEASE_S) == IN_PROGRESS
    assert store.get(job.job_id).lease_expires > claimed.lease_expires + LEASE_S - 5  # type: ignore[index]
    store.request_stop(job.job_id)
    assert store.heartbeat(job.job_id, "node-a", LEASE_S) == STOP_REQUESTED
    assert store.heartbeat(job.job_id, "node-b", LEASE_S) is None


def test_heartbeat_after_another_owner_took_the_job_is_none(store: JobStore) -> None:
    now = [time.time()]
    store.clock = lambda: now[0]  # the store's clock, moved by hand: no sleeping
    job = add(store)
    store.claim("node-a", 1.0, max_active_per_account=10)
    now[0] += 1.5  # node-a's lease expires
    assert ids(store.claim("node-b", LEASE_S, max_active_per_account=10)) == [job.job_id]
    assert store.heartbeat(job.job_id, "node-a", LEASE_S) is None
    assert store.heartbeat(job.job_id, "node-b", LEASE_S) == IN_PROGRESS
    assert not store.finish(job.job_id, "node-a", COMPLETED)


def test_release_lets_another_node_take_the_jobs_at_once(store: JobStore) -> None:
    job = add(store, status=IN_PROGRESS, lease_owner="other-host:1:aaaa", lease_expires=time.time() + 600)
    assert store.claim("node-b", LEASE_S, max_active_per_account=10) == []
    store.release("other-host:1:aaaa")
    assert ids(store.claim("node-b", LEASE_S, max_active_per_account=10)) == [job.job_id]


def test_only_the_owner_finishes_a_job(store: JobStore) -> None:
    job = add(store)
    store.claim("node-a", LEASE_S, max_active_per_account=10)
    assert not store.finish(job.job_id, "node-b", COMPLETED)
    assert store.get(job.job_id).status == IN_PROGRESS  # type: ignore[index]

    before = time.time()
    assert store.finish(job.job_id, "node-a", FAILED, "INTERNAL_SERVER_ERROR: boom")
    done = store.get(job.job_id)
    assert done is not None
    assert done.status == FAILED and done.message == "INTERNAL_SERVER_ERROR: boom"
    assert before <= done.end_time <= time.time()
    assert done.lease_owner is None and done.lease_expires is None
    assert not store.finish(job.job_id, "node-a", COMPLETED)  # the lease went with it
    assert store.claim("node-b", LEASE_S, max_active_per_account=10) == []


# --- shards and tags ---------------------------------------------------------------------------------


def test_shards_are_recorded_counted_and_forgotten(store: JobStore) -> None:
    job, other = add(store), add(store)
    assert store.finished_shards(job.job_id) == set()
    store.record_shard(job.job_id, 0, 64)
    store.record_shard(job.job_id, 2, 10)
    store.record_shard(other.job_id, 0, 5)
    assert store.finished_shards(job.job_id) == {0, 2}
    assert store.get(job.job_id).documents_done == 74  # type: ignore[index]
    store.forget_shards(job.job_id)
    assert store.finished_shards(job.job_id) == set()
    assert store.finished_shards(other.job_id) == {0}
    assert store.get(other.job_id).documents_done == 5  # type: ignore[index]


def test_tags_are_added_overwritten_and_listed_by_key(store: JobStore) -> None:
    tags = TagStore(store.engine)
    arn = "arn:aws:comprehend:us-east-1:111122223333:entities-detection-job/" + uuid.uuid4().hex
    other = arn[:-1] + ("0" if arn[-1] != "0" else "1")
    assert tags.of(arn) == []
    tags.add(arn, [("team", "nlp"), ("cost-center", "42")])
    tags.add(other, [("team", "search")])
    assert tags.of(arn) == [("cost-center", "42"), ("team", "nlp")]
    tags.add(arn, [("team", "ml"), ("empty", "")])
    assert tags.of(arn) == [("cost-center", "42"), ("empty", ""), ("team", "ml")]
    assert tags.of(other) == [("team", "search")]


def test_remove_tags_deletes_only_those_keys_of_that_resource(store: JobStore) -> None:
    tags = TagStore(store.engine)
    arn = "arn:aws:comprehend:us-east-1:111122223333:entities-detection-job/" + uuid.uuid4().hex
    other = arn[:-1] + ("0" if arn[-1] != "0" else "1")
    tags.add(arn, [("team", "nlp"), ("cost-center", "42"), ("Team", "case matters")])
    tags.add(other, [("team", "search")])
    tags.remove(arn, ["team", "never-there"])
    assert dict(tags.of(arn)) == {"Team": "case matters", "cost-center": "42"}  # keys are case-sensitive
    assert tags.of(other) == [("team", "search")]
    tags.remove(arn, [])
    assert dict(tags.of(arn)) == {"Team": "case matters", "cost-center": "42"}
    tags.remove(arn, ["Team", "cost-center"])
    assert tags.of(arn) == []


def test_health_is_503_when_the_database_goes_away(postgres: Any, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from opencomprehend.config import Settings
    from opencomprehend.server import create_app

    name = f"oc_health_{uuid.uuid4().hex[:8]}"
    url = postgres.create_database(name)
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=url), run_workers=False)) as client:
        assert client.get("/health").status_code == 200
        postgres.drop_database(name)  # the database is gone under the running server
        response = client.get("/health")
    assert response.status_code == 503, response.text
    assert response.json()["Status"] == "UNAVAILABLE" and response.json()["Store"].startswith("UNAVAILABLE")


# -- migrations -------------------------------------------------------------------------------------------

OLD_TOKEN_CONSTRAINTS = {
    "entities_detection_jobs": "uq_jobs_account_token",
    "entity_recognizers": "uq_recognizer_token",
    "endpoints": "uq_endpoint_token",
}


def _pre_migration_schema(engine: Any) -> None:
    """The schema as releases before migrations made it: tokens unique per account, no alembic_version."""
    from sqlalchemy import MetaData, UniqueConstraint

    from opencomprehend.jobs.schema import metadata

    old = MetaData()
    for table in metadata.sorted_tables:
        copy = table.to_metadata(old)
        if table.name in OLD_TOKEN_CONSTRAINTS:
            for constraint in list(copy.constraints):
                if isinstance(constraint, UniqueConstraint) and "client_request_token" in constraint.columns:
                    copy.constraints.discard(constraint)
            copy.append_constraint(
                UniqueConstraint("account_id", "client_request_token", name=OLD_TOKEN_CONSTRAINTS[table.name])
            )
    old.create_all(engine)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_database_from_before_migrations_is_upgraded_in_place(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from sqlalchemy import create_engine, inspect

    url = f"sqlite:///{tmp_path / 'old.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    _pre_migration_schema(engine)
    with engine.begin() as conn:
        conn.execute(jobs.insert().values(**job_row(token="tok")))
    engine.dispose()

    store = JobStore(url)  # migrates
    try:
        names = {c["name"] for c in inspect(store.engine).get_unique_constraints("entities_detection_jobs")}
        assert "uq_jobs_token" in names and "uq_jobs_account_token" not in names
        assert store.list_jobs(ACCOUNT, REGION, JobFilter(), None, 10)[0].client_request_token == "tok"
        # The same token in another region is another job now.
        _, created = store.create_job(job_row(region="eu-west-1", token="tok"))
        assert created
        _, again = store.create_job(job_row(token="tok"))
        assert not again
    finally:
        store.engine.dispose()
    JobStore(url).engine.dispose()  # opening it again is a no-op


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_database_at_0002_gains_job_kinds_and_keeps_its_jobs_as_entities_jobs(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import MetaData, create_engine, inspect

    from opencomprehend.jobs import migrate
    from opencomprehend.jobs.schema import metadata

    url = f"sqlite:///{tmp_path / 'v2.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    old = MetaData()
    for table in metadata.sorted_tables:
        copy = table.to_metadata(old)
        if table.name == jobs.name:
            for name in ("job_kind", "mode", "redaction_config"):
                copy._columns.remove(copy.c[name])
    old.create_all(engine)
    row = {k: v for k, v in job_row(token="old").items() if k not in ("job_kind", "mode", "redaction_config")}
    with engine.begin() as conn:
        conn.execute(old.tables[jobs.name].insert().values(**row))
        config = Config()
        config.set_main_option("script_location", str(migrate.MIGRATIONS))
        config.attributes["connection"] = conn
        command.stamp(config, "0002")
    engine.dispose()

    store = JobStore(url)  # migrates to 0003
    try:
        columns = {c["name"] for c in inspect(store.engine).get_columns(jobs.name)}
        assert {"job_kind", "mode", "redaction_config"} <= columns
        [job] = store.list_jobs(ACCOUNT, REGION, JobFilter(), None, 10)
        assert (job.client_request_token, job.job_kind, job.mode) == ("old", "ENTITIES", None)
        assert store.list_jobs(ACCOUNT, REGION, JobFilter(kind="PII"), None, 10) == []
    finally:
        store.engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_database_at_0004_lets_language_jobs_go_without_a_language_code(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import MetaData, create_engine, inspect

    from opencomprehend.jobs import migrate
    from opencomprehend.jobs.schema import LANGUAGE_JOB, metadata

    url = f"sqlite:///{tmp_path / 'v4.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    old = MetaData()
    for table in metadata.sorted_tables:
        copy = table.to_metadata(old)
        if table.name == jobs.name:
            copy.c["language_code"].nullable = False  # as revision 0004 left it
            copy._columns.remove(copy.c["documents_total"])  # added by 0006
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(old.tables[jobs.name].insert().values(**job_row(token="old")))
        config = Config()
        config.set_main_option("script_location", str(migrate.MIGRATIONS))
        config.attributes["connection"] = conn
        command.stamp(config, "0004")
    engine.dispose()

    store = JobStore(url)  # migrates to 0005
    try:
        [column] = [c for c in inspect(store.engine).get_columns(jobs.name) if c["name"] == "language_code"]
        assert column["nullable"]
        _, created = store.create_job(job_row(token="lang", job_kind=LANGUAGE_JOB, language_code=None))
        assert created
        [job] = store.list_jobs(ACCOUNT, REGION, JobFilter(kind=LANGUAGE_JOB), None, 10)
        assert (job.client_request_token, job.language_code) == ("lang", None)
        [old_job] = store.list_jobs(ACCOUNT, REGION, JobFilter(), None, 10)
        assert (old_job.client_request_token, old_job.language_code) == ("old", "en")
    finally:
        store.engine.dispose()


def test_jobs_are_counted_by_kind_and_status_over_every_account(store: JobStore) -> None:
    # GET /metrics' opencomprehend_jobs: one GROUP BY, the same answer on every node.
    add(store)
    add(store, account="444455556666")
    add(store, status="COMPLETED")
    add(store, job_kind="PII", mode="ONLY_OFFSETS")
    counts = sorted(store.count_by_kind_and_status())
    assert counts == [("ENTITIES", "COMPLETED", 1), ("ENTITIES", "SUBMITTED", 2), ("PII", "SUBMITTED", 1)]
