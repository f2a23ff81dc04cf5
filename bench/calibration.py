"""Accuracy, score calibration and single-core throughput of the "spacy.v1" engine.

Runs the engine over the English gold sets in ../shared/data/ner (CoNLL-2003 test, OntoNotes 5 test)
for each requested beam width. Width 1 is the engine's default: greedy decoding scored from the
per-step action probabilities; widths 2-4 are spaCy's beam with marginal probabilities as scores.
Per set and width it prints:

- tokens/s on one core (the process is pinned to one CPU and BLAS is single-threaded);
- entity-level precision/recall/F1 (opencomprehend.nlp.evaluation.score): exact span and Comprehend
  type after mapping both gold and predicted labels through opencomprehend.nlp.ner.labels. CoNLL-2003 only
  annotates PER/LOC/ORG/MISC, so there only PERSON, LOCATION, ORGANIZATION and OTHER are compared and
  other predictions are ignored;
- a calibration table: predictions bucketed by Score with the fraction that is correct, the precision
  of predictions scored >= 0.9, and the expected calibration error (ECE) over those buckets.

Usage: python bench/calibration.py [--limit N] [--beam-width W [W ...]] [--repeat N]
                                   [--sets SET ...] [--check-full-pipeline]
"""

from __future__ import annotations

import os

# Single-threaded BLAS, set before numpy is imported, so "one core" is what is measured.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data" / "ner"

try:
    import opencomprehend  # noqa: F401
except ImportError:  # running from a checkout without an installed package
    sys.path.insert(0, str(REPO / "src"))

from opencomprehend.nlp.evaluation import judged, score  # noqa: E402
from opencomprehend.nlp.ner.labels import comprehend_type, gold_entities  # noqa: E402
from opencomprehend.nlp.registry import load_engine  # noqa: E402

SETS = {
    "conll2003": ("conll2003/test.jsonl", {"PERSON", "LOCATION", "ORGANIZATION", "OTHER"}),
    "ontonotes5": ("ontonotes5/test.jsonl", None),  # None: every type is compared
}
BUCKETS = [(0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 0.99), (0.99, 1.0000001)]


def read_set(path: Path, limit: int | None) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
                if limit is not None and len(rows) >= limit:
                    break
    return rows


def evaluate(rows: list[dict], predictions: list[list[dict]], types: set[str] | None) -> dict:
    gold_sets: list[list[tuple[int, int, str]]] = []
    predicted: list[list[tuple[int, int, str]]] = []
    for row, preds in zip(rows, predictions, strict=True):
        gold = set(gold_entities((g["begin"], g["end"], g["type"]) for g in row["entities"]))
        gold_sets.append(sorted(g for g in gold if types is None or g[2] in types))
        kept = [p for p in preds if types is None or p["Type"] in types]
        predicted.append([(p["BeginOffset"], p["EndOffset"], p["Type"]) for p in kept])
    scored = [(s, right) for _, s, right in judged(gold_sets, predictions, types)]
    res = score(gold_sets, predicted)
    return {
        "p": res.precision,
        "r": res.recall,
        "f1": res.f1,
        "n_pred": res.predicted,
        "n_gold": res.support,
        "scored": scored,
    }


def calibration_lines(scored: list[tuple[float, bool]]) -> list[str]:
    lines = [f"    {'score bucket':<14}{'count':>7}{'share':>8}{'mean score':>12}{'correct':>9}"]
    ece = 0.0
    for lo, hi in BUCKETS:
        inside = [(s, ok) for s, ok in scored if lo <= s < hi]
        label = f"[{lo:g}, {min(hi, 1.0):g}" + ("]" if hi > 1 else ")")
        if not inside:
            lines.append(f"    {label:<14}{0:>7}{0:>8.1%}{'-':>12}{'-':>9}")
            continue
        mean = sum(s for s, _ in inside) / len(inside)
        acc = sum(ok for _, ok in inside) / len(inside)
        ece += len(inside) / len(scored) * abs(mean - acc)
        share = len(inside) / len(scored)
        lines.append(f"    {label:<14}{len(inside):>7}{share:>8.1%}{mean:>12.3f}{acc:>9.1%}")
    high = [ok for s, ok in scored if s >= 0.9]
    exact_one = [ok for s, ok in scored if s >= 1.0]
    lines.append(
        f"    score >= 0.9: {len(high)} predictions, {sum(high) / max(1, len(high)):.1%} correct; "
        f"score == 1.0: {len(exact_one)} ({len(exact_one) / max(1, len(scored)):.1%} of all), "
        f"{sum(exact_one) / max(1, len(exact_one)):.1%} correct; ECE {ece:.3f}"
    )
    return lines


def check_full_pipeline(engine, rows: list[dict]) -> str:
    """How often the NER-only pipeline's greedy entities differ from the full pipeline's."""
    import spacy

    full = spacy.load(engine.model)
    saved, engine.beam_width = engine.beam_width, 1
    ours = engine.recognise([r["text"] for r in rows])
    engine.beam_width = saved
    differ = 0
    for doc, preds in zip(full.pipe([r["text"] for r in rows], batch_size=64), ours, strict=True):
        theirs = [(e.start_char, e.end_char, comprehend_type(e.label_)) for e in doc.ents]
        differ += theirs != [(p["BeginOffset"], p["EndOffset"], p["Type"]) for p in preds]
    return f"  engine (NER only, beam_width 1) vs full spaCy pipeline: {differ} of {len(rows)} texts differ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="first N sentences of each set")
    parser.add_argument(
        "--beam-width",
        type=int,
        nargs="+",
        default=[1, 2, 3, 4],
        help="beam widths to measure (1 = greedy with per-step probabilities)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="time each run N times and report the fastest (the host may be shared)"
    )
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument(
        "--check-full-pipeline",
        action="store_true",
        help="also compare NER-only greedy output with the full spaCy pipeline",
    )
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    engine = load_engine("en")
    print(f"model {engine.model}, pipeline {engine.nlp.pipe_names}, python {sys.version.split()[0]}")
    for name in args.sets:
        rel, types = SETS[name]
        rows = read_set(DATA / rel, args.limit)
        texts = [r["text"] for r in rows]
        n_tokens = sum(len(engine.nlp.make_doc(t)) for t in texts)
        scope = "PERSON/LOCATION/ORGANIZATION/OTHER" if types else "all nine types"
        print(f"\n== {name}: {len(rows)} sentences, {n_tokens} spaCy tokens, compared on {scope}")
        if args.check_full_pipeline:
            print(check_full_pipeline(engine, rows))
        for width in args.beam_width:
            engine.beam_width = width
            engine.recognise(texts[:64])  # warm-up: first-call allocation is not throughput
            elapsed = float("inf")
            for _ in range(max(1, args.repeat)):
                t0 = time.perf_counter()
                predictions = engine.recognise(texts)
                elapsed = min(elapsed, time.perf_counter() - t0)
            for row, preds in zip(rows, predictions, strict=True):
                for p in preds:
                    assert row["text"][p["BeginOffset"] : p["EndOffset"]] == p["Text"]
            res = evaluate(rows, predictions, types)
            print(
                f"  beam_width {width}{' (greedy)' if width == 1 else ''}: "
                f"{n_tokens / elapsed:,.0f} tokens/s, "
                f"P {res['p']:.3f} R {res['r']:.3f} F1 {res['f1']:.3f} "
                f"({res['n_pred']} predicted, {res['n_gold']} gold)"
            )
            print("\n".join(calibration_lines(res["scored"])))


if __name__ == "__main__":
    main()
