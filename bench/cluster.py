"""The Dask runtime against the local pool, on the same corpus and cores, in one run; and its per-shard costs.

    .venv/bin/python bench/cluster.py [--documents 5000] [--repeat 2]

Runs the same ONE_DOC_PER_LINE job (CoNLL and OntoNotes test sentences if ../shared is there) through
`opencomprehend serve`:

- with the local pool of 2 workers (the baseline);
- with `--runtime dask` on a loopback Dask cluster of 1 worker, then 2 workers (one thread each);

and prints words/s of each and its ratio to the baseline (target for 2 Dask workers: >= 0.9x). Then the
per-shard costs that decide how far the cluster runtime scales: a Dask task's round trip (no work), a
64-document shard's payload to the worker and back, a part written to and read from the object store,
and a shard recorded in the job store.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from support.components import free_port  # noqa: E402
from support.dask_cluster import find_dask, running_dask  # noqa: E402
from support.server import Server  # noqa: E402
from throughput import corpus, run_job  # noqa: E402


def job_words_per_second(texts: list[str], repeat: int, env: dict[str, str]) -> tuple[float, list[float]]:
    import spacy

    words = sum(len(doc) for doc in spacy.blank("en").pipe(texts))
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(data_dir=Path(tmp), port=free_port(), extra_env=env)
        server.put("bench", "corpus/docs.txt", "\n".join(texts) + "\n")
        server.put("bench", "one/doc.txt", "Angela Merkel met Emmanuel Macron in Paris on Tuesday.\n")
        server.start()
        try:
            run_job(server, "one/")  # warm: scheduler, workers, page cache
            runs = [run_job(server, "corpus/") for _ in range(repeat)]
        finally:
            server.stop()
    return words / min(runs), runs


def per_shard_costs(address: str, texts: list[str]) -> None:
    from distributed import Client

    from opencomprehend.io.documents import Document
    from opencomprehend.io.objects import LocalFolderStore
    from opencomprehend.jobs.store import JobStore
    from opencomprehend.runtime.runner import entities_engine
    from opencomprehend.runtime.worker import recognise_shard

    with Client(address, set_as_default=False) as client:
        client.submit(int, 0, pure=False).result()
        trips = []
        for _ in range(50):
            started = time.perf_counter()
            client.submit(int, 0, pure=False).result()
            trips.append(time.perf_counter() - started)
    shard = [Document("docs.txt", i, text) for i, text in enumerate(texts[:64])]
    lines = recognise_shard(entities_engine("en"), shard)
    sent, back = len(pickle.dumps(shard)), sum(len(line) + 1 for line in lines)
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalFolderStore(Path(tmp) / "s3")
        data = "".join(f"{line}\n" for line in lines).encode()
        started = time.perf_counter()
        for n in range(50):
            store.put_bytes("work", f"job/part-{n:06d}.jsonl", data)
        put = (time.perf_counter() - started) / 50
        started = time.perf_counter()
        for n in range(50):
            store.get_bytes("work", f"job/part-{n:06d}.jsonl")
        get = (time.perf_counter() - started) / 50
        jobs = JobStore(f"sqlite:///{tmp}/jobs.db")
        started = time.perf_counter()
        for n in range(50):
            jobs.record_shard("job", n, 64)
        record = (time.perf_counter() - started) / 50
    print(
        f"per shard of 64 documents: Dask task round trip {statistics.median(trips) * 1000:.1f} ms (median of 50, "
        f"no work); payload {sent / 1000:.1f} KB to the worker, {back / 1000:.1f} KB back; part put "
        f"{put * 1000:.2f} ms, get {get * 1000:.2f} ms (local folder store); shard recorded in SQLite "
        f"{record * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dask-shard-documents", type=int, help="shard size for the Dask runs (default: the server's)")
    args = parser.parse_args()
    extra = {"OPENCOMPREHEND_SHARD_DOCUMENTS": str(args.dask_shard_documents)} if args.dask_shard_documents else {}
    dask = find_dask()
    if dask is None:
        raise SystemExit("the `dask` command is missing: pip install distributed")
    texts = corpus(args.documents)

    local, local_runs = job_words_per_second(texts, args.repeat, {"OPENCOMPREHEND_WORKERS": "2"})
    print(f"local pool, 2 workers: {local:,.0f} words/s (runs {', '.join(f'{r:.2f} s' for r in local_runs)})")
    with tempfile.TemporaryDirectory() as tmp, running_dask(dask, Path(tmp), workers=1) as cluster:
        env = {"OPENCOMPREHEND_RUNTIME": "dask", "OPENCOMPREHEND_DASK_SCHEDULER": cluster.address, **extra}
        one, one_runs = job_words_per_second(texts, args.repeat, env)
        print(f"dask, 1 worker: {one:,.0f} words/s (runs {', '.join(f'{r:.2f} s' for r in one_runs)})")
        cluster.add_worker()
        cluster.wait_for_workers(2)
        two, two_runs = job_words_per_second(texts, args.repeat, env)
        print(f"dask, 2 workers: {two:,.0f} words/s (runs {', '.join(f'{r:.2f} s' for r in two_runs)})")
        per_shard_costs(cluster.address, texts)
    print(f"ratio dask 1 worker / local pool (2 workers): {one / local:.3f}")
    print(f"ratio dask 2 workers / local pool (2 workers): {two / local:.3f} (target >= 0.9)")
    print(f"dask 2 workers / dask 1 worker: {two / one:.3f}")


if __name__ == "__main__":
    main()
