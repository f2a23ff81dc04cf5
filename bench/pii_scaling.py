"""PII detection time per KB from 1 KB to 1 MB, and DetectEntities of one account while another floods the
server with heavy DetectPiiEntities requests (issue 17, item 1).

    .venv/bin/python bench/pii_scaling.py [--language en] [--max-kb 1000] [--kinds pii,1.,a@] [--no-server]

1. The language's PII engine (nlp/pii/, in this process) on texts of 1, 10, 100 and 1,000 KB of each
   kind: `pii` is bench/pii.py's corpus of sentences with one identifier, name or address each, shuffled
   (real running text is sparser); `1.` and `a@` are the texts that made the work grow with the square of the
   length (every "1.1" a number and a host name's start, every "a@a" an e-mail's). Prints ms per KB at
   each size and its ratio to the 1 KB figure measured in the same run (goal: flat within 2x).
2. A real `opencomprehend serve` (its default 2 job workers + 1 real-time worker): account 111111111111
   sends 3 DetectPiiEntities requests of ~99 KB at once, account 222222222222 then sends DetectEntities
   ("Bob lives in Paris.") one after another until they are answered. Prints the second account's latency
   against its latency on the idle server (the baseline), and how long the heavy requests took.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from pii import corpus  # noqa: E402

KINDS = {"1.": "1.", "a@": "a@"}


def text_of(kind: str, length: int, language: str) -> str:
    if kind == "pii":
        sentences = [example.text for example in corpus(language, 40, seed=1)]
        # The corpus comes type by type: shuffled, every size holds the same mix of kinds.
        random.Random(0).shuffle(sentences)
        unit = "\n".join(sentences) + "\n"
    else:
        unit = KINDS[kind]
    return (unit * (length // len(unit) + 1))[:length]


def engine_scaling(language: str, kinds: list[str], sizes_kb: list[int]) -> None:
    from opencomprehend.nlp.pii import PiiEngine
    from opencomprehend.nlp.registry import load_engine

    engine = PiiEngine(language, load_engine(language))
    engine.recognise(["Warm up, John Smith, 555-0100."])
    print(f"PII engine ({language}), one text at a time on one core: ms per KB (ratio to 1 KB)")
    for kind in kinds:
        row = []
        for kb in sizes_kb:
            text = text_of(kind, kb * 1000, language)
            started = time.perf_counter()
            engine.recognise([text])
            row.append((time.perf_counter() - started) * 1000 / kb)
        cells = ", ".join(f"{kb:,} KB {ms:.0f} ({ms / row[0]:.2f}x)" for kb, ms in zip(sizes_kb, row, strict=True))
        print(f"  {kind:>4}: {cells}; max/min {max(row) / min(row):.2f}x", flush=True)


def flood(language: str) -> None:
    from support.components import free_port
    from support.server import Server

    heavy_text = text_of("pii", 99_000, language)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(data_dir=Path(tmp) / "server", port=free_port())
        server.data_dir.mkdir()
        server.start()
        try:
            heavy_client = server.client("111111111111", read_timeout=600)
            light_client = server.client("222222222222")
            light_client.detect_entities(Text="Warm up in Paris.", LanguageCode="en")
            heavy_client.detect_pii_entities(Text="Warm up, John Smith.", LanguageCode=language)

            def light(count: int) -> list[float]:
                timings = []
                for _ in range(count):
                    started = time.perf_counter()
                    light_client.detect_entities(Text="Bob lives in Paris.", LanguageCode="en")
                    timings.append((time.perf_counter() - started) * 1000)
                return timings

            idle = light(20)
            heavy_times: list[float] = []

            def heavy() -> None:
                started = time.perf_counter()
                heavy_client.detect_pii_entities(Text=heavy_text, LanguageCode=language)
                heavy_times.append(time.perf_counter() - started)

            threads = [threading.Thread(target=heavy) for _ in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(0.5)
            busy: list[float] = []
            while any(thread.is_alive() for thread in threads):
                busy += light(1)
            for thread in threads:
                thread.join()
        finally:
            server.stop()
    print(f"DetectEntities of one account while another sends 3 DetectPiiEntities of {len(heavy_text):,} characters")
    print(f"  idle (baseline): p50 {statistics.median(idle):.0f} ms, max {max(idle):.0f} ms")
    print(
        f"  during the flood: {len(busy)} requests, p50 {statistics.median(busy):.0f} ms "
        f"({statistics.median(busy) / statistics.median(idle):.1f}x), max {max(busy):.0f} ms"
    )
    print(f"  the heavy requests took {', '.join(f'{t:.1f} s' for t in sorted(heavy_times))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", default="en")
    parser.add_argument("--max-kb", type=int, default=1000)
    parser.add_argument("--kinds", default="pii,1.,a@")
    parser.add_argument("--no-server", action="store_true", help="only the engine's scaling")
    args = parser.parse_args()
    sizes = [kb for kb in (1, 10, 100, 1000) if kb <= args.max_kb]
    engine_scaling(args.language, args.kinds.split(","), sizes)
    if not args.no_server:
        flood(args.language)


if __name__ == "__main__":
    main()
