"""PII detection costs time in proportion to the text's length, whatever the text holds (issue 17, item 1).

Wall-clock time is never asserted: the tests count the Python calls a detection makes, check that each
rewritten step gives what Presidio's own gave, and that windows and pieces lose nothing.
"""

from __future__ import annotations

import functools
import random
import sys

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.predefined_recognizers import InPanRecognizer, UrlRecognizer
from starlette.testclient import TestClient
from support.wire import call

from opencomprehend.nlp import pii
from opencomprehend.nlp.ner.context import harmonise
from opencomprehend.nlp.pii import recognizers as pii_recognizers
from opencomprehend.nlp.pii import spans as pii_spans
from opencomprehend.nlp.registry import load_engine
from opencomprehend.service.detect import text_pieces
from opencomprehend.service.pii_detect import PIECE_CHARS


@functools.cache
def engine(language: str = "en") -> pii.PiiEngine:
    return pii.PiiEngine(language, load_engine(language))


def python_calls(fn, *args) -> int:  # type: ignore[no-untyped-def]
    """How many Python functions `fn(*args)` calls: a measure of work that no other load on the machine moves."""
    calls = 0

    def count(frame, event, arg):  # type: ignore[no-untyped-def]
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return calls


def repeated(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


@pytest.mark.parametrize(
    "unit",
    [
        "1.",  # every "1.1" a number, a URL's start and a date's
        "a@",  # every "a@a" an e-mail address's start
        "Call Bob Smith at (206) 555-0100 or bob@example.com; SSN 536-90-4399. Bob Smith lives at 12 Main St.\n",
    ],
)
@pytest.mark.slow
def test_detection_work_grows_in_proportion_to_the_text(unit: str) -> None:
    """Four times the text is about four times the work (it was 10 to 16 times: Presidio's context step
    walked every token for each match, the document context step compared every repeat with every entity,
    overlaps were resolved pair by pair)."""
    detector = engine()
    detector.recognise([repeated(unit, 200)])  # warm
    small = python_calls(detector.recognise, [repeated(unit, pii.WINDOW)])
    large = python_calls(detector.recognise, [repeated(unit, 4 * pii.WINDOW)])
    assert large / small < 6, (small, large)


def test_the_enhancer_finds_the_token_presidio_finds() -> None:
    rng = random.Random(7)
    for _ in range(300):
        words = ["".join(rng.choice("ab1.") for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 30))]
        starts, at = [], 0
        for word in words:
            at += rng.randint(0, 2)
            starts.append(at)
            at += len(word)
        for start in range(0, at):
            try:
                expected = LemmaContextAwareEnhancer._find_index_of_match_token("w", start, words, starts)
            except ValueError:
                with pytest.raises(ValueError):
                    pii_recognizers._ContextEnhancer._find_index_of_match_token("w", start, words, starts)
                continue
            assert pii_recognizers._ContextEnhancer._find_index_of_match_token("w", start, words, starts) == expected


@given(
    lemmas=st.lists(st.sampled_from(["iban", "card", "the", ":", "1", "x"]), min_size=1, max_size=30),
    n_words=st.integers(0, 6),
    backward=st.booleans(),
    data=st.data(),
)
@settings(max_examples=200, deadline=None)
def test_the_enhancer_reads_the_context_words_presidio_reads(lemmas, n_words, backward, data) -> None:  # type: ignore[no-untyped-def]
    index = data.draw(st.integers(0, len(lemmas) - 1))
    keywords = ["iban", "card", "1", "x"]
    expected = LemmaContextAwareEnhancer._add_n_words(index, n_words, lemmas, keywords, backward)
    ours = pii_recognizers._ContextEnhancer._add_n_words(index, n_words, lemmas, frozenset(keywords), backward)
    assert ours == expected


URL_TEXTS = [
    "See www.example.com/path?a=1 and docs.python.org today.",
    "mail me at bob@mail.example.co.uk or visit example.org.",
    "sub-domain.example-site.net, 1.2.3.4.nip.io and x.y.z.info/page",
    "\"www2.example.com\" and 'shop.example.de'",
    "1.1.1.1.1.1.com 1.1.1.1",
]
# Presidio's PAN (Low) also matched "A1B2C3D4E5" when four digits in a row stood anywhere later in the text:
# its letter and digits are now looked for inside the ten characters, as the pattern means.
PAN_TEXTS = ["PAN ABCDE1234F and abcde1234f, 12ab3456cd, ab12-3456y and 1234567890x"]


@pytest.mark.parametrize(
    "cls, name, texts",
    [(UrlRecognizer, "Non schema URL", URL_TEXTS), (InPanRecognizer, "PAN (Low)", PAN_TEXTS)],
)
def test_rewritten_patterns_match_what_presidios_matched(cls, name: str, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    old, new = pii_recognizers._LINEAR_PATTERNS[(cls.__name__, name)]
    [pattern] = [p for p in cls.PATTERNS if p.name == name]
    ours = pattern.regex if new in pattern.regex else pattern.regex.replace(old, new, 1)
    presidios = ours.replace(new, old, 1)
    flags = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
    for text in texts:
        expected = [m.span() for m in regex.finditer(presidios, text, flags)]
        assert [m.span() for m in regex.finditer(ours, text, flags)] == expected
        assert expected, text  # the texts hold something to find


@given(
    text=st.text(alphabet="ab \n.", max_size=3000),
    size=st.integers(20, 400),
    margin=st.integers(0, 50),
)
@settings(max_examples=200, deadline=None)
def test_windows_tile_the_text_and_stay_bounded(text: str, size: int, margin: int) -> None:
    at = 0
    for own_begin, own_end, begin, end in pii.windows(text, size, margin):
        assert own_begin == at and own_begin < own_end <= own_begin + size
        assert own_begin - margin <= begin <= own_begin and own_end <= end <= own_end + margin
        at = own_end
    assert at == len(text)


@pytest.mark.slow
def test_a_long_text_gives_what_it_gave_read_whole() -> None:
    """Windows lose nothing: the identifiers of a 40 KB text are those that reading it in one piece gives."""
    rng = random.Random(3)
    lines = [
        "Call me on (206) 555-0100 after six.",
        "IBAN: DE89 3704 0044 0532 0130 00",
        "Her social security number is 536-90-4399.",
        "Write to jane.doe@example.com or see https://www.example.org/profile today.",
        "card 4111 1111 1111 1111 expires 09/27, cvv 123",
        "The server is at 10.20.30.40 and its mac address is 00:1A:2B:3C:4D:5E.",
        "Nothing to see on this line at all.",
    ]
    text = "\n".join(rng.choice(lines) for _ in range(800)).replace("\n", " ", 300)
    assert len(text) > 8 * pii.WINDOW
    detector = engine()
    whole = pii_spans._widest(text, detector._structured_window(text, 0, len(text), 0, len(text)))
    key = lambda e: (e["BeginOffset"], e["EndOffset"], e["Type"])  # noqa: E731
    assert sorted(detector._structured(text), key=key) == sorted(whole, key=key)


def test_document_context_marks_every_repeat_of_a_long_document() -> None:
    text = " ".join(["Bob Smith met Alice."] * 2000)
    entities = [{"BeginOffset": 0, "EndOffset": 9, "Text": "Bob Smith", "Type": "PERSON", "Score": 0.9}]
    found = harmonise(text, entities, "en")
    assert sum(e["Text"] == "Bob Smith" for e in found) == 2000
    assert all(text[e["BeginOffset"] : e["EndOffset"]] == e["Text"] for e in found)
    spans = sorted((e["BeginOffset"], e["EndOffset"]) for e in found)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


@given(text=st.text(alphabet="ab .\n。", max_size=2000), size=st.integers(4, 300))
@settings(max_examples=200, deadline=None)
def test_pieces_tile_the_text(text: str, size: int) -> None:
    pieces = text_pieces(text, size)
    assert "".join(piece for _, piece in pieces) == text
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in pieces)
    assert all(len(piece) <= size for _, piece in pieces)


def test_pieces_are_cut_after_a_line_or_a_sentence() -> None:
    text = "\n".join(f"Line {i} holds a sentence. And another one." for i in range(2000))
    for _, piece in text_pieces(text, 1000)[:-1]:
        assert piece.endswith("\n")
    one_line = " ".join(f"Sentence {i} ends here." for i in range(2000))
    for _, piece in text_pieces(one_line, 1000)[:-1]:
        assert piece.endswith(". ")


def test_detect_pii_of_a_long_text_is_the_pieces_rebased(client: TestClient) -> None:
    """DetectPiiEntities recognises a text over PIECE_CHARS as pieces, each its own task: the entities
    come back in text order with their offsets in the whole text."""
    line = "Call Jane Doe on (206) 555-0100 or write to jane.doe@example.com.\n"
    text = line * (2 * PIECE_CHARS // len(line) + 3)
    status, body = call(client, "DetectPiiEntities", {"Text": text, "LanguageCode": "en"})
    assert status == 200, body
    found = [(text[e["BeginOffset"] : e["EndOffset"]], e["Type"]) for e in body["Entities"]]
    lines = text.count("\n")
    assert found.count(("(206) 555-0100", "PHONE")) == lines
    assert found.count(("jane.doe@example.com", "EMAIL")) == lines
    begins = [e["BeginOffset"] for e in body["Entities"]]
    assert begins == sorted(begins)


class _NoEntities:
    def recognise(self, texts: list[str]) -> list[list[dict]]:
        return [[] for _ in texts]


def test_a_name_a_phrase_introduces_is_found_where_the_model_finds_none() -> None:
    detector = pii.PiiEngine("en", _NoEntities())
    text = "Good morning, my name is Ana Lima and I need help. " * 3
    found = detector.recognise([text])[0]
    assert [(text[e["BeginOffset"] : e["EndOffset"]], e["Type"]) for e in found] == [("Ana Lima", "NAME")] * 3
