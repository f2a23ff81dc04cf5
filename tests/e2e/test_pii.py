"""PII end to end: the AWS CLI and boto3 against `opencomprehend serve`."""

from __future__ import annotations

import pytest
from support.server import Server

pytestmark = pytest.mark.e2e

TEXT = "👍🏽 Hello John Smith, your card 4111 1111 1111 1111 is linked to john.smith@example.com."


def spans(text: str, entities: list[dict]) -> set[tuple[str, str]]:
    return {(text[e["BeginOffset"] : e["EndOffset"]], e["Type"]) for e in entities}


def test_detect_pii_entities_with_the_aws_cli(server: Server) -> None:
    found = server.aws_json("detect-pii-entities", "--text", TEXT, "--language-code", "en")
    assert set(found) == {"Entities"}
    assert all(set(e) == {"BeginOffset", "EndOffset", "Score", "Type"} for e in found["Entities"])
    assert {
        ("John Smith", "NAME"),
        ("4111 1111 1111 1111", "CREDIT_DEBIT_NUMBER"),
        ("john.smith@example.com", "EMAIL"),
    } <= spans(TEXT, found["Entities"])


def test_contains_pii_entities_with_the_aws_cli(server: Server) -> None:
    found = server.aws_json("contains-pii-entities", "--text", TEXT, "--language-code", "en")
    assert {label["Name"] for label in found["Labels"]} >= {"NAME", "CREDIT_DEBIT_NUMBER", "EMAIL"}


def test_pii_in_other_languages_and_errors_in_boto3(server: Server) -> None:
    client = server.client()
    text = "Mi DNI es 12345678Z."
    assert ("12345678Z", "SSN") in spans(text, client.detect_pii_entities(Text=text, LanguageCode="es")["Entities"])
    with pytest.raises(client.exceptions.TextSizeLimitExceededException):
        client.detect_pii_entities(Text="é" * 50_000 + "x", LanguageCode="en")
    with pytest.raises(client.exceptions.TextSizeLimitExceededException):
        client.contains_pii_entities(Text="é" * 50_000 + "x", LanguageCode="en")
