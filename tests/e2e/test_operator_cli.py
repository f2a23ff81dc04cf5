"""The operator's commands (`opencomprehend jobs|recognizers|endpoints|detect`) against a real server, over
its API with the same endpoint and credentials as the AWS CLI."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import Result
from support.output import read_archive
from support.seaweedfs import SeaweedFS
from support.server import BIN, ROLE, Server, client_env, running_server
from typer.testing import CliRunner

from opencomprehend.cli import app

pytestmark = pytest.mark.e2e


def _opencomprehend(server: Server | str, *args: str, **env: str | None) -> Result:
    """`opencomprehend <args>` in-process, configured only through the environment, as a user's shell is."""
    endpoint = server if isinstance(server, str) else server.endpoint
    env = {**client_env(), "AWS_ENDPOINT_URL": endpoint, "COLUMNS": "250", **env}
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _entities_job(server: Server, run: str, lines: list[str], output_bucket: str = "docs", **members: str) -> str:
    server.put("docs", f"{run}/in/a.txt", "\n".join(lines) + "\n")
    return server.start_job(f"s3://docs/{run}/in/", f"s3://{output_bucket}/{run}/out/", **members)


def test_jobs_list_shows_jobs_of_every_kind_and_filters_them(server: Server) -> None:
    run = _unique("opcli-list")
    entities_id = _entities_job(server, run, ["Bob lives in Paris."], JobName=run)
    server.put("docs", f"{run}/lang/a.txt", "Das ist ein deutscher Satz über Berlin.\n")
    language_id = server.client().start_dominant_language_detection_job(
        InputDataConfig={"S3Uri": f"s3://docs/{run}/lang/", "InputFormat": "ONE_DOC_PER_LINE"},
        OutputDataConfig={"S3Uri": f"s3://docs/{run}/lang-out/"},
        DataAccessRoleArn=ROLE,
        JobName=run,
    )["JobId"]

    listed = _opencomprehend(server, "jobs", "list", "--name", run)
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.stdout.splitlines() if run in line]
    assert len(rows) == 2, listed.stdout
    by_id = {job_id: next(row for row in rows if job_id in row) for job_id in (entities_id, language_id)}
    assert "entities" in by_id[entities_id] and "language" in by_id[language_id]
    assert "Kind" in listed.stdout and "Status" in listed.stdout

    only_language = _opencomprehend(server, "jobs", "list", "--name", run, "--kind", "language", "--json")
    assert only_language.exit_code == 0, only_language.output
    assert [(j["Kind"], j["JobId"]) for j in json.loads(only_language.stdout)] == [("language", language_id)]

    server.wait(language_id, kind="language")
    described = _opencomprehend(server, "jobs", "describe", language_id, "--json")
    assert described.exit_code == 0, described.output
    assert json.loads(described.stdout)["Kind"] == "language"
    assert json.loads(described.stdout)["JobStatus"] == "COMPLETED"

    piped = _opencomprehend(server, "jobs", "list", "--name", run, COLUMNS=None)  # into a pipe: no width
    assert entities_id in piped.stdout and language_id in piped.stdout, piped.stdout  # whole, not cut to …

    newest = _opencomprehend(server, "jobs", "list", "--name", run, "--limit", "1", "--json")
    assert [j["JobId"] for j in json.loads(newest.stdout)] == [language_id]
    wrong_kind = _opencomprehend(server, "jobs", "list", "--kind", "sentiment")
    assert wrong_kind.exit_code == 2 and "--kind must be one of entities, pii, language" in wrong_kind.stderr

    completed = _opencomprehend(server, "jobs", "list", "--name", run, "--status", "completed", "--json")
    assert language_id in {j["JobId"] for j in json.loads(completed.stdout)}
    table = _opencomprehend(server, "jobs", "describe", entities_id)
    assert table.exit_code == 0 and "EntitiesDetectionJob" in table.stdout and ROLE in table.stdout


def test_jobs_wait_exits_0_on_completed_and_jobs_output_prints_the_archive(server: Server, tmp_path: Path) -> None:
    run = _unique("opcli-done")
    job_id = _entities_job(server, run, ["Bob lives in Paris.", "", "Angela Merkel met Emmanuel Macron."])

    waited = _opencomprehend(server, "jobs", "wait", job_id, "--interval", "0.2", "--timeout", "180")
    assert waited.exit_code == 0, waited.output
    assert f"entities job {job_id}: COMPLETED" in waited.stdout

    props = server.client().describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]
    archive = read_archive((server.bucket_root / props["OutputDataConfig"]["S3Uri"].removeprefix("s3://")).read_bytes())

    printed = _opencomprehend(server, "jobs", "output", job_id, "--data-dir", str(server.data_dir))
    assert printed.exit_code == 0, printed.output
    assert [json.loads(line) for line in printed.stdout.splitlines()] == archive
    assert ("Paris", "LOCATION") in {(e["Text"], e["Type"]) for e in archive[0]["Entities"]}

    saved = tmp_path / "entities.jsonl"
    to_file = _opencomprehend(server, "jobs", "output", job_id, "--data-dir", str(server.data_dir), "--to", str(saved))
    assert to_file.exit_code == 0, to_file.output
    assert [json.loads(line) for line in saved.read_text().splitlines()] == archive
    assert "3 records" in to_file.stderr

    # The API names the archive but does not serve it: without a store to read it from, one line says how.
    unreachable = _opencomprehend(server, "jobs", "output", job_id)
    assert unreachable.exit_code == 2
    assert len(unreachable.stderr.strip().splitlines()) == 1
    assert "--s3-endpoint-url" in unreachable.stderr and "--data-dir" in unreachable.stderr


def test_jobs_wait_exits_non_zero_with_the_message_on_a_failed_job(server: Server) -> None:
    run = _unique("opcli-fail")
    job_id = _entities_job(server, run, ["Rome is in Italy."], output_bucket=f"{run}-no-such-bucket")

    waited = _opencomprehend(server, "jobs", "wait", job_id, "--interval", "0.2", "--timeout", "180")
    assert waited.exit_code == 1, waited.output
    assert f"entities job {job_id}: FAILED" in waited.stderr
    assert "NO_WRITE_ACCESS_TO_OUTPUT: " in waited.stderr and "Traceback" not in waited.output

    no_output = _opencomprehend(server, "jobs", "output", job_id, "--data-dir", str(server.data_dir))
    assert no_output.exit_code == 2 and "is FAILED: it has no output" in no_output.stderr


def test_jobs_stop_stops_a_running_job_and_wait_reports_it(server: Server) -> None:
    run = _unique("opcli-stop")
    job_id = _entities_job(server, run, [f"Person {i} met Angela Merkel in Paris on Tuesday." for i in range(3000)])

    impatient = _opencomprehend(server, "jobs", "wait", job_id, "--interval", "0.1", "--timeout", "0.3")
    assert impatient.exit_code == 3 and f"{job_id} is still " in impatient.stderr, impatient.output

    stopped = _opencomprehend(server, "jobs", "stop", job_id)
    assert stopped.exit_code == 0, stopped.output
    assert stopped.stdout.strip() in (f"entities job {job_id}: STOP_REQUESTED", f"entities job {job_id}: STOPPED")

    waited = _opencomprehend(server, "jobs", "wait", job_id, "--interval", "0.2", "--timeout", "180")
    assert waited.exit_code == 1, waited.output
    assert f"entities job {job_id}: STOPPED" in waited.stderr

    again = _opencomprehend(server, "jobs", "stop", job_id)  # STOPPED answers its state again
    assert again.exit_code == 0 and "STOPPED" in again.stdout


def test_recognizers_and_endpoints_list_as_tables(server: Server) -> None:
    for command in (("recognizers", "list"), ("endpoints", "list")):
        listed = _opencomprehend(server, *command)
        assert listed.exit_code == 0, listed.output
        assert "Status" in listed.stdout, listed.stdout
        as_json = _opencomprehend(server, *command, "--json")
        assert isinstance(json.loads(as_json.stdout), list)

    missing = _opencomprehend(
        server, "recognizers", "describe", "arn:aws:comprehend:us-east-1:111122223333:entity-recognizer/none"
    )
    assert missing.exit_code == 2
    assert missing.stderr.startswith("ResourceNotFoundException: ") and len(missing.stderr.splitlines()) == 1


def test_detect_shows_entities_and_personal_data(server: Server) -> None:
    found = _opencomprehend(server, "detect", "Bob lives in Paris.", "--language", "en", "--json")
    assert found.exit_code == 0, found.output
    assert {(e["Text"], e["Type"]) for e in json.loads(found.stdout)} >= {("Bob", "PERSON"), ("Paris", "LOCATION")}
    table = _opencomprehend(server, "detect", "Bob lives in Paris.", "--language", "en")
    assert "Paris" in table.stdout and "LOCATION" in table.stdout

    pii = _opencomprehend(server, "detect", "Bob lives in Paris.", "--language", "en", "--pii", "--json")
    assert pii.exit_code == 0, pii.output
    assert {(e["BeginOffset"], e["EndOffset"], e["Type"]) for e in json.loads(pii.stdout)} >= {(0, 3, "NAME")}
    pii_table = _opencomprehend(server, "detect", "Bob lives in Paris.", "--language", "en", "--pii")
    assert any("Bob" in line and "NAME" in line for line in pii_table.stdout.splitlines()), pii_table.stdout

    refused = _opencomprehend(server, "detect", "Bob lives in Paris.", "--language", "xx")
    assert refused.exit_code == 2 and refused.stderr.startswith("ValidationException: "), refused.output


def test_an_unknown_job_id_is_one_line_and_exit_2(server: Server) -> None:
    unknown = "0" * 32
    for command in ("describe", "wait", "stop", "output"):
        answered = _opencomprehend(server, "jobs", command, unknown)
        assert answered.exit_code == 2, (command, answered.output)
        assert answered.stderr.startswith("JobNotFoundException: "), (command, answered.stderr)
        assert len(answered.stderr.strip().splitlines()) == 1 and answered.stdout == ""


def test_a_server_that_is_not_there_is_one_line_and_exit_2() -> None:
    answered = _opencomprehend("http://127.0.0.1:9", "jobs", "list")
    assert answered.exit_code == 2
    assert answered.stderr.startswith("EndpointConnectionError: ") and len(answered.stderr.splitlines()) == 1


def _kms_key(data: Path, alias: str) -> None:
    made = subprocess.run(
        [str(BIN / "opencomprehend"), "kms", "create", "--account-id", "111122223333", "--alias", alias,
         "--data-dir", str(data)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr


def _sealed_job(server: Server, input_uri: str, output_uri: str, alias: str) -> str:
    job_id = server.client().start_entities_detection_job(
        InputDataConfig={"S3Uri": input_uri},
        OutputDataConfig={"S3Uri": output_uri, "KmsKeyId": alias},
        DataAccessRoleArn=ROLE, LanguageCode="en",
    )["JobId"]  # fmt: skip
    assert server.wait(job_id)["JobStatus"] == "COMPLETED"
    return job_id


def test_jobs_output_reads_the_archive_from_the_servers_s3_store(
    tmp_path: Path, seaweedfs: SeaweedFS, aws_available: None
) -> None:
    data = tmp_path / "data"
    _kms_key(data, "alias/out")
    with running_server(
        data,
        OPENCOMPREHEND_S3_ENDPOINT_URL=seaweedfs.endpoint_url,
        OPENCOMPREHEND_S3_REGION=seaweedfs.region,
        OPENCOMPREHEND_S3_ACCESS_KEY_ID=seaweedfs.access_key_id,
        OPENCOMPREHEND_S3_SECRET_ACCESS_KEY=seaweedfs.secret_access_key,
        OPENCOMPREHEND_S3_SSE_KMS="false",  # SeaweedFS has no KMS: encrypted output is sealed before upload
    ) as server:
        s3 = seaweedfs.s3_client()
        bucket = _unique("opcli")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="in/a.txt", Body=b"Bob lives in Paris.\nMicrosoft is in Redmond.\n")
        job_id = server.start_job(f"s3://{bucket}/in/", f"s3://{bucket}/out/")
        # The same keys for both, as on AWS (in development mode the server takes any key).
        keys = {"AWS_ACCESS_KEY_ID": seaweedfs.access_key_id, "AWS_SECRET_ACCESS_KEY": seaweedfs.secret_access_key}
        assert _opencomprehend(server, "jobs", "wait", job_id, **keys).exit_code == 0
        key = f"out/111122223333-NER-{job_id}/output/output.tar.gz"
        archive = read_archive(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

        printed = _opencomprehend(server, "jobs", "output", job_id, AWS_ENDPOINT_URL_S3=seaweedfs.endpoint_url, **keys)
        assert printed.exit_code == 0, printed.output
        assert [json.loads(line) for line in printed.stdout.splitlines()] == archive

        refused = _opencomprehend(server, "jobs", "output", job_id, "--s3-endpoint-url", seaweedfs.endpoint_url)
        assert refused.exit_code == 2 and len(refused.stderr.splitlines()) == 1, refused.output  # keys S3 refuses
        assert "Traceback" not in refused.output

        # Output sealed under a KmsKeyId: opened with the server's keyring on its host (--data-dir) ...
        sealed_id = _sealed_job(server, f"s3://{bucket}/in/", f"s3://{bucket}/secret/", "alias/out")
        s3_args = ("--s3-endpoint-url", seaweedfs.endpoint_url)
        opened = _opencomprehend(server, "jobs", "output", sealed_id, *s3_args, "--data-dir", str(data), **keys)
        assert opened.exit_code == 0, opened.output
        assert [r["Entities"] for r in map(json.loads, opened.stdout.splitlines())] == [r["Entities"] for r in archive]
        # ... and elsewhere saved as it is, and said so; printing it is refused in one line.
        to = tmp_path / "sealed.tar.gz"
        saved = _opencomprehend(server, "jobs", "output", sealed_id, *s3_args, "--to", str(to), **keys)
        assert saved.exit_code == 0, saved.output
        assert "still encrypted" in saved.stderr and to.read_bytes().startswith(b"OCKMS1")
        printed_sealed = _opencomprehend(server, "jobs", "output", sealed_id, *s3_args, **keys)
        assert printed_sealed.exit_code == 2 and "encrypted under alias/out" in printed_sealed.stderr
        assert len(printed_sealed.stderr.splitlines()) == 1


def test_jobs_output_opens_sealed_output_in_the_local_folder_with_the_servers_keyring(
    tmp_path: Path, aws_available: None
) -> None:
    data = tmp_path / "data"
    _kms_key(data, "alias/out")
    with running_server(data) as server:
        server.put("docs", "in/a.txt", "Angela Merkel met Emmanuel Macron in Paris.\n")
        job_id = _sealed_job(server, "s3://docs/in/", "s3://docs/secret/", "alias/out")
        opened = _opencomprehend(server, "jobs", "output", job_id, "--data-dir", str(data))
        assert opened.exit_code == 0, opened.output
        assert {"Angela Merkel", "Paris"} <= {e["Text"] for e in json.loads(opened.stdout.splitlines()[0])["Entities"]}
