"""Resident memory of a ja or ko model in a fresh process, as a worker holds it: after load and a one-sentence
warm-up, and again after recognising a whole set. RssAnon is the process's own memory; RssFile counts file
pages (the model's and a memory-mapped dictionary's), which worker processes on one host share through the
page cache: Sudachi's dictionary (ja) is mapped, so its pages become resident as words are looked up; Kiwi
(ko) reads its model into the process's own memory, which workers do not share.

    python training/experiments/model_memory.py LANGUAGE MODEL_FOLDER SET.jsonl
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402


def rss() -> dict[str, float]:
    found = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


# A sentence to warm the model up with, per language.
WARM_UP = {"ja": "東京都に住む山田太郎は株式会社ソニーの社員である。", "ko": "이순신은 서울에서 태어났다."}


def main() -> None:
    language, model, dataset = sys.argv[1], sys.argv[2], sys.argv[3]
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    import opencomprehend.nlp.ner.spacy_engine  # noqa: F401
    from opencomprehend.nlp.registry import load_engine

    texts = [json.loads(line)["text"] for line in open(dataset, encoding="utf-8") if line.strip()]
    before = rss()
    engine = load_engine(language, {language: ("spacy.v1", model)})
    engine.recognise([WARM_UP[language]])
    loaded = rss()
    start = time.perf_counter()
    for i in range(0, len(texts), 64):
        engine.recognise(texts[i : i + 64])
    seconds = time.perf_counter() - start
    after = rss()
    chars = sum(len(t) - t.count(" ") for t in texts)
    print(
        json.dumps(
            {
                "model": model,
                "before_load": before,
                "after_load": loaded,
                "load_delta_mb": round(loaded["VmRSS"] - before["VmRSS"], 1),
                "after_set": after,
                "set_delta_mb": round(after["VmRSS"] - before["VmRSS"], 1),
                "chars_per_s": round(chars / seconds),
            }
        )
    )


if __name__ == "__main__":
    main()
