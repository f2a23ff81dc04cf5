"""Speed of the zh models with jieba word features (issue 19; training/experiments/zh.md).

    python training/experiments/zh_jieba_speed.py segmenter
        characters/s of JiebaCharTokenizer alone, with and without jieba's HMM, on converted and unconverted
        Traditional text (UNER zh-Hant GSD test) and on 2,000 rare ideographs (U+9F00-U+9FD5);
    python training/experiments/zh_jieba_speed.py engines CPU NAME=MODEL ...
        best of 5 characters/s of the "spacy.t2s.v1" engine over UNER zh GSDSimp test and WikiANN zh test, the
        models interleaved in one process pinned to CPU (on a busy host, fairer than one run each).
"""

import json
import os
import random
import sys
import time

DATA = os.environ.get("OPENCOMPREHEND_SHARED_DATA", "../shared/data")


def texts(path: str) -> list[str]:
    with open(os.path.join(DATA, "ner", path), encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines]


def segmenter() -> None:
    from spacy.vocab import Vocab

    from opencomprehend.nlp.ner.chinese import to_simplified
    from opencomprehend.nlp.ner.tokenizers import JiebaCharTokenizer

    random.seed(0)
    rare = "".join(chr(random.randint(0x9F00, 0x9FD5)) for _ in range(2000))
    traditional = "".join(texts("uner-zh-hant-gsd/test.jsonl"))[:5000]
    for hmm in (True, False):
        tokenizer = JiebaCharTokenizer(Vocab(), hmm=hmm)
        tokenizer("热身")
        for name, text in (
            ("2,000 rare ideographs", rare),
            ("5,000 Traditional characters, unconverted", traditional),
            ("the same converted", to_simplified(traditional)),
        ):
            start = time.perf_counter()
            tokenizer(text)
            print(f"hmm={hmm}: {name}: {len(text) / (time.perf_counter() - start):,.0f} characters/s", flush=True)


def engines(cpu: int, specs: list[str]) -> None:
    os.sched_setaffinity(0, {cpu})
    from threadpoolctl import threadpool_limits

    from opencomprehend.nlp.registry import load_engine

    threadpool_limits(1)
    loaded = {name: load_engine("zh", {"zh": ("spacy.t2s.v1", path)}) for name, path in (s.split("=") for s in specs)}
    for path in ("uner-zh-gsdsimp/test.jsonl", "wikiann-zh/test.jsonl"):
        documents = texts(path)
        characters = sum(map(len, documents))
        best = dict.fromkeys(loaded, 0.0)
        for engine in loaded.values():
            engine.recognise(documents[:16])
        for _ in range(5):
            for name, engine in loaded.items():
                start = time.perf_counter()
                engine.recognise(documents)
                best[name] = max(best[name], characters / (time.perf_counter() - start))
        print(path, ", ".join(f"{name} {value:,.0f} characters/s" for name, value in best.items()), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "segmenter":
        segmenter()
    else:
        engines(int(sys.argv[2]), sys.argv[3:])
