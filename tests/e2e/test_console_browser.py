"""The console as a person uses it: a real headless Chromium against a running `opencomprehend serve`.

Each test takes screenshots (checked not blank; with OPENCOMPREHEND_SCREENSHOTS=docs/img they become the
pictures of docs/console.md).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import training_sets
from support.browser import chromium, screenshot
from support.server import BIN, ROLE, Server, running_server

pytestmark = pytest.mark.e2e

XSS = "<img src=x onerror=alert(1)>"
NEWS = [
    "Angela Merkel met Emmanuel Macron in Berlin on Tuesday to discuss the European Union budget.",
    "Amazon opened a new office in Seattle, and Andy Jassy said it would hire 2,000 engineers.",
    f"{XSS} Satya Nadella spoke at Microsoft headquarters in Redmond, Washington.",
    "The Louvre in Paris welcomed 8.7 million visitors in 2023, according to its director Laurence des Cars.",
    "Toyota Motor Corporation reported record profits for the quarter ending March 31.",
]
TYPES = [{"Type": "PERSON_NAME"}, {"Type": "ORG_NAME"}]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, aws_available: None) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("console"),
        OPENCOMPREHEND_WORKERS="1",
        OPENCOMPREHEND_TRAINING_MAX_EPOCHS="8",
        OPENCOMPREHEND_MIN_ENTITY_LIST_MATCHES="25",
        OPENCOMPREHEND_TRAINING_MAX_SECONDS="40",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def recognizer(server: Server) -> str:
    """A custom recognizer trained from an entity list, started first so that it trains while the other tests
    run; its ARN."""
    sentences = training_sets.sentences(300)
    server.put("train", "console/docs/sentences.txt", training_sets.documents_file(sentences))
    server.put("train", "console/entities.csv", training_sets.entity_list_csv(sentences))
    return server.client().create_entity_recognizer(
        RecognizerName="people-and-companies",
        VersionName="v1",
        LanguageCode="en",
        DataAccessRoleArn=ROLE,
        InputDataConfig={
            "EntityTypes": TYPES,
            "Documents": {"S3Uri": "s3://train/console/docs/"},
            "EntityList": {"S3Uri": "s3://train/console/entities.csv"},
        },
    )["EntityRecognizerArn"]


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile") as driver:
        yield driver


def _shots(tmp_path: Path) -> Path:
    return tmp_path / "screenshots"


def _wait_for(condition: Any, timeout: float = 60, what: str = "the page") -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not show in {timeout:.0f}s")


def _navigate(browser: Any, element: Any) -> None:
    """Click what leads to another page, and wait until that page has replaced this one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(browser, 60).until(expected_conditions.staleness_of(page))


def _news_job(server: Server, name: str) -> str:
    server.put("docs", f"{name}/news.txt", "\n".join(NEWS) + "\n")
    job_id = server.client().start_entities_detection_job(
        JobName=name,
        InputDataConfig={"S3Uri": f"s3://docs/{name}/", "InputFormat": "ONE_DOC_PER_LINE"},
        OutputDataConfig={"S3Uri": f"s3://docs/out/{name}/"},
        DataAccessRoleArn=ROLE,
        LanguageCode="en",
        Tags=[{"Key": "team", "Value": XSS}],
    )["JobId"]
    assert server.wait(job_id)["JobStatus"] == "COMPLETED"
    return job_id


def _no_injected_image(browser: Any) -> None:
    from selenium.webdriver.common.by import By

    assert browser.find_elements(By.CSS_SELECTOR, "img[src='x']") == []


def test_the_job_list_and_a_job_page_show_entities_highlighted_and_text_as_text(
    server: Server, recognizer: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    job_id = _news_job(server, "world-news")
    browser.get(f"{server.endpoint}/console")
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-job-id='{job_id}']")
    assert "world-news" in row.text and "COMPLETED" in row.text and "5 of 5" in row.text
    screenshot(browser, "jobs", _shots(tmp_path))

    _navigate(browser, row.find_element(By.LINK_TEXT, "world-news"))
    assert browser.current_url.endswith(f"/console/jobs/{job_id}")
    marks = browser.find_elements(By.CSS_SELECTOR, "mark.ent")
    by_text = {mark.get_attribute("data-type"): mark for mark in marks}
    assert {"PERSON", "LOCATION", "ORGANIZATION"} <= set(by_text), [m.text for m in marks]
    people = [m.text.split("\n")[0] for m in marks if m.get_attribute("data-type") == "PERSON"]
    assert any("Merkel" in person for person in people), people
    # The score is on hover: the mark's title.
    assert by_text["PERSON"].get_attribute("title").startswith("PERSON 0.")
    # A document's markup and a tag's value are shown as text, never run.
    page = browser.find_element(By.TAG_NAME, "main").text
    assert XSS in page and f"team = {XSS}" in browser.find_element(By.ID, "tags").text
    _no_injected_image(browser)
    screenshot(browser, "job", _shots(tmp_path))

    # Only LOCATION entities with a score of at least 0.5.
    browser.find_element(By.CSS_SELECTOR, "input[name='type'][value='LOCATION']").click()
    browser.find_element(By.CSS_SELECTOR, "input[name='min_score']").send_keys("0.5")
    _navigate(browser, browser.find_element(By.XPATH, "//form[contains(@class,'filters')]//button"))
    kinds = {m.get_attribute("data-type") for m in browser.find_elements(By.CSS_SELECTOR, "mark.ent")}
    assert kinds == {"LOCATION"}, (browser.current_url, browser.find_element(By.ID, "output").text)
    titles = [m.get_attribute("title") for m in browser.find_elements(By.CSS_SELECTOR, "mark.ent")]
    assert all(float(title.split()[1]) >= 0.5 for title in titles)

    # The downloads: the archive as written, and one JSON line per entity.
    with urllib.request.urlopen(f"{server.endpoint}/console/jobs/{job_id}/entities.jsonl") as answer:
        lines = [json.loads(line) for line in answer.read().decode().splitlines()]
    assert {line["Type"] for line in lines} >= {"PERSON", "LOCATION"}
    assert all(NEWS[line["Line"]][line["BeginOffset"] : line["EndOffset"]] == line["Text"] for line in lines)
    with urllib.request.urlopen(f"{server.endpoint}/console/jobs/{job_id}/output.tar.gz") as answer:
        archive = answer.read()
    stored = next((server.bucket_root / "docs" / "out" / "world-news").rglob("output.tar.gz")).read_bytes()
    assert archive == stored


def test_real_time_analysis_highlights_entities_and_shows_the_api_answer(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.endpoint}/console/analyze")
    text = "Jeff Bezos founded Amazon in Seattle. Write to jeff@example.com or call 206-555-0100."
    browser.find_element(By.NAME, "text").send_keys(text)
    _navigate(browser, browser.find_element(By.ID, "analyze"))
    entities = browser.find_element(By.ID, "result-entities")
    kinds = {m.get_attribute("data-type") for m in entities.find_elements(By.CSS_SELECTOR, "mark.ent")}
    assert {"PERSON", "ORGANIZATION", "LOCATION"} <= kinds
    pii = browser.find_element(By.ID, "result-pii")
    pii_kinds = {m.get_attribute("data-type") for m in pii.find_elements(By.CSS_SELECTOR, "mark.ent")}
    assert {"NAME", "EMAIL", "PHONE"} <= pii_kinds
    screenshot(browser, "analyze", _shots(tmp_path))
    # The table and the JSON the API returned, one tab each.
    entities.find_element(By.CSS_SELECTOR, "[data-tab='table']").click()
    table = entities.find_element(By.CSS_SELECTOR, "[data-panel='table']")
    assert table.is_displayed() and "Jeff Bezos" in table.text
    assert not entities.find_element(By.CSS_SELECTOR, "[data-panel='text']").is_displayed()
    entities.find_element(By.CSS_SELECTOR, "[data-tab='json']").click()
    answer = json.loads(entities.find_element(By.CSS_SELECTOR, "[data-panel='json'] pre").text)
    assert {e["Type"] for e in answer["Entities"]} >= {"PERSON", "ORGANIZATION"}
    screenshot(browser, "analyze-json", _shots(tmp_path))


def test_a_job_created_with_the_form_runs_and_its_page_follows_it_to_the_end(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server.put("docs", "form/in/a.txt", "\n".join(NEWS * 400) + "\n")
    browser.get(f"{server.endpoint}/console")
    _navigate(browser, browser.find_element(By.ID, "create-job"))
    form = browser.find_element(By.ID, "job-form")
    # The API's own validation first: a bucket name that is not one.
    form.find_element(By.NAME, "name").send_keys("from-the-form")
    form.find_element(By.NAME, "input_uri").send_keys("s3://x/in/")
    form.find_element(By.NAME, "output_uri").send_keys("s3://docs/form/out/")
    form.find_element(By.NAME, "role").send_keys(ROLE)
    _navigate(browser, form.find_element(By.ID, "start-job"))
    error = browser.find_element(By.ID, "form-error").text
    assert error.startswith("ValidationException") and "inputDataConfig.s3Uri" in error
    # Fixed, and started.
    field = browser.find_element(By.NAME, "input_uri")
    field.clear()
    field.send_keys("s3://docs/form/in/")
    Select(browser.find_element(By.NAME, "language")).select_by_visible_text("en")
    screenshot(browser, "create-job", _shots(tmp_path))
    _navigate(browser, browser.find_element(By.ID, "start-job"))
    assert "/console/jobs/" in browser.current_url
    job_id = browser.current_url.rsplit("/", 1)[1]
    assert browser.find_element(By.ID, "job-name").text == "from-the-form"
    # Two thousand documents take a few seconds: the page shows the job running, then reloads itself at the end.
    assert browser.find_elements(By.CSS_SELECTOR, "[data-progress-url]"), "the job ended before its page loaded"
    # The page follows the job (live progress) and shows the output once it has completed.
    _wait_for(lambda: "COMPLETED" in browser.find_element(By.CSS_SELECTOR, ".heading .status").text, 240, "COMPLETED")
    _wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "mark.ent"), 30, "the highlighted output")
    assert server.client().describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"][
        "JobStatus"
    ] == "COMPLETED"
    assert "2000 of 2000" in browser.find_element(By.TAG_NAME, "dl").text
    screenshot(browser, "job-completed", _shots(tmp_path))
    _navigate(browser, browser.find_element(By.ID, "next-documents"))
    assert "start=20" in browser.current_url and browser.find_elements(By.CSS_SELECTOR, "li.document")


def test_stop_from_the_list_stops_a_queued_job(server: Server, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    server.put("docs", "stop/in/a.txt", "\n".join(NEWS * 400) + "\n")
    job_id = server.start_job("s3://docs/stop/in/", "s3://docs/stop/out/", JobName="to-stop")
    server.put("docs", "pii/in/news.txt", "\n".join(NEWS) + "\nWrite to ana.silva@example.com.\n")
    pii_job = server.client().start_pii_entities_detection_job(
        JobName="pii-offsets", InputDataConfig={"S3Uri": "s3://docs/pii/in/"},
        OutputDataConfig={"S3Uri": "s3://docs/out/pii/"}, DataAccessRoleArn=ROLE, LanguageCode="en",
        Mode="ONLY_OFFSETS",
    )  # fmt: skip
    browser.get(f"{server.endpoint}/console")
    assert "to-stop" in browser.find_element(By.ID, "jobs").text
    screenshot(browser, "jobs-list", _shots(tmp_path))
    browser.get(f"{server.endpoint}/console?name=to-stop")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, f"tr[data-job-id='{job_id}'] button.danger"))
    props = server.wait(job_id, until=("STOP_REQUESTED", "STOPPED", "COMPLETED"))
    assert props["JobStatus"] in ("STOP_REQUESTED", "STOPPED"), props

    # The PII job's page shows its offsets over the text.
    assert server.wait(pii_job["JobId"], kind="pii")["JobStatus"] == "COMPLETED"
    browser.get(f"{server.endpoint}/console/jobs/{pii_job['JobId']}")
    kinds = {m.get_attribute("data-type") for m in browser.find_elements(By.CSS_SELECTOR, "mark.ent")}
    assert {"NAME", "EMAIL"} <= kinds, kinds
    _no_injected_image(browser)
    screenshot(browser, "pii-job", _shots(tmp_path))


def test_a_dominant_language_jobs_page_shows_each_documents_languages(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    server.put("docs", "lang/in/mixed.txt", "It is raining in London again today.\nHeute regnet es in Köln.\n")
    job_id = server.client().start_dominant_language_detection_job(
        JobName="languages", InputDataConfig={"S3Uri": "s3://docs/lang/in/"},
        OutputDataConfig={"S3Uri": "s3://docs/out/lang/"}, DataAccessRoleArn=ROLE,
    )["JobId"]  # fmt: skip
    assert server.wait(job_id, kind="language")["JobStatus"] == "COMPLETED"
    browser.get(f"{server.endpoint}/console/jobs/{job_id}")
    documents = browser.find_elements(By.CSS_SELECTOR, "li.document")
    assert [d.find_element(By.CSS_SELECTOR, ".chip").text.split()[0] for d in documents] == ["en", "de"]
    assert "Dominant language" in browser.find_element(By.TAG_NAME, "dl").text
    with urllib.request.urlopen(f"{server.endpoint}/console/jobs/{job_id}/entities.jsonl") as answer:
        lines = [json.loads(line) for line in answer.read().decode().splitlines()]
    assert [line["LanguageCode"] for line in lines][:1] == ["en"]


def test_recognizer_endpoint_and_health_pages(server: Server, recognizer: str, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    client = server.client()
    deadline = time.time() + 600
    while (props := client.describe_entity_recognizer(EntityRecognizerArn=recognizer)["EntityRecognizerProperties"])[
        "Status"
    ] in ("SUBMITTED", "TRAINING") and time.time() < deadline:
        time.sleep(0.5)
    assert props["Status"].startswith("TRAINED"), props
    endpoint = client.create_endpoint(EndpointName="people", ModelArn=recognizer, DesiredInferenceUnits=1)
    browser.get(f"{server.endpoint}/console/recognizers")
    assert "people-and-companies" in browser.find_element(By.ID, "recognizers").text
    _navigate(browser, browser.find_element(By.LINK_TEXT, "people-and-companies"))
    metrics = browser.find_element(By.ID, "metrics")
    assert "PERSON_NAME" in metrics.text and "ORG_NAME" in metrics.text and "Overall" in metrics.text
    assert len(metrics.find_elements(By.CSS_SELECTOR, "svg rect.bar")) >= 9
    screenshot(browser, "recognizer", _shots(tmp_path))

    _wait_for(
        lambda: client.describe_endpoint(EndpointArn=endpoint["EndpointArn"])["EndpointProperties"]["Status"]
        == "IN_SERVICE",
        120,
        "the endpoint",
    )
    browser.get(f"{server.endpoint}/console/endpoints")
    _navigate(browser, browser.find_element(By.LINK_TEXT, "people"))
    assert "IN_SERVICE" in browser.find_element(By.TAG_NAME, "main").text
    _navigate(browser, browser.find_element(By.LINK_TEXT, "Try it"))
    browser.find_element(By.NAME, "text").send_keys("Maria Garcia joined Initech Corp last spring.")
    _navigate(browser, browser.find_element(By.ID, "analyze"))
    result = browser.find_element(By.ID, "result-entities")
    assert result.find_elements(By.CSS_SELECTOR, "mark.ent"), result.text

    browser.get(f"{server.endpoint}/console/health")
    assert browser.find_element(By.ID, "health-status").text == "OK"
    assert "en" in browser.find_element(By.ID, "models").text
    screenshot(browser, "health", _shots(tmp_path))


# ------------------------------------------------------------------------------------------------- sigv4


def _add_key(data_dir: Path, account: str) -> tuple[str, str]:
    done = subprocess.run(
        [str(BIN / "opencomprehend"), "credentials", "add", "--account-id", account, "--data-dir", str(data_dir)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    return lines["AccessKeyId"], lines["SecretAccessKey"]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, aws_available: None) -> Iterator[tuple[Server, dict]]:
    data_dir = tmp_path_factory.mktemp("console-sigv4")
    keys = {"a": _add_key(data_dir, "123456789012"), "b": _add_key(data_dir, "210987654321")}
    subprocess.run(
        [str(BIN / "opencomprehend"), "roles", "add", "--account-id", "210987654321", "--name", "Data", "--read",
         "s3://docs/b/", "--write", "s3://docs/b-out/", "--data-dir", str(data_dir)], capture_output=True, check=True,
    )  # fmt: skip
    with running_server(data_dir, OPENCOMPREHEND_AUTH="sigv4", OPENCOMPREHEND_WORKERS="1") as server:
        yield server, keys


def _sign_in(browser: Any, key: tuple[str, str]) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.NAME, "access_key_id").send_keys(key[0])
    browser.find_element(By.NAME, "secret_access_key").send_keys(key[1])
    _navigate(browser, browser.find_element(By.ID, "signin"))


def test_sign_in_and_out_under_sigv4_and_another_accounts_job_is_refused(
    signed: tuple[Server, dict], browser: Any, tmp_path: Path
) -> None:
    import boto3
    from selenium.webdriver.common.by import By

    server, keys = signed
    other = boto3.client(
        "comprehend", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=keys["b"][0], aws_secret_access_key=keys["b"][1],
    )  # fmt: skip
    theirs = other.start_entities_detection_job(
        JobName="account-b-job",
        InputDataConfig={"S3Uri": "s3://docs/b/"},
        OutputDataConfig={"S3Uri": "s3://docs/b-out/"},
        DataAccessRoleArn="arn:aws:iam::210987654321:role/Data",
        LanguageCode="en",
    )["JobId"]

    # Every page sends a stranger to the sign-in page, and back where they were going afterwards.
    browser.get(f"{server.endpoint}/console/analyze")
    assert "/console/signin" in browser.current_url
    screenshot(browser, "signin", _shots(tmp_path))
    _sign_in(browser, (keys["a"][0], "not-the-secret"))
    assert "not right" in browser.find_element(By.CSS_SELECTOR, ".error").text
    _sign_in(browser, keys["a"])
    assert browser.current_url.endswith("/console/analyze")
    assert "123456789012" in browser.find_element(By.CSS_SELECTOR, ".who").text
    cookie = browser.get_cookie("oc_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # Account A sees none of account B's jobs, and B's job page is refused as the API refuses it.
    browser.get(f"{server.endpoint}/console")
    assert "account-b-job" not in browser.find_element(By.ID, "jobs").text
    browser.get(f"{server.endpoint}/console/jobs/{theirs}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "JobNotFoundException"
    screenshot(browser, "other-account-refused", _shots(tmp_path))
    # B signs in and sees it.
    _navigate(browser, browser.find_element(By.ID, "signout"))
    assert "/console/signin" in browser.current_url
    browser.get(f"{server.endpoint}/console")
    assert "/console/signin" in browser.current_url
    _sign_in(browser, keys["b"])
    assert "account-b-job" in browser.find_element(By.ID, "jobs").text
    session = browser.get_cookie("oc_session")
    _navigate(browser, browser.find_element(By.ID, "signout"))
    # Signed out: the session no longer opens a page, even with a copy of its cookie.
    browser.add_cookie({key: session[key] for key in ("name", "value", "path", "httpOnly", "sameSite")})
    browser.get(f"{server.endpoint}/console/jobs/{theirs}")
    assert "/console/signin" in browser.current_url
