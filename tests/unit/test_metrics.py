"""GET /metrics in-process: names, types and labels of every metric, what moves them, and one registry per app."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient
from support.wire import START_JOB, call, post
from support.world import OWNER, World, submit
from test_recognizers_in_use import ACCOUNT, RECOGNIZER, _trained

from opencomprehend.config import Settings
from opencomprehend.jobs.job_run import JobRun
from opencomprehend.jobs.recognizers import RecognizerStore
from opencomprehend.jobs.store import JobStore
from opencomprehend.jobs.training_run import TrainingRun
from opencomprehend.metrics import Metrics
from opencomprehend.server import create_app, open_object_store
from opencomprehend.service import detect as detect_service

# name (as the parser gives it: counters without _total) -> (type, label names of its samples)
EXPECTED = {
    "opencomprehend_requests": ("counter", {"operation", "status"}),
    "opencomprehend_request_duration_seconds": ("histogram", {"operation"}),
    "opencomprehend_documents_processed": ("counter", {"job_kind"}),
    "opencomprehend_characters_processed": ("counter", {"job_kind"}),
    "opencomprehend_shard_duration_seconds": ("histogram", {"job_kind"}),
    "opencomprehend_job_duration_seconds": ("histogram", {"job_kind", "status"}),
    "opencomprehend_trainings": ("counter", {"outcome"}),
    "opencomprehend_endpoint_characters": ("counter", {"endpoint_arn"}),
    "opencomprehend_jobs": ("gauge", {"job_kind", "status"}),
    "opencomprehend_jobs_queued": ("gauge", {"job_kind"}),
    "opencomprehend_endpoint_requested_inference_units": ("gauge", {"endpoint_arn"}),
    "opencomprehend_endpoint_consumed_inference_units": ("gauge", {"endpoint_arn"}),
    "opencomprehend_endpoint_inference_utilization_ratio": ("gauge", {"endpoint_arn"}),
    "opencomprehend_workers_configured": ("gauge", set()),
    "opencomprehend_workers_alive": ("gauge", set()),
}


def scrape(client: TestClient) -> dict[str, Any]:
    """The families of GET /metrics by name."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {family.name: family for family in text_string_to_metric_families(answer.text)}


def value(families: dict[str, Any], sample_name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet."""
    family = families[sample_name.removesuffix("_total").removesuffix("_count").removesuffix("_sum")]
    for sample in family.samples:
        if sample.name == sample_name and sample.labels == labels:
            return sample.value
    return 0.0


def test_metrics_are_served_without_auth_beside_health_and_typed(client: TestClient) -> None:
    call(client, "ListEntitiesDetectionJobs", {})
    status, _ = call(client, "StartEntitiesDetectionJob", START_JOB)
    assert status == 200
    families = scrape(client)
    for name, (kind, labels) in EXPECTED.items():
        assert name in families, name
        assert families[name].type == kind, name
        for sample in families[name].samples:
            assert set(sample.labels) - {"le"} == labels, (name, sample)
    assert all(name.startswith("opencomprehend_") for name in families)


def test_metrics_are_not_an_aws_operation(client: TestClient) -> None:
    # POST /metrics is not the API; GET /metrics is not counted as a request.
    assert client.post("/metrics").status_code == 405
    scrape(client)
    families = scrape(client)
    assert not [s for s in families["opencomprehend_requests"].samples if s.name.endswith("_total")]


def test_requests_are_counted_by_operation_and_status_code_with_latency(client: TestClient) -> None:
    before = scrape(client)
    assert call(client, "ListEntitiesDetectionJobs", {})[0] == 200
    assert call(client, "DetectEntities", {"Text": "Paris", "LanguageCode": "en"})[0] == 200
    assert call(client, "DetectEntities", {"Text": "Paris"})[0] == 400  # no language, no endpoint
    assert post(client, "NoSuchThing", {}).status_code == 400
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("opencomprehend_requests_total", operation="ListEntitiesDetectionJobs", status="200") == 1
    assert moved("opencomprehend_requests_total", operation="DetectEntities", status="200") == 1
    assert moved("opencomprehend_requests_total", operation="DetectEntities", status="400") == 1
    # A target outside the model is one label, whatever the client sent.
    assert moved("opencomprehend_requests_total", operation="UnknownOperation", status="400") == 1
    assert moved("opencomprehend_request_duration_seconds_count", operation="DetectEntities") == 2
    assert moved("opencomprehend_request_duration_seconds_sum", operation="DetectEntities") > 0


def test_jobs_by_kind_and_status_and_the_queue_are_read_from_the_store(client: TestClient) -> None:
    # Without workers a job stays SUBMITTED.
    for _ in range(2):
        assert call(client, "StartEntitiesDetectionJob", START_JOB)[0] == 200
    assert call(client, "StartPiiEntitiesDetectionJob", {**START_JOB, "Mode": "ONLY_OFFSETS"})[0] == 200
    families = scrape(client)
    assert value(families, "opencomprehend_jobs", job_kind="ENTITIES", status="SUBMITTED") == 2
    assert value(families, "opencomprehend_jobs", job_kind="PII", status="SUBMITTED") == 1
    assert value(families, "opencomprehend_jobs_queued", job_kind="ENTITIES") == 2


def test_endpoint_inference_units_requested_and_consumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The endpoint's model is not what this is about: its engine answers no entities.
    monkeypatch.setattr(detect_service, "_endpoint_engine", lambda env, ctx, arn: lambda texts: [[] for _ in texts])
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings, run_workers=False)) as client:
        status, created = call(client, "CreateEntityRecognizer", RECOGNIZER, key=ACCOUNT)
        assert status == 200, created
        _trained(settings, created["EntityRecognizerArn"])
        status, endpoint = call(client, "CreateEndpoint", {
            "EndpointName": "devices-live", "ModelArn": created["EntityRecognizerArn"], "DesiredInferenceUnits": 2,
        }, key=ACCOUNT)  # fmt: skip
        assert status == 200, endpoint
        arn = endpoint["EndpointArn"]
        families = scrape(client)
        assert value(families, "opencomprehend_endpoint_requested_inference_units", endpoint_arn=arn) == 2
        assert value(families, "opencomprehend_endpoint_consumed_inference_units", endpoint_arn=arn) == 0

        for _ in range(2):
            status, found = call(client, "DetectEntities", {"Text": "é" * 1500, "EndpointArn": arn}, key=ACCOUNT)
            assert status == 200, found
        families = scrape(client)
        # Characters, not bytes: 2 × 1,500 characters (3,000 bytes each in UTF-8).
        assert value(families, "opencomprehend_endpoint_characters_total", endpoint_arn=arn) == 3000
        # 3,000 characters in the last minute: 50 a second, half an inference unit, a quarter of the two asked for.
        assert value(families, "opencomprehend_endpoint_consumed_inference_units", endpoint_arn=arn) == 0.5
        assert value(families, "opencomprehend_endpoint_inference_utilization_ratio", endpoint_arn=arn) == 0.25


def test_consumed_inference_units_cover_the_last_minute_only() -> None:
    metrics = Metrics()
    metrics.endpoint_used("e", 6000, now=1000.0)
    metrics.endpoint_used("e", 600, now=1030.0)
    assert metrics.consumed_inference_units("e", now=1030.5) == pytest.approx(6600 / 60 / 100)
    assert metrics.consumed_inference_units("e", now=1060.0) == pytest.approx(600 / 60 / 100)
    assert metrics.consumed_inference_units("e", now=1091.0) == 0
    assert metrics.consumed_inference_units("unknown") == 0


def test_a_jobs_documents_characters_shards_and_duration_are_counted(world: World) -> None:  # noqa: F811
    text = "Angela Merkel visited Paris.\n\n東京 is big.\n"
    world.objects.put_bytes("docs", "in/a.txt", text.encode())
    job = submit(world)
    metrics = Metrics()
    for claimed in world.store.claim(OWNER, 30.0, 10):
        JobRun(
            claimed, world.store, world.recognizers, world.objects, world.runner, world.settings,
            OWNER, threading.Event(), metrics=metrics,
        ).run()  # fmt: skip
    assert world.store.get(job.job_id).status == "COMPLETED"
    registry, kind = metrics.registry, {"job_kind": "ENTITIES"}
    assert registry.get_sample_value("opencomprehend_documents_processed_total", kind) == 3
    characters = len("Angela Merkel visited Paris.") + len("東京 is big.")
    assert registry.get_sample_value("opencomprehend_characters_processed_total", kind) == characters
    # shard_documents=2: two shards.
    assert registry.get_sample_value("opencomprehend_shard_duration_seconds_count", kind) == 2
    labels = {"job_kind": "ENTITIES", "status": "COMPLETED"}
    assert registry.get_sample_value("opencomprehend_job_duration_seconds_count", labels) == 1


def test_each_app_counts_in_its_own_registry(tmp_path: Path) -> None:
    with (
        TestClient(create_app(Settings(data_dir=tmp_path / "a"), run_workers=False)) as one,
        TestClient(create_app(Settings(data_dir=tmp_path / "b"), run_workers=False)) as two,
    ):
        call(one, "ListEntitiesDetectionJobs", {})
        labels = {"operation": "ListEntitiesDetectionJobs", "status": "200"}
        assert value(scrape(one), "opencomprehend_requests_total", **labels) == 1
        assert value(scrape(two), "opencomprehend_requests_total", **labels) == 0


def test_a_training_is_counted_by_its_outcome(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings, run_workers=False)) as client:
        # Training data in a bucket nobody made: the training ends IN_ERROR at once.
        status, created = call(client, "CreateEntityRecognizer", RECOGNIZER, key=ACCOUNT)
        assert status == 200, created
    store = JobStore(settings.resolved_database_url())
    recognizers = RecognizerStore(store.engine)
    metrics = Metrics()
    [claimed] = recognizers.claim(OWNER, 30.0, 1)
    TrainingRun(
        claimed, recognizers, open_object_store(settings), settings, OWNER, threading.Event(), metrics=metrics
    ).run()
    assert recognizers.get(created["EntityRecognizerArn"]).status == "IN_ERROR"
    assert metrics.registry.get_sample_value("opencomprehend_trainings_total", {"outcome": "IN_ERROR"}) == 1
    assert metrics.registry.get_sample_value("opencomprehend_trainings_total", {"outcome": "TRAINED"}) is None



def test_the_store_figures_are_registered_once_per_registry() -> None:
    from types import SimpleNamespace

    from opencomprehend.service import metrics as service_metrics

    env = SimpleNamespace(
        metrics=Metrics(),
        store=SimpleNamespace(count_by_kind_and_status=lambda: [("ENTITIES", "SUBMITTED", 3)]),
        endpoints=SimpleNamespace(inference_units=lambda: []),
        runner=None,
    )
    for _ in range(2):  # two apps built on one environment
        service_metrics.register(env)  # type: ignore[arg-type]
    text = service_metrics.exposition(env).decode()  # type: ignore[arg-type]
    assert text.count("# TYPE opencomprehend_jobs gauge") == 1
    assert 'opencomprehend_jobs_queued{job_kind="ENTITIES"} 3.0' in text


def test_a_cluster_runners_workers_come_from_its_health_report() -> None:
    from types import SimpleNamespace

    from opencomprehend.service import metrics as service_metrics

    # DaskRunner's worker_stats is None: its health report's Live (Dask workers) and Slots are what is known.
    env = SimpleNamespace(
        metrics=Metrics(),
        store=SimpleNamespace(count_by_kind_and_status=lambda: []),
        endpoints=SimpleNamespace(inference_units=lambda: []),
        runner=SimpleNamespace(
            health=lambda: {"Live": 2, "RealTime": 0, "Threads": 2, "Slots": 4}, worker_stats=lambda: None
        ),
    )
    service_metrics.register(env)  # type: ignore[arg-type]
    registry = env.metrics.registry
    assert registry.get_sample_value("opencomprehend_workers_alive") == 2
    assert registry.get_sample_value("opencomprehend_workers_configured") == 4
    assert registry.get_sample_value("opencomprehend_workers_busy") is None
    assert registry.get_sample_value("opencomprehend_worker_recycles_total") is None
