"""Speed and memory of a bring-your-own transformer model (transformers.v1) against the shipped spaCy model.

    .venv/bin/python bench/byom.py [--chars 30000] [--model-dir /tmp/byom-xlmr] [--layers 12] [--hidden 768]
                                   [--heads 12] [--vocab 250002] [--no-int8]

The model has xlm-roberta-base's shape (12 layers, hidden 768, 12 heads, feed-forward 3072, vocabulary 250,002,
512 positions, 9 BIO labels: about 278 M parameters, 1.1 GB of float32) with random weights, written with
onnx.helper by tests/support/token_classifier.py; its accuracy means nothing, its cost is a real model's. The
tokenizer is a WordPiece over the text's own words (a word of more than six letters is two pieces), so the
model sees about as many tokens a word as xlm-roberta's SentencePiece gives English; the tokens per 1,000
characters are printed with the figures. The int8 model is onnxruntime.quantization.quantize_dynamic's
(weights int8, activations quantised on the fly).

Each configuration runs in a fresh process (the model is built once and kept in --model-dir): load RSS is
resident memory after load_engine() and a warm-up minus just before; peak RSS is the process's high-water
mark after the run (VmHWM); speed is engine.recognise() over CoNLL-2003 test's English text (../shared/data/ner),
25 lines a document, best of --repeat runs. The shipped English spaCy model runs in the same invocation, on
the same text, one thread (spaCy's NER is single-threaded), and every ratio is against it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))
DATA = Path(os.environ.get("OPENCOMPREHEND_SHARED_DATA", ROOT.parent / "shared" / "data"))
CONLL = DATA / "ner" / "conll2003" / "test.jsonl"
LABELS = ("O", "B-DATE", "I-DATE", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")


def documents(chars: int) -> list[str]:
    lines = [json.loads(line)["text"] for line in CONLL.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs, total = [], 0
    for i in range(0, len(lines), 25):
        doc = "\n".join(lines[i : i + 25])
        docs.append(doc)
        total += len(doc)
        if total >= chars:
            break
    return docs


def build(folder: Path, args: argparse.Namespace, texts: list[str]) -> None:
    """The model folder (model.onnx, and model_int8.onnx unless --no-int8); kept for the next run."""
    import numpy as np
    from support.token_classifier import SPECIALS, encoder_graph, wordpiece_tokenizer, write_model_folder

    if (folder / "model.onnx").is_file() and (args.no_int8 or (folder / "model_int8.onnx").is_file()):
        return
    started = time.perf_counter()
    words: set[str] = set()
    for text in texts:
        from tokenizers import pre_tokenizers

        words |= {w for w, _ in pre_tokenizers.BertPreTokenizer().pre_tokenize_str(text)}
    pieces: list[str] = []
    for word in sorted(words):
        pieces += [word[:4], "##" + word[4:]] if len(word) > 6 else [word]
    vocab = list(dict.fromkeys([*SPECIALS, *pieces]))
    vocab += [f"filler{i}" for i in range(args.vocab - len(vocab))]
    rng = np.random.default_rng(0)
    embeddings = (rng.standard_normal((args.vocab, args.hidden), dtype=np.float32) * 0.02).astype(np.float32)
    classifier = (rng.standard_normal((args.hidden, len(LABELS)), dtype=np.float32) * 0.02).astype(np.float32)
    graph = encoder_graph(
        embeddings, classifier, layers=args.layers, heads=args.heads, ffn=args.hidden * 4, max_positions=514,
        scale=0.02, layer_norm=True,
    )  # fmt: skip
    del embeddings
    write_model_folder(folder, wordpiece_tokenizer(vocab), graph, LABELS, 514, model_type="xlm-roberta")
    del graph
    print(f"built {folder / 'model.onnx'} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if not args.no_int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        started = time.perf_counter()
        quantize_dynamic(folder / "model.onnx", folder / "model_int8.onnx", weight_type=QuantType.QInt8)
        print(f"quantised in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def rss_kb(field: str = "VmRSS") -> int:
    # VmHWM is this process's own high-water mark; getrusage's ru_maxrss would carry the parent's over exec.
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measure(config: dict) -> dict:
    """In a fresh process: load the engine, warm it up, time recognise() over the documents."""
    from opencomprehend.nlp.registry import load_engine

    texts = documents(config["chars"])
    import opencomprehend.nlp.ner.spacy_engine  # noqa: F401  (imported before, as in a worker)
    import opencomprehend.nlp.ner.transformers_engine  # noqa: F401

    before = rss_kb()
    if config["engine"] == "spacy.v1":
        engine = load_engine("en")
    else:
        engine = load_engine(
            "en", {"en": ("transformers.v1", config["model"])}, threads=config["threads"], onnx_file=config["file"]
        )
    engine.recognise(texts[:1])
    load_rss = rss_kb() - before
    best = float("inf")
    for _ in range(config["repeat"]):
        started = time.perf_counter()
        found = engine.recognise(texts)
        best = min(best, time.perf_counter() - started)
    chars = sum(len(t) for t in texts)
    tokens = None
    if config["engine"] != "spacy.v1":
        tokens = sum(len(engine.tokenizer.encode(t, add_special_tokens=False).ids) for t in texts)  # type: ignore[attr-defined]
    return {
        "chars": chars,
        "seconds": best,
        "entities": sum(len(f) for f in found),
        "load_rss_mb": load_rss / 1024,
        "peak_rss_mb": rss_kb("VmHWM") / 1024,
        "tokens": tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=30_000, help="characters of text to recognise")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--model-dir", type=Path, default=Path("/tmp/byom-xlmr"))
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--vocab", type=int, default=250_002)
    parser.add_argument("--no-int8", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # a child's configuration (JSON)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return

    texts = documents(args.chars)
    build(args.model_dir, args, texts)
    size = {f.name: f.stat().st_size / 1e6 for f in args.model_dir.glob("*.onnx")}
    configs = [("spaCy en (shipped)", {"engine": "spacy.v1", "threads": 1})]
    for file in ["model.onnx"] + ([] if args.no_int8 else ["model_int8.onnx"]):
        kind = "float32" if file == "model.onnx" else "int8 dynamic"
        for threads in (1, 2):
            configs.append(
                (f"transformer {kind}, {threads} thread{'s' if threads > 1 else ''}",
                 {"engine": "transformers.v1", "model": str(args.model_dir), "file": file, "threads": threads}),
            )  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    rows = []
    for name, config in configs:
        config = {**config, "chars": args.chars, "repeat": args.repeat}
        done = subprocess.run(
            [sys.executable, __file__, "--measure", json.dumps(config)], capture_output=True, text=True, env=env
        )
        if done.returncode != 0:
            print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append((name, config, json.loads(done.stdout.strip().splitlines()[-1])))

    base = rows[0][2]
    base_ms = base["seconds"] * 1000 / (base["chars"] / 1000)
    shape = f"{args.layers} layers, hidden {args.hidden}, {args.heads} heads, vocabulary {args.vocab:,}"
    print(f"model: {shape}; files {', '.join(f'{k} {v:,.0f} MB' for k, v in sorted(size.items()))}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"text: CoNLL-2003 test, {base['chars']:,} characters in {len(texts)} documents of 25 lines; "
          f"host: {os.cpu_count()} CPUs, load average at the end {load}")  # fmt: skip
    print("| configuration | ms per 1,000 chars | chars/s | × spaCy's time | tokens per 1,000 chars | load RSS (MB) "
          "| peak RSS (MB) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, _config, r in rows:
        ms = r["seconds"] * 1000 / (r["chars"] / 1000)
        tokens = f"{r['tokens'] * 1000 / r['chars']:.0f}" if r["tokens"] else "-"
        print(f"| {name} | {ms:,.1f} | {r['chars'] / r['seconds']:,.0f} | {ms / base_ms:,.1f} | {tokens} "
              f"| {r['load_rss_mb']:,.0f} | {r['peak_rss_mb']:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
