"""The operator's commands: jobs, recognizers, endpoints and detect, as tables.

They talk to a running server over the Comprehend API with boto3, exactly as the AWS CLI does (same
endpoint, region and credentials), never to its database. An error from the service is one line,
`ErrorCode: message`, and exit status 2.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from opencomprehend.cli.client import (
    DEFAULT_ENDPOINT,
    Connection,
    EndpointOption,
    JsonOption,
    ProfileOption,
    RegionOption,
    ServiceFailure,
    connected,
    listed,
    name_of,
    print_properties,
    print_rows,
    service_errors,
    when,
)
from opencomprehend.cli.jobs import FINISHED, KINDS, SEALED, JobKind, jobs_app

# Where they were before cli/client.py and cli/jobs.py took them.
__all__ = [
    "DEFAULT_ENDPOINT",
    "FINISHED",
    "KINDS",
    "SEALED",
    "Connection",
    "EndpointOption",
    "JobKind",
    "JsonOption",
    "ProfileOption",
    "RegionOption",
    "ServiceFailure",
    "detect",
    "endpoints_app",
    "jobs_app",
    "recognizers_app",
    "register",
]

# ---------------------------------------------------------------------------------------------- recognizers

recognizers_app = typer.Typer(help="Custom entity recognizers, over the API.", no_args_is_help=True)


@recognizers_app.command("list")
@connected
def recognizers_list(as_json: JsonOption = False, *, connection: Connection) -> None:
    """Every recognizer of the account: status, language and F1."""

    def row(recognizer: dict[str, Any]) -> tuple[str, ...]:
        metrics = recognizer.get("RecognizerMetadata", {}).get("EvaluationMetrics", {})
        f1 = metrics.get("F1Score")
        return (
            name_of(recognizer["EntityRecognizerArn"]),
            recognizer["Status"],
            recognizer.get("LanguageCode", ""),
            "" if f1 is None else f"{f1:.3g}",
            when(recognizer.get("SubmitTime")),
            recognizer["EntityRecognizerArn"],
        )

    found = listed(connection, "list_entity_recognizers", "EntityRecognizerPropertiesList")
    print_rows(found, as_json, ["Name (/version)", "Status", "Language", "F1", "Submitted (UTC)", "Arn"], row)


@recognizers_app.command("describe")
@connected
def recognizers_describe(
    arn: Annotated[str, typer.Argument(help="The recognizer's ARN.")],
    as_json: JsonOption = False,
    *,
    connection: Connection,
) -> None:
    """Every property of a recognizer."""
    with service_errors():
        client = connection.comprehend()
        recognizer = client.describe_entity_recognizer(EntityRecognizerArn=arn)["EntityRecognizerProperties"]
    print_properties(recognizer, name_of(arn), as_json)


# ------------------------------------------------------------------------------------------------ endpoints

endpoints_app = typer.Typer(help="Real-time endpoints of custom recognizers, over the API.", no_args_is_help=True)


@endpoints_app.command("list")
@connected
def endpoints_list(as_json: JsonOption = False, *, connection: Connection) -> None:
    """Every endpoint of the account: status, model and inference units."""
    print_rows(
        listed(connection, "list_endpoints", "EndpointPropertiesList"),
        as_json,
        ["Name", "Status", "Units", "Model", "Created (UTC)"],
        lambda endpoint: (
            name_of(endpoint["EndpointArn"]),
            endpoint["Status"],
            str(endpoint.get("CurrentInferenceUnits", endpoint.get("DesiredInferenceUnits", ""))),
            name_of(endpoint.get("ModelArn", "")),
            when(endpoint.get("CreationTime")),
        ),
    )


# --------------------------------------------------------------------------------------------------- detect


@connected
def detect(
    text: Annotated[str, typer.Argument(help="The text (up to 100 KB).")],
    language: Annotated[str, typer.Option("--language", "-l", help="Its language code: en, de, zh-TW…")],
    pii: Annotated[bool, typer.Option("--pii", help="Personal data (DetectPiiEntities) instead of entities.")] = False,
    as_json: JsonOption = False,
    *,
    connection: Connection,
) -> None:
    """The entities (or, with --pii, the personal data) in a text, found by the server in real time."""
    with service_errors():
        client = connection.comprehend()
        if pii:
            found = client.detect_pii_entities(Text=text, LanguageCode=language)["Entities"]
        else:
            found = client.detect_entities(Text=text, LanguageCode=language)["Entities"]
    # PII answers carry no Text: the offsets (code points) slice the text that was sent.
    print_rows(
        found,
        as_json,
        ["Text", "Type", "Score", "Begin", "End"],
        lambda entity: (
            entity.get("Text", text[entity["BeginOffset"] : entity["EndOffset"]]),
            entity["Type"],
            f"{entity['Score']:.3f}",
            str(entity["BeginOffset"]),
            str(entity["EndOffset"]),
        ),
    )


def register(app: typer.Typer) -> None:
    """Add the operator's commands to the `opencomprehend` command."""
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(recognizers_app, name="recognizers")
    app.add_typer(endpoints_app, name="endpoints")
    app.command("detect")(detect)
