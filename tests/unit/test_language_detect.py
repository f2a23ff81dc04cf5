"""Dominant language detection in-process: the real-time operations (run inline on the real identifier) and
the job operations (jobs stay queued here; tests/unit/test_job_run.py runs one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from support.components import missing
from support.wire import call

from opencomprehend.config import Settings
from opencomprehend.nlp.language_id import LanguageIdentifier, is_traditional
from opencomprehend.server import create_app

ROLE = "arn:aws:iam::111122223333:role/ComprehendAccess"
ACCOUNT = "111122223333"

SENTENCES = {
    "en": "It is raining today in Seattle, and the ferries are running late.",
    "es": "Hoy llueve en Madrid y los trenes llegan con retraso a la estación.",
    "fr": "Il pleut aujourd'hui à Paris et les trains arrivent en retard à la gare.",
    "de": "Heute regnet es in Berlin, und die Züge kommen verspätet am Bahnhof an.",
    "it": "Oggi piove a Roma e i treni arrivano in ritardo alla stazione centrale.",
    "pt": "Hoje está chovendo em Lisboa e os comboios chegam atrasados à estação.",
    "ar": "اليوم تمطر في القاهرة والقطارات تصل متأخرة إلى المحطة.",
    "hi": "आज दिल्ली में बारिश हो रही है और ट्रेनें स्टेशन पर देर से पहुँच रही हैं।",
    "ja": "今日は東京で雨が降っていて、電車が駅に遅れて到着しています。",
    "ko": "오늘 서울에는 비가 내리고 기차가 역에 늦게 도착하고 있습니다.",
    "zh": "今天北京下雨，火车晚点到达车站，乘客们都在等待。",
    "zh-TW": "今天臺北下雨，火車誤點到達車站，乘客們都在等待。",
}


def detect(client: TestClient, text: str) -> tuple[int, dict]:
    return call(client, "DetectDominantLanguage", {"Text": text})


def test_each_entity_language_is_detected_with_comprehends_code(client: TestClient) -> None:
    for code, text in SENTENCES.items():
        status, body = detect(client, text)
        assert status == 200, body
        best = body["Languages"][0]
        assert best["LanguageCode"] == code, (code, body)
        assert 0.5 < best["Score"] <= 1.0
        assert set(best) == {"LanguageCode", "Score"}


def test_traditional_and_simplified_chinese_and_japanese_are_told_apart(client: TestClient) -> None:
    answers = {}
    for text in (
        "这是我们公司的新产品，价格很便宜。",
        "這是我們公司的新產品，價格很便宜。",
        "これは私たちの会社の新製品で、価格はとても安いです。",
    ):
        answers[text] = detect(client, text)[1]["Languages"][0]["LanguageCode"]
    assert list(answers.values()) == ["zh", "zh-TW", "ja"]
    assert is_traditional("臺灣的電腦") and not is_traditional("台湾的电脑")


def test_mixed_text_gives_several_languages_best_first(client: TestClient) -> None:
    text = (
        "The committee met on Monday to discuss the new budget for the regional railway network. "
        "Der Ausschuss hat am Montag über den neuen Haushalt für das regionale Eisenbahnnetz beraten, "
        "und die Entscheidung fällt nächste Woche."
    )
    status, body = detect(client, text)
    assert status == 200
    languages = body["Languages"]
    assert [lang["LanguageCode"] for lang in languages[:2]] == ["de", "en"]
    scores = [lang["Score"] for lang in languages]
    assert scores == sorted(scores, reverse=True)
    assert 0.3 < languages[1]["Score"] < languages[0]["Score"] < 0.7
    assert sum(scores) <= 1.0 + 1e-9


def test_a_text_without_letters_has_no_language(client: TestClient) -> None:
    assert detect(client, "12:30 — 45 % !!! 👍") == (200, {"Languages": []})


def test_text_over_100000_bytes_is_too_large(client: TestClient) -> None:
    status, body = detect(client, "€" * 33_334)  # 100,002 bytes
    assert (status, body["__type"]) == (400, "TextSizeLimitExceededException")
    assert body["Message"] == (
        "Input text size exceeds limit. Max length of request text allowed is 100000 bytes while in this "
        "request the text size is 100002 bytes"
    )
    assert detect(client, "a" * 100_000)[0] == 200


def test_missing_or_empty_text_is_a_validation_error(client: TestClient) -> None:
    for body in ({}, {"Text": ""}):
        status, answer = call(client, "DetectDominantLanguage", body)
        assert (status, answer["__type"]) == (400, "ValidationException"), answer


def test_batch_answers_every_index_in_order(client: TestClient) -> None:
    texts = [SENTENCES["fr"], "%%%", SENTENCES["ko"]]
    status, body = call(client, "BatchDetectDominantLanguage", {"TextList": texts})
    assert status == 200
    assert body["ErrorList"] == []
    assert [r["Index"] for r in body["ResultList"]] == [0, 1, 2]
    assert [(r["Languages"] or [{"LanguageCode": None}])[0]["LanguageCode"] for r in body["ResultList"]] == [
        "fr",
        None,
        "ko",
    ]


def test_batch_limits(client: TestClient) -> None:
    status, body = call(client, "BatchDetectDominantLanguage", {"TextList": ["hello there"] * 26})
    assert (status, body["__type"]) == (400, "BatchSizeLimitExceededException")
    assert body["Message"] == "Please use a smaller number of items in a single batch. Maximum batch size is 25."
    assert call(client, "BatchDetectDominantLanguage", {"TextList": ["hello there"] * 25})[0] == 200
    status, body = call(client, "BatchDetectDominantLanguage", {"TextList": ["ok", "é" * 2501]})
    assert (status, body["__type"]) == (400, "TextSizeLimitExceededException")
    assert body["Message"].endswith("allowed is 5000 bytes while in this request the text size is 5002 bytes")
    status, body = call(client, "BatchDetectDominantLanguage", {"TextList": []})
    assert (status, body["__type"]) == (400, "ValidationException")


def test_language_detection_counts_against_the_detect_rate(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path, detect_tps=0.01), run_workers=False)) as client:
        assert detect(client, "Good morning, everyone.")[0] == 200
        throttled = (400, {"__type": "ThrottlingException", "Message": "Rate exceeded"})
        assert detect(client, "Good morning, everyone.") == throttled
        assert call(client, "BatchDetectDominantLanguage", {"TextList": ["Good morning."]}) == throttled
        assert call(client, "DetectEntities", {"Text": "Paris", "LanguageCode": "en"}) == throttled
        assert call(client, "ListDominantLanguageDetectionJobs", {})[0] == 200


def test_identifier_scores_are_probabilities_best_first() -> None:
    identifier = LanguageIdentifier()
    for text in ("Ciao", "Bom dia a todos, como estão?", "안녕하세요 hello", "Привет, как дела?"):
        languages = identifier.identify(text)
        assert languages, text
        scores = [lang["Score"] for lang in languages]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores) and sum(scores) <= 1.0 + 1e-6
    assert identifier.identify("Привет, как дела?")[0]["LanguageCode"] == "ru"


# A backtracking pattern takes hours on these inputs, linear time well under a second each: the test's own
# time limit (pytest-timeout) is the check, not an assertion on how fast this machine is.
@pytest.mark.timeout(120)
def test_addresses_are_left_out_and_hostile_text_takes_linear_time() -> None:
    identifier = LanguageIdentifier()
    text = "Schreiben Sie an max.mustermann@example.com oder besuchen Sie https://example.com/kontakt bitte."
    assert identifier.identify(text)[0]["LanguageCode"] == "de"
    # A job's document may be 1 MB: one run of letters, or of would-be addresses, is identified at once
    # (a backtracking address pattern once took hours on the first).
    for hostile in ("a" * 1_000_000, "a@" * 500_000, "x." * 500_000, "http://" * 140_000):
        assert identifier.identify(hostile) is not None, hostile[:10]


# ------------------------------------------------------------------------------------------------ jobs


def start(client: TestClient, **members: Any) -> tuple[int, dict]:
    body = {
        "InputDataConfig": {"S3Uri": "s3://docs/in/"},
        "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
        "DataAccessRoleArn": ROLE,
        **members,
    }
    return call(client, "StartDominantLanguageDetectionJob", body)


def describe(client: TestClient, job_id: str) -> tuple[int, dict]:
    return call(client, "DescribeDominantLanguageDetectionJob", {"JobId": job_id})


def test_start_and_describe_echo_the_request_with_comprehends_output_location(client: TestClient) -> None:
    vpc = {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}
    status, started = start(
        client,
        JobName="lang-1",
        VpcConfig=vpc,
        InputDataConfig={"S3Uri": "s3://docs/in/", "InputFormat": "ONE_DOC_PER_FILE"},
    )
    assert status == 200, started
    job_id = started["JobId"]
    assert len(job_id) == 32
    assert started == {
        "JobId": job_id,
        "JobArn": f"arn:aws:comprehend:us-east-1:{ACCOUNT}:dominant-language-detection-job/{job_id}",
        "JobStatus": "SUBMITTED",
    }
    status, body = describe(client, job_id)
    assert status == 200
    props = body["DominantLanguageDetectionJobProperties"]
    assert isinstance(props.pop("SubmitTime"), float)
    assert props == {
        "JobId": job_id,
        "JobArn": started["JobArn"],
        "JobName": "lang-1",
        "JobStatus": "SUBMITTED",
        "InputDataConfig": {"S3Uri": "s3://docs/in/", "InputFormat": "ONE_DOC_PER_FILE"},
        "OutputDataConfig": {"S3Uri": f"s3://docs/out/{ACCOUNT}-LANGUAGE-{job_id}/output/output.tar.gz"},
        "DataAccessRoleArn": ROLE,
        "VpcConfig": vpc,
    }


def test_a_language_job_is_not_another_kinds_job(client: TestClient) -> None:
    _, started = start(client)
    status, body = call(client, "DescribeEntitiesDetectionJob", {"JobId": started["JobId"]})
    assert body["__type"] == "JobNotFoundException"
    status, body = describe(client, "0" * 32)
    assert body["__type"] == "JobNotFoundException"
    _, listed = call(client, "ListEntitiesDetectionJobs", {})
    assert listed["EntitiesDetectionJobPropertiesList"] == []


def test_the_same_token_returns_the_same_job_and_other_parameters_are_refused(client: TestClient) -> None:
    first = start(client, ClientRequestToken="tok-1")[1]
    again = start(client, ClientRequestToken="tok-1")[1]
    assert again["JobId"] == first["JobId"]
    status, body = start(client, ClientRequestToken="tok-1", JobName="other")
    assert (status, body["__type"]) == (400, "InvalidRequestException")
    # One token, one request: the same token on another kind's Start is refused.
    entities = {
        "InputDataConfig": {"S3Uri": "s3://docs/in/"},
        "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
        "DataAccessRoleArn": ROLE,
        "LanguageCode": "en",
        "ClientRequestToken": "tok-1",
    }
    assert call(client, "StartEntitiesDetectionJob", entities)[0] == 400


def test_list_filters_and_pages(client: TestClient) -> None:
    ids = [start(client, JobName=f"job-{i % 2}")[1]["JobId"] for i in range(5)]
    _, body = call(client, "ListDominantLanguageDetectionJobs", {"Filter": {"JobName": "job-0"}})
    assert {p["JobId"] for p in body["DominantLanguageDetectionJobPropertiesList"]} == {ids[0], ids[2], ids[4]}
    seen: list[str] = []
    request: dict[str, Any] = {"MaxResults": 2}
    while True:
        status, page = call(client, "ListDominantLanguageDetectionJobs", request)
        assert status == 200
        assert len(page["DominantLanguageDetectionJobPropertiesList"]) <= 2
        seen += [p["JobId"] for p in page["DominantLanguageDetectionJobPropertiesList"]]
        if "NextToken" not in page:
            break
        request = {"MaxResults": 2, "NextToken": page["NextToken"]}
    assert seen == list(reversed(ids))  # newest first
    _, body = call(client, "ListDominantLanguageDetectionJobs", {"Filter": {"JobStatus": "COMPLETED"}})
    assert body["DominantLanguageDetectionJobPropertiesList"] == []


def test_stop_and_its_states(client: TestClient) -> None:
    job_id = start(client)[1]["JobId"]
    stop = {"JobId": job_id}
    assert call(client, "StopDominantLanguageDetectionJob", stop) == (
        200,
        {"JobId": job_id, "JobStatus": "STOP_REQUESTED"},
    )
    assert describe(client, job_id)[1]["DominantLanguageDetectionJobProperties"]["JobStatus"] == "STOP_REQUESTED"
    status, body = call(client, "StopDominantLanguageDetectionJob", {"JobId": "f" * 32})
    assert body["__type"] == "JobNotFoundException"


def test_tags_are_kept_and_listed(client: TestClient) -> None:
    started = start(client, Tags=[{"Key": "team", "Value": "search"}])[1]
    status, body = call(client, "ListTagsForResource", {"ResourceArn": started["JobArn"]})
    assert status == 200
    assert body["Tags"] == [{"Key": "team", "Value": "search"}]
    assert (
        call(client, "TagResource", {"ResourceArn": started["JobArn"], "Tags": [{"Key": "k", "Value": "v"}]})[0] == 200
    )
    status, body = start(client, Tags=[{"Key": "aws:x", "Value": "v"}])
    assert (status, body["__type"]) == (400, "InvalidRequestException")


def test_an_unknown_kms_key_is_refused_at_start(client: TestClient) -> None:
    status, body = start(client, OutputDataConfig={"S3Uri": "s3://docs/out/", "KmsKeyId": "alias/nope"})
    assert (status, body["__type"]) == (400, "KmsKeyValidationException")
    status, body = start(client, VolumeKmsKeyId="1234abcd-12ab-34cd-56ef-1234567890ab")
    assert (status, body["__type"]) == (400, "KmsKeyValidationException")


# ------------------------------------------------------------------------------------------------ shared data

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
# Running text (no WikiANN fragments) of every entity language, as bench/language_id.py reads it.
RUNNING_TEXT = {
    "en": ["ner/ontonotes5/test", "ner-train/uner-en-ewt/dev"],
    "es": ["ner/conll2002-es/dev"],
    "fr": ["ner-train/multiconer-v2-fr/dev"],
    "de": ["ner-train/germeval2014-de/dev"],
    "it": ["ner/kind-wikinews-it/dev"],
    "pt": ["ner/uner-pt-bosque/test"],
    "ar": ["ner-train/newsfane-ar/train"],
    "hi": ["ner-train/hiner-hi/train"],
    "ja": ["ner/ja-gsd-ne/test"],
    "ko": ["ner-train/klue-ner-ko/train"],
    "zh": ["ner/uner-zh-gsdsimp/test"],
    "zh-TW": ["ner/uner-zh-hant-gsd/test"],
}


def _labelled(min_chars: int, per_file: int = 300) -> list[tuple[str, str]]:
    if not DATA.is_dir():
        missing(f"the labelled sets are not in {DATA.resolve()} (../shared/data beside the repository)")
    rows = []
    for language, names in RUNNING_TEXT.items():
        for name in names:
            with (DATA / f"{name}.jsonl").open(encoding="utf-8") as lines:
                texts = [t for t in (json.loads(line)["text"].strip() for line in lines) if len(t) >= min_chars]
            rows += [(language, text) for text in texts[:per_file]]
    return rows


def test_running_text_over_100_characters_is_identified_at_least_99_percent() -> None:
    identifier = LanguageIdentifier()
    rows = _labelled(101)
    wrong = [(lang, text) for lang, text in rows if (identifier.identify(text) or [{}])[0].get("LanguageCode") != lang]
    assert len(rows) > 1500
    assert len(wrong) <= 0.01 * len(rows), wrong[:10]


def test_simplified_traditional_and_japanese_sentences_are_told_apart() -> None:
    identifier = LanguageIdentifier()
    rows = [(lang, text) for lang, text in _labelled(20) if lang in ("zh", "zh-TW", "ja")]
    answers = [(lang, identifier.identify(text)[0]["LanguageCode"]) for lang, text in rows]
    for language in ("zh", "zh-TW", "ja"):
        mine = [got for lang, got in answers if lang == language]
        assert len(mine) >= 250
        assert sum(got == language for got in mine) >= 0.97 * len(mine), (language, mine)
    assert sum((lang, got) in {("zh", "zh-TW"), ("zh-TW", "zh")} for lang, got in answers) <= 0.01 * len(answers)
