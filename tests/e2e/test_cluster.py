"""Cluster mode, all of it real and on 127.0.0.1: two `opencomprehend serve` API nodes sharing one PostgreSQL
job store and one SeaweedFS object store, their shards run by a Dask scheduler's two workers.

A job submitted to one node is described on the other and run on the Dask workers; a node killed mid-job
leaves its job to the other node, which finishes it from the parts kept in the object store.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select
from support.components import free_port, missing
from support.dask_cluster import INSTALL_HINT, DaskCluster, find_dask, running_dask
from support.output import check_offsets, read_archive
from support.seaweedfs import SeaweedFS
from support.server import ROLE, Server, worker_pids

from opencomprehend.jobs.schema import jobs

pytestmark = pytest.mark.e2e

SENTENCES = [
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "Microsoft is based in Redmond, Washington.",
    "",
    "Toyota opened a plant in Kentucky in 1988.",
]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    dask = find_dask()
    if dask is None:
        missing(f"the `dask` command was not found; {INSTALL_HINT}")
    with running_dask(dask, tmp_path_factory.mktemp("dask"), workers=2) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def cluster_env(postgres: Any, seaweedfs: SeaweedFS, dask_cluster: DaskCluster) -> dict[str, str]:
    """What every API node of the cluster shares: database, object store, Dask scheduler, master key."""
    models_bucket = f"oc-models-{secrets.token_hex(4)}"
    seaweedfs.s3_client().create_bucket(Bucket=models_bucket)
    return {
        "OPENCOMPREHEND_DATABASE_URL": postgres.create_database(),
        "OPENCOMPREHEND_S3_ENDPOINT_URL": seaweedfs.endpoint_url,
        "OPENCOMPREHEND_S3_REGION": seaweedfs.region,
        "OPENCOMPREHEND_S3_ACCESS_KEY_ID": seaweedfs.access_key_id,
        "OPENCOMPREHEND_S3_SECRET_ACCESS_KEY": seaweedfs.secret_access_key,
        "OPENCOMPREHEND_S3_SSE_KMS": "false",
        "OPENCOMPREHEND_MODELS_URI": f"s3://{models_bucket}/",
        "OPENCOMPREHEND_RUNTIME": "dask",
        "OPENCOMPREHEND_DASK_SCHEDULER": dask_cluster.address,
        "OPENCOMPREHEND_MASTER_KEY": Fernet.generate_key().decode(),
        # Small shards, so that a job has many and two workers share them.
        "OPENCOMPREHEND_SHARD_DOCUMENTS": "8",
        "OPENCOMPREHEND_LEASE_S": "5",
        "OPENCOMPREHEND_HEARTBEAT_S": "1",
    }


@pytest.fixture
def nodes(tmp_path: Path, cluster_env: dict[str, str], aws_available: None) -> Iterator[list[Server]]:
    """Two API nodes, each with a data folder of its own."""
    started: list[Server] = []
    try:
        for name in ("a", "b"):
            node = Server(data_dir=tmp_path / name, port=free_port(), extra_env=cluster_env)
            node.data_dir.mkdir()
            node.start()
            started.append(node)
        yield started
    finally:
        for node in started:
            node.stop()


def _tasks_run(cluster: DaskCluster) -> dict[str, dict[str, int]]:
    from distributed import Client

    from opencomprehend.runtime.cluster import tasks_run

    with Client(cluster.address, timeout="30s", set_as_default=False) as client:
        return client.run(tasks_run)


def _lines(count: int) -> list[str]:
    return [f"{i}: {SENTENCES[i % len(SENTENCES)]}" if SENTENCES[i % len(SENTENCES)] else "" for i in range(count)]


def _row(url: str, job_id: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(select(jobs).where(jobs.c.job_id == job_id)).one()._mapping)
    finally:
        engine.dispose()


def _running_job(
    node: Server, seaweedfs: SeaweedFS, cluster_env: dict[str, str], name: str, count: int, progress: int
) -> tuple[str, list[str], str, dict[str, Any]]:
    """A line job of `count` documents submitted to `node`, once `progress` of them are done: (bucket,
    lines, job id, its job store row)."""
    run = f"{name}-{uuid.uuid4().hex[:8]}"
    s3 = seaweedfs.s3_client()
    s3.create_bucket(Bucket=run)
    lines = _lines(count)
    s3.put_object(Bucket=run, Key="in/big.txt", Body="\n".join(lines).encode())
    job_id = node.start_job(f"s3://{run}/in/", f"s3://{run}/out/", InputFormat="ONE_DOC_PER_LINE")
    deadline = time.time() + 120
    while (row := _row(cluster_env["OPENCOMPREHEND_DATABASE_URL"], job_id))["documents_done"] < progress:
        assert time.time() < deadline and row["status"] in ("SUBMITTED", "IN_PROGRESS"), row
        time.sleep(0.05)
    return run, lines, job_id, row


def test_a_job_submitted_to_one_node_runs_on_the_dask_workers_and_is_seen_on_the_other(
    nodes: list[Server], seaweedfs: SeaweedFS, dask_cluster: DaskCluster
) -> None:
    a, b = nodes
    run = f"cluster-{uuid.uuid4().hex[:8]}"
    s3 = seaweedfs.s3_client()
    s3.create_bucket(Bucket=run)
    files = {"in/one.txt": _lines(40), "in/two/three.txt": _lines(13)}
    for key, lines in files.items():
        s3.put_object(Bucket=run, Key=key, Body="\n".join(lines).encode())
    before = _tasks_run(dask_cluster)

    job_id = a.aws_json(
        "start-entities-detection-job",
        "--input-data-config", f"S3Uri=s3://{run}/in/,InputFormat=ONE_DOC_PER_LINE",
        "--output-data-config", f"S3Uri=s3://{run}/out/",
        "--data-access-role-arn", ROLE, "--language-code", "en", "--job-name", run,
    )["JobId"]  # fmt: skip
    props = b.wait(job_id)  # described on the node it was not submitted to
    assert props["JobStatus"] == "COMPLETED", (props, a.log()[-2000:], b.log()[-2000:])
    listed = b.client().list_entities_detection_jobs(Filter={"JobName": run})["EntitiesDetectionJobPropertiesList"]
    assert [job["JobId"] for job in listed] == [job_id]

    key = f"out/111122223333-NER-{job_id}/output/output.tar.gz"
    assert props["OutputDataConfig"]["S3Uri"] == f"s3://{run}/{key}"
    records = read_archive(s3.get_object(Bucket=run, Key=key)["Body"].read())
    expected = [("one.txt", i) for i in range(40)] + [("two/three.txt", i) for i in range(13)]
    assert [(r["File"], r["Line"]) for r in records] == expected, "every document once, in input order"
    check_offsets(records, {("one.txt", i): t for i, t in enumerate(files["in/one.txt"])} | {
        ("two/three.txt", i): t for i, t in enumerate(files["in/two/three.txt"])
    })  # fmt: skip
    found = {(e["Text"], e["Type"]) for r in records for e in r["Entities"]}
    assert {("Angela Merkel", "PERSON"), ("Microsoft", "ORGANIZATION"), ("Kentucky", "LOCATION")} <= found

    # The Dask workers ran the shards, both of them; the API nodes have no worker processes of their own.
    after = _tasks_run(dask_cluster)
    ran = {address: after[address]["documents"] - before.get(address, {}).get("documents", 0) for address in after}
    assert sum(ran.values()) == len(expected) and all(count > 0 for count in ran.values()), ran
    assert worker_pids(a.process.pid) == [] and worker_pids(b.process.pid) == []
    # The parts kept for the cluster are gone once the output is published.
    models_bucket = a.extra_env["OPENCOMPREHEND_MODELS_URI"].removeprefix("s3://").rstrip("/")
    left = s3.list_objects_v2(Bucket=models_bucket, Prefix=f"work/{job_id}/").get("KeyCount", 0)
    assert left == 0


def test_detect_entities_runs_on_the_cluster_too(nodes: list[Server], dask_cluster: DaskCluster) -> None:
    before = sum(counts["realtime"] for counts in _tasks_run(dask_cluster).values())
    found = nodes[1].client().detect_entities(Text="Angela Merkel visited Berlin.", LanguageCode="en")["Entities"]
    assert [(e["Text"], e["Type"]) for e in found] == [("Angela Merkel", "PERSON"), ("Berlin", "LOCATION")]
    assert sum(counts["realtime"] for counts in _tasks_run(dask_cluster).values()) == before + 1


def test_a_node_killed_mid_job_leaves_the_job_to_the_other_node(
    nodes: list[Server], seaweedfs: SeaweedFS, cluster_env: dict[str, str]
) -> None:
    a, b = nodes
    run, lines, job_id, row = _running_job(a, seaweedfs, cluster_env, "takeover", 1_500, 200)
    holder, other = (a, b) if f":{a.process.pid}:" in row["lease_owner"] else (b, a)
    assert f":{holder.process.pid}:" in row["lease_owner"], row
    assert not list(holder.data_dir.joinpath("work").rglob("part-*")), "on a cluster, parts are not on a node's disk"
    holder.kill()  # SIGKILL, mid-job: its parts so far are in the object store

    props = other.wait(job_id, timeout=240)
    assert props["JobStatus"] == "COMPLETED", (props, other.log()[-3000:])
    assert f"job {job_id} resumed" in other.log()
    key = f"out/111122223333-NER-{job_id}/output/output.tar.gz"
    records = read_archive(seaweedfs.s3_client().get_object(Bucket=run, Key=key)["Body"].read())
    assert [r["Line"] for r in records] == list(range(len(lines))), "every document exactly once, in order"
    assert _row(cluster_env["OPENCOMPREHEND_DATABASE_URL"], job_id)["documents_done"] >= len(lines)

    # The killed node starts again: the folder its run of the job left in its work folder is cleared.
    assert holder.data_dir.joinpath("work", job_id).is_dir()
    holder.start()
    assert not holder.data_dir.joinpath("work", job_id).exists()


def test_a_recognizer_trains_on_a_dask_worker_and_its_jobs_run_there(
    nodes: list[Server], seaweedfs: SeaweedFS, dask_cluster: DaskCluster
) -> None:
    from support import training_sets

    a, b = nodes
    run = f"recognizer-{uuid.uuid4().hex[:8]}"
    s3 = seaweedfs.s3_client()
    s3.create_bucket(Bucket=run)
    train, unseen = training_sets.sentences(400), training_sets.sentences(40, offset=1200)
    s3.put_object(Bucket=run, Key="docs/sentences.txt", Body=training_sets.documents_file(train).encode())
    annotations = training_sets.annotations_csv(train, "sentences.txt")
    s3.put_object(Bucket=run, Key="annotations.csv", Body=annotations.encode())
    s3.put_object(Bucket=run, Key="in/unseen.txt", Body=training_sets.documents_file(unseen).encode())
    before = _tasks_run(dask_cluster)

    arn = a.client().create_entity_recognizer(
        RecognizerName=run,
        LanguageCode="en",
        DataAccessRoleArn=ROLE,
        InputDataConfig={
            "EntityTypes": [{"Type": "PERSON_NAME"}, {"Type": "ORG_NAME"}],
            "Documents": {"S3Uri": f"s3://{run}/docs/"},
            "Annotations": {"S3Uri": f"s3://{run}/annotations.csv"},
        },
    )["EntityRecognizerArn"]
    deadline = time.time() + 300
    while (props := b.client().describe_entity_recognizer(EntityRecognizerArn=arn)["EntityRecognizerProperties"])[
        "Status"
    ] in ("SUBMITTED", "TRAINING"):
        assert time.time() < deadline, (a.log()[-2000:], b.log()[-2000:])
        time.sleep(0.5)
    assert props["Status"] == "TRAINED", props
    assert props["RecognizerMetadata"]["EvaluationMetrics"]["F1Score"] > 25
    after = _tasks_run(dask_cluster)
    assert sum(c["trainings"] for c in after.values()) == sum(c.get("trainings", 0) for c in before.values()) + 1

    job_id = b.start_job(f"s3://{run}/in/", f"s3://{run}/out/", EntityRecognizerArn=arn)
    job = a.wait(job_id, timeout=180)
    assert job["JobStatus"] == "COMPLETED", job
    key = job["OutputDataConfig"]["S3Uri"].removeprefix(f"s3://{run}/")
    records = read_archive(s3.get_object(Bucket=run, Key=key)["Body"].read())
    assert [r["Line"] for r in records] == list(range(len(unseen)))
    gold = {(i, begin, end, kind) for i, (_, spans) in enumerate(unseen) for begin, end, kind in spans}
    found = {(r["Line"], e["BeginOffset"], e["EndOffset"], e["Type"]) for r in records for e in r["Entities"]}
    assert len(gold & found) >= len(gold) // 3, "the shipped model finds real mentions on the Dask workers"
    shards = sum(c["shards"] for c in _tasks_run(dask_cluster).values()) - sum(c["shards"] for c in after.values())
    assert shards >= 1


def test_a_dask_worker_killed_mid_job_costs_the_job_nothing(
    nodes: list[Server], seaweedfs: SeaweedFS, dask_cluster: DaskCluster, cluster_env: dict[str, str]
) -> None:
    a, _ = nodes
    run, lines, job_id, _ = _running_job(a, seaweedfs, cluster_env, "dask-kill", 1_200, 100)
    s3 = seaweedfs.s3_client()
    victim = dask_cluster.workers[0]
    os.kill(victim.pid, signal.SIGKILL)  # one Dask worker dies mid-job; the other carries on
    victim.wait(10)
    try:
        props = a.wait(job_id, timeout=240)
        assert props["JobStatus"] == "COMPLETED", (props, a.log()[-3000:])
        key = f"out/111122223333-NER-{job_id}/output/output.tar.gz"
        records = read_archive(s3.get_object(Bucket=run, Key=key)["Body"].read())
        assert [r["Line"] for r in records] == list(range(len(lines))), "every document exactly once, in order"
    finally:
        dask_cluster.workers.remove(victim)
        dask_cluster.add_worker()  # the cluster whole again for the tests after this one
        dask_cluster.wait_for_workers(2)
