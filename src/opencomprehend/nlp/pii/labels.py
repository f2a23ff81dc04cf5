"""Labels before values: a label is no name or place ("Email:", "제 카드 번호"), a name or address never
holds the label before it, and the label nearest before a value names its type (_labelled)."""

from __future__ import annotations

import bisect
import functools
from typing import Any

import regex

from opencomprehend.nlp.pii.lexicon import PASSWORD_WORDS, PII_CONTEXT, USERNAME_WORDS, context_for
from opencomprehend.nlp.pii.names import (
    NOT_A_FIRST_WORD,
)
from opencomprehend.nlp.pii.recognizers import _words
from opencomprehend.nlp.pii.spans import Spans


@functools.cache
def _label_words() -> frozenset[str]:
    words = {w.lower() for by_language in PII_CONTEXT.values() for ws in by_language.values() for w in ws}
    return frozenset(words | {w.lower() for w in PASSWORD_WORDS + USERNAME_WORDS + ADDRESS_WORDS})


# The word for "address" in each language: a label before one, never a place itself.
ADDRESS_WORDS = [
    "address", "dirección", "domicilio", "adresse", "anschrift", "indirizzo", "morada", "endereço", "عنوان",
    "العنوان", "पता", "住所", "주소", "地址", "地點", "地点",
]  # fmt: skip


def _label_word(text: str, entity: dict[str, Any]) -> bool:
    """The entity model sometimes takes a label ("Email:", "VIN:") or a sentence's first words ("Mon CVV")
    for a name or a place: they are no PII."""
    span = text[entity["BeginOffset"] : entity["EndOffset"]]
    followed_by_colon = text[entity["EndOffset"] : entity["EndOffset"] + 2].lstrip().startswith((":", "："))
    first = span.split(maxsplit=1)[0].strip(",.").lower() if span.strip() else ""
    words = [w.strip(":：.,").lower() for w in span.split()]
    return (
        span.lower().strip(":：.,") in _label_words()
        # "Adresse IP :", "البريد الإلكتروني:": a label word anywhere in what a colon follows.
        or (followed_by_colon and (len(words) == 1 or any(w in _label_words() for w in words)))
        # A compound made on a label word ("Telefonnummer", "Handynummer"): one word, no name.
        or (len(words) == 1 and any(len(w) >= 6 and words[0].startswith(w) for w in _label_words()))
        or (entity["Type"] in ("NAME", "ADDRESS") and first in NOT_A_FIRST_WORD)
        or (entity["Type"] in ("NAME", "ADDRESS") and _label_fragments(span))
        # An acronym ("AWS", "MAC", "CVV") is no person's name.
        or (entity["Type"] == "NAME" and regex.fullmatch(r"[A-Z]{2,5}", span) is not None)
    )


def _after_label(text: str, entity: dict[str, Any]) -> dict[str, Any]:
    """A name or an address never holds the label before it: "청구지 주소: 광주광역시 …" is cut after the colon."""
    if entity["Type"] not in ("NAME", "ADDRESS"):
        return entity
    span = text[entity["BeginOffset"] : entity["EndOffset"]]
    colon = max(span.rfind(":"), span.rfind("："))
    if colon < 0:
        return entity
    begin = entity["BeginOffset"] + colon + 1
    while begin < entity["EndOffset"] and text[begin].isspace():
        begin += 1
    return {**entity, "BeginOffset": begin} if begin < entity["EndOffset"] else entity


def _before_label(text: str, entity: dict[str, Any]) -> dict[str, Any]:
    """Nor an address the label after it: "Hauptstraße 12, 10115 Berlin, Telefon: …" is cut before
    "Telefon" (the entity model took the label for a place, and the address joined it), where label words
    end an address that a colon follows and what is left has a number (a label alone, "청구지 주소:", stays
    whole, and is no address)."""
    if entity["Type"] != "ADDRESS":
        return entity
    begin, end = entity["BeginOffset"], entity["EndOffset"]
    if not text[end : end + 2].lstrip().startswith((":", "：")):
        return entity
    labels = _label_words()
    words = list(regex.finditer(r"\S+", text, pos=begin, endpos=end))
    cut = len(words)
    while cut > 1 and (
        (word := words[cut - 1].group().strip(":：.,").lower()) in labels
        or any(len(w) >= 6 and word.startswith(w) for w in labels)
    ):
        cut -= 1
    if cut == len(words):
        return entity
    new_end = words[cut - 1].end()
    while new_end > begin and text[new_end - 1] in " \t\r\n.,;:":
        new_end -= 1
    return {**entity, "EndOffset": new_end} if regex.search(r"\d", text[begin:new_end]) else entity


def _label_fragments(span: str) -> bool:
    """A "name" made of the words of a label ("제 카드 번호", "제 주민" of 주민등록번호): in a script without
    capitals, where nothing else tells a name from the words around it, every word a possessive or a
    label word, or the start of one."""
    words = span.split()
    if not words or any(ch.isupper() or ch.islower() for ch in span):
        return False
    labels = _label_words()
    return all(
        word in _POSSESSIVES or word in labels or (len(word) >= 2 and any(label.startswith(word) for label in labels))
        for word in words
    )


# Possessives before a label in scripts without capitals ("제 이메일", "私の", "我的", "मेरा", "بريدي").
_POSSESSIVES = frozenset({"제", "저의", "나의", "내", "私の", "我的", "मेरा", "मेरी", "मेरे"})


# How far before a value its label may stand ("Passport number: …").
_LABEL_REACH = 60


@functools.cache
def _label_pattern(pii_type: str, language: str) -> regex.Pattern[str] | None:
    """The type's context words, each at the start of a token ("telefon" in "Telefonnummer")."""
    words = context_for(pii_type, language)
    return regex.compile(rf"(?i)(?<![\p{{L}}\p{{M}}])(?:{_words(words)})") if words else None


def _labelled(text: str, found: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    """A value is what the label before it names: of the findings of different types on the same
    characters, those whose type's context word stands nearest before them, after the previous value
    ("Passport: 912803456" is a passport number, not a driver's licence that "License: D1234567." before
    it lent its context word to, nor a Madrid phone number), unless a checksum made another certain."""
    spans = Spans((e["BeginOffset"], e["EndOffset"], i) for i, e in enumerate(found))
    contested = [
        i
        for i, entity in enumerate(found)
        if any(found[j]["Type"] != entity["Type"] for j in spans.crossing(entity["BeginOffset"], entity["EndOffset"]))
    ]
    if not contested:
        return found
    ends = sorted(f["EndOffset"] for f in found)
    distances: dict[int, int | None] = {}
    for i in contested:
        entity = found[i]
        # The previous value's end: the last end at or before this value's begin.
        previous = bisect.bisect_right(ends, entity["BeginOffset"])
        start = max(entity["BeginOffset"] - _LABEL_REACH, 0, ends[previous - 1] if previous else 0)
        pattern = _label_pattern(entity["Type"], language)
        label_ends = [m.end() for m in pattern.finditer(text, start, entity["BeginOffset"])] if pattern else []
        # How many characters before the value its nearest label word ends; None: no label word.
        distances[i] = entity["BeginOffset"] - label_ends[-1] if label_ends else None
    kept = []
    for i, entity in enumerate(found):
        distance = distances.get(i)
        rivals = [
            distances[j]
            for j in spans.crossing(entity["BeginOffset"], entity["EndOffset"])
            if distances.get(j) is not None and found[j]["Type"] != entity["Type"]
        ]
        if entity["Score"] < 1.0 and rivals and (distance is None or min(rivals) < distance):  # type: ignore[type-var]
            continue
        kept.append(entity)
    return kept
