"""DetectEntities and BatchDetectEntities in-process: the real model (run inline), limits, errors, throttling."""

from __future__ import annotations

import base64
import subprocess
import sys
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from support.wire import call

from opencomprehend import server
from opencomprehend.config import Settings
from opencomprehend.runtime import worker
from opencomprehend.runtime.pool import InlineRunner
from opencomprehend.runtime.runner import WorkerLost, entities_engine
from opencomprehend.server import create_app
from opencomprehend.service import detect as detect_service
from opencomprehend.service.throttle import TokenBucket

ENDPOINT = "arn:aws:comprehend:us-east-1:111122223333:entity-recognizer-endpoint/my-endpoint"
ITEM_ERROR = {"ErrorCode": "InternalServerException", "ErrorMessage": "Unexpected Server Error. Please try again."}
ENTITY_KEYS = {"BeginOffset", "EndOffset", "Score", "Text", "Type"}


def size_message(limit: int, size: int) -> str:
    return (
        f"Input text size exceeds limit. Max length of request text allowed is {limit} bytes "
        f"while in this request the text size is {size} bytes"
    )


def detect(client: TestClient, text: str, language: str = "en") -> tuple[int, dict]:
    return call(client, "DetectEntities", {"Text": text, "LanguageCode": language})


def check_offsets(text: str, entities: list[dict]) -> None:
    for entity in entities:
        assert set(entity) == ENTITY_KEYS
        assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
        assert 0.0 <= entity["Score"] <= 1.0


def unsupported_language(monkeypatch: pytest.MonkeyPatch) -> str:
    """A language of Comprehend's enum without a model here; every one may have a model installed, so
    the registry the service consults is narrowed to English for the test."""
    monkeypatch.setattr(detect_service, "supported_languages", lambda: {"en"})
    return "de"


# --------------------------------------------------------------------------------------- DetectEntities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "👍🏽👍🏽 Barack Obama visited Berlin with 🇺🇸 flags in June 2013.",
            {("Barack Obama", "PERSON"), ("Berlin", "LOCATION")},
        ),
        (
            "東京 and 北京: Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
            {("Angela Merkel", "PERSON"), ("Paris", "LOCATION")},
        ),
    ],
    ids=["emoji", "cjk"],
)
def test_offsets_are_code_points_into_the_text(client: TestClient, text: str, expected: set) -> None:
    status, body = detect(client, text)
    assert status == 200, body
    assert set(body) == {"Entities"}
    check_offsets(text, body["Entities"])
    assert expected <= {(e["Text"], e["Type"]) for e in body["Entities"]}
    # Code points, not UTF-16 units or bytes: the emoji and CJK before the names shift them by exactly that.
    first = next(e for e in body["Entities"] if (e["Text"], e["Type"]) in expected)
    assert first["BeginOffset"] == text.index(first["Text"])


def test_entities_are_exactly_what_the_engine_gives(client: TestClient) -> None:
    text = "Hello Zhang Wei, Apple paid $3 billion for Beats Electronics in Cupertino."
    status, body = detect(client, text)
    assert status == 200
    assert body["Entities"] == worker.engine_for(entities_engine("en")).recognise([text])[0]
    assert {"Text": "Zhang Wei", "BeginOffset": 6, "EndOffset": 15} == {
        key: value for key, value in body["Entities"][0].items() if key in ("Text", "BeginOffset", "EndOffset")
    }


def test_a_text_without_entities_gives_an_empty_list(client: TestClient) -> None:
    assert detect(client, "nothing to see here") == (200, {"Entities": []})


@pytest.mark.slow
def test_text_of_exactly_100000_bytes_is_accepted_and_one_more_is_not(client: TestClient) -> None:
    # Multibyte characters count by their UTF-8 bytes: this text is far fewer characters than bytes.
    sentence = "Zoë met José Álvarez in Zürich — 東京 🙂. "
    text = sentence * (100_000 // len(sentence.encode()))
    text += "x" * (100_000 - len(text.encode()))
    assert len(text.encode()) == 100_000 and len(text) < 90_000
    status, body = detect(client, text)
    assert status == 200, body
    check_offsets(text, body["Entities"])
    assert body["Entities"][-1]["EndOffset"] > len(text) - 100  # the end of the text was read too

    status, body = detect(client, text + "x")
    assert (status, body) == (
        400,
        {"__type": "TextSizeLimitExceededException", "Message": size_message(100_000, 100_001)},
    )


def test_characters_under_the_limit_but_bytes_over_it_are_too_large(client: TestClient) -> None:
    text = "€" * 33_334  # 33,334 characters, 100,002 bytes
    assert detect(client, text) == (
        400,
        {"__type": "TextSizeLimitExceededException", "Message": size_message(100_000, 100_002)},
    )


def test_the_limit_is_a_setting(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, max_detect_bytes=10), run_workers=False)
    with TestClient(app) as client:
        assert detect(client, "0123456789")[0] == 200
        assert detect(client, "é" * 6)[1]["Message"] == size_message(10, 12)


def bad_detect_requests() -> list[tuple[str, dict, int, str, str]]:
    pdf = base64.b64encode(b"%PDF-1.7").decode()
    return [
        ("text and bytes", {"Text": "Paris", "Bytes": pdf, "LanguageCode": "en"}, 400, "InvalidRequestException",
         "Specify either Text or Bytes, not both."),
        ("neither text nor bytes", {"LanguageCode": "en"}, 400, "InvalidRequestException",
         "Specify either Text or Bytes."),
        ("bytes", {"Bytes": pdf, "LanguageCode": "en"}, 400, "InvalidRequestException",
         "Semi-structured documents (Bytes: PDF, Word or image files) are not supported by this server; send the "
         "document's text in Text. Bytes is accepted only together with an EndpointArn."),
        ("bytes to an endpoint", {"Bytes": pdf, "EndpointArn": ENDPOINT}, 400, "InvalidRequestException",
         "Semi-structured documents (Bytes: PDF, Word or image files) are not supported by this server; send the "
         "document's text in Text."),
        ("endpoint", {"Text": "Paris", "EndpointArn": ENDPOINT}, 404, "ResourceNotFoundException",
         f"RESOURCE_NOT_FOUND: Could not find specified resource. ({ENDPOINT})"),
        ("no language and no endpoint", {"Text": "Paris"}, 400, "InvalidRequestException",
         "LanguageCode is required when no EndpointArn is given."),
        ("empty text", {"Text": "", "LanguageCode": "en"}, 400, "ValidationException",
         "1 validation error detected: Value at 'text' failed to satisfy constraint: "
         "Member must have length greater than or equal to 1"),
        ("language outside the enum", {"Text": "Paris", "LanguageCode": "xx"}, 400, "ValidationException",
         "1 validation error detected: Value 'xx' at 'languageCode' failed to satisfy constraint: "
         "Member must satisfy enum value set: [en, es, fr, de, it, pt, ar, hi, ja, ko, zh, zh-TW]"),
        ("bytes not base64", {"Bytes": "%%%", "EndpointArn": ENDPOINT}, 400, "SerializationException",
         "Value at 'bytes' is not valid base64."),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [case[1:] for case in bad_detect_requests()],
    ids=[case[0] for case in bad_detect_requests()],
)
def test_bad_detect_request_gets_the_exact_error(
    client: TestClient, body: dict, status: int, code: str, message: str
) -> None:
    assert call(client, "DetectEntities", body) == (status, {"__type": code, "Message": message})


def test_a_language_without_a_model_is_unsupported(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    language = unsupported_language(monkeypatch)
    installed = "en"
    message = (
        f"The language '{language}' is not supported: no entity model for it is installed on this server "
        f"(installed: {installed})."
    )
    assert detect(client, "Paris", language) == (400, {"__type": "UnsupportedLanguageException", "Message": message})
    assert call(client, "BatchDetectEntities", {"TextList": ["Paris"], "LanguageCode": language}) == (
        400,
        {"__type": "UnsupportedLanguageException", "Message": message},
    )


def test_a_lone_surrogate_is_an_invalid_request(client: TestClient) -> None:
    response = client.post(
        "/",
        content=b'{"Text": "Paris \\ud800", "LanguageCode": "en"}',
        headers={"X-Amz-Target": "Comprehend_20171127.DetectEntities"},
    )
    assert (response.status_code, response.json()["__type"]) == (400, "InvalidRequestException")


# ---------------------------------------------------------------------------------- BatchDetectEntities


def test_batch_results_are_in_index_order_and_match_single_detection(client: TestClient) -> None:
    texts = [
        "Angela Merkel met Emmanuel Macron in Paris.",
        "nothing to see here",
        "👍🏽 東京 welcomed Shinzo Abe, said Reuters.",
    ]
    status, body = call(client, "BatchDetectEntities", {"TextList": texts, "LanguageCode": "en"})
    assert status == 200, body
    assert set(body) == {"ResultList", "ErrorList"}
    assert body["ErrorList"] == []
    assert [item["Index"] for item in body["ResultList"]] == [0, 1, 2]
    assert body["ResultList"][1]["Entities"] == []
    for item in body["ResultList"]:
        check_offsets(texts[item["Index"]], item["Entities"])
        assert item["Entities"] == detect(client, texts[item["Index"]])[1]["Entities"]


def test_batch_of_25_is_accepted_and_26_is_not(client: TestClient) -> None:
    status, body = call(
        client, "BatchDetectEntities", {"TextList": [f"Paris {i}" for i in range(25)], "LanguageCode": "en"}
    )
    assert status == 200
    assert [item["Index"] for item in body["ResultList"]] == list(range(25))
    assert call(client, "BatchDetectEntities", {"TextList": ["Paris"] * 26, "LanguageCode": "en"}) == (
        400,
        {
            "__type": "BatchSizeLimitExceededException",
            "Message": "Please use a smaller number of items in a single batch. Maximum batch size is 25.",
        },
    )


def test_batch_item_of_5000_bytes_is_accepted_and_one_oversized_item_fails_the_request(client: TestClient) -> None:
    exact = "€" * 1666 + "xx"  # 5,000 bytes in 1,668 characters
    over = "€" * 1667  # 5,001 bytes
    assert len(exact.encode()) == 5000 and len(over.encode()) == 5001
    status, body = call(client, "BatchDetectEntities", {"TextList": ["Paris", exact], "LanguageCode": "en"})
    assert status == 200 and [item["Index"] for item in body["ResultList"]] == [0, 1]
    # As observed for AWS: the whole request fails, not just the item in ErrorList.
    assert call(client, "BatchDetectEntities", {"TextList": ["Paris", over, "Berlin"], "LanguageCode": "en"}) == (
        400,
        {"__type": "TextSizeLimitExceededException", "Message": size_message(5000, 5001)},
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"TextList": ["Paris"]}, "Value null at 'languageCode' failed to satisfy constraint: Member must not be null"),
        ({"TextList": [], "LanguageCode": "en"}, "at 'textList' failed to satisfy constraint: Member must have length"),
        ({"TextList": ["a", ""], "LanguageCode": "en"}, "at 'textList.2.member' failed to satisfy constraint"),
    ],
    ids=["no language", "empty list", "empty item"],
)
def test_bad_batch_request_is_a_validation_error(client: TestClient, body: dict, message: str) -> None:
    status, got = call(client, "BatchDetectEntities", body)
    assert (status, got["__type"]) == (400, "ValidationException")
    assert message in got["Message"]


@pytest.fixture()
def failing_on_marked_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real engine, except that it fails on any text containing FAIL (a document it cannot handle)."""
    engine = worker.engine_for(entities_engine("en"))
    real = engine.recognise

    def recognise(texts: list[str]) -> list[list[dict]]:
        if any("FAIL" in text for text in texts):
            raise RuntimeError("the model choked")
        return real(texts)

    monkeypatch.setattr(engine, "recognise", recognise)


def test_a_document_the_model_fails_on_goes_to_the_error_list(
    client: TestClient, failing_on_marked_texts: None
) -> None:
    texts = ["Angela Merkel met Emmanuel Macron in Paris.", "FAIL here", "Barack Obama visited Berlin.", "FAIL too"]
    status, body = call(client, "BatchDetectEntities", {"TextList": texts, "LanguageCode": "en"})
    assert status == 200, body
    assert [item["Index"] for item in body["ResultList"]] == [0, 2]
    assert {"Angela Merkel", "Paris"} <= {e["Text"] for e in body["ResultList"][0]["Entities"]}
    assert body["ErrorList"] == [{"Index": 1, **ITEM_ERROR}, {"Index": 3, **ITEM_ERROR}]


def test_detect_on_a_text_the_model_fails_on_is_an_internal_error(
    client: TestClient, failing_on_marked_texts: None
) -> None:
    assert detect(client, "FAIL") == (
        500,
        {"__type": "InternalServerException", "Message": "Unexpected Server Error. Please try again."},
    )


# ------------------------------------------------------------------------------------------ the runner


class BreakingRunner(InlineRunner):
    """An InlineRunner whose first `breaks` calls fail as if the worker process had died under them."""

    def __init__(self, breaks: int) -> None:
        super().__init__()
        self.breaks = breaks
        self.calls = 0

    def recognise(self, language: str, texts: list[str], account: str = "") -> Future:
        self.calls += 1
        if self.calls <= self.breaks:
            broken: Future = Future()
            broken.set_exception(WorkerLost("a worker died"))
            return broken
        return super().recognise(language, texts, account)


def client_with_runner(tmp_path: Path, runner: Any, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    # create_app gives an app without workers an InlineRunner; this one stands in for it.
    monkeypatch.setattr(server, "InlineRunner", lambda: runner)
    return TestClient(create_app(Settings(data_dir=tmp_path), run_workers=False))


def test_a_worker_crash_is_retried_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = BreakingRunner(breaks=1)
    with client_with_runner(tmp_path, runner, monkeypatch) as client:
        status, body = detect(client, "Barack Obama visited Berlin.")
    assert status == 200 and {"Barack Obama", "Berlin"} <= {e["Text"] for e in body["Entities"]}
    assert runner.calls == 2


def test_a_second_crash_is_an_internal_error_not_a_retry_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = BreakingRunner(breaks=2)
    with client_with_runner(tmp_path, runner, monkeypatch) as client:
        status, body = call(client, "BatchDetectEntities", {"TextList": ["Paris"], "LanguageCode": "en"})
    assert (status, body["__type"]) == (500, "InternalServerException")
    assert runner.calls == 2


@pytest.mark.slow
def test_an_app_without_workers_loads_no_model_until_detect_is_called(tmp_path: Path) -> None:
    # A fresh interpreter, so that no other test has loaded a model in it already.
    script = f"""
from pathlib import Path
from starlette.testclient import TestClient
from opencomprehend.config import Settings
from opencomprehend.runtime import worker
from opencomprehend.server import create_app
with TestClient(create_app(Settings(data_dir=Path({str(tmp_path)!r})), run_workers=False)) as client:
    client.post("/", json={{}}, headers={{"X-Amz-Target": "Comprehend_20171127.ListEntitiesDetectionJobs"}})
    assert not worker._engines, "a model was loaded before Detect needed it"
    reply = client.post("/", json={{"Text": "Angela Merkel", "LanguageCode": "en"}},
                        headers={{"X-Amz-Target": "Comprehend_20171127.DetectEntities"}})
    assert reply.json()["Entities"][0]["Text"] == "Angela Merkel", reply.text
    assert [str(key) for key in worker._engines] == ["en"]
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------------------------------ throttling


def test_detect_past_the_rate_is_throttled_per_account_and_region(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, detect_tps=0.01), run_workers=False)
    with TestClient(app) as client:
        assert detect(client, "Paris")[0] == 200
        throttled = (400, {"__type": "ThrottlingException", "Message": "Rate exceeded"})
        assert detect(client, "Paris") == throttled
        assert call(client, "BatchDetectEntities", {"TextList": ["Paris"], "LanguageCode": "en"}) == throttled
        # Another region is another bucket; other operations are not limited by this rate.
        assert call(client, "DetectEntities", {"Text": "Paris", "LanguageCode": "en"}, region="eu-west-3")[0] == 200
        assert call(client, "ListEntitiesDetectionJobs", {})[0] == 200


def test_rate_zero_means_unlimited(client: TestClient) -> None:
    assert {detect(client, "Paris")[0] for _ in range(40)} == {200}


def test_token_bucket_refills_at_its_rate_up_to_one_second_of_tokens() -> None:
    now = [0.0]
    bucket = TokenBucket(4, clock=lambda: now[0])
    assert [bucket.take() for _ in range(5)] == [True] * 4 + [False]
    now[0] += 0.25
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] += 10
    assert sum(bucket.take() for _ in range(10)) == 4
    slow = TokenBucket(0.5, clock=lambda: now[0])
    assert [slow.take(), slow.take()] == [True, False]
    now[0] += 2
    assert slow.take()
