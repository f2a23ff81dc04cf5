"""PII NAME and ADDRESS strict F1 of a language's shipped model against another model folder, on the
NAME and ADDRESS sentences of bench/pii.py's corpus (200 each, seed 11):

    .venv/bin/python training/experiments/pii_names_cmp.py <lang> <model folder>
"""
import sys

sys.path.insert(0, "bench")
import pii as B

from opencomprehend.nlp.pii import PiiEngine
from opencomprehend.nlp.registry import load_engine

lang, folder = sys.argv[1], sys.argv[2]
ex = [e for e in B.corpus(lang, 200, 11) if e.spans[0][2] in ("NAME", "ADDRESS")]
for label, models in [("shipped", None), ("new", {lang: ("spacy.v1", folder)})]:
    eng = PiiEngine(lang, load_engine(lang, models))
    pred = []
    for i in range(0, len(ex), 64):
        pred += eng.recognise([e.text for e in ex[i:i+64]])
    res = B.evaluate(ex, pred)
    print(label, {t: round(r["strict"][2], 3) for t, r in res["types"].items() if t in ("NAME", "ADDRESS")}, "left", res["leaked"], "changed", res["changed"])  # noqa: E501
