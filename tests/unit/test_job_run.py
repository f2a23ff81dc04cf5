"""The job engine driven step by step in-process: a real store, the local bucket folder, real engines."""

from __future__ import annotations

import json
import threading

import pytest
from support.output import read_archive
from support.world import OWNER, World, output_of, pii_output, run_claimed, submit, submit_pii

from opencomprehend.jobs import job_run
from opencomprehend.jobs.job_run import JobRun
from opencomprehend.runtime.pool import InlineRunner


def test_a_job_runs_shard_by_shard_to_completed(world: World) -> None:
    world.objects.put_bytes("docs", "in/a.txt", b"Angela Merkel visited Paris.\n\nSony is in Tokyo.\n")
    job = submit(world)
    run_claimed(world)
    done = world.store.get(job.job_id)
    assert done.status == "COMPLETED" and done.documents_done == done.documents_total == 3
    records = read_archive(output_of(world, job.job_id).read_bytes())
    assert [r["Line"] for r in records] == [0, 1, 2]
    assert ("Angela Merkel", "PERSON") in {(e["Text"], e["Type"]) for e in records[0]["Entities"]}
    assert not (world.settings.work_dir / job.job_id).exists(), "work files are cleaned up"


def test_a_language_without_a_model_fails_the_job_and_writes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every language of Comprehend's enum may have a model installed, so the registry is narrowed here.
    monkeypatch.setattr(job_run, "supported_languages", lambda: {"en"})
    world.objects.put_bytes("docs", "in/a.txt", b"Angela Merkel lebt in Berlin.\n")
    job = submit(world, language="de")
    run_claimed(world)
    failed = world.store.get(job.job_id)
    assert failed.status == "FAILED"
    assert failed.message == "UNSUPPORTED_LANGUAGE: No entity model for language 'de' is installed on this server."
    assert not output_of(world, job.job_id).exists()


def test_a_job_whose_input_holds_no_document_fails_and_says_where_it_looked(world: World) -> None:
    world.objects.put_bytes("docs", "in/a.txt", b"")
    job = submit(world)
    run_claimed(world)
    failed = world.store.get(job.job_id)
    assert failed.status == "FAILED"
    assert failed.message == "INVALID_INPUT: The input data at s3://docs/in/ contains no documents."
    assert not output_of(world, job.job_id).exists()


def test_a_job_stopped_before_it_started_ends_stopped_with_an_empty_output(world: World) -> None:
    world.objects.put_bytes("docs", "in/a.txt", b"Paris.\n")
    job = submit(world)
    assert world.store.request_stop(job.job_id) == "STOP_REQUESTED"
    run_claimed(world)
    assert world.store.get(job.job_id).status == "STOPPED"
    assert read_archive(output_of(world, job.job_id).read_bytes()) == []


def test_a_job_whose_recognizer_went_away_fails_with_a_reason(world: World) -> None:
    world.objects.put_bytes("docs", "in/a.txt", b"Paris.\n")
    arn = "arn:aws:comprehend:us-east-1:111122223333:entity-recognizer/gone"
    job = submit(world, entity_recognizer_arn=arn)
    run_claimed(world)
    failed = world.store.get(job.job_id)
    assert failed.status == "FAILED"
    assert failed.message.startswith(f"RESOURCE_UNAVAILABLE: The entity recognizer {arn}")


def test_with_a_volume_key_nothing_plain_is_spilled_to_disk(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opencomprehend.runtime import pipeline
    from opencomprehend.server import open_keyring

    keys = open_keyring(world.settings)
    key = keys.create("111122223333", "us-east-1")
    world.objects.put_bytes("docs", "in/a.txt", b"Angela Merkel visited Paris.\nSony is in Tokyo.\nBob.\n")
    job = submit(world, volume_kms_key_id=key.key_id, output_kms_key_id="")
    spilled: list[bytes] = []
    real_assemble = pipeline.assemble

    def watching(objects, work, numbers, uri, volume=None):  # type: ignore[no-untyped-def]
        spilled.extend(path.read_bytes() for path in sorted(work.rglob("*")) if path.is_file())
        return real_assemble(objects, work, numbers, uri, volume)

    monkeypatch.setattr(job_run, "assemble", watching)
    for claimed in world.store.claim(OWNER, 30.0, 10):
        JobRun(claimed, world.store, world.recognizers, world.objects, world.runner, world.settings,
               OWNER, threading.Event(), None, keys).run()  # fmt: skip
    assert world.store.get(job.job_id).status == "COMPLETED"
    assert len(spilled) == 2 and not any(b"Merkel" in data or b"Entities" in data for data in spilled)
    records = read_archive(output_of(world, job.job_id).read_bytes())
    assert ("Angela Merkel", "PERSON") in {(e["Text"], e["Type"]) for e in records[0]["Entities"]}
    assert not list((world.settings.work_dir).rglob("output.tar.gz")), "the archive was never on disk"


# -- PII jobs: the second kind of job, on the same engine ---------------------------------------------------


PII_LINES = [
    "Hello John Smith, mail john.smith@example.com.",
    "",
    "Card 4111 1111 1111 1111, nothing else.",
]


def test_a_pii_job_writes_offsets_per_input_file(world: World) -> None:
    world.objects.put_bytes("docs", "in/a.txt", "\n".join(PII_LINES).encode())
    world.objects.put_bytes("docs", "in/sub/b.txt", b"Call 206-555-0100.\n")
    job = submit_pii(world, "ONLY_OFFSETS")
    run_claimed(world)
    done = world.store.get(job.job_id)
    assert done.status == "COMPLETED" and done.documents_done == 4
    folder = pii_output(world, job.job_id)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == ["a.txt.out", "sub/b.txt.out"]  # noqa: E501
    records = [json.loads(line) for line in (folder / "a.txt.out").read_text().splitlines()]
    assert [(r["File"], r["Line"]) for r in records] == [("a.txt", 0), ("a.txt", 1), ("a.txt", 2)]
    assert list(records[0]) == ["Entities", "File", "Line"]
    found = {(PII_LINES[r["Line"]][e["BeginOffset"] : e["EndOffset"]], e["Type"]) for r in records for e in r["Entities"]}  # noqa: E501
    assert {("John Smith", "NAME"), ("john.smith@example.com", "EMAIL"), ("4111 1111 1111 1111", "CREDIT_DEBIT_NUMBER")} <= found  # noqa: E501
    assert all(set(e) == {"BeginOffset", "EndOffset", "Score", "Type"} for r in records for e in r["Entities"])
    assert records[1]["Entities"] == []


def test_a_redaction_job_masks_pii_and_keeps_every_other_byte(world: World) -> None:
    lines = [line.encode() for line in PII_LINES]
    data = b"\xef\xbb\xbf" + lines[0] + b"\r\n" + lines[1] + b"\r" + lines[2] + b"\n"
    world.objects.put_bytes("docs", "in/a.txt", data)
    job = submit_pii(world, "ONLY_REDACTION", {"PiiEntityTypes": ["ALL"], "MaskMode": "MASK", "MaskCharacter": "#"})
    run_claimed(world)
    assert world.store.get(job.job_id).status == "COMPLETED"
    out = (pii_output(world, job.job_id) / "a.txt.out").read_bytes()
    assert len(out) == len(data)
    assert out == (
        b"\xef\xbb\xbf" + b"Hello #### #####, mail ######################.\r\n\rCard #### #### #### ####, nothing else.\n"  # noqa: E501
    )


def test_a_redaction_job_replaces_only_the_types_asked_for(world: World) -> None:
    text = "Hello John Smith, mail john.smith@example.com."
    world.objects.put_bytes("docs", "in/one.txt", text.encode())
    job = submit_pii(
        world,
        "ONLY_REDACTION",
        {"PiiEntityTypes": ["EMAIL"], "MaskMode": "REPLACE_WITH_PII_ENTITY_TYPE"},
        input_format="ONE_DOC_PER_FILE",
    )
    run_claimed(world)
    out = (pii_output(world, job.job_id) / "one.txt.out").read_text()
    assert out == "Hello John Smith, mail [EMAIL]."


def test_a_redaction_job_never_copies_a_document_it_could_not_read(world: World) -> None:
    world.settings.max_document_bytes = 60
    secret = "John Smith " * 10
    world.objects.put_bytes("docs", "in/a.txt", f"mail jane@example.com\n{secret}\nok\n".encode())
    job = submit_pii(world, "ONLY_REDACTION", {"PiiEntityTypes": ["ALL"]})
    run_claimed(world)
    out = (pii_output(world, job.job_id) / "a.txt.out").read_text()
    assert out == "mail ****************\n\nok\n"


def test_a_pii_job_stopped_before_it_started_writes_nothing(world: World) -> None:
    world.objects.put_bytes("docs", "in/a.txt", b"mail jane@example.com\n")
    job = submit_pii(world, "ONLY_REDACTION", {"PiiEntityTypes": ["ALL"]})
    world.store.request_stop(job.job_id)
    run_claimed(world)
    assert world.store.get(job.job_id).status == "STOPPED"
    assert not pii_output(world, job.job_id).exists()


def test_a_pii_jobs_output_is_sealed_under_its_kms_key(world: World) -> None:
    from opencomprehend.server import open_keyring

    keys = open_keyring(world.settings)
    key = keys.create("111122223333", "us-east-1", alias="pii-output")
    world.objects.put_bytes("docs", "in/a.txt", "\n".join(PII_LINES).encode())
    job = submit_pii(world, "ONLY_REDACTION", {"PiiEntityTypes": ["ALL"], "MaskMode": "MASK"},
                     output_kms_key_id="alias/pii-output")  # fmt: skip
    for claimed in world.store.claim(OWNER, 30.0, 10):
        JobRun(claimed, world.store, world.recognizers, world.objects, world.runner, world.settings,
               OWNER, threading.Event(), None, keys).run()  # fmt: skip
    assert world.store.get(job.job_id).status == "COMPLETED"
    stored = (pii_output(world, job.job_id) / "a.txt.out").read_bytes()
    assert b"Hello" not in stored and b"nothing else" not in stored
    redacted = keys.open(stored, "111122223333").decode()
    assert redacted.splitlines()[0].startswith("Hello ") and "John Smith" not in redacted
    assert key.key_id in stored.decode("latin-1")


class _CrashingRunner(InlineRunner):
    """The inline runner, except that a shard holding "POISON" loses its worker, as a crashing one would;
    with `flaky`, the first `flaky` shards lose theirs once whatever they hold."""

    def __init__(self, flaky: int = 0) -> None:
        super().__init__()
        self.flaky = flaky
        self.calls = 0

    def submit(self, language, documents):  # type: ignore[no-untyped-def]
        from concurrent.futures import Future

        from opencomprehend.runtime.runner import WorkerLost

        self.calls += 1
        if any("POISON" in (doc.text or "") for doc in documents) or self.calls <= self.flaky:
            lost: Future[list[str]] = Future()
            lost.set_exception(WorkerLost("The worker running this task was lost: it exited with code -9."))
            return lost
        return super().submit(language, documents)


def test_a_document_that_keeps_killing_its_worker_fails_the_job_by_name(world: World) -> None:
    world.runner = _CrashingRunner()
    lines = [f"Line {i} about Paris." for i in range(7)]
    lines[5] = "POISON in Berlin."
    world.objects.put_bytes("docs", "in/a.txt", ("\n".join(lines) + "\n").encode())
    job = submit(world)
    run_claimed(world)
    failed = world.store.get(job.job_id)
    assert failed.status == "FAILED"
    assert failed.message == (
        "INTERNAL_SERVER_ERROR: The worker processing the document a.txt (line 5) was lost 3 times "
        "(it crashed or ran past the task time limit); the job stops at that document."
    )
    assert not output_of(world, job.job_id).exists()
    # Four shards; the third (lines 4-5) tried whole twice more, then each of its two documents alone, and
    # line 5 twice more.
    assert world.runner.calls == 4 + 2 + 2 + 2


def test_a_shard_that_lost_its_worker_runs_again_and_every_document_is_written_once(world: World) -> None:
    world.runner = _CrashingRunner(flaky=2)
    lines = [f"Line {i}: Angela Merkel visited Paris." for i in range(9)]
    world.objects.put_bytes("docs", "in/a.txt", ("\n".join(lines) + "\n").encode())
    job = submit(world)
    run_claimed(world)
    assert world.store.get(job.job_id).status == "COMPLETED"
    records = read_archive(output_of(world, job.job_id).read_bytes())
    assert [r["Line"] for r in records] == list(range(9))


def test_a_language_job_writes_the_languages_of_each_line_in_one_archive(world: World) -> None:
    lines = ["The weather is lovely today.", "Il fait beau aujourd'hui.", "", "今天天氣很好。", "今日はいい天気です。"]
    world.objects.put_bytes("docs", "in/a.txt", "\n".join(lines).encode())
    world.objects.put_bytes("docs", "in/b.txt", b"Heute ist das Wetter sch\xc3\xb6n.\n\xff\xfe\n")
    job = submit(world, language=None, job_kind="LANGUAGE")
    run_claimed(world)
    done = world.store.get(job.job_id)
    assert done.status == "COMPLETED", done.message
    archive = world.settings.store_root / "docs" / "out" / f"111122223333-LANGUAGE-{job.job_id}" / "output"
    records = read_archive((archive / "output.tar.gz").read_bytes())
    assert [(r["File"], r["Line"]) for r in records] == [("a.txt", i) for i in range(5)] + [("b.txt", 0), ("b.txt", 1)]
    best = [r["Languages"][0]["LanguageCode"] if r.get("Languages") else None for r in records]
    assert best == ["en", "fr", None, "zh-TW", "ja", "de", None]
    assert records[2]["Languages"] == []
    assert records[6]["ErrorCode"] == "UNSUPPORTED_ENCODING" and "Languages" not in records[6]
    assert all("Entities" not in r for r in records)
