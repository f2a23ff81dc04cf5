"""Annotations made trainable: validated (a TrainingDataError names the document), then tokenized as the
reference doc a model learns from, widened to whole tokens where users annotated characters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc, Span

from opencomprehend.nlp.evaluation import Entity
from opencomprehend.nlp.training.records import LabelledDocument, TrainingDataError


def _quote(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def validated(doc: LabelledDocument, index: int, split: str, label: str) -> tuple[list[Entity], int]:
    """The document's entities sorted by offset, exact duplicates removed (and counted)."""

    def problem(what: str) -> TrainingDataError:
        return TrainingDataError(f"{label} {index}: {what}", document=index, split=split)

    n = len(doc.text)
    entities = []
    for entity in doc.entities:
        if len(entity) != 3:
            raise problem(f"entity {entity!r} is not (begin, end, type)")
        begin, end, kind = entity
        if any(not isinstance(x, int) or isinstance(x, bool) for x in (begin, end)):
            raise problem(f"entity {entity!r} has offsets that are not integers")
        if not isinstance(kind, str) or not kind.strip():
            raise problem(f"entity {begin}-{end} has no type")
        if begin < 0 or end > n:
            raise problem(f"entity {begin}-{end} ({kind}) is outside the text, which has {n} characters")
        if begin >= end:
            raise problem(f"entity {begin}-{end} ({kind}) is empty (begin must be less than end)")
        if not doc.text[begin:end].strip():
            raise problem(f"entity {begin}-{end} ({kind}) covers only whitespace")
        entities.append((begin, end, kind))
    unique = sorted(set(entities))
    # Sorted by begin, an entity overlaps an earlier one exactly when it starts before the furthest end.
    furthest: Entity | None = None
    for entity in unique:
        if furthest is not None and entity[0] < furthest[1]:
            a, b = furthest, entity
            raise problem(
                f"entity {a[0]}-{a[1]} {_quote(doc.text[a[0] : a[1]])} ({a[2]}) overlaps "
                f"entity {b[0]}-{b[1]} {_quote(doc.text[b[0] : b[1]])} ({b[2]})"
            )
        if furthest is None or entity[1] > furthest[1]:
            furthest = entity
    return unique, len(entities) - len(unique)


@dataclass
class Adjustments:
    duplicates: int = 0
    trimmed: int = 0
    widened: int = 0
    collided: int = 0
    test_misaligned: int = 0

    def warnings(self) -> list[str]:
        found = []
        if self.duplicates:
            found.append(f"{self.duplicates} duplicate annotations (same span and type) were counted once")
        if self.trimmed:
            found.append(f"{self.trimmed} annotations had leading or trailing whitespace, which was left out")
        if self.widened:
            found.append(
                f"{self.widened} annotations did not fall on token boundaries and were widened to whole tokens"
            )
        if self.collided:
            found.append(
                f"{self.collided} annotations shared a token with another annotation once widened to whole "
                "tokens; they were left out and their tokens were not trained on"
            )
        if self.test_misaligned:
            found.append(
                f"{self.test_misaligned} test annotations do not fall on token boundaries, so the model cannot "
                "match them exactly"
            )
        return found


def reference_doc(nlp: Language, text: str, entities: list[Entity], adjust: Adjustments) -> Doc:
    """The tokenized text with the annotations as doc.ents: the training target."""
    doc = nlp.make_doc(text)
    spans: list[Span] = []
    for begin, end, kind in entities:
        piece = text[begin:end]
        b, e = begin + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())
        adjust.trimmed += (b, e) != (begin, end)
        span = doc.char_span(b, e, label=kind)
        if span is None:
            span = doc.char_span(b, e, label=kind, alignment_mode="expand")
            adjust.widened += 1
        spans.append(span)
    # Validated annotations do not overlap, but two of them inside one token ("foo" and "bar" in
    # "foo-bar") do once widened. Neither can be represented, so both become "missing": no loss on
    # their tokens, rather than a wrong label or a wrong "O".
    kept: list[Span] = []
    missing: list[Span] = []
    i = 0
    while i < len(spans):
        j, end = i + 1, spans[i].end
        while j < len(spans) and spans[j].start < end:
            end = max(end, spans[j].end)
            j += 1
        if j - i == 1:
            kept.append(spans[i])
        else:
            adjust.collided += j - i
            missing.append(doc[spans[i].start : end])
        i = j
    doc.set_ents(kept, missing=missing, default="outside")
    return doc


def entities_of(doc: Doc) -> list[Entity]:
    return [(span.start_char, span.end_char, span.label_) for span in doc.ents]


def reference_docs(
    nlp: Language, documents: Sequence[LabelledDocument], split: str, label: str, adjust: Adjustments
) -> list[Doc]:
    """Each document validated (duplicates dropped, not counted) and made its reference doc."""
    references = []
    for i, doc in enumerate(documents):
        entities, _duplicates = validated(doc, i, split, label)
        references.append(reference_doc(nlp, doc.text, entities, adjust))
    return references
