"""Hostile-input run against a real server: requests derived from the service model, mutated, counted.

    .venv/bin/python bench/fuzz.py [--requests 10000] [--timeout 30]

Starts `opencomprehend serve` on a free loopback port, sends N requests drawn by tests/support/fuzz.py
(valid by the model's shapes, or broken on purpose) over real HTTP, and prints: answers by status,
5xx answers (target 0), hangs (no answer within --timeout; target 0), non-JSON answers (target 0),
whether /health still answers 200 afterwards, and the rate against a baseline of plain valid requests
(ListEntitiesDetectionJobs) measured in the same run.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from support.components import free_port  # noqa: E402
from support.fuzz import request  # noqa: E402
from support.server import Server  # noqa: E402

AUTH = (
    "AWS4-HMAC-SHA256 Credential=123456789012/20261201/us-east-1/comprehend/aws4_request, "
    "SignedHeaders=host, Signature=00"
)


def send(port: int, operation: str, raw: bytes, timeout: float) -> tuple[int | None, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST", "/", body=raw,
            headers={"X-Amz-Target": f"Comprehend_20171127.{operation}", "Authorization": AUTH,
                     "Content-Type": "application/x-amz-json-1.1"},
        )  # fmt: skip
        response = conn.getresponse()
        return response.status, response.read()
    except TimeoutError:
        return None, b""
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        server = Server(data_dir=Path(folder), port=free_port(), extra_env={"OPENCOMPREHEND_MAX_DETECT_BYTES": "2000"})
        server.start()
        try:
            started = time.perf_counter()
            for _ in range(200):
                send(server.port, "ListEntitiesDetectionJobs", b"{}", args.timeout)
            baseline = 200 / (time.perf_counter() - started)

            statuses: collections.Counter[str] = collections.Counter()
            failures: list[tuple[str, object, int | None, bytes]] = []

            @settings(max_examples=args.requests, deadline=None, suppress_health_check=list(HealthCheck),
                      database=None)  # fmt: skip
            @given(drawn=request())
            def run(drawn: tuple[str, object]) -> None:
                operation, body = drawn
                status, answer = send(server.port, operation, json.dumps(body).encode(), args.timeout)
                statuses["hang" if status is None else str(status)] += 1
                try:
                    json.loads(answer)
                    parsed = True
                except ValueError:
                    parsed = False
                if status is None or status >= 500 or not parsed:
                    failures.append((operation, body, status, answer[:300]))

            started = time.perf_counter()
            run()
            seconds = time.perf_counter() - started
            total = sum(statuses.values())
            with urllib.request.urlopen(f"{server.endpoint}/health", timeout=10) as health:
                healthy = health.status
        finally:
            server.stop()

    print(f"requests: {total:,} in {seconds:.1f} s ({total / seconds:,.0f}/s)")
    print("answers by status: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items())))
    fives = sum(v for k, v in statuses.items() if k != "hang" and int(k) >= 500)
    print(f"5xx: {fives} (target 0); hangs: {statuses['hang']} (target 0); not JSON or failing: {len(failures)}")
    print(f"/health after the run: {healthy}")
    rate = total / seconds
    print(f"rate: {rate:,.0f}/s against {baseline:,.0f}/s of plain valid requests: ratio {rate / baseline:.2f}")
    for failure in failures[:10]:
        print("FAILED:", failure)


if __name__ == "__main__":
    main()
