"""`opencomprehend serve` with its job store in a real PostgreSQL (the `postgres` fixture)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from support.output import check_offsets, read_archive
from support.server import ROLE, Server, running_server

from opencomprehend.jobs.schema import jobs

pytestmark = pytest.mark.e2e

LINES = [
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "",
    "Microsoft is based in Redmond, Washington.",
]


@pytest.fixture(scope="module")
def database_url(postgres: Any) -> str:
    return postgres.create_database()


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory, aws_available: None, database_url: str) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("pg-server"), OPENCOMPREHEND_DATABASE_URL=database_url) as server:
        yield server


def _rows(database_url: str, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(select(jobs).where(jobs.c.job_id.in_(job_ids)))
            return {row.job_id: dict(row._mapping) for row in found}
    finally:
        engine.dispose()


def test_line_job_completes_with_the_store_in_postgresql(pg_server: Server, database_url: str) -> None:
    run = f"pg-{uuid.uuid4().hex[:8]}"
    pg_server.put("docs", f"{run}/in/a.txt", "\n".join(LINES) + "\n")
    job_id = pg_server.start_job(
        f"s3://docs/{run}/in/", f"s3://docs/{run}/out/", InputFormat="ONE_DOC_PER_LINE", JobName=run
    )
    props = pg_server.wait(job_id)
    assert props["JobStatus"] == "COMPLETED", props
    assert props["EndTime"] >= props["SubmitTime"]

    uri = props["OutputDataConfig"]["S3Uri"]
    assert uri == f"s3://docs/{run}/out/111122223333-NER-{job_id}/output/output.tar.gz"
    records = read_archive((pg_server.bucket_root / uri.removeprefix("s3://")).read_bytes())
    assert [(r["File"], r["Line"]) for r in records] == [("a.txt", 0), ("a.txt", 1), ("a.txt", 2)]
    check_offsets(records, {("a.txt", i): text for i, text in enumerate(LINES)})
    assert records[1]["Entities"] == []
    found = {(e["Text"], e["Type"]) for r in records for e in r["Entities"]}
    assert {("Angela Merkel", "PERSON"), ("Paris", "LOCATION"), ("Microsoft", "ORGANIZATION")} <= found

    # The job really lives in PostgreSQL, finished and with its lease released; no SQLite file was made.
    row = _rows(database_url, [job_id])[job_id]
    assert row["status"] == "COMPLETED" and row["documents_done"] == 3
    assert row["lease_owner"] is None and row["job_name"] == run
    assert not (pg_server.data_dir / "opencomprehend.db").exists()


def test_list_pagination_with_the_aws_cli(pg_server: Server, database_url: str) -> None:
    run = f"pg-page-{uuid.uuid4().hex[:8]}"
    pg_server.put("docs", f"{run}/in/a.txt", "Rome.")
    client = pg_server.client()
    started = [
        client.start_entities_detection_job(
            InputDataConfig={"S3Uri": f"s3://docs/{run}/in/"},
            OutputDataConfig={"S3Uri": f"s3://docs/{run}/out/"},
            DataAccessRoleArn=ROLE,
            LanguageCode="en",
            JobName=run,
        )["JobId"]
        for _ in range(5)
    ]
    assert set(_rows(database_url, started)) == set(started)
    newest_first = list(reversed(started))

    # The CLI follows NextToken by itself: 2 per request, all 5 come back, newest first.
    listed = pg_server.aws_json("list-entities-detection-jobs", "--filter", f"JobName={run}", "--page-size", "2")
    assert [p["JobId"] for p in listed["EntitiesDetectionJobPropertiesList"]] == newest_first
    assert "NextToken" not in listed

    # --max-items stops early and hands out a token that --starting-token resumes from.
    first = pg_server.aws_json(
        "list-entities-detection-jobs", "--filter", f"JobName={run}", "--page-size", "2", "--max-items", "3"
    )
    assert [p["JobId"] for p in first["EntitiesDetectionJobPropertiesList"]] == newest_first[:3]
    rest = pg_server.aws_json(
        "list-entities-detection-jobs",
        "--filter", f"JobName={run}",
        "--page-size", "2",
        "--starting-token", first["NextToken"],
    )  # fmt: skip
    assert [p["JobId"] for p in rest["EntitiesDetectionJobPropertiesList"]] == newest_first[3:]

    for job_id in started:
        assert pg_server.wait(job_id)["JobStatus"] == "COMPLETED"
