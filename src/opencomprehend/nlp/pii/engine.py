"""PiiEngine: Presidio's findings and the entity model's names and places for texts of one language."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import regex
from presidio_analyzer import (
    RecognizerResult,
)

from opencomprehend.nlp.pii.addresses import find_addresses
from opencomprehend.nlp.pii.labels import _after_label, _before_label, _label_word, _labelled
from opencomprehend.nlp.pii.lexicon import MIN_SCORE, NER_TYPES, PRESIDIO_TYPES
from opencomprehend.nlp.pii.names import (
    HONORIFIC_AFTER,
    introduced_names,
    no_name_word,
    only_function_words,
    trim_name,
)
from opencomprehend.nlp.pii.recognizers import build_analyzer
from opencomprehend.nlp.pii.spans import (
    _HOUSE_NUMBER_BEFORE,
    _PLATE_BEFORE,
    Spans,
    _addresses,
    _entity,
    _holds,
    _trim,
    _widest,
    resolve_overlaps,
    windows,
)
from opencomprehend.nlp.registry import Engine

# Control characters other than tabs and line ends: the entity models read one as part of the word it
# touches ("Walsh\x00" was no name); read as a space, it ends the word, and offsets stay as they are.
_CONTROL = regex.compile(r"[^\P{Cc}\t\n\r]")
# A letter and the combining marks after it ("e\u0308"): one character in NFC.
_WITH_MARKS = regex.compile(r"\P{M}\p{M}*|\p{M}+")


def _for_models(text: str) -> tuple[str, Callable[[int, int], tuple[int, int]] | None]:
    """The text the entity models and the address finder read: control characters as spaces, and letters
    written with combining marks composed (NFC: the models learned "Zoë", not "Zoe" and a mark); with the
    map of its offsets back to `text`'s code points (None where they are the same)."""
    text = _CONTROL.sub(" ", text)
    if unicodedata.is_normalized("NFC", text):
        return text, None
    starts: list[int] = []
    ends: list[int] = []
    parts = []
    for segment in _WITH_MARKS.finditer(text):
        composed = unicodedata.normalize("NFC", segment.group())
        parts.append(composed)
        starts += [segment.start()] * len(composed)
        ends += [segment.end()] * len(composed)
    normalised = "".join(parts)
    if normalised != unicodedata.normalize("NFC", text):  # composition across letters (conjoining jamo)
        return text, None

    def back(begin: int, end: int) -> tuple[int, int]:
        return starts[begin] if begin < len(starts) else len(text), ends[end - 1] if end > 0 else 0

    return normalised, back


def _mapped(
    entities: list[dict[str, Any]], back: Callable[[int, int], tuple[int, int]] | None
) -> list[dict[str, Any]]:
    """Entities found in _for_models' text, with the offsets of the original text."""
    if back is None:
        return entities
    mapped = []
    for entity in entities:
        begin, end = back(entity["BeginOffset"], entity["EndOffset"])
        mapped.append({**entity, "BeginOffset": begin, "EndOffset": end})
    return mapped


class PiiEngine:
    """PII entities for texts of one language: Presidio for structured identifiers, `ner` for the rest.

    Same shape as an entity engine (registry.Engine), so the warm workers run it like any other.
    """

    def __init__(self, language: str, ner: Engine) -> None:
        self.language = language
        self.ner = ner
        self.analyzer = build_analyzer(language)

    def _structured(self, text: str) -> list[dict[str, Any]]:
        found = []
        for own_begin, own_end, begin, end in windows(text):
            found += self._structured_window(text, own_begin, own_end, begin, end)
        return _widest(text, found)

    def _structured_window(
        self, text: str, own_begin: int, own_end: int, window_begin: int, window_end: int
    ) -> list[dict[str, Any]]:
        """The identifiers that start in text[own_begin:own_end], analysed with the context around it."""
        results: list[RecognizerResult] = self.analyzer.analyze(
            text=text[window_begin:window_end], language=self.language, score_threshold=MIN_SCORE
        )
        found = []
        for result in results:
            if not own_begin <= result.start + window_begin < own_end:
                continue
            pii_type = PRESIDIO_TYPES.get(result.entity_type, result.entity_type)
            begin, end = _trim(text, result.start + window_begin, result.end + window_begin, pii_type)
            # "License" is a context word of both: after "license plate" or "registration" it is a plate.
            if pii_type == "DRIVER_ID" and _PLATE_BEFORE.search(text[max(0, begin - 40) : begin]):
                pii_type = "LICENSE_PLATE"
            # The Social Security Administration never issues a number that starts with 9: those are ITINs.
            if pii_type == "SSN" and result.entity_type == "US_SSN" and text[begin : begin + 1] == "9":
                continue
            if end > begin:
                found.append(_entity(pii_type, begin, end, result.score))
        return found

    def _named(self, text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        # Addresses written out in full (street, number, town, postcode): inside one, a name is a street's,
        # a number no date, and a place one of its parts.
        written = find_addresses(text, self.language)
        written_spans = Spans((b, e, (b, e)) for b, e, _ in written)
        places = []
        for entity in entities:
            begin, end = entity["BeginOffset"], entity["EndOffset"]
            if entity["Type"] in ("PERSON", "DATE", "LOCATION") and any(
                entity["Type"] != "LOCATION" or b <= begin and end <= e for b, e in written_spans.crossing(begin, end)
            ):
                continue
            if entity["Type"] == "LOCATION" and only_function_words(text[begin:end], self.language):
                continue
            pii_type = NER_TYPES.get(entity["Type"])
            if entity["Type"] in ("PERSON", "LOCATION", "ORGANIZATION") and HONORIFIC_AFTER.match(text, end):
                pii_type = "NAME"
            if pii_type == "NAME":
                trimmed = trim_name(text, begin, end, self.language)
                if trimmed[1] <= trimmed[0]:
                    continue
                entity = {**entity, "BeginOffset": trimmed[0], "EndOffset": trimmed[1]}
            # A one-word name or place that is none: "café", "Écrivez-moi", a low-scored first word.
            if pii_type in ("NAME", "ADDRESS") and no_name_word(
                text, entity["BeginOffset"], entity["EndOffset"], entity["Score"]
            ):
                continue
            if pii_type == "NAME" and _HOUSE_NUMBER_BEFORE.search(text[max(0, entity["BeginOffset"] - 12) : entity["BeginOffset"]]):  # noqa: E501
                pii_type = "ADDRESS"
            if pii_type == "ADDRESS":
                places.append((entity["BeginOffset"], entity["EndOffset"], entity["Score"]))
            elif pii_type is not None:
                found.append(_entity(pii_type, entity["BeginOffset"], entity["EndOffset"], entity["Score"]))
        # A name that a phrase introduces ("my name is …", "Herr …", "我叫…"): unless the entity model found
        # that name, the phrase's reading wins over the model's (a place or nothing).
        model_names = Spans.of(f for f in found if f["Type"] == "NAME")
        introduced = []
        for begin, end, score in introduced_names(text, self.language):
            crossed = list(model_names.crossing(begin, end))
            # The model's name stands, unless it is only a part of the introduced one ("César Losada" of
            # "Un saludo,\nJulio César Losada", whose "Julio" it read as a month).
            if any(f["BeginOffset"] < begin or end < f["EndOffset"] for f in crossed):
                continue
            if written_spans.any_crossing(begin, end):
                continue
            introduced.append(_entity("NAME", begin, end, max([score, *(f["Score"] for f in crossed)])))
        names = resolve_overlaps(introduced)
        if names:
            kept = Spans.of(names)
            places = [p for p in places if not kept.any_crossing(p[0], p[1])]
            found = [f for f in found if not kept.any_crossing(f["BeginOffset"], f["EndOffset"])] + names
        found += [_entity("ADDRESS", b, e, s) for b, e, s in _addresses(text, places, written)]
        return [_before_label(text, _after_label(text, e)) for e in found]

    def recognise(self, texts: list[str]) -> list[list[dict[str, Any]]]:
        readable = [_for_models(text) for text in texts]
        named = self.ner.recognise([r[0] for r in readable])
        results = []
        for text, (read, back), entities in zip(texts, readable, named, strict=True):
            if not text.strip():
                results.append([])
                continue
            structured = _labelled(text, self._structured(text), self.language)
            known = Spans.of(structured)
            named_found = [
                e
                for e in _mapped(self._named(read, entities), back)
                # What a recognizer knows (a user name, an age, a card expiry) beats the entity model's guess
                # at the same characters; only an address that holds the finding whole keeps its chance.
                if not any(not _holds(text, e, s) for s in known.crossing(e["BeginOffset"], e["EndOffset"]))
                and not _label_word(text, e)
            ]
            results.append(resolve_overlaps(structured + named_found))
        return results
