"""Throughput of a full job through the server against raw spaCy on the same cores, in one run.

    .venv/bin/python bench/throughput.py [--workers 2] [--documents 5000]

Prints: raw nlp.pipe words/s (NER-only pipeline, warm processes, one per worker), the same corpus as a
ONE_DOC_PER_LINE job through `opencomprehend serve` (submit → COMPLETED), their ratio (target ≥ 0.9),
submit → COMPLETED for a one-document job with warm workers (target ≤ 1 s), and peak RSS of the server
process and of each worker.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ner"
sys.path.insert(0, str(ROOT / "tests"))

from support.components import free_port  # noqa: E402
from support.server import ROLE, Server  # noqa: E402

from opencomprehend.nlp.ner.pipelines import components_to_exclude  # noqa: E402
from opencomprehend.nlp.registry import DEFAULT_MODELS  # noqa: E402

_nlp = None


def _load() -> None:
    global _nlp
    import spacy

    model = DEFAULT_MODELS["en"][1]
    _nlp = spacy.load(model, exclude=components_to_exclude(model))


def _pipe(texts: list[str]) -> tuple[int, float]:
    started = time.perf_counter()
    words = sum(len(doc) for doc in _nlp.pipe(texts, batch_size=64))  # type: ignore[union-attr]
    return words, time.perf_counter() - started


def corpus(limit: int) -> list[str]:
    texts: list[str] = []
    for name in ("conll2003/test.jsonl", "ontonotes5/test.jsonl"):
        with open(DATA / name, encoding="utf-8") as lines:
            texts.extend(json.loads(line)["text"] for line in lines)
    texts = [t.replace("\n", " ").replace("\r", " ") for t in texts if t.strip()]
    while len(texts) < limit:
        texts = texts + texts
    return texts[:limit]


def raw_words_per_second(texts: list[str], workers: int) -> tuple[float, int]:
    """Warm processes, one per worker, each piping its contiguous share; wall time of the slowest."""
    share = -(-len(texts) // workers)
    chunks = [texts[i : i + share] for i in range(0, len(texts), share)]
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_load) as pool:
        pool.map(_pipe, [["Warm up."]] * workers)
        started = time.perf_counter()
        results = pool.map(_pipe, chunks)
        wall = time.perf_counter() - started
    words = sum(w for w, _ in results)
    return words / wall, words


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> dict[int, str]:
    """Child pid -> role: a pool worker, or multiprocessing's resource tracker."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # a thread or a child may end while we look
            for child in (task / "children").read_text().split():
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
                found[int(child)] = "resource tracker" if "resource_tracker" in cmdline else "worker"
        except OSError:
            continue
    return found


def run_job(server: Server, key: str, timeout: float = 1800) -> float:
    client = server.client()
    started = time.perf_counter()
    job_id = client.start_entities_detection_job(
        InputDataConfig={"S3Uri": f"s3://bench/{key}", "InputFormat": "ONE_DOC_PER_LINE"},
        OutputDataConfig={"S3Uri": "s3://bench/out/"},
        DataAccessRoleArn=ROLE,
        LanguageCode="en",
    )["JobId"]
    while True:
        status = client.describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]["JobStatus"]
        if status in ("COMPLETED", "FAILED", "STOPPED"):
            break
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"job {job_id} still {status}")
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if status != "COMPLETED":
        raise RuntimeError(f"job {job_id} ended {status}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs, for the baseline and the job alike")
    args = parser.parse_args()

    texts = corpus(args.documents)
    raw_runs = [raw_words_per_second(texts, args.workers) for _ in range(args.repeat)]
    raw_wps, words = max(raw_runs)
    print(f"corpus: {len(texts)} documents, {words} words (spaCy tokens)")
    print(
        f"raw nlp.pipe, NER only, {args.workers} warm processes: {raw_wps:,.0f} words/s "
        f"(best of {', '.join(f'{w:,.0f}' for w, _ in raw_runs)})"
    )

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(
            data_dir=Path(tmp),
            port=free_port(),
            extra_env={"OPENCOMPREHEND_WORKERS": str(args.workers)},
        )
        server.put("bench", "corpus/docs.txt", "\n".join(texts) + "\n")
        server.put("bench", "one/doc.txt", "Angela Merkel met Emmanuel Macron in Paris on Tuesday.\n")
        server.start()
        try:
            run_job(server, "one/")  # first contact: the scheduler, the pool, the page cache
            singles = [run_job(server, "one/") for _ in range(5)]
            job_runs = [run_job(server, "corpus/") for _ in range(args.repeat)]
            elapsed = min(job_runs)
            job_wps = words / elapsed
            pid = server.process.pid  # type: ignore[union-attr]
            server_rss = peak_rss_mb(pid)
            child_rss = [(role, peak_rss_mb(child)) for child, role in children(pid).items()]
        finally:
            server.stop()

    print(
        f"job through the server: {elapsed:.2f} s, {job_wps:,.0f} words/s "
        f"(best of {', '.join(f'{t:.2f} s' for t in job_runs)})"
    )
    print(f"ratio job / raw: {job_wps / raw_wps:.3f} (target >= 0.9)")
    print(
        f"one-document job, submit -> COMPLETED: median {statistics.median(singles) * 1000:.0f} ms, "
        f"max {max(singles) * 1000:.0f} ms over {len(singles)} (target <= 1000 ms)"
    )
    print(
        f"peak RSS: server process {server_rss:.0f} MB; "
        + ", ".join(f"{role} {rss:.0f} MB" for role, rss in child_rss)
        + f"; total {server_rss + sum(rss for _, rss in child_rss):.0f} MB"
    )


if __name__ == "__main__":
    main()
