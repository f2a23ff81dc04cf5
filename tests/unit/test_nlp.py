"""The nlp layer: label map, engine registry, the spaCy engine's entities, scores and long-text windows."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import pytest
import spacy
from spacy.pipeline import Sentencizer

from opencomprehend.nlp.ner.labels import COMPREHEND_TYPES, comprehend_type
from opencomprehend.nlp.ner.pipelines import components_to_exclude
from opencomprehend.nlp.ner.spacy_engine import SpacyEngine, _sentences
from opencomprehend.nlp.ner.windows import merge_windows as _merge_windows
from opencomprehend.nlp.ner.windows import plan_windows
from opencomprehend.nlp.registry import (
    DEFAULT_MODELS,
    ENGINES,
    Engine,
    UnsupportedLanguage,
    load_engine,
    supported_languages,
)

MODEL = DEFAULT_MODELS["en"][1]


@pytest.fixture(scope="module")
def engine() -> SpacyEngine:
    # Loading takes about a second; every test in the module shares one engine.
    loaded = load_engine("en")
    assert isinstance(loaded, SpacyEngine)
    return loaded


@pytest.fixture
def chunk_size(engine: SpacyEngine) -> Iterator[None]:
    """Lets a test change the engine's window size and restores it afterwards."""
    saved = engine.max_chunk_chars
    yield
    engine.max_chunk_chars = saved


def check_entities(text: str, entities: list[dict]) -> None:
    """The Engine contract that holds for every text."""
    assert [e["BeginOffset"] for e in entities] == sorted(e["BeginOffset"] for e in entities)
    for prev, ent in zip(entities, entities[1:], strict=False):
        assert prev["EndOffset"] <= ent["BeginOffset"], (prev, ent)
    for ent in entities:
        assert set(ent) == {"BeginOffset", "EndOffset", "Score", "Text", "Type"}
        assert text[ent["BeginOffset"] : ent["EndOffset"]] == ent["Text"]
        assert ent["Type"] in COMPREHEND_TYPES
        assert isinstance(ent["Score"], float) and 0.0 <= ent["Score"] <= 1.0


def found(entities: list[dict]) -> set[tuple[str, str]]:
    return {(e["Text"], e["Type"]) for e in entities}


# -- labels --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("PERSON", "PERSON"),
        ("NORP", "OTHER"),
        ("FAC", "LOCATION"),
        ("ORG", "ORGANIZATION"),
        ("GPE", "LOCATION"),
        ("LOC", "LOCATION"),
        ("PRODUCT", "COMMERCIAL_ITEM"),
        ("EVENT", "EVENT"),
        ("WORK_OF_ART", "TITLE"),
        ("LAW", "OTHER"),
        ("LANGUAGE", "OTHER"),
        ("DATE", "DATE"),
        ("TIME", "DATE"),
        ("PERCENT", "QUANTITY"),
        ("MONEY", "QUANTITY"),
        ("QUANTITY", "QUANTITY"),
        ("ORDINAL", "QUANTITY"),
        ("CARDINAL", "QUANTITY"),
        ("PER", "PERSON"),
        ("MISC", "OTHER"),
        ("COMMERCIAL_ITEM", "COMMERCIAL_ITEM"),
        ("TITLE", "TITLE"),
        ("per", "PERSON"),
        ("SOMETHING_NEW", "OTHER"),
        ("", "OTHER"),
    ],
)
def test_label_map(label: str, expected: str) -> None:
    assert comprehend_type(label) == expected


def test_every_model_label_maps_to_a_comprehend_type(engine: SpacyEngine) -> None:
    ner = engine.nlp.get_pipe("ner")
    assert {comprehend_type(label) for label in ner.labels} <= set(COMPREHEND_TYPES)


# -- registry ------------------------------------------------------------------------------------------


def test_registry() -> None:
    assert "spacy.v1" in ENGINES
    assert ENGINES["spacy.v1"] is SpacyEngine
    assert "en" in supported_languages()


def test_unsupported_language() -> None:
    # Every Comprehend language has a model (tests/unit/test_languages.py); Russian is not one of them.
    with pytest.raises(UnsupportedLanguage) as info:
        load_engine("ru")
    assert str(info.value) == "No entity model is installed for language 'ru'."
    assert info.value.language == "ru"


def test_configured_model_not_installed() -> None:
    models = {"de": ("spacy.v1", "de_no_such_model_package")}
    with pytest.raises(UnsupportedLanguage, match="de_no_such_model_package"):
        load_engine("de", models)
    assert supported_languages(models) == set()


def test_unknown_engine_name() -> None:
    with pytest.raises(ValueError, match="spacy.v99"):
        load_engine("en", {"en": ("spacy.v99", MODEL)})


def test_engine_protocol_and_lean_pipeline(engine: SpacyEngine) -> None:
    assert isinstance(engine, Engine)
    assert engine.language == "en"
    # en_core_web_sm's NER has its own tok2vec, so nothing else needs to load.
    assert engine.nlp.pipe_names == ["ner"]


# -- entities --------------------------------------------------------------------------------------------


def test_known_entities(engine: SpacyEngine) -> None:
    text = "Angela Merkel met executives of Siemens in Berlin on 3 March 2021 and pledged $5 million."
    [entities] = engine.recognise([text])
    check_entities(text, entities)
    assert found(entities) >= {
        ("Angela Merkel", "PERSON"),
        ("Siemens", "ORGANIZATION"),
        ("Berlin", "LOCATION"),
        ("3 March 2021", "DATE"),
        ("$5 million", "QUANTITY"),
    }
    merkel = next(e for e in entities if e["Text"] == "Angela Merkel")
    assert (merkel["BeginOffset"], merkel["EndOffset"]) == (0, 13)


@pytest.mark.parametrize(
    ("text", "name", "begin"),
    [
        # Non-BMP code points (emoji + skin-tone modifier) count one each, as in Python and Comprehend.
        ("👍🏽 Angela Merkel visited Paris.", "Angela Merkel", 3),
        ("東京で会議がありました。 Angela Merkel visited Paris.", "Angela Merkel", 13),
        ("𝐇𝐞𝐥𝐥𝐨 — Angela Merkel visited Paris.", "Paris", 30),
    ],
)
def test_offsets_are_code_points(engine: SpacyEngine, text: str, name: str, begin: int) -> None:
    [entities] = engine.recognise([text])
    check_entities(text, entities)
    match = next(e for e in entities if e["Text"] == name)
    assert match["BeginOffset"] == begin
    assert match["EndOffset"] == begin + len(name)


PARAGRAPH = (
    "Barack Obama was born in Hawaii. He later worked in Chicago for the University of Chicago before "
    "the 2008 election. Apple sold 3 million iPhones in the first quarter. The Eiffel Tower is in France. "
    "Harry Potter and the Chamber of Secrets was written by J. K. Rowling."
)


def test_scores_are_real_confidences(engine: SpacyEngine) -> None:
    [entities] = engine.recognise([PARAGRAPH])
    check_entities(PARAGRAPH, entities)
    scores = [e["Score"] for e in entities]
    assert len(entities) >= 8
    assert len(set(scores)) > len(scores) // 2, scores
    assert min(scores) < 0.9 < max(scores)


def test_beam_scores(engine: SpacyEngine) -> None:
    saved = engine.beam_width
    engine.beam_width = 2
    try:
        [entities] = engine.recognise([PARAGRAPH])
    finally:
        engine.beam_width = saved
    check_entities(PARAGRAPH, entities)
    assert ("Barack Obama", "PERSON") in found(entities)


def test_greedy_decoding_matches_spacy() -> None:
    # The scorer drives spaCy's parser internals itself; its entities must be exactly spaCy's own on the
    # same doc (here the whole text: sentences are not split).
    reference = spacy.load(MODEL, exclude=components_to_exclude(MODEL))
    texts = [PARAGRAPH, "Angela Merkel visited Paris.", "no entities here at all", "x"]
    ours = load_engine("en", split_sentences=False).recognise(texts)
    for doc, entities in zip(reference.pipe(texts), ours, strict=True):
        assert [(e.start_char, e.end_char, comprehend_type(e.label_)) for e in doc.ents] == [
            (e["BeginOffset"], e["EndOffset"], e["Type"]) for e in entities
        ]


def test_each_sentence_is_recognised_as_a_text_of_its_own(engine: SpacyEngine) -> None:
    sentences = ["Dr. Smith met Angela Merkel in Berlin.", "She flew to the U.S. on Monday!", "Apple hired Tim Cook"]
    text = " ".join(sentences[:2]) + "\n" + sentences[2]
    [entities] = engine.recognise([text])
    check_entities(text, entities)
    alone = engine.recognise(sentences)
    expected, start = [], 0
    for sentence, own in zip(sentences, alone, strict=True):
        expected += [(e["BeginOffset"] + start, e["EndOffset"] + start, e["Type"], e["Score"]) for e in own]
        start += len(sentence) + 1
    assert [(e["BeginOffset"], e["EndOffset"], e["Type"], e["Score"]) for e in entities] == expected
    assert ("Angela Merkel", "PERSON") in found(entities) and ("Tim Cook", "PERSON") in found(entities)
    # "Dr." and "U.S." end no sentence: the tokenizer keeps them whole.
    doc = engine.nlp.make_doc(text)
    starts = [start for start, _ in _sentences(doc, Sentencizer())]
    assert starts == [0, len(sentences[0]) + 1, len(sentences[0]) + len(sentences[1]) + 2]


def test_empty_and_whitespace_texts(engine: SpacyEngine) -> None:
    texts = ["", "   ", "\n\t \u3000", "Angela Merkel visited Paris.", ""]
    results = engine.recognise(texts)
    assert results[:3] == [[], [], []]
    assert results[4] == []
    assert ("Paris", "LOCATION") in found(results[3])
    assert engine.recognise([]) == []


def test_many_texts_keep_their_order(engine: SpacyEngine) -> None:
    # More texts than one batch, so results cross batch boundaries; each must match its text alone.
    cities = ["Berlin", "Paris", "London", "Madrid", "Rome"]
    texts = [f"Angela Merkel spoke in {cities[i % 5]} on day {i}." for i in range(150)]
    results = engine.recognise(texts)
    assert len(results) == 150
    for i, (text, entities) in enumerate(zip(texts, results, strict=True)):
        check_entities(text, entities)
        assert (cities[i % 5], "LOCATION") in found(entities), (text, entities)
    for i in (0, 63, 64, 65, 149):
        assert engine.recognise([texts[i]]) == [results[i]]


# -- long texts ------------------------------------------------------------------------------------------

SENTENCES = [
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "Later that week Barack Obama flew to Berlin with his advisers.",
    "The committee, chaired by Theresa May, met again in London.",
    "Critics said the plan would cost far more than anyone expected.",
    "Jacinda Ardern answered questions from reporters in Wellington.",
    "Nothing else of note happened during the rest of the meeting.",
]
NAMES = ["Angela Merkel", "Emmanuel Macron", "Barack Obama", "Theresa May", "Jacinda Ardern"]


def long_text(n_chars: int) -> str:
    rng = random.Random(7)
    parts: list[str] = []
    size = 0
    while size < n_chars:
        sentence = rng.choice(SENTENCES)
        parts.append(sentence)
        size += len(sentence) + 1
    return " ".join(parts)


def name_occurrences(text: str) -> set[tuple[int, int, str]]:
    return {(m.start(), m.end(), name) for name in NAMES for m in re.finditer(re.escape(name), text)}


def people(entities: list[dict]) -> set[tuple[int, int, str]]:
    return {(e["BeginOffset"], e["EndOffset"], e["Text"]) for e in entities if e["Type"] == "PERSON"}


@pytest.fixture(scope="module")
def long_doc(engine: SpacyEngine) -> tuple[str, list[dict]]:
    """A 60,000-character text and its entities recognised in one piece (no windows)."""
    text = long_text(60_000)
    saved = engine.max_chunk_chars
    engine.max_chunk_chars = len(text)
    try:
        [whole] = engine.recognise([text])
    finally:
        engine.max_chunk_chars = saved
    return text, whole


def test_long_text_in_windows_equals_whole(
    engine: SpacyEngine, long_doc: tuple[str, list[dict]], chunk_size: None
) -> None:
    text, whole = long_doc
    # The engine's default window size.
    assert len(plan_windows(text, engine.max_chunk_chars, engine.chunk_overlap)) >= 3
    [entities] = engine.recognise([text])
    check_entities(text, entities)
    assert people(entities) == name_occurrences(text)
    # Each window owns text far from its edges, where the model sees exactly the same context.
    assert [(e["BeginOffset"], e["EndOffset"], e["Type"]) for e in entities] == [
        (e["BeginOffset"], e["EndOffset"], e["Type"]) for e in whole
    ]


def test_small_windows_cut_through_names(
    engine: SpacyEngine, long_doc: tuple[str, list[dict]], chunk_size: None
) -> None:
    text, _whole = long_doc
    engine.max_chunk_chars = 300
    windows = plan_windows(text, 300, engine.chunk_overlap)
    assert len(windows) > 200
    # Some window edges fall inside a name, so the merge really has cut entities to discard.
    cut = [
        (s, e) for s, e in windows for b, f, _ in name_occurrences(text) if b < s < f or b < e < f
    ]
    assert cut
    [entities] = engine.recognise([text])
    check_entities(text, entities)
    # Every occurrence of every name exactly once, none truncated, no duplicates from overlaps.
    assert people(entities) == name_occurrences(text)
    assert len(entities) == len({(e["BeginOffset"], e["EndOffset"]) for e in entities})


def test_plan_windows_cover_and_overlap() -> None:
    text = long_text(5_000) + " " + "x" * 700 + " tail"  # a run with no whitespace to cut at
    windows = plan_windows(text, 400, 100)
    assert windows[0][0] == 0 and windows[-1][1] == len(text)
    for (s1, e1), (s2, e2) in zip(windows, windows[1:], strict=False):
        assert e1 - s1 <= 400 and e2 - s2 <= 400
        assert s1 < s2 < e1 < e2  # consecutive windows overlap and move forward
    assert plan_windows("short", 400, 100) == [(0, 5)]


def _ent(text: str, b: int, e: int) -> dict:
    return {"BeginOffset": b, "EndOffset": e, "Score": 0.9, "Text": text[b:e], "Type": "PERSON"}


def test_merge_hands_a_cut_entity_to_the_next_window() -> None:
    text = "aaaa bbbb Angela Merkel cccc dddd"
    # The first window ends inside "Merkel"; "Angela" starts in the part the first window owns.
    windows = [(0, 20), (5, len(text))]
    first = [_ent(text, 10, 20)]  # what a window cut at "Angela Mer" would report
    second = [_ent(text, 10, 23), _ent(text, 29, 33)]
    assert _merge_windows(text, windows, [first, second]) == [_ent(text, 10, 23), _ent(text, 29, 33)]


def test_merge_keeps_an_overlap_entity_once() -> None:
    text = "aaaa Angela Merkel bbbb cccc dddd eeee"
    windows = [(0, 28), (10, len(text))]
    # Both windows see "Merkel bbbb"-area entities; the owner of each start supplies it, once.
    first = [_ent(text, 5, 18), _ent(text, 19, 23)]
    second = [_ent(text, 12, 18), _ent(text, 19, 23), _ent(text, 34, 38)]
    merged = _merge_windows(text, windows, [first, second])
    assert merged == [_ent(text, 5, 18), _ent(text, 19, 23), _ent(text, 34, 38)]
