"""DetectPiiEntities and ContainsPiiEntities in-process: the real engines (run inline), shapes, limits, errors."""

from __future__ import annotations

import socket

import botocore.session
import pytest
from starlette.testclient import TestClient
from support.wire import call

from opencomprehend.nlp import pii
from opencomprehend.nlp.pii import recognizers as pii_recognizers
from opencomprehend.runtime import worker
from opencomprehend.runtime.runner import LANGUAGE_ENGINE, entities_engine, pii_engine_key
from opencomprehend.service import detect as detect_service

PII_KEYS = {"BeginOffset", "EndOffset", "Score", "Type"}


def pii_enum() -> set[str]:
    model = botocore.session.get_session().get_service_model("comprehend")
    return set(model.shape_for("PiiEntityType").enum)


def detect(client: TestClient, text: str, language: str = "en") -> tuple[int, dict]:
    return call(client, "DetectPiiEntities", {"Text": text, "LanguageCode": language})


def found(client: TestClient, text: str, language: str = "en") -> set[tuple[str, str]]:
    status, body = detect(client, text, language)
    assert status == 200, body
    for entity in body["Entities"]:
        assert set(entity) == PII_KEYS
        assert 0.0 <= entity["Score"] <= 1.0
        assert entity["Type"] in pii_enum()
    return {(text[e["BeginOffset"] : e["EndOffset"]], e["Type"]) for e in body["Entities"]}


STRUCTURED = [
    ("Write to jane.doe@example.com today.", "jane.doe@example.com", "EMAIL"),
    ("Call me on (206) 555-0100 after six.", "(206) 555-0100", "PHONE"),
    ("My card number is 4111 1111 1111 1111.", "4111 1111 1111 1111", "CREDIT_DEBIT_NUMBER"),
    ("card 4111 1111 1111 1111 cvv 123", "123", "CREDIT_DEBIT_CVV"),
    ("card 4111 1111 1111 1111 expires 09/27", "09/27", "CREDIT_DEBIT_EXPIRY"),
    ("Transfer it to IBAN DE89370400440532013000 please.", "DE89370400440532013000", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"),  # noqa: E501
    ("The routing number is 011000015.", "011000015", "BANK_ROUTING"),
    ("Our SWIFT code is DEUTDEFF500.", "DEUTDEFF500", "SWIFT_CODE"),
    ("Her social security number is 536-90-4399.", "536-90-4399", "SSN"),
    ("The server is at 10.20.30.40 now.", "10.20.30.40", "IP_ADDRESS"),
    ("Its mac address is 00:1A:2B:3C:4D:5E.", "00:1A:2B:3C:4D:5E", "MAC_ADDRESS"),
    ("See https://www.example.org/profile for more.", "https://www.example.org/profile", "URL"),
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY"),
    ("aws secret key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_KEY"),  # noqa: E501
    ("The VIN is 1HGCM82633A004352.", "1HGCM82633A004352", "VEHICLE_IDENTIFICATION_NUMBER"),
    ("password: Tr0ub4dor&3", "Tr0ub4dor&3", "PASSWORD"),
    ("username: jsmith99", "jsmith99", "USERNAME"),
    ("She is 42 years old.", "42 years", "AGE"),  # Comprehend's AGE: the number and its unit
    ("Your PIN is 4821.", "4821", "PIN"),
]


@pytest.mark.parametrize(("text", "span", "pii_type"), STRUCTURED, ids=[case[2] for case in STRUCTURED])
def test_structured_identifiers_are_found_with_their_type(client: TestClient, text: str, span: str, pii_type: str):
    assert (span, pii_type) in found(client, text)


def test_names_and_addresses_come_from_the_entity_model(client: TestClient) -> None:
    text = "Hello, my name is John Smith and I live at 123 Main Street, Seattle, WA 98101."
    spans = found(client, text)
    assert ("John Smith", "NAME") in spans
    assert ("123 Main Street, Seattle, WA 98101", "ADDRESS") in spans


def test_checksums_decide_between_a_number_and_an_identifier(client: TestClient) -> None:
    # One digit off: no longer a card (Luhn), an IBAN (mod 97) or a VIN (check digit) with certainty.
    bad = found(client, "My card number is 4111 1111 1111 1112 and IBAN DE89370400440532013001.")
    assert not {t for _, t in bad} & {"CREDIT_DEBIT_NUMBER", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"}
    status, body = detect(client, "The VIN is 1HGCM82633A004352.")
    assert body["Entities"][0]["Score"] == 1.0
    status, body = detect(client, "The VIN is 1HGCM82634A004352.")
    assert all(e["Score"] < 1.0 for e in body["Entities"])


def test_context_words_raise_the_score(client: TestClient) -> None:
    plain = detect(client, "Reach 206-555-0100 tomorrow.")[1]["Entities"]
    with_context = detect(client, "Reach my phone 206-555-0100 tomorrow.")[1]["Entities"]
    assert plain[0]["Type"] == with_context[0]["Type"] == "PHONE"
    assert with_context[0]["Score"] > plain[0]["Score"]


def test_entities_never_overlap_and_are_in_text_order(client: TestClient) -> None:
    text = "John Smith, john.smith@example.com, 4111 1111 1111 1111, 206-555-0100, 42 years old."
    entities = detect(client, text)[1]["Entities"]
    assert len(entities) >= 4
    for a, b in zip(entities, entities[1:], strict=False):
        assert a["EndOffset"] <= b["BeginOffset"]


def test_offsets_are_code_points(client: TestClient) -> None:
    text = "👍🏽 東京 — write to zoë@example.com"
    assert ("zoë@example.com", "EMAIL") in found(client, text) or ("example.com", "URL") in found(client, text)
    entities = detect(client, "👍🏽👍🏽 jane.doe@example.com")[1]["Entities"]
    assert entities[0]["BeginOffset"] == 5


@pytest.mark.parametrize(
    ("language", "text", "span", "pii_type"),
    [
        ("es", "Mi DNI es 12345678Z y mi teléfono 612 345 678.", "12345678Z", "SSN"),
        ("es", "Mi contraseña: Secreto123", "Secreto123", "PASSWORD"),
        ("it", "Il mio codice fiscale è RSSMRA85T10A562S.", "RSSMRA85T10A562S", "SSN"),
        ("fr", "Mon numéro de sécurité sociale est 1 85 05 78 006 084 91.", "1 85 05 78 006 084 91", "SSN"),
        ("de", "Meine IBAN lautet DE89370400440532013000.", "DE89370400440532013000", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"),  # noqa: E501
        ("pt", "O meu email é ana.silva@exemplo.pt.", "ana.silva@exemplo.pt", "EMAIL"),
        ("ja", "電話番号は03-1234-5678です。", "03-1234-5678", "PHONE"),
        ("ko", "전화번호는 02-312-3456입니다.", "02-312-3456", "PHONE"),
        ("zh", "我的身份证号码是11010519491231002X。", "11010519491231002X", "SSN"),
        ("zh-TW", "我的電子郵件是 wang@example.com.tw", "wang@example.com.tw", "EMAIL"),
        ("ar", "بريدي الإلكتروني ahmed@example.com", "ahmed@example.com", "EMAIL"),
        ("hi", "मेरा ईमेल raj@example.in है", "raj@example.in", "EMAIL"),
        ("ja", "私は42歳です。", "42歳", "AGE"),
        ("ko", "제 웹사이트는 https://www.kim.kr/입니다.", "https://www.kim.kr/", "URL"),
        ("ar", "الرقم السري: 4821", "4821", "PIN"),  # a context phrase counts by its words
    ],
)
def test_every_language_detects_pii(client: TestClient, language: str, text: str, span: str, pii_type: str):
    assert (span, pii_type) in found(client, text, language)


def test_contains_gives_one_label_per_type_with_its_best_score(client: TestClient) -> None:
    text = "Mail jane@example.com or john@example.org, call 206-555-0100."
    status, body = call(client, "ContainsPiiEntities", {"Text": text, "LanguageCode": "en"})
    assert status == 200, body
    assert set(body) == {"Labels"}
    names = [label["Name"] for label in body["Labels"]]
    assert sorted(names) == ["EMAIL", "PHONE"]
    entities = detect(client, text)[1]["Entities"]
    for label in body["Labels"]:
        assert label["Score"] == max(e["Score"] for e in entities if e["Type"] == label["Name"])


def test_text_without_pii_gives_nothing(client: TestClient) -> None:
    assert detect(client, "The weather is nice.") == (200, {"Entities": []})
    assert call(client, "ContainsPiiEntities", {"Text": "The weather is nice.", "LanguageCode": "en"}) == (
        200,
        {"Labels": []},
    )


@pytest.mark.parametrize("operation", ["DetectPiiEntities", "ContainsPiiEntities"])
def test_limits_and_errors_are_comprehends(client: TestClient, operation: str, monkeypatch: pytest.MonkeyPatch):
    status, body = call(client, operation, {"Text": "€" * 33_334, "LanguageCode": "en"})
    assert (status, body["__type"]) == (400, "TextSizeLimitExceededException")
    assert body["Message"].endswith("allowed is 100000 bytes while in this request the text size is 100002 bytes")
    status, body = call(client, operation, {"Text": "x", "LanguageCode": "xx"})
    assert (status, body["__type"]) == (400, "ValidationException")
    status, body = call(client, operation, {"LanguageCode": "en"})
    assert (status, body["__type"]) == (400, "ValidationException")
    monkeypatch.setattr(detect_service, "supported_languages", lambda: {"en"})
    status, body = call(client, operation, {"Text": "x", "LanguageCode": "de"})
    assert (status, body["__type"]) == (400, "UnsupportedLanguageException")
    assert "'de'" in body["Message"]


def test_every_reported_type_is_in_the_model_enum() -> None:
    enum = pii_enum()
    assert set(pii.PRESIDIO_TYPES.values()) <= enum
    assert set(pii.NER_TYPES.values()) <= enum
    assert set(pii.PII_CONTEXT) <= enum


def test_nothing_reaches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the engines and detecting (e-mail domains included) opens no connection."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("PII detection tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    pii_recognizers._tld_extractor.cache_clear()
    engine = pii.PiiEngine("en", worker.engine_for(entities_engine("en")))
    [entities] = engine.recognise(["Mail jane@example.co.uk now."])
    assert [e["Type"] for e in entities] == ["EMAIL"]


def test_the_worker_serves_pii_under_its_own_engine_key() -> None:
    [entities] = worker.recognise_texts(pii_engine_key("en"), ["jane@example.com"])
    assert entities == [{"Score": 1.0, "Type": "EMAIL", "BeginOffset": 0, "EndOffset": 16}]


def test_workers_preload_the_pii_detection_of_their_languages() -> None:
    from opencomprehend.config import Settings
    from opencomprehend.server import preload_keys

    settings = Settings(preload_languages=["en", "de"])
    english, german = entities_engine("en"), entities_engine("de")
    assert preload_keys(settings) == [english, german, pii_engine_key("en"), pii_engine_key("de"), LANGUAGE_ENGINE]
    assert preload_keys(settings.model_copy(update={"preload_pii": False})) == [english, german, LANGUAGE_ENGINE]
    worker.warm([pii_engine_key("de")])
    assert isinstance(worker._engines[pii_engine_key("de")], pii.PiiEngine)


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (pii.luhn_valid, "4111111111111111", "4111111111111112"),
        (pii.vin_valid, "1HGCM82633A004352", "1HGCM82634A004352"),
        (pii.fr_nir_valid, "185057800608491", "185057800608492"),
        (pii.cn_resident_id_valid, "11010519491231002X", "110105194912310021"),
        (pii.jp_my_number_valid, "123456789018", "123456789012"),
        (pii.pt_nif_valid, "123456789", "123456788"),
    ],
)
def test_checksums(check, good: str, bad: str) -> None:
    assert check(good) and not check(bad)
