"""Entity-level precision, recall and F1: the one piece of arithmetic every NER measurement shares.

An entity is (begin, end, type). A prediction is correct only when begin, end and type all equal a gold
entity's (exact match, as in CoNLL scoring): a right span with the wrong type is one false positive for
the predicted type and one false negative for the gold type, and a span one character off earns
nothing. Entities are counted as multisets per document, so predicting the same entity twice is one
true positive and one false positive; gold sets do not normally repeat an entity, but if one does, each
copy has to be found.

Overall figures are micro averages (tp, fp and fn summed over every type), which is how Comprehend
reports a recognizer's overall metrics. Any ratio whose denominator is zero is 0.0.

Used by the training module (dev and test metrics), `opencomprehend eval` and bench/calibration.py, so
their numbers always mean the same thing. `judged` gives each found entity with its score and whether it
is right, for what a score is worth: the calibration check of `eval` and the benches, and the fit of
opencomprehend.nlp.ner.calibration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Entity = tuple[int, int, str]


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


@dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives, with the ratios derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        # 2tp / (2tp + fp + fn) is the harmonic mean of P and R, without the 0/0 cases of the ratio form.
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def support(self) -> int:
        """Gold entities."""
        return self.tp + self.fn

    @property
    def predicted(self) -> int:
        return self.tp + self.fp


@dataclass(frozen=True)
class Scores(Counts):
    """Overall (micro) counts and ratios, and the same per entity type in `types`."""

    types: dict[str, Counts] = field(default_factory=dict)


def score(gold: Iterable[Iterable[Entity]], predicted: Iterable[Iterable[Entity]]) -> Scores:
    """Score predicted entities against gold ones, document by document.

    `gold` and `predicted` hold one iterable of (begin, end, type) per document, in the same order; they
    must have the same number of documents (ValueError otherwise). Every type that occurs in either side
    appears in `types`.
    """
    per_type: dict[str, list[int]] = {}
    for gold_doc, pred_doc in zip(gold, predicted, strict=True):
        gold_counts = Counter(gold_doc)
        pred_counts = Counter(pred_doc)
        for entity in gold_counts.keys() | pred_counts.keys():
            g, p = gold_counts[entity], pred_counts[entity]
            tp = min(g, p)
            row = per_type.setdefault(entity[2], [0, 0, 0])
            row[0] += tp
            row[1] += p - tp
            row[2] += g - tp
    types = {t: Counts(*row) for t, row in sorted(per_type.items())}
    return Scores(
        tp=sum(c.tp for c in types.values()),
        fp=sum(c.fp for c in types.values()),
        fn=sum(c.fn for c in types.values()),
        types=types,
    )


def judged(
    gold: Iterable[Iterable[Entity]], found: Iterable[Iterable[dict[str, Any]]], types: set[str] | None = None
) -> list[tuple[str, float, bool]]:
    """(Type, Score, exactly right) of every found entity (an engine's dicts: BeginOffset, EndOffset, Type,
    Score) whose type is in `types` (None: every type), document by document as in score()."""
    out = []
    for gold_doc, found_doc in zip(gold, found, strict=True):
        truth = set(gold_doc)
        for e in found_doc:
            if types is None or e["Type"] in types:
                right = (e["BeginOffset"], e["EndOffset"], e["Type"]) in truth
                out.append((e["Type"], float(e["Score"]), right))
    return out
