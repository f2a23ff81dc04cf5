"""Recognizer training sets written for the tests: sentences with people and companies in them.

The repository carries no data set, and a clone need not have ../shared beside it, so each set is
generated (Faker, seeded: the same sentences every run) from sentence frames that put a person's or a
company's name in varied contexts, next to capitalised words that are neither (cities, days, months),
so that a recognizer has to learn from context, not from capital letters.
"""

from __future__ import annotations

import csv
import io
import json
import random

from faker import Faker

TYPES = {"PER": "PERSON_NAME", "ORG": "ORG_NAME"}

# {P} a person, {O} a company; {C} a city, {D} a weekday and {M} a month are not entities.
FRAMES = [
    "{P} joined {O} as chief financial officer in {M}.",
    "Shares of {O} fell 4 percent on {D} after {P} resigned.",
    "{P} said {O} would open a new office in {C} next year.",
    "In {C}, {P} told reporters that talks with {O} had stalled.",
    "{O} hired {P} to lead its operations in {C}.",
    "The deal between {O} and {O} was announced in {C} on {D}.",
    "{P} and {P} met in {C} to discuss the merger.",
    "According to {P}, {O} expects profits to double by {M}.",
    "{P}, a spokesman for {O}, declined to comment.",
    "{O} reported record sales in {M}, its chairman {P} said.",
    "Police in {C} questioned {P} on {D}.",
    "{P} won the award in {C} last {M}.",
    "{O} agreed to buy a stake in {O} for $2 billion.",
    "Analysts at {O} raised their forecast on {D}.",
    "{P} spent ten years at {O} before moving to {C}.",
    "A court in {C} ordered {O} to pay damages to {P}.",
    "{P} thanked the staff of {O} in a letter sent on {D}.",
    "Workers at the {C} plant of {O} went on strike in {M}.",
    "{P} arrived in {C} on {D} for a two-day visit.",
    "Investors in {O} will vote on the plan in {M}.",
    "{P} is expected to replace {P} as head of {O}.",
    "The mayor of {C}, {P}, opened the new bridge on {D}.",
    "{O} denied that it had paid {P} for the report.",
    "On {D}, {O} named {P} its new chief executive.",
    "Finance Minister {P} said on {D} that {O} would not be sold.",
    "Chief Executive {P} told {O} staff in {C} that jobs were safe.",
    "Senator {P} asked {O} to explain the losses.",
    "Judge {P} of the {C} District Court fined {O}.",
    "Dr. {P} left {O} in {M} to teach at a university in {C}.",
    "Former Chairman {P} bought shares of {O} on {D}.",
    "New York-based {O} said Vice President {P} would retire in {M}.",
    "London Police said {P} had been released on {D}.",
]


def _fill(frame: str, fake: Faker) -> tuple[str, list[tuple[int, int, str]]]:
    text, spans = "", []
    rest = frame
    while "{" in rest:
        before, _, after = rest.partition("{")
        slot, _, rest = after.partition("}")
        text += before
        if slot == "P":
            value, kind = fake.name(), TYPES["PER"]
        elif slot == "O":
            value, kind = fake.company(), TYPES["ORG"]
        else:
            value = {"C": fake.city, "D": fake.day_of_week, "M": fake.month_name}[slot]()
            kind = None
        if kind is not None:
            spans.append((len(text), len(text) + len(value), kind))
        text += value
    return text + rest, spans


def sentences(limit: int, offset: int = 0) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """`limit` sentences with their PERSON_NAME and ORG_NAME mentions; `offset` starts further along."""
    fake = Faker("en_US")
    fake.seed_instance(2024)
    rng = random.Random(2024)
    made = [_fill(rng.choice(FRAMES), fake) for _ in range(offset + limit)]
    return made[offset:]


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
