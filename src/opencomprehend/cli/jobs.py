"""`opencomprehend jobs`: the jobs of all three kinds over the API (list, describe, wait, stop) and a finished
job's output read from the object store."""

from __future__ import annotations

import datetime as dt
import io
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column

from opencomprehend.cli.client import (
    Connection,
    JsonOption,
    ServiceFailure,
    connected,
    err,
    pages,
    print_properties,
    print_rows,
    service_errors,
    when,
)

FINISHED = ("COMPLETED", "FAILED", "STOPPED")
SEALED = b"OCKMS1\n"  # the local keyring's envelope (security/keyring.py): output sealed under a KmsKeyId


@dataclass(frozen=True)
class JobKind:
    """One of the three job kinds: the boto3 operations that reach it and the keys of their answers."""

    name: str
    resource: str  # e.g. EntitiesDetectionJob

    def op(self, verb: str) -> str:
        """`list` → list_entities_detection_jobs; `describe` → describe_entities_detection_job."""
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in self.resource).lstrip("_")
        return f"{verb}_{snake}s" if verb == "list" else f"{verb}_{snake}"

    @property
    def properties(self) -> str:
        return f"{self.resource}Properties"


KINDS = {
    "entities": JobKind("entities", "EntitiesDetectionJob"),
    "pii": JobKind("pii", "PiiEntitiesDetectionJob"),
    "language": JobKind("language", "DominantLanguageDetectionJob"),
}


def find_job(client: Any, job_id: str) -> tuple[JobKind, dict[str, Any]]:
    """The job of this id, whichever its kind: each kind's Describe in turn (ids are unique across kinds)."""
    from botocore.exceptions import ClientError

    first: ClientError | None = None
    for kind in KINDS.values():
        try:
            return kind, getattr(client, kind.op("describe"))(JobId=job_id)[kind.properties]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "JobNotFoundException":
                raise
            first = first or exc
    assert first is not None
    raise first


jobs_app = typer.Typer(
    help="Jobs of all three kinds (entities, PII, dominant language), over the API.", no_args_is_help=True
)


@jobs_app.command("list")
@connected
def jobs_list(
    status: Annotated[
        str | None, typer.Option("--status", help="Only jobs in this status (SUBMITTED, IN_PROGRESS, COMPLETED…).")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind: entities, pii or language.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Only jobs of this exact name.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the newest N (default: all).")] = None,
    as_json: JsonOption = False,
    *,
    connection: Connection,
) -> None:
    """Entities, PII and dominant language jobs together, newest first."""
    if kind is not None and kind not in KINDS:
        err(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
        raise typer.Exit(2)
    job_filter = {k: v for k, v in {"JobStatus": status and status.upper(), "JobName": name}.items() if v}
    rows: list[tuple[JobKind, dict[str, Any]]] = []
    with service_errors():
        client = connection.comprehend()
        for each in [KINDS[kind]] if kind else KINDS.values():
            arguments: dict[str, Any] = {"Filter": job_filter} if job_filter else {}
            if limit:  # each kind lists newest first: its newest N are enough
                arguments["PaginationConfig"] = {"MaxItems": limit}
            for page in pages(client, each.op("list"), **arguments):
                rows += [(each, job) for job in page.get(f"{each.resource}PropertiesList", [])]
    rows.sort(key=lambda row: row[1]["SubmitTime"], reverse=True)
    rows = rows[:limit] if limit else rows
    job_id = Column("JobId", min_width=32)  # an id is never shortened, the other columns give way
    status_column = Column("Status", overflow="fold")
    print_rows(
        [{"Kind": each.name, **job} for each, job in rows],
        as_json,
        ["Kind", job_id, "Name", status_column, "Language", "Submitted (UTC)", "Ended (UTC)"],
        lambda job: (
            job["Kind"],
            job["JobId"],
            job.get("JobName", ""),
            job["JobStatus"],
            job.get("LanguageCode", ""),
            when(job.get("SubmitTime")),
            when(job.get("EndTime")),
        ),
    )


@jobs_app.command("describe")
@connected
def jobs_describe(
    job_id: Annotated[str, typer.Argument(help="The job's id, of any kind.")],
    as_json: JsonOption = False,
    *,
    connection: Connection,
) -> None:
    """Every property of a job, whichever its kind."""
    with service_errors():
        kind, job = find_job(connection.comprehend(), job_id)
    print_properties({"Kind": kind.name, **job}, f"{kind.resource} {job_id}", as_json)


@jobs_app.command("wait")
@connected
def jobs_wait(
    job_id: Annotated[str, typer.Argument(help="The job's id, of any kind.")],
    timeout: Annotated[float, typer.Option(min=0, help="Give up after this many seconds (exit 3); 0: never.")] = 0,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between two looks at the job.")] = 1.0,
    *,
    connection: Connection,
) -> None:
    """Wait for a job to finish: exit 0 when it COMPLETED, 1 when it FAILED or was STOPPED (its message on
    stderr), 3 past --timeout.

    No progress bar of documents: Comprehend's API reports none for a job (only its status and times).
    The live line shows the job's status and the time since it was submitted instead.
    """
    started = time.monotonic()
    console = Console(stderr=True)
    with service_errors():
        client = connection.comprehend()
        kind, job = find_job(client, job_id)
        describe = getattr(client, kind.op("describe"))

        def line(job: dict[str, Any]) -> str:
            elapsed = dt.datetime.now(dt.UTC) - job["SubmitTime"]
            return f"{kind.name} job {job_id}: {job['JobStatus']}, {elapsed.total_seconds():.0f} s since submitted"

        looked = time.monotonic()
        with console.status(line(job)) as live:
            while job["JobStatus"] not in FINISHED:
                if timeout and time.monotonic() - started > timeout:
                    err(f"{job_id} is still {job['JobStatus']} after {timeout:g} s")
                    raise typer.Exit(3)
                # The clock on the line moves every fraction of a second; the service is asked every interval.
                time.sleep(min(interval, 0.25))
                if time.monotonic() - looked >= interval:
                    job, looked = describe(JobId=job_id)[kind.properties], time.monotonic()
                live.update(line(job))
    took = (job.get("EndTime") or dt.datetime.now(dt.UTC)) - job["SubmitTime"]
    summary = f"{kind.name} job {job_id}: {job['JobStatus']} in {took.total_seconds():.1f} s"
    if job["JobStatus"] == "COMPLETED":
        typer.echo(summary)
        typer.echo(f"output: {job['OutputDataConfig']['S3Uri']}")
        return
    err(summary + (f": {job['Message']}" if job.get("Message") else ""))
    raise typer.Exit(1)


@jobs_app.command("stop")
@connected
def jobs_stop(
    job_id: Annotated[str, typer.Argument(help="The job's id, of any kind.")],
    *,
    connection: Connection,
) -> None:
    """Ask a SUBMITTED or IN_PROGRESS job to stop; it ends STOPPED with the documents already done as output."""
    with service_errors():
        client = connection.comprehend()
        kind, _ = find_job(client, job_id)
        answer = getattr(client, kind.op("stop"))(JobId=job_id)
    typer.echo(f"{kind.name} job {job_id}: {answer['JobStatus']}")


@jobs_app.command("output")
@connected
def jobs_output(
    job_id: Annotated[str, typer.Argument(help="The job's id, of any kind.")],
    to: Annotated[
        Path | None, typer.Option("--to", help="Write the JSON lines to this file instead of stdout.")
    ] = None,
    s3_endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--s3-endpoint-url",
            envvar="AWS_ENDPOINT_URL_S3",
            help="The S3-compatible store the server writes to (its OPENCOMPREHEND_S3_ENDPOINT_URL; "
            "default $AWS_ENDPOINT_URL_S3).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="On the server's own host, its data folder: output sealed under a KmsKeyId is opened with its "
            "keyring, and without --s3-endpoint-url the local-folder store is read from <data-dir>/s3.",
        ),
    ] = None,
    *,
    connection: Connection,
) -> None:
    """A finished job's output.tar.gz as JSON lines (one record per document), fetched from the object store.

    The Comprehend API only names the archive (s3://…); it is read from the S3 store given by
    --s3-endpoint-url, or from the server's local bucket folder with --data-dir.
    """
    connection = connection
    with service_errors():
        kind, job = find_job(connection.comprehend(), job_id)
        if job["JobStatus"] not in ("COMPLETED", "STOPPED"):
            raise ServiceFailure(
                f"{kind.name} job {job_id} is {job['JobStatus']}: it has no output"
                + ("" if job["JobStatus"] == "FAILED" else " yet (opencomprehend jobs wait)")
            )
        uri = job["OutputDataConfig"]["S3Uri"]
        if not uri.endswith("/output.tar.gz"):
            raise ServiceFailure(f"the output of this job is the redacted documents under {uri}, not an archive")
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        data = _fetch(connection, bucket, key, uri, s3_endpoint_url, data_dir)
        if data.startswith(SEALED):
            data = _unseal(data, uri, job, data_dir, to)
            if data is None:
                return
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            member = archive.extractfile("output")
            if member is None:
                raise ServiceFailure(f"{uri} holds no `output` member")
            lines = member.read()
    if to is None:
        sys.stdout.buffer.write(lines)
        sys.stdout.flush()
    else:
        to.write_bytes(lines)
        records = lines.count(b"\n")
        err(f"{to}: {records:,} records from {uri}")


def _fetch(
    connection: Connection, bucket: str, key: str, uri: str, s3_endpoint_url: str | None, data_dir: Path | None
) -> bytes:
    if s3_endpoint_url:
        return connection.s3(s3_endpoint_url).get_object(Bucket=bucket, Key=key)["Body"].read()
    if data_dir is not None:
        path = data_dir / "s3" / bucket / key
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ServiceFailure(f"cannot read {uri} at {path}: {exc.strerror or exc}") from None
    raise ServiceFailure(
        f"the output is {uri}, in the server's object store, which the Comprehend API does not serve: "
        "give its S3 endpoint with --s3-endpoint-url (or AWS_ENDPOINT_URL_S3), or on the server's host "
        "its data folder with --data-dir (the local-folder store)"
    )


def _unseal(data: bytes, uri: str, job: dict[str, Any], data_dir: Path | None, to: Path | None) -> bytes | None:
    """The archive opened with the server's keyring when this host has it; else saved as it is (with --to)."""
    if data_dir is None:
        if to is None:
            raise ServiceFailure(
                f"{uri} is encrypted under {job['OutputDataConfig'].get('KmsKeyId', 'a KMS key')} and its key "
                "is out of reach here: on the server's host add --data-dir, or save it with --to and run "
                "`opencomprehend output decrypt`"
            )
        to.write_bytes(data)
        err(f"{to}: {uri} saved still encrypted (its key is out of reach here; `opencomprehend output decrypt`)")
        return None
    from opencomprehend.config import Settings
    from opencomprehend.security.files import SecurityFileError
    from opencomprehend.server import open_keyring

    if not data_dir.is_dir():
        raise ServiceFailure(f"cannot decrypt {uri}: no data folder {data_dir}")
    account = job["JobArn"].split(":")[4]
    try:
        return open_keyring(Settings(data_dir=data_dir)).open(data, account)
    except (SecurityFileError, ValueError, OSError) as exc:
        raise ServiceFailure(f"cannot decrypt {uri}: {exc}") from None
