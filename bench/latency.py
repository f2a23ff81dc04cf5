"""DetectEntities latency for 1 KB of English, on an idle server and while a large job runs, in one run.

    .venv/bin/python bench/latency.py [--requests 300] [--job-lines 40000] [--runtime local|dask]

One `opencomprehend serve` (2 workers, or a loopback Dask cluster of 2 one-thread workers with
`--runtime dask`); requests are sent one after another from one boto3 client (keep-alive), each a
different 1 KB text (CoNLL/OntoNotes sentences if ../shared is there). Prints p50, p90, p99 and max on the
idle server (the baseline), then the same while a ONE_DOC_PER_LINE job of `--job-lines` sentences keeps
the workers busy, and the ratio of each to the baseline. Targets: idle p50 <= 20 ms, p99 <= 60 ms; under
the job p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from support.components import free_port  # noqa: E402
from support.server import ROLE, Server  # noqa: E402
from throughput import corpus  # noqa: E402


def texts_of_1kb(count: int) -> list[str]:
    sentences = corpus(count * 30)
    out, current = [], ""
    for sentence in sentences:
        current = f"{current} {sentence}".strip()
        if len(current.encode()) >= 1000:
            out.append(current.encode()[:1024].decode(errors="ignore"))
            current = ""
            if len(out) == count:
                break
    return out


def measure(client, texts: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    timings = []
    for text in texts:
        started = time.perf_counter()
        client.detect_entities(Text=text, LanguageCode="en")
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": statistics.median(ordered), "p90": pick(0.90), "p99": pick(0.99), "max": ordered[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--job-lines", type=int, default=40_000)
    parser.add_argument("--runtime", choices=["local", "dask"], default="local")
    parser.add_argument(
        "--realtime-workers",
        type=int,
        default=1,
        help="dask: more Dask workers kept for real time (--resources realtime=1), as the local runtime keeps one",
    )
    args = parser.parse_args()
    texts = texts_of_1kb(args.requests)
    job_text = "\n".join(corpus(args.job_lines)) + "\n"

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        env = {"OPENCOMPREHEND_WORKERS": "2"}
        if args.runtime == "dask":
            from support.dask_cluster import find_dask, running_dask

            cluster = stack.enter_context(running_dask(find_dask(), Path(tmp) / "dask", workers=2))  # type: ignore[arg-type]
            for _ in range(args.realtime_workers):
                cluster.add_worker(args=["--resources", "realtime=1"])
            cluster.wait_for_workers(2 + args.realtime_workers)
            env |= {"OPENCOMPREHEND_RUNTIME": "dask", "OPENCOMPREHEND_DASK_SCHEDULER": cluster.address}
        server = Server(data_dir=Path(tmp) / "server", port=free_port(), extra_env=env)
        server.data_dir.mkdir()
        server.put("bench", "big/docs.txt", job_text)
        server.start()
        try:
            client = server.client()
            measure(client, texts[:20])  # warm: connections, engines
            idle = summary(measure(client, texts))
            job_id = client.start_entities_detection_job(
                InputDataConfig={"S3Uri": "s3://bench/big/", "InputFormat": "ONE_DOC_PER_LINE"},
                OutputDataConfig={"S3Uri": "s3://bench/out/"},
                DataAccessRoleArn=ROLE,
                LanguageCode="en",
            )["JobId"]
            time.sleep(2)  # the job's shards are queued and running
            busy = summary(measure(client, texts))
            status = client.describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]
            still_running = status["JobStatus"] == "IN_PROGRESS"
            client.stop_entities_detection_job(JobId=job_id)
        finally:
            server.stop()

    print(f"runtime {args.runtime}, {len(texts)} DetectEntities requests of 1 KB English, one at a time")
    print("idle server (baseline): " + ", ".join(f"{k} {v:.1f} ms" for k, v in idle.items()))
    print(
        f"while a {args.job_lines:,}-line job runs{'' if still_running else ' (it ENDED before the last request)'}: "
        + ", ".join(f"{k} {v:.1f} ms ({v / idle[k]:.2f}x)" for k, v in busy.items())
    )
    print("targets: idle p50 <= 20 ms and p99 <= 60 ms; under the job p99 <= 100 ms")


if __name__ == "__main__":
    main()
