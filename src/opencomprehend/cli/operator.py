"""The operator's commands: jobs, recognizers, endpoints and detect, as tables.

They talk to a running server over the Comprehend API with boto3, exactly as the AWS CLI does (same
endpoint, region and credentials), never to its database. An error from the service is one line,
`ErrorCode: message`, and exit status 2.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
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


class ServiceFailure(Exception):
    """A one-line error for the person at the terminal (exit status 2)."""


def _err(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def _service_errors() -> Iterator[None]:
    """The service's errors (and failures to reach it) as one line and exit 2, never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        _err(f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}")
        raise typer.Exit(2) from None
    except BotoCoreError as exc:  # no credentials, endpoint unreachable, …
        _err(f"{type(exc).__name__}: {exc}")
        raise typer.Exit(2) from None
    except ServiceFailure as exc:
        _err(str(exc))
        raise typer.Exit(2) from None


EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        envvar="AWS_ENDPOINT_URL",
        help=f"The server (default $AWS_ENDPOINT_URL, else {DEFAULT_ENDPOINT}).",
        show_default=False,
    ),
]
RegionOption = Annotated[
    str | None, typer.Option("--region", help="The region (default: the AWS environment or profile, else us-east-1).")
]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="A named AWS profile for the credentials.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the service's answer as JSON instead of a table.")]


@dataclass
class Connection:
    endpoint_url: str | None
    region: str | None
    profile: str | None

    def session(self) -> Any:
        import boto3

        return boto3.session.Session(profile_name=self.profile)

    def region_name(self) -> str:
        return self.region or self.session().region_name or "us-east-1"

    def comprehend(self) -> Any:
        return self.session().client(
            "comprehend", endpoint_url=self.endpoint_url or DEFAULT_ENDPOINT, region_name=self.region_name()
        )

    def s3(self, endpoint_url: str) -> Any:
        return self.session().client("s3", endpoint_url=endpoint_url, region_name=self.region_name())


def _console() -> Console:
    """A terminal's width on a terminal; into a pipe or a file, as wide as the table, so that no id is cut."""
    piped = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(soft_wrap=False, width=10_000 if piped else None)


def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def _cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return _when(value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=_when)
    return str(value)


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=_when))


def _pages(client: Any, operation: str, **arguments: Any) -> Iterator[dict[str, Any]]:
    yield from client.get_paginator(operation).paginate(**arguments)


def _find_job(client: Any, job_id: str) -> tuple[JobKind, dict[str, Any]]:
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


# ---------------------------------------------------------------------------------------------------- jobs

jobs_app = typer.Typer(
    help="Jobs of all three kinds (entities, PII, dominant language), over the API.", no_args_is_help=True
)


@jobs_app.command("list")
def jobs_list(
    status: Annotated[
        str | None, typer.Option("--status", help="Only jobs in this status (SUBMITTED, IN_PROGRESS, COMPLETED…).")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind: entities, pii or language.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Only jobs of this exact name.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the newest N (default: all).")] = None,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Entities, PII and dominant language jobs together, newest first."""
    if kind is not None and kind not in KINDS:
        _err(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
        raise typer.Exit(2)
    job_filter = {k: v for k, v in {"JobStatus": status and status.upper(), "JobName": name}.items() if v}
    rows: list[tuple[JobKind, dict[str, Any]]] = []
    with _service_errors():
        client = Connection(endpoint_url, region, profile).comprehend()
        for each in [KINDS[kind]] if kind else KINDS.values():
            arguments: dict[str, Any] = {"Filter": job_filter} if job_filter else {}
            if limit:  # each kind lists newest first: its newest N are enough
                arguments["PaginationConfig"] = {"MaxItems": limit}
            for page in _pages(client, each.op("list"), **arguments):
                rows += [(each, job) for job in page.get(f"{each.resource}PropertiesList", [])]
    rows.sort(key=lambda row: row[1]["SubmitTime"], reverse=True)
    rows = rows[:limit] if limit else rows
    if as_json:
        _print_json([{"Kind": k.name, **job} for k, job in rows])
        return
    job_id = Column("JobId", min_width=32)  # an id is never shortened, the other columns give way
    status_column = Column("Status", overflow="fold")
    table = Table("Kind", job_id, "Name", status_column, "Language", "Submitted (UTC)", "Ended (UTC)")
    for each, job in rows:
        table.add_row(
            each.name,
            job["JobId"],
            job.get("JobName", ""),
            job["JobStatus"],
            job.get("LanguageCode", ""),
            _when(job.get("SubmitTime")),
            _when(job.get("EndTime")),
        )
    _console().print(table)


@jobs_app.command("describe")
def jobs_describe(
    job_id: Annotated[str, typer.Argument(help="The job's id, of any kind.")],
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Every property of a job, whichever its kind."""
    with _service_errors():
        kind, job = _find_job(Connection(endpoint_url, region, profile).comprehend(), job_id)
    if as_json:
        _print_json({"Kind": kind.name, **job})
        return
    table = Table("Property", "Value", title=f"{kind.resource} {job_id}")
    table.add_row("Kind", kind.name)
    for key, value in job.items():
        table.add_row(key, _cell(value))
    _console().print(table)


@jobs_app.command("wait")
def jobs_wait(
    job_id: Annotated[str, typer.Argument(help="The job's id, of any kind.")],
    timeout: Annotated[float, typer.Option(min=0, help="Give up after this many seconds (exit 3); 0: never.")] = 0,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between two looks at the job.")] = 1.0,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Wait for a job to finish: exit 0 when it COMPLETED, 1 when it FAILED or was STOPPED (its message on
    stderr), 3 past --timeout.

    No progress bar of documents: Comprehend's API reports none for a job (only its status and times).
    The live line shows the job's status and the time since it was submitted instead.
    """
    started = time.monotonic()
    console = Console(stderr=True)
    with _service_errors():
        client = Connection(endpoint_url, region, profile).comprehend()
        kind, job = _find_job(client, job_id)
        describe = getattr(client, kind.op("describe"))

        def line(job: dict[str, Any]) -> str:
            elapsed = dt.datetime.now(dt.UTC) - job["SubmitTime"]
            return f"{kind.name} job {job_id}: {job['JobStatus']}, {elapsed.total_seconds():.0f} s since submitted"

        looked = time.monotonic()
        with console.status(line(job)) as live:
            while job["JobStatus"] not in FINISHED:
                if timeout and time.monotonic() - started > timeout:
                    _err(f"{job_id} is still {job['JobStatus']} after {timeout:g} s")
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
    _err(summary + (f": {job['Message']}" if job.get("Message") else ""))
    raise typer.Exit(1)


@jobs_app.command("stop")
def jobs_stop(
    job_id: Annotated[str, typer.Argument(help="The job's id, of any kind.")],
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Ask a SUBMITTED or IN_PROGRESS job to stop; it ends STOPPED with the documents already done as output."""
    with _service_errors():
        client = Connection(endpoint_url, region, profile).comprehend()
        kind, _ = _find_job(client, job_id)
        answer = getattr(client, kind.op("stop"))(JobId=job_id)
    typer.echo(f"{kind.name} job {job_id}: {answer['JobStatus']}")


@jobs_app.command("output")
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
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """A finished job's output.tar.gz as JSON lines (one record per document), fetched from the object store.

    The Comprehend API only names the archive (s3://…); it is read from the S3 store given by
    --s3-endpoint-url, or from the server's local bucket folder with --data-dir.
    """
    connection = Connection(endpoint_url, region, profile)
    with _service_errors():
        kind, job = _find_job(connection.comprehend(), job_id)
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
        _err(f"{to}: {records:,} records from {uri}")


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
        _err(f"{to}: {uri} saved still encrypted (its key is out of reach here; `opencomprehend output decrypt`)")
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


# ---------------------------------------------------------------------------------------------- recognizers

recognizers_app = typer.Typer(help="Custom entity recognizers, over the API.", no_args_is_help=True)


def _name_of(arn: str) -> str:
    return arn.split("/", 1)[-1]


@recognizers_app.command("list")
def recognizers_list(
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Every recognizer of the account: status, language and F1."""
    with _service_errors():
        client = Connection(endpoint_url, region, profile).comprehend()
        found = [
            r for page in _pages(client, "list_entity_recognizers") for r in page["EntityRecognizerPropertiesList"]
        ]
    if as_json:
        _print_json(found)
        return
    table = Table("Name (/version)", "Status", "Language", "F1", "Submitted (UTC)", "Arn")
    for recognizer in found:
        metrics = recognizer.get("RecognizerMetadata", {}).get("EvaluationMetrics", {})
        f1 = metrics.get("F1Score")
        table.add_row(
            _name_of(recognizer["EntityRecognizerArn"]),
            recognizer["Status"],
            recognizer.get("LanguageCode", ""),
            "" if f1 is None else f"{f1:.3g}",
            _when(recognizer.get("SubmitTime")),
            recognizer["EntityRecognizerArn"],
        )
    _console().print(table)


@recognizers_app.command("describe")
def recognizers_describe(
    arn: Annotated[str, typer.Argument(help="The recognizer's ARN.")],
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Every property of a recognizer."""
    with _service_errors():
        client = Connection(endpoint_url, region, profile).comprehend()
        recognizer = client.describe_entity_recognizer(EntityRecognizerArn=arn)["EntityRecognizerProperties"]
    if as_json:
        _print_json(recognizer)
        return
    table = Table("Property", "Value", title=_name_of(arn))
    for key, value in recognizer.items():
        table.add_row(key, _cell(value))
    _console().print(table)


# ------------------------------------------------------------------------------------------------ endpoints

endpoints_app = typer.Typer(help="Real-time endpoints of custom recognizers, over the API.", no_args_is_help=True)


@endpoints_app.command("list")
def endpoints_list(
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Every endpoint of the account: status, model and inference units."""
    with _service_errors():
        client = Connection(endpoint_url, region, profile).comprehend()
        found = [e for page in _pages(client, "list_endpoints") for e in page["EndpointPropertiesList"]]
    if as_json:
        _print_json(found)
        return
    table = Table("Name", "Status", "Units", "Model", "Created (UTC)")
    for endpoint in found:
        table.add_row(
            _name_of(endpoint["EndpointArn"]),
            endpoint["Status"],
            str(endpoint.get("CurrentInferenceUnits", endpoint.get("DesiredInferenceUnits", ""))),
            _name_of(endpoint.get("ModelArn", "")),
            _when(endpoint.get("CreationTime")),
        )
    _console().print(table)


# --------------------------------------------------------------------------------------------------- detect


def detect(
    text: Annotated[str, typer.Argument(help="The text (up to 100 KB).")],
    language: Annotated[str, typer.Option("--language", "-l", help="Its language code: en, de, zh-TW…")],
    pii: Annotated[bool, typer.Option("--pii", help="Personal data (DetectPiiEntities) instead of entities.")] = False,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """The entities (or, with --pii, the personal data) in a text, found by the server in real time."""
    with _service_errors():
        client = Connection(endpoint_url, region, profile).comprehend()
        if pii:
            found = client.detect_pii_entities(Text=text, LanguageCode=language)["Entities"]
        else:
            found = client.detect_entities(Text=text, LanguageCode=language)["Entities"]
    if as_json:
        _print_json(found)
        return
    table = Table("Text", "Type", "Score", "Begin", "End")
    for entity in found:
        # PII answers carry no Text: the offsets (code points) slice the text that was sent.
        shown = entity.get("Text", text[entity["BeginOffset"] : entity["EndOffset"]])
        table.add_row(
            shown, entity["Type"], f"{entity['Score']:.3f}", str(entity["BeginOffset"]), str(entity["EndOffset"])
        )
    _console().print(table)


def register(app: typer.Typer) -> None:
    """Add the operator's commands to the `opencomprehend` command."""
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(recognizers_app, name="recognizers")
    app.add_typer(endpoints_app, name="endpoints")
    app.command("detect")(detect)
