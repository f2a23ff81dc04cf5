"""Peak memory of the server and its workers as a job's input grows: it must stay flat (within 10 %).

    .venv/bin/python bench/memory.py [--sizes 10 100 1000] [--files 100000] [--real-lines 20000]

Each case runs in a fresh `opencomprehend serve` (2 workers, the local bucket folder) and reports the peak
resident memory (VmHWM, sampled every 0.1 s) of the server process and of its largest worker process:

- ONE_DOC_PER_LINE jobs of 10 MB, 100 MB and 1 GB. Every size holds the same `--real-lines` sentences
  (CoNLL and OntoNotes test text if ../shared is there, else generated ones), interleaved with padding
  lines of 8 KB that are over the server's per-document limit (set to 5,000 bytes here), so each
  becomes a DOCUMENT_SIZE_EXCEEDED record without recognition. The bytes read grow a hundredfold while
  the recognition work stays the same: what grows with the input is the reading, which is what must not
  hold a file whole;
- a ONE_DOC_PER_FILE job of `--files` small files (one sentence each).

The baseline is the smallest line job measured in the same run; each other case prints its ratio to it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ner"
sys.path.insert(0, str(ROOT / "tests"))

from support.components import free_port  # noqa: E402
from support.server import ROLE, Server  # noqa: E402

PAD_BYTES = 8_192
DOCUMENT_LIMIT = 5_000
MB = 1_000_000


def sentences(count: int) -> list[str]:
    texts: list[str] = []
    for name in ("conll2003/test.jsonl", "ontonotes5/test.jsonl"):
        path = DATA / name
        if path.exists():
            with open(path, encoding="utf-8") as lines:
                texts.extend(json.loads(line)["text"] for line in lines)
    texts = [t.replace("\n", " ").replace("\r", " ") for t in texts if t.strip()]
    if not texts:
        texts = [f"Angela Merkel met Emmanuel Macron in Paris on day {i}." for i in range(1000)]
    while len(texts) < count:
        texts += texts
    return texts[:count]


def write_lines(path: Path, real: list[str], size: int) -> int:
    """`real` spread evenly among padding lines until the file is `size` bytes; returns the line count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    real_bytes = sum(len(t.encode()) + 1 for t in real)
    pads = max(0, (size - real_bytes) // (PAD_BYTES + 1))
    pad = b"x" * PAD_BYTES + b"\n"
    every = max(1, pads // max(1, len(real)))
    with open(path, "wb") as out:
        written = 0
        for text in real:
            out.write(text.encode() + b"\n")
            for _ in range(min(every, pads - written)):
                out.write(pad)
            written += min(every, pads - written)
        while written < pads:
            out.write(pad)
            written += 1
    return len(real) + pads


class Peaks:
    """Samples VmHWM of a process and all its children until stopped: the largest seen, by role."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.server = 0.0
        self.worker = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _hwm(pid: int) -> float:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _children(self) -> list[int]:
        found = []
        try:
            for task in Path(f"/proc/{self.pid}/task").iterdir():
                for child in (task / "children").read_text().split():
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                    if b"resource_tracker" not in cmdline:
                        found.append(int(child))
        except OSError:
            pass
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            self.server = max(self.server, self._hwm(self.pid))
            for child in self._children():
                self.worker = max(self.worker, self._hwm(child))
            time.sleep(0.1)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_case(name: str, fill, input_format: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(
            data_dir=Path(tmp),
            port=free_port(),
            extra_env={"OPENCOMPREHEND_WORKERS": "2", "OPENCOMPREHEND_MAX_DOCUMENT_BYTES": str(DOCUMENT_LIMIT)},
        )
        documents = fill(server.bucket_root / "bench" / "in")
        size = sum(p.stat().st_size for p in (server.bucket_root / "bench" / "in").rglob("*") if p.is_file())
        server.start()
        try:
            client = server.client()
            with Peaks(server.process.pid) as peaks:  # type: ignore[union-attr]
                started = time.perf_counter()
                job_id = client.start_entities_detection_job(
                    InputDataConfig={"S3Uri": "s3://bench/in/", "InputFormat": input_format},
                    OutputDataConfig={"S3Uri": "s3://bench/out/"},
                    DataAccessRoleArn=ROLE,
                    LanguageCode="en",
                )["JobId"]
                props = server.wait(job_id, timeout=7200)
                elapsed = time.perf_counter() - started
            if props["JobStatus"] != "COMPLETED":
                raise RuntimeError(f"{name}: the job ended {props['JobStatus']}: {props.get('Message')}")
        finally:
            server.stop()
    figures = {"input_mb": size / MB, "documents": documents, "seconds": elapsed}
    figures |= {"server_mb": peaks.server, "worker_mb": peaks.worker}
    print(
        f"{name:>22}: {size / MB:8.1f} MB, {documents:>9,} documents, {elapsed:7.1f} s; peak RSS server "
        f"{peaks.server:6.0f} MB, largest worker {peaks.worker:6.0f} MB",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000], help="line-job sizes in MB")
    parser.add_argument("--files", type=int, default=100_000, help="files of the ONE_DOC_PER_FILE job (0: none)")
    parser.add_argument("--real-lines", type=int, default=20_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    real = sentences(args.real_lines)
    results: dict[str, dict[str, float]] = {}
    for size in sorted(args.sizes):
        results[f"lines {size} MB"] = run_case(
            f"ONE_DOC_PER_LINE {size} MB",
            lambda folder, size=size: write_lines(folder / "big.txt", real, size * MB),
            "ONE_DOC_PER_LINE",
        )
    if args.files:

        def files(folder: Path) -> int:
            texts = sentences(args.files)
            for i, text in enumerate(texts):
                sub = folder / f"{i // 1000:03d}"
                sub.mkdir(parents=True, exist_ok=True)
                (sub / f"{i:06d}.txt").write_text(text)
            return len(texts)

        results[f"files {args.files}"] = run_case(f"ONE_DOC_PER_FILE x{args.files:,}", files, "ONE_DOC_PER_FILE")

    base_name = f"lines {min(args.sizes)} MB"
    base = results[base_name]
    print(f"\nbaseline: {base_name} (server {base['server_mb']:.0f} MB, worker {base['worker_mb']:.0f} MB)")
    for name, figures in results.items():
        server_ratio = figures["server_mb"] / base["server_mb"]
        worker_ratio = figures["worker_mb"] / base["worker_mb"]
        flat = "flat" if server_ratio <= 1.10 and worker_ratio <= 1.10 else "NOT flat"
        print(
            f"{name:>16}: server {server_ratio:.3f}x, worker {worker_ratio:.3f}x the baseline ({flat}, target <= 1.10x)"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
