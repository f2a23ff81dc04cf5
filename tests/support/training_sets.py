"""Realistic recognizer training sets, generated from the labelled sentences in ../shared/data/ner.

Nothing here is committed data: each set is built from CoNLL-2003 sentences (PER and ORG mentions,
renamed to custom types) when a test asks for it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ner"
TYPES = {"PER": "PERSON_NAME", "ORG": "ORG_NAME"}


def sentences(limit: int, offset: int = 0) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """CoNLL sentences that mention a person or an organisation, with those mentions only."""
    found = []
    with open(DATA / "conll2003" / "test.jsonl", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            spans = [(e["begin"], e["end"], TYPES[e["type"]]) for e in record["entities"] if e["type"] in TYPES]
            text = record["text"]
            if spans and len(text) > 20 and "\n" not in text and "\r" not in text:
                found.append((text, spans))
    return found[offset : offset + limit]


def documents_file(corpus: list[tuple[str, list[tuple[int, int, str]]]]) -> str:
    return "\n".join(text for text, _ in corpus) + "\n"


def annotations_csv(corpus: list[tuple[str, list[tuple[int, int, str]]]], file: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["File", "Line", "Begin Offset", "End Offset", "Type"])
    for line, (_, spans) in enumerate(corpus):
        for begin, end, kind in spans:
            writer.writerow([file, line, begin, end, kind])
    return out.getvalue()


def entity_list_csv(corpus: list[tuple[str, list[tuple[int, int, str]]]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Text", "Type"])
    seen = set()
    for text, spans in corpus:
        for begin, end, kind in spans:
            mention = text[begin:end]
            if mention not in seen:
                seen.add(mention)
                writer.writerow([mention, kind])
    return out.getvalue()


def augmented_manifest(corpus: list[tuple[str, list[tuple[int, int, str]]]], attribute: str) -> str:
    lines = []
    for text, spans in corpus:
        entities = [{"startOffset": b, "endOffset": e, "label": kind} for b, e, kind in spans]
        lines.append(
            json.dumps(
                {
                    "source": text,
                    attribute: {
                        "annotations": {"entities": entities, "labels": [{"label": t} for t in TYPES.values()]}
                    },
                    f"{attribute}-metadata": {"job-name": "labeling-job/test", "type": "groundtruth/text-span"},
                },
                ensure_ascii=False,
            )
        )
    return "\n".join(lines) + "\n"


def trivial_baseline_f1(
    train: list[tuple[str, list[tuple[int, int, str]]]], test: list[tuple[str, list[tuple[int, int, str]]]]
) -> float:
    """The better (0-100) of two recognizers that learn nothing: every capitalised run as the most common
    type, and every training mention looked up by exact match."""
    import re
    from collections import Counter

    gold = {(i, b, e, t) for i, (_, spans) in enumerate(test) for b, e, t in spans}
    common = Counter(t for _, spans in train for _, _, t in spans).most_common(1)[0][0]
    capitalised = {
        (i, m.start(), m.end(), common)
        for i, (text, _) in enumerate(test)
        for m in re.finditer(r"[A-Z][\w.-]*(?: [A-Z][\w.-]*)*", text)
    }
    mentions = {text[b:e]: t for text, spans in train for b, e, t in spans}
    looked_up = {
        (i, m.start(), m.end(), kind)
        for i, (text, _) in enumerate(test)
        for mention, kind in mentions.items()
        for m in re.finditer(r"(?<!\w)" + re.escape(mention) + r"(?!\w)", text)
    }

    def f1(predicted: set[tuple[int, int, int, str]]) -> float:
        hits = len(predicted & gold)
        return 0.0 if hits == 0 else 200 * hits / (len(predicted) + len(gold))

    return max(f1(capitalised), f1(looked_up))
