"""The console's fine detail, in process: headers, escaping, CSRF, sessions, paging (browser tests: e2e)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from support.rows import job_row

from opencomprehend.config import Settings
from opencomprehend.console import present
from opencomprehend.jobs.store import JobStore
from opencomprehend.server import create_app, open_credentials
from tests.unit.test_cross_account import world  # noqa: F401  (the cross-account suite's two accounts)

TEMPLATES = Path(__file__).parents[2] / "src" / "opencomprehend" / "console" / "templates"
ROLE = "arn:aws:iam::111122223333:role/ComprehendData"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no form"
    return found.group(1)


def _api(client: TestClient, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(
        "/",
        content=json.dumps(body),
        headers={"x-amz-target": f"Comprehend_20171127.{operation}", "content-type": "application/x-amz-json-1.1"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _start(client: TestClient, name: str, operation: str = "StartEntitiesDetectionJob", **extra: Any) -> str:
    body = {
        "JobName": name,
        "InputDataConfig": {"S3Uri": "s3://docs/in/"},
        "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
        "DataAccessRoleArn": ROLE,
        "LanguageCode": "en",
        **extra,
    }
    return _api(client, operation, body)["JobId"]


def test_every_page_carries_the_security_headers_and_no_inline_script_or_style(client: TestClient) -> None:
    for path in ("/console", "/console/jobs/new", "/console/analyze", "/console/health", "/console/nothing"):
        page = client.get(path)
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"{template.name}: inline script"
        assert not re.search(r"\sstyle=|\son[a-z]+=|<style", text), f"{template.name}: inline style or handler"


def test_whatever_the_store_holds_is_shown_as_text(client: TestClient, tmp_path: Path) -> None:
    # The API's JobName pattern refuses markup; the console escapes what the store holds whatever it is.
    job_id = _start(client, "plain")
    store = JobStore(Settings(data_dir=tmp_path).resolved_database_url())
    with store.engine.begin() as conn:
        from opencomprehend.jobs.schema import jobs

        conn.execute(
            jobs.update().where(jobs.c.job_id == job_id).values(job_name="<script>alert(1)</script>", message="<b>x")
        )
    _api(client, "TagResource", {"ResourceArn": _arn(client, job_id), "Tags": [{"Key": "k", "Value": "<img src=x>"}]})
    for page in (client.get("/console").text, client.get(f"/console/jobs/{job_id}").text):
        assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    page = client.get(f"/console/jobs/{job_id}").text
    assert "<img src=x>" not in page and "&lt;img src=x&gt;" in page and "<b>x" not in page


def _arn(client: TestClient, job_id: str) -> str:
    return _api(client, "DescribeEntitiesDetectionJob", {"JobId": job_id})["EntitiesDetectionJobProperties"]["JobArn"]


def test_a_form_without_its_token_or_from_another_site_is_refused(client: TestClient) -> None:
    job_id = _start(client, "to-stop")
    token = _csrf(client.get("/console").text)
    assert client.post(f"/console/jobs/{job_id}/stop", data={}).status_code == 403
    assert client.post(f"/console/jobs/{job_id}/stop", data={"csrf": "0" * 64}).status_code == 403
    refused = client.post(
        f"/console/jobs/{job_id}/stop", data={"csrf": token}, headers={"origin": "https://elsewhere.example"}
    )
    assert refused.status_code == 403
    assert _api(client, "DescribeEntitiesDetectionJob", {"JobId": job_id})["EntitiesDetectionJobProperties"][
        "JobStatus"
    ] == "SUBMITTED"
    stopped = client.post(f"/console/jobs/{job_id}/stop", data={"csrf": token}, follow_redirects=False)
    assert stopped.status_code == 303
    assert _api(client, "DescribeEntitiesDetectionJob", {"JobId": job_id})["EntitiesDetectionJobProperties"][
        "JobStatus"
    ] == "STOP_REQUESTED"


def test_the_job_list_pages_newest_first_over_every_kind_and_filters_by_kind(client: TestClient) -> None:
    names = [f"job-{n:02d}" for n in range(30)]
    for name in names:
        _start(client, name)
    _start(client, "pii-one", "StartPiiEntitiesDetectionJob", Mode="ONLY_OFFSETS")
    first = client.get("/console").text
    listed = re.findall(r'<a href="/console/jobs/[0-9a-f]+">([^<]+)</a>', first)
    assert listed == ["pii-one", *reversed(names)][:25]
    next_url = re.search(r'href="([^"]+)" id="next-page"', first).group(1).replace("&amp;", "&")
    second = re.findall(r'<a href="/console/jobs/[0-9a-f]+">([^<]+)</a>', client.get(next_url).text)
    assert second == list(reversed(names))[24:]
    only_pii = client.get("/console?kind=PII").text
    assert re.findall(r'<a href="/console/jobs/[0-9a-f]+">([^<]+)</a>', only_pii) == ["pii-one"]
    # A filter the list cannot take is said, not a 500.
    assert client.get("/console?status=NOPE").status_code == 400
    assert client.get("/console?after=yesterday").status_code == 400


def test_the_create_form_shows_the_apis_own_validation_message(client: TestClient) -> None:
    token = _csrf(client.get("/console/jobs/new").text)
    answer = client.post(
        "/console/jobs/new",
        data={"csrf": token, "kind": "ENTITIES", "input_uri": "s3://docs/in/", "output_uri": "s3://docs/out/",
              "role": "not-a-role", "language": "en"},
    )  # fmt: skip
    assert answer.status_code == 400 and "ValidationException" in answer.text and "dataAccessRoleArn" in answer.text
    started = client.post(
        "/console/jobs/new",
        data={"csrf": token, "kind": "PII", "mode": "ONLY_REDACTION", "input_uri": "s3://docs/in/",
              "output_uri": "s3://docs/out/", "role": ROLE, "language": "en", "name": "redact"},
        follow_redirects=False,
    )  # fmt: skip
    assert started.status_code == 303
    job_id = started.headers["location"].rsplit("/", 1)[1]
    props = _api(client, "DescribePiiEntitiesDetectionJob", {"JobId": job_id})["PiiEntitiesDetectionJobProperties"]
    assert props["Mode"] == "ONLY_REDACTION" and props["JobName"] == "redact"


# -------------------------------------------------------------------------------------------- sessions


@pytest.fixture()
def signed(tmp_path: Path) -> Iterator[tuple[TestClient, Any, Any]]:
    settings = Settings(data_dir=tmp_path, auth="sigv4")
    credentials = open_credentials(settings)
    a = credentials.add("123456789012")
    b = credentials.add("210987654321")
    with TestClient(create_app(settings, run_workers=False)) as client:
        yield client, a, b


def _sign_in(client: TestClient, key: Any, secret: str | None = None, next_path: str = "/console") -> Any:
    token = _csrf(client.get(f"/console/signin?next={next_path}").text)
    return client.post(
        "/console/signin",
        data={"csrf": token, "access_key_id": key.access_key_id, "secret_access_key": secret or key.secret_access_key,
              "region": "us-east-1", "next": next_path},
        follow_redirects=False,
    )  # fmt: skip


def test_under_sigv4_every_page_needs_a_sign_in(signed: tuple[TestClient, Any, Any]) -> None:
    client, a, _ = signed
    for path in ("/console", "/console/analyze", "/console/jobs/abc", "/console/jobs/abc/entities.jsonl"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/console/signin?next=")
    assert _sign_in(client, a, "w" * 40).status_code == 401
    done = _sign_in(client, a, next_path="/console/analyze")
    assert done.status_code == 303 and done.headers["location"] == "/console/analyze"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "123456789012" in client.get("/console").text


def test_a_sign_in_never_sends_the_browser_to_another_site(signed: tuple[TestClient, Any, Any]) -> None:
    client, a, _ = signed
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert _sign_in(client, a, next_path=target).headers["location"] == "/console"


def _as(client: TestClient, session: str, path: str = "/console") -> Any:
    """GET `path` with this session cookie only."""
    client.cookies.clear()
    return client.get(path, headers={"cookie": f"oc_session={session}"}, follow_redirects=False)


def test_a_forged_or_signed_out_session_or_a_removed_key_opens_nothing(
    signed: tuple[TestClient, Any, Any], tmp_path: Path
) -> None:
    client, a, b = signed
    _sign_in(client, a)
    cookie = client.cookies.get("oc_session")
    assert cookie and _as(client, cookie).status_code == 200
    body, _, signature = cookie.partition(".")
    assert _as(client, body + "." + "0" * len(signature)).status_code == 303
    # Signed out: the same cookie, copied before, is refused.
    client.cookies.clear()
    _sign_in(client, a)
    cookie = client.cookies.get("oc_session")
    token = _csrf(client.get("/console").text)
    assert client.post("/console/signout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert _as(client, cookie).status_code == 303
    # A key removed ends its sessions at once.
    client.cookies.clear()
    _sign_in(client, b)
    cookie = client.cookies.get("oc_session")
    assert _as(client, cookie).status_code == 200
    open_credentials(Settings(data_dir=tmp_path, auth="sigv4")).remove(b.access_key_id)
    assert _as(client, cookie).status_code == 303


def test_an_account_sees_only_its_own_jobs(signed: tuple[TestClient, Any, Any], tmp_path: Path) -> None:
    from opencomprehend.server import open_roles

    client, a, b = signed
    role = open_roles(Settings(data_dir=tmp_path, auth="sigv4")).add("210987654321", "Data", ["s3://docs/"], [])
    _sign_in(client, b)
    token = _csrf(client.get("/console/jobs/new").text)
    started = client.post(
        "/console/jobs/new",
        data={"csrf": token, "kind": "ENTITIES", "input_uri": "s3://docs/in/", "output_uri": "s3://docs/out/",
              "role": role.arn, "language": "en", "name": "b-job"},
        follow_redirects=False,
    )  # fmt: skip
    assert started.status_code == 303, started.text
    theirs = started.headers["location"]
    assert "b-job" in client.get("/console").text
    # A role B does not have is refused as the API refuses it.
    refused = client.post(
        "/console/jobs/new",
        data={"csrf": token, "kind": "ENTITIES", "input_uri": "s3://docs/in/", "output_uri": "s3://docs/out/",
              "role": "arn:aws:iam::210987654321:role/None", "language": "en"},
    )  # fmt: skip
    assert refused.status_code == 400 and "does not exist in account 210987654321" in refused.text
    client.cookies.clear()
    _sign_in(client, a)
    assert "b-job" not in client.get("/console").text
    for path in (theirs, f"{theirs}/progress", f"{theirs}/entities.jsonl", f"{theirs}/output.tar.gz"):
        answer = client.get(path)
        assert answer.status_code == 404 and "JobNotFoundException" in answer.text, path
    token = _csrf(client.get("/console").text)
    assert client.post(f"{theirs}/stop", data={"csrf": token}).status_code == 404


# ------------------------------------------------------------------------------------------ presentation


def test_entities_are_laid_over_their_text_by_code_points_and_overlaps_are_left_out() -> None:
    text = "👍🏽 Ana met Bo in Oslo"
    entities = [
        {"Type": "PERSON", "BeginOffset": 3, "EndOffset": 6, "Score": 0.9},
        {"Type": "PERSON", "BeginOffset": 11, "EndOffset": 13, "Score": 0.8},
        {"Type": "OTHER", "BeginOffset": 4, "EndOffset": 12, "Score": 0.5},  # overlaps both
        {"Type": "LOCATION", "BeginOffset": 17, "EndOffset": 21, "Score": 0.7},
        {"Type": "LOCATION", "BeginOffset": 19, "EndOffset": 99, "Score": 0.7},  # past the end
    ]
    pieces = present.pieces(text, entities)
    assert "".join(piece.text for piece in pieces) == text
    assert [(p.text, p.entity["Type"]) for p in pieces if p.entity] == [
        ("Ana", "PERSON"), ("Bo", "PERSON"), ("Oslo", "LOCATION"),
    ]  # fmt: skip
    assert present.colour("PERSON") == "c0" and present.colour("SSN") == present.colour("SSN")
    assert present.arn_name("arn:aws:comprehend:us-east-1:1:entity-recognizer/r/version/v2") == "r (v2)"


def test_another_accounts_resources_are_unknown_on_every_page(
    world: tuple[TestClient, dict[str, str]],  # noqa: F811  (the fixture imported above)
) -> None:
    # The cross-account suite's world: account 123456789012's jobs of each kind, recognizer and endpoint; the
    # console here is the server's default account's (development mode).
    client, ids = world
    for job in (ids["job_id"], ids["pii_job_id"], ids["language_job_id"]):
        for suffix in ("", "/progress", "/entities.jsonl", "/output.tar.gz"):
            answer = client.get(f"/console/jobs/{job}{suffix}")
            assert answer.status_code == 404 and "JobNotFoundException" in answer.text, (job, suffix)
    assert "secret" not in client.get("/console").text
    assert client.get("/console/recognizers/secret-recognizer").status_code == 404
    assert "secret-recognizer" not in client.get("/console/recognizers").text
    assert client.get("/console/endpoints/secret-endpoint").status_code == 404
    assert "secret-endpoint" not in client.get("/console/endpoints").text
    token = _csrf(client.get("/console/analyze").text)
    assert client.post(f"/console/jobs/{ids['job_id']}/stop", data={"csrf": token}).status_code == 404
    analyze = client.post("/console/analyze", data={"csrf": token, "text": "Hi Bo", "endpoint": ids["endpoint"]})
    assert "ResourceNotFoundException" in analyze.text


def test_thousands_of_jobs_cost_one_page(client: TestClient, tmp_path: Path) -> None:
    from opencomprehend.jobs.schema import jobs

    store = JobStore(Settings(data_dir=tmp_path).resolved_database_url())
    rows = [
        job_row(job_id=f"{n:032x}", name=f"bulk-{n}", status="COMPLETED", submit_time=1_700_000_000 + n,
                end_time=1_700_000_100 + n, token=f"t{n}", documents_done=n, documents_total=n)
        for n in range(5000)
    ]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(jobs.insert(), rows)
    page = client.get("/console").text
    names = re.findall(r'<a href="/console/jobs/[0-9a-f]+">([^<]+)</a>', page)
    assert names == [f"bulk-{n}" for n in range(4999, 4974, -1)]
    seen, url = len(names), re.search(r'href="([^"]+)" id="next-page"', page)
    while url:
        page = client.get(url.group(1).replace("&amp;", "&")).text
        seen += len(re.findall(r'<a href="/console/jobs/[0-9a-f]+">', page))
        url = re.search(r'href="([^"]+)" id="next-page"', page)
        if seen >= 200:
            break
    assert seen == 200


def test_a_fault_of_ours_is_a_page_that_says_so(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from opencomprehend.service import job_output

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(job_output, "find_job", broken)
    answer = client.get("/console/jobs/abc/progress")
    assert answer.status_code == 500 and "Request id" in answer.text and "boom" not in answer.text
    assert "script-src 'self'" in answer.headers["content-security-policy"]
