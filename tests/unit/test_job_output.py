"""A job's output read back for the console (service/job_output.py): jobs run inline to completion on the
local bucket folder and a real job store, then read through the service layer as the console does."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from typing import Any

import pytest
from support.output import read_archive
from support.world import OWNER, World, output_of, pii_output, run_claimed, submit, submit_pii

from opencomprehend.jobs.endpoints import EndpointStore
from opencomprehend.jobs.job_run import JobRun
from opencomprehend.jobs.tags import TagStore
from opencomprehend.server import open_keyring, open_roles
from opencomprehend.service.errors import ServiceError
from opencomprehend.service.job_output import archive, find_job, flat_entities, output_page
from opencomprehend.service.registry import Environment, RequestContext

ACCOUNT = "111122223333"
CTX = RequestContext(ACCOUNT, "us-east-1", "aws", "request-1")
LINES = [
    "Angela Merkel visited Paris.",
    "Sony is in Tokyo.",
    "Nothing here.",
    "Bob Smith works for Microsoft in Seattle.",
    "x" * 300,  # over the size limit the test sets: DOCUMENT_SIZE_EXCEEDED
    "Barack Obama met Angela Merkel in Berlin.",
]
B_LINES = ["Toyota builds cars in Japan.", "Emmanuel Macron spoke in Tokyo."]


def env_of(world: World, **fields: Any) -> Environment:  # noqa: F811
    store = world.store
    return Environment(
        settings=world.settings,
        store=store,
        recognizers=world.recognizers,
        endpoints=EndpointStore(store.engine),
        secret=b"secret",
        tags=TagStore(store.engine),
        objects=world.objects,
        **fields,
    )


def run_with_keys(world: World, keys: Any) -> None:  # noqa: F811
    for claimed in world.store.claim(OWNER, 30.0, 10):
        JobRun(claimed, world.store, world.recognizers, world.objects, world.runner, world.settings,
               OWNER, threading.Event(), None, keys).run()  # fmt: skip


@pytest.fixture()
def entities_job(world: World) -> str:  # noqa: F811
    world.settings.max_document_bytes = 200
    world.objects.put_bytes("docs", "in/a.txt", ("\n".join(LINES) + "\n").encode())
    world.objects.put_bytes("docs", "in/b.txt", "\n".join(B_LINES).encode())
    job = submit(world)
    run_claimed(world)
    assert world.store.get(job.job_id).status == "COMPLETED"
    return job.job_id


def all_pages(env: Environment, job_id: str, count: int, **filters: Any) -> list[Any]:
    documents, start, pages = [], 0, 0
    while start is not None:
        page = output_page(env, CTX, job_id, start, count, **filters)
        assert len(page.documents) <= count
        documents += page.documents
        start, pages = page.next_start, pages + 1
        assert pages < 20
    return documents


def code_of(call: Any) -> tuple[str, str]:
    with pytest.raises(ServiceError) as caught:
        call()
    return caught.value.code, caught.value.message


# -- entities jobs -------------------------------------------------------------------------------------------


def test_a_page_has_each_documents_text_and_its_entities_offsets_slice_it(
    world: World,  # noqa: F811
    entities_job: str,
) -> None:
    page = output_page(env_of(world), CTX, entities_job, 0, 20)
    assert [(d.file, d.line) for d in page.documents] == [("a.txt", i) for i in range(6)] + [("b.txt", 0), ("b.txt", 1)]
    assert page.next_start is None and page.total_scanned == 8
    texts = {("a.txt", i): line for i, line in enumerate(LINES)} | {("b.txt", i): t for i, t in enumerate(B_LINES)}
    for document in page.documents:
        if document.line == 4 and document.file == "a.txt":
            assert document.error_code == "DOCUMENT_SIZE_EXCEEDED" and document.error_message
            assert document.text is None and document.entities == []
            continue
        assert document.text == texts[(document.file, document.line)] and document.error_code is None
        for entity in document.entities:
            assert document.text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
    assert ("Angela Merkel", "PERSON") in {(e["Text"], e["Type"]) for e in page.documents[0].entities}


def test_pages_follow_one_another_with_next_start(world: World, entities_job: str) -> None:  # noqa: F811
    env = env_of(world)
    first = output_page(env, CTX, entities_job, 0, 3)
    assert [(d.file, d.line) for d in first.documents] == [("a.txt", 0), ("a.txt", 1), ("a.txt", 2)]
    assert first.next_start == 3 and first.total_scanned == 4  # one record past the page, no further
    documents = all_pages(env, entities_job, 3)
    assert [(d.file, d.line) for d in documents] == [("a.txt", i) for i in range(6)] + [("b.txt", 0), ("b.txt", 1)]
    last = output_page(env, CTX, entities_job, 6, 3)
    assert [(d.file, d.line) for d in last.documents] == [("b.txt", 0), ("b.txt", 1)] and last.next_start is None
    assert output_page(env, CTX, entities_job, 8, 3).documents == []
    assert code_of(lambda: output_page(env, CTX, entities_job, -1, 3))[0] == "InvalidRequestException"
    assert code_of(lambda: output_page(env, CTX, entities_job, 0, 0))[0] == "InvalidRequestException"


def test_filters_narrow_the_documents_and_their_entities(
    world: World,  # noqa: F811
    entities_job: str,
) -> None:
    env = env_of(world)
    people = all_pages(env, entities_job, 2, types={"PERSON"})
    assert people and all(d.entities and {e["Type"] for e in d.entities} == {"PERSON"} for d in people)
    assert {(d.file, d.line) for d in people} >= {("a.txt", 0), ("a.txt", 5)}
    assert ("a.txt", 2) not in {(d.file, d.line) for d in people} and all(d.error_code is None for d in people)
    # min_score narrows entities but keeps the documents; with types, a document left without one goes.
    everything = output_page(env, CTX, entities_job, 0, 20).documents
    scores = sorted(e["Score"] for d in everything for e in d.entities)
    middle = scores[len(scores) // 2]
    narrowed = output_page(env, CTX, entities_job, 0, 20, min_score=middle).documents
    assert len(narrowed) == len(everything)
    assert all(e["Score"] >= middle for d in narrowed for e in d.entities)
    assert sum(len(d.entities) for d in narrowed) < len(scores)
    assert output_page(env, CTX, entities_job, 0, 20, types={"PERSON"}, min_score=1.01).documents == []
    tokyo = all_pages(env, entities_job, 1, search="TOKYO")
    assert [(d.file, d.line) for d in tokyo] == [("a.txt", 1), ("b.txt", 1)]
    by_file = output_page(env, CTX, entities_job, 0, 20, search="b.TXT").documents
    assert [(d.file, d.line) for d in by_file] == [("b.txt", 0), ("b.txt", 1)]
    page = output_page(env, CTX, entities_job, 1, 1, search="tokyo")
    assert [(d.file, d.line) for d in page.documents] == [("b.txt", 1)] and page.next_start is None


def test_flat_entities_list_every_entity_and_error(world: World, entities_job: str) -> None:  # noqa: F811
    env = env_of(world)
    lines = [json.loads(line) for line in flat_entities(env, CTX, entities_job)]
    documents = output_page(env, CTX, entities_job, 0, 20).documents
    assert len(lines) == sum(len(d.entities) for d in documents) + 1
    errors = [line for line in lines if "ErrorCode" in line]
    assert errors == [
        {"File": "a.txt", "Line": 4, "ErrorCode": "DOCUMENT_SIZE_EXCEEDED", "ErrorMessage": errors[0]["ErrorMessage"]}
    ]
    merkel = next(line for line in lines if line.get("Text") == "Angela Merkel")
    assert list(merkel)[:7] == ["File", "Line", "Type", "Text", "BeginOffset", "EndOffset", "Score"]
    assert (merkel["File"], merkel["Line"], merkel["Type"]) == ("a.txt", 0, "PERSON")


def test_the_archive_is_the_stored_object(world: World, entities_job: str) -> None:  # noqa: F811
    name, chunks = archive(env_of(world), CTX, entities_job)
    assert name == f"{entities_job}-output.tar.gz"
    assert b"".join(chunks) == output_of(world, entities_job).read_bytes()


def test_another_accounts_job_is_not_found(world: World, entities_job: str) -> None:  # noqa: F811
    env = env_of(world)
    assert find_job(env, CTX, entities_job).job_id == entities_job
    other = RequestContext("444455556666", "us-east-1", "aws", "request-2")
    elsewhere = RequestContext(ACCOUNT, "eu-west-1", "aws", "request-3")
    for ctx, job_id in ((other, entities_job), (elsewhere, entities_job), (CTX, "0" * 32)):
        for function in (find_job, output_page, archive, flat_entities):
            answer = code_of(lambda: function(env, ctx, job_id))  # noqa: B023  (called at once)
            assert answer == ("JobNotFoundException", f"Could not find job with id {job_id}."), function


def test_a_job_without_output_says_why(world: World) -> None:  # noqa: F811
    env = env_of(world)
    queued = submit(world)  # never run: SUBMITTED
    for call in (
        lambda: output_page(env, CTX, queued.job_id),
        lambda: archive(env, CTX, queued.job_id),
        lambda: flat_entities(env, CTX, queued.job_id),
    ):
        code, message = code_of(call)
        assert code == "InvalidRequestException" and "SUBMITTED" in message and "not available" in message
    running = world.store.claim(OWNER, 30.0, 10)  # claimed, never run: IN_PROGRESS
    assert [job.job_id for job in running] == [queued.job_id]
    code, message = code_of(lambda: output_page(env, CTX, queued.job_id))
    assert code == "InvalidRequestException" and message == (
        f"The output of job {queued.job_id} is not available yet: the job is IN_PROGRESS, "
        "and its output is written when it ends."
    )
    failing = submit(world, entity_recognizer_arn="arn:aws:comprehend:us-east-1:111122223333:entity-recognizer/gone")
    run_claimed(world)
    code, message = code_of(lambda: output_page(env, CTX, failing.job_id))
    assert code == "InvalidRequestException" and "FAILED: RESOURCE_UNAVAILABLE" in message


def test_an_output_gone_or_out_of_the_roles_reach_is_an_invalid_request(
    world: World,  # noqa: F811
    entities_job: str,
) -> None:
    roles = open_roles(world.settings, world.store.engine)
    roles.add(ACCOUNT, "R", read=["s3://docs/in/"], write=[])
    uri = f"s3://docs/out/{ACCOUNT}-NER-{entities_job}/output/output.tar.gz"
    code, message = code_of(lambda: output_page(env_of(world, roles=roles), CTX, entities_job))
    assert code == "InvalidRequestException"
    assert message == (
        f"The output of job {entities_job} is not available: the job's data access role "
        f"arn:aws:iam::{ACCOUNT}:role/R may not read {uri}."
    )
    roles.add(ACCOUNT, "R", read=["s3://docs/"], write=[], replace=True)
    assert len(output_page(env_of(world, roles=roles), CTX, entities_job).documents) == 8
    output_of(world, entities_job).write_bytes(b"not a gzip tar")
    code, message = code_of(lambda: output_page(env_of(world), CTX, entities_job))
    assert code == "InvalidRequestException" and f"{uri} is not output as the job wrote it" in message
    output_of(world, entities_job).unlink()
    code, message = code_of(lambda: archive(env_of(world), CTX, entities_job))
    assert code == "InvalidRequestException" and message.endswith(f"{uri} does not exist (it was deleted or moved).")


def test_a_kms_sealed_output_is_opened_with_its_key(world: World) -> None:  # noqa: F811
    keys = open_keyring(world.settings)
    key = keys.create(ACCOUNT, "us-east-1", alias="console-output")
    world.objects.put_bytes("docs", "in/a.txt", b"Angela Merkel visited Paris.\nSony is in Tokyo.\n")
    job = submit(world, output_kms_key_id="alias/console-output")
    run_with_keys(world, keys)
    assert world.store.get(job.job_id).status == "COMPLETED"
    stored = output_of(world, job.job_id).read_bytes()
    assert stored.startswith(b"OCKMS1\n")
    env = env_of(world, keys=keys)
    page = output_page(env, CTX, job.job_id)
    assert [d.text for d in page.documents] == ["Angela Merkel visited Paris.", "Sony is in Tokyo."]
    assert ("Angela Merkel", "PERSON") in {(e["Text"], e["Type"]) for e in page.documents[0].entities}
    assert any(json.loads(line).get("Text") == "Tokyo" for line in flat_entities(env, CTX, job.job_id))
    name, chunks = archive(env, CTX, job.job_id)
    assert name.endswith(".tar.gz.sealed") and b"".join(chunks) == stored
    keys.set_enabled(key.key_id, False)
    code, message = code_of(lambda: output_page(env, CTX, job.job_id))
    assert code == "InvalidRequestException" and "alias/console-output" in message and "disabled" in message
    code, message = code_of(lambda: output_page(env_of(world), CTX, job.job_id))
    assert code == "InvalidRequestException" and "no KMS keyring" in message


def test_a_language_jobs_documents_list_their_languages(world: World) -> None:  # noqa: F811
    lines = ["The weather is lovely today.", "Il fait beau aujourd'hui.", "Das Wetter ist heute schön."]
    world.objects.put_bytes("docs", "in/a.txt", "\n".join(lines).encode())
    job = submit(world, language=None, job_kind="LANGUAGE")
    run_claimed(world)
    env = env_of(world)
    page = output_page(env, CTX, job.job_id)
    assert [d.text for d in page.documents] == lines
    assert [d.entities[0]["LanguageCode"] for d in page.documents] == ["en", "fr", "de"]
    french = output_page(env, CTX, job.job_id, types={"fr"}).documents
    assert [(d.line, [e["LanguageCode"] for e in d.entities]) for d in french] == [(1, ["fr"])]
    flat = [json.loads(line) for line in flat_entities(env, CTX, job.job_id)]
    assert {"File": "a.txt", "Line": 0, "LanguageCode": "en"}.items() <= flat[0].items() and "Score" in flat[0]
    name, chunks = archive(env, CTX, job.job_id)
    stored = world.settings.store_root / "docs" / "out" / f"{ACCOUNT}-LANGUAGE-{job.job_id}" / "output"
    assert b"".join(chunks) == (stored / "output.tar.gz").read_bytes()


# -- PII jobs ------------------------------------------------------------------------------------------------

PII_LINES = ["Hello John Smith, mail john.smith@example.com.", "", "Card 4111 1111 1111 1111, nothing else."]


def test_a_pii_offsets_job_reads_its_out_files(world: World) -> None:  # noqa: F811
    world.objects.put_bytes("docs", "in/a.txt", "\n".join(PII_LINES).encode())
    world.objects.put_bytes("docs", "in/sub/b.txt", b"Call 206-555-0100.\n")
    job = submit_pii(world, "ONLY_OFFSETS")
    run_claimed(world)
    env = env_of(world)
    page = output_page(env, CTX, job.job_id)
    assert [(d.file, d.line) for d in page.documents] == [("a.txt", 0), ("a.txt", 1), ("a.txt", 2), ("sub/b.txt", 0)]
    assert [d.text for d in page.documents] == [*PII_LINES, "Call 206-555-0100."]
    found = {(d.text[e["BeginOffset"] : e["EndOffset"]], e["Type"]) for d in page.documents for e in d.entities}
    assert {("John Smith", "NAME"), ("john.smith@example.com", "EMAIL")} <= found
    emails = output_page(env, CTX, job.job_id, types={"EMAIL"}).documents
    assert [(d.line, [e["Type"] for e in d.entities]) for d in emails] == [(0, ["EMAIL"])]
    flat = [json.loads(line) for line in flat_entities(env, CTX, job.job_id)]
    assert {"File": "a.txt", "Line": 0, "Type": "NAME", "Text": "John Smith"}.items() <= next(
        line for line in flat if line["Type"] == "NAME"
    ).items()
    assert all(line["Text"] for line in flat)
    name, chunks = archive(env, CTX, job.job_id)
    folder = pii_output(world, job.job_id)
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks)), mode="r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    assert name == f"{job.job_id}-output.tar.gz"
    assert members == {n: (folder / n).read_bytes() for n in ("a.txt.out", "sub/b.txt.out")}


def test_a_pii_redaction_job_shows_the_redacted_documents(world: World) -> None:  # noqa: F811
    world.settings.max_document_bytes = 60
    secret = "John Smith " * 10
    world.objects.put_bytes("docs", "in/a.txt", f"mail jane@example.com\n{secret}\nok\n".encode())
    job = submit_pii(world, "ONLY_REDACTION", {"PiiEntityTypes": ["ALL"]})
    run_claimed(world)
    env = env_of(world)
    page = output_page(env, CTX, job.job_id)
    assert [(d.line, d.redacted, d.entities) for d in page.documents] == [
        (0, "mail ****************", []),
        (1, "", []),
        (2, "ok", []),
    ]
    assert page.documents[0].text == "mail jane@example.com"
    assert page.documents[1].error_code == "DOCUMENT_SIZE_EXCEEDED" and page.documents[1].text is None
    assert [d.line for d in output_page(env, CTX, job.job_id, search="JANE").documents] == [0]
    assert output_page(env, CTX, job.job_id, with_text=False).documents[0].text is None
    code, message = code_of(lambda: flat_entities(env, CTX, job.job_id))
    assert code == "InvalidRequestException" and "ONLY_REDACTION" in message
    name, chunks = archive(env, CTX, job.job_id)
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks)), mode="r:gz") as tar:
        assert tar.extractfile("a.txt.out").read() == b"mail ****************\n\nok\n"  # type: ignore[union-attr]


def test_a_sealed_pii_output_is_opened_file_by_file(world: World) -> None:  # noqa: F811
    keys = open_keyring(world.settings)
    keys.create(ACCOUNT, "us-east-1", alias="pii-output")
    world.objects.put_bytes("docs", "in/a.txt", "\n".join(PII_LINES).encode())
    job = submit_pii(world, "ONLY_REDACTION", {"PiiEntityTypes": ["ALL"], "MaskMode": "MASK"},
                     output_kms_key_id="alias/pii-output")  # fmt: skip
    run_with_keys(world, keys)
    assert (pii_output(world, job.job_id) / "a.txt.out").read_bytes().startswith(b"OCKMS1\n")
    page = output_page(env_of(world, keys=keys), CTX, job.job_id)
    assert [d.redacted for d in page.documents] == [
        "Hello **** *****, mail **********************.",
        "",
        "Card **** **** **** ****, nothing else.",
    ]
    code, message = code_of(lambda: output_page(env_of(world), CTX, job.job_id))
    assert code == "InvalidRequestException" and "a.txt.out is encrypted under alias/pii-output" in message


def test_a_pii_redaction_job_of_whole_files(world: World) -> None:  # noqa: F811
    text = "Hello John Smith,\nmail john.smith@example.com."
    world.objects.put_bytes("docs", "in/one.txt", text.encode())
    job = submit_pii(
        world, "ONLY_REDACTION", {"PiiEntityTypes": ["EMAIL"], "MaskMode": "REPLACE_WITH_PII_ENTITY_TYPE"},
        input_format="ONE_DOC_PER_FILE",
    )  # fmt: skip
    run_claimed(world)
    page = output_page(env_of(world), CTX, job.job_id)
    assert [(d.file, d.line, d.text, d.redacted) for d in page.documents] == [
        ("one.txt", None, text, "Hello John Smith,\nmail [EMAIL].")
    ]


def test_the_stored_archive_reads_back_as_the_page_does(world: World, entities_job: str) -> None:  # noqa: F811
    records = read_archive(output_of(world, entities_job).read_bytes())
    documents = output_page(env_of(world), CTX, entities_job, 0, 20).documents
    assert [(r["File"], r.get("Line"), r.get("Entities", [])) for r in records] == [
        (d.file, d.line, d.entities) for d in documents
    ]


def test_a_page_reads_each_input_file_once(
    world: World,  # noqa: F811
    entities_job: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []
    real = world.objects.open_stream

    def counting(bucket: str, key: str):  # type: ignore[no-untyped-def]
        opened.append(key)
        return real(bucket, key)

    monkeypatch.setattr(world.objects, "open_stream", counting)
    output_page(env_of(world), CTX, entities_job, 0, 20)
    assert sorted(opened) == sorted(["in/a.txt", "in/b.txt", f"out/{ACCOUNT}-NER-{entities_job}/output/output.tar.gz"])
