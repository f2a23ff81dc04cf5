"""GET /metrics: this node's counters (metrics.py) and the figures read at scrape time from the job store and
the runner.

The store's figures (jobs by kind and status, the queue, endpoints' requested inference units) are one query
each, over every account, and the same on every node of a cluster: sum a node's counters across nodes, but
not these (take max or any one node's value).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from opencomprehend.jobs.store import SUBMITTED
from opencomprehend.service.registry import Environment

log = logging.getLogger("opencomprehend.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST


class _StateCollector(Collector):
    """What is read, not counted: the job store's records and the runner's workers, at each scrape."""

    def __init__(self, env: Environment) -> None:
        self.env = env

    def collect(self) -> Iterator[Any]:
        yield from self._jobs()
        yield from self._endpoints()
        yield from self._workers()

    def _jobs(self) -> Iterator[Any]:
        jobs = GaugeMetricFamily(
            "opencomprehend_jobs", "Analysis jobs in the job store, by job kind and status.",
            labels=["job_kind", "status"],
        )  # fmt: skip
        queued = GaugeMetricFamily(
            "opencomprehend_jobs_queued", "Jobs waiting to start (SUBMITTED) in the job store, by job kind.",
            labels=["job_kind"],
        )  # fmt: skip
        try:
            rows = self.env.store.count_by_kind_and_status()
        except Exception:  # noqa: BLE001  (a scrape must answer even while the store does not)
            log.warning("metrics: the job store did not answer", exc_info=True)
            return
        waiting: dict[str, int] = {}
        for kind, status, count in rows:
            jobs.add_metric([kind, status], count)
            if status == SUBMITTED:
                waiting[kind] = waiting.get(kind, 0) + count
        for kind, count in sorted(waiting.items()):
            queued.add_metric([kind], count)
        yield jobs
        yield queued

    def _endpoints(self) -> Iterator[Any]:
        metrics = self.env.metrics
        requested = GaugeMetricFamily(
            "opencomprehend_endpoint_requested_inference_units",
            "RequestedInferenceUnits: the endpoint's DesiredInferenceUnits (also its CurrentInferenceUnits here).",
            labels=["endpoint_arn"],
        )
        consumed = GaugeMetricFamily(
            "opencomprehend_endpoint_consumed_inference_units",
            "ConsumedInferenceUnits: inference units used by DetectEntities through the endpoint on this node, "
            "averaged over the last minute (characters a second / 100).",
            labels=["endpoint_arn"],
        )
        utilisation = GaugeMetricFamily(
            "opencomprehend_endpoint_inference_utilization_ratio",
            "InferenceUtilization as a ratio: consumed / requested inference units over the last minute, this node.",
            labels=["endpoint_arn"],
        )
        try:
            units = self.env.endpoints.inference_units()
        except Exception:  # noqa: BLE001
            log.warning("metrics: the endpoint records could not be read", exc_info=True)
            return
        for arn, desired in units:
            used = metrics.consumed_inference_units(arn)
            requested.add_metric([arn], desired)
            consumed.add_metric([arn], used)
            utilisation.add_metric([arn], used / desired if desired else 0.0)
        yield requested
        yield consumed
        yield utilisation

    def _workers(self) -> Iterator[Any]:
        runner = self.env.runner
        if runner is None:
            return
        try:
            stats = runner.worker_stats()
            if stats is None:  # a Dask cluster, the in-process runner: what their health report says
                health = runner.health()
                stats = {"alive": health.get("Live", 0), "configured": health.get("Slots", health.get("Configured"))}
        except Exception:  # noqa: BLE001
            log.warning("metrics: the runner did not report its workers", exc_info=True)
            return
        for name, key, text in (
            ("opencomprehend_workers_configured", "configured", "Worker processes this node is set to keep."),
            ("opencomprehend_workers_alive", "alive", "Worker processes up with their models loaded."),
            ("opencomprehend_workers_busy", "busy", "Worker processes running a task now."),
        ):
            if stats.get(key) is not None:
                yield GaugeMetricFamily(name, text, value=stats[key])
        if "recycles" in stats:
            yield CounterMetricFamily(
                "opencomprehend_worker_recycles",
                "Workers switched for a fresh one after serving their share of tasks (planned recycling).",
                value=stats["recycles"],
            )
        if "replacements" in stats:
            replaced = CounterMetricFamily(
                "opencomprehend_worker_replacements",
                "Workers replaced unplanned, by reason: lost_task (died or timed out on a task), exited_idle, "
                "start_failed.",
                labels=["reason"],
            )
            for reason in ("lost_task", "exited_idle", "start_failed"):
                replaced.add_metric([reason], stats["replacements"].get(reason, 0))
            yield replaced


def register(env: Environment) -> None:
    """Add the scrape-time figures to the environment's registry, once however many apps share it."""
    with _registering:
        if not env.metrics.state_registered:
            env.metrics.registry.register(_StateCollector(env))
            env.metrics.state_registered = True


_registering = threading.Lock()


def exposition(env: Environment) -> bytes:
    """The Prometheus text exposition of every metric of this node."""
    return generate_latest(env.metrics.registry)
