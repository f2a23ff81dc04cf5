"""What the operator's commands share: one connection to the server over the Comprehend API (the options
--endpoint-url, --region and --profile, declared once), its errors as one line, and the tables' cells."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

DEFAULT_ENDPOINT = "http://127.0.0.1:8080"


class ServiceFailure(Exception):
    """A one-line error for the person at the terminal (exit status 2)."""


def err(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def service_errors() -> Iterator[None]:
    """The service's errors (and failures to reach it) as one line and exit 2, never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        err(f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}")
        raise typer.Exit(2) from None
    except BotoCoreError as exc:  # no credentials, endpoint unreachable, …
        err(f"{type(exc).__name__}: {exc}")
        raise typer.Exit(2) from None
    except ServiceFailure as exc:
        err(str(exc))
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


def connected(command: Callable[..., None]) -> Callable[..., None]:
    """The command with the options --endpoint-url, --region and --profile added after its own, which it
    receives as one keyword argument, `connection`."""
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "connection"]
    added = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=annotation)
        for name, annotation in (("endpoint_url", EndpointOption), ("region", RegionOption), ("profile", ProfileOption))
    ]

    @functools.wraps(command)
    def run(
        *args: Any,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        **kwargs: Any,
    ) -> None:
        return command(*args, connection=Connection(endpoint_url, region, profile), **kwargs)

    signature = inspect.Signature([*own, *added], return_annotation=None)
    run.__signature__ = signature  # type: ignore[attr-defined]  # what typer reads the options from
    run.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()} | {"return": None}
    return run


def console() -> Console:
    """A terminal's width on a terminal; into a pipe or a file, as wide as the table, so that no id is cut."""
    piped = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(soft_wrap=False, width=10_000 if piped else None)


def when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return when(value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=when)
    return str(value)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=when))


def pages(client: Any, operation: str, **arguments: Any) -> Iterator[dict[str, Any]]:
    yield from client.get_paginator(operation).paginate(**arguments)


def name_of(arn: str) -> str:
    return arn.split("/", 1)[-1]


def listed(connection: Connection, operation: str, key: str) -> list[dict[str, Any]]:
    """Every item of a List operation, all its pages (the service's errors as one line)."""
    with service_errors():
        client = connection.comprehend()
        return [item for page in pages(client, operation) for item in page[key]]


def print_properties(record: dict[str, Any], title: str, as_json: bool = False) -> None:
    """A record as a table of its properties, one a row (or as JSON)."""
    if as_json:
        print_json(record)
        return
    table = Table("Property", "Value", title=title)
    for key, value in record.items():
        table.add_row(key, cell(value))
    console().print(table)


def print_rows(
    items: list[dict[str, Any]], as_json: bool, columns: Sequence[str | Column], row: Callable[[dict], Sequence[str]]
) -> None:
    """The service's items as a table, one row an item (or as JSON, whole)."""
    if as_json:
        print_json(items)
        return
    table = Table(*columns)
    for item in items:
        table.add_row(*row(item))
    console().print(table)
