"""This node's Prometheus metrics: what the API process counts as requests, shards and trainings pass through it.

Everything is counted in the API process (the scheduler's threads and the request handlers live there), never
in a worker process, so the figures are right whatever runs the work: the local pool's processes or a Dask
cluster. Each node of a cluster counts its own work; the figures read from the job store at scrape time
(service/metrics.py) are the same on every node. docs/operations.md lists every metric.

One registry per Metrics (not prometheus_client's global one), so that several apps in one process (tests)
count apart.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from prometheus_client import CollectorRegistry, Counter, Histogram

# Comprehend's throughput unit: an inference unit serves 100 characters a second.
CHARACTERS_PER_INFERENCE_UNIT = 100
# The window of the endpoint utilisation gauges.
UTILISATION_WINDOW_S = 60

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SHARD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
JOB_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0, 12 * 3600.0)


class Metrics:
    """The counters and histograms of one app; `registry` is what GET /metrics exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "opencomprehend_requests",
            "API requests answered, by operation (X-Amz-Target's operation name) and HTTP status code.",
            ["operation", "status"],
            registry=registry,
        )
        self.request_duration = Histogram(
            "opencomprehend_request_duration_seconds",
            "Time from a request's arrival to its answer, by operation.",
            ["operation"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.documents = Counter(
            "opencomprehend_documents_processed",
            "Documents of analysis jobs whose shard finished on this node (error records included), by job kind.",
            ["job_kind"],
            registry=registry,
        )
        self.characters = Counter(
            "opencomprehend_characters_processed",
            "Characters (Unicode code points) of the documents processed by jobs on this node, by job kind.",
            ["job_kind"],
            registry=registry,
        )
        self.shard_duration = Histogram(
            "opencomprehend_shard_duration_seconds",
            "Time from a shard's submission to the runner to its result (queue wait included), by job kind.",
            ["job_kind"],
            buckets=SHARD_BUCKETS,
            registry=registry,
        )
        self.job_duration = Histogram(
            "opencomprehend_job_duration_seconds",
            "Time a job ran on this node, from its claim (or resumption) to its end, by job kind and end status.",
            ["job_kind", "status"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.trainings = Counter(
            "opencomprehend_trainings",
            "Custom recognizer trainings ended on this node, by outcome (the recognizer's end status).",
            ["outcome"],
            registry=registry,
        )
        self.endpoint_characters = Counter(
            "opencomprehend_endpoint_characters",
            "Characters sent to each endpoint by DetectEntities on this node (100 a second = 1 inference unit).",
            ["endpoint_arn"],
            registry=registry,
        )
        # Whether the scrape-time figures (service/metrics.py) are in the registry yet.
        self.state_registered = False
        self._lock = threading.Lock()
        # Per endpoint, [second, characters] of the last UTILISATION_WINDOW_S seconds.
        self._recent: dict[str, deque[list[int]]] = {}

    def endpoint_used(self, endpoint_arn: str, characters: int, now: float | None = None) -> None:
        """Count a DetectEntities request's characters against its endpoint."""
        self.endpoint_characters.labels(endpoint_arn=endpoint_arn).inc(characters)
        second = int(time.time() if now is None else now)
        with self._lock:
            recent = self._recent.setdefault(endpoint_arn, deque())
            if recent and recent[-1][0] == second:
                recent[-1][1] += characters
            else:
                recent.append([second, characters])
            self._prune(recent, second)

    def consumed_inference_units(self, endpoint_arn: str, now: float | None = None) -> float:
        """The inference units the endpoint's requests used on this node over the last minute, on average:
        characters a second / 100."""
        second = int(time.time() if now is None else now)
        with self._lock:
            recent = self._recent.get(endpoint_arn)
            if recent is None:
                return 0.0
            self._prune(recent, second)
            characters = sum(count for _, count in recent)
        return characters / UTILISATION_WINDOW_S / CHARACTERS_PER_INFERENCE_UNIT

    @staticmethod
    def _prune(recent: deque[list[int]], second: int) -> None:
        while recent and recent[0][0] <= second - UTILISATION_WINDOW_S:
            recent.popleft()
