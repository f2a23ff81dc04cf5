"""Document-level consistency of entities (opencomprehend.nlp.ner.context) and the engine that applies it."""

from __future__ import annotations

from opencomprehend.nlp.ner.context import harmonise
from opencomprehend.nlp.registry import load_engine


def entity(text: str, name: str, kind: str, score: float, nth: int = 0) -> dict:
    at = -1
    for _ in range(nth + 1):
        at = text.index(name, at + 1)
    return {"BeginOffset": at, "EndOffset": at + len(name), "Score": score, "Text": name, "Type": kind}


def spans(entities: list[dict]) -> list[tuple[str, str, float]]:
    return [(e["Text"], e["Type"], e["Score"]) for e in entities]


def test_one_type_per_name_the_highest_scored_in_total() -> None:
    text = "Japan won. Japan lost. Japan drew."
    found = [
        entity(text, "Japan", "LOCATION", 0.9),
        entity(text, "Japan", "ORGANIZATION", 0.4, 1),
        entity(text, "Japan", "ORGANIZATION", 0.4, 2),
    ]
    assert spans(harmonise(text, found, "en")) == [
        ("Japan", "LOCATION", 0.9),
        ("Japan", "LOCATION", 0.4),
        ("Japan", "LOCATION", 0.4),
    ]


def test_a_name_found_once_is_marked_where_it_repeats_as_a_whole_word_and_in_the_same_case() -> None:
    text = "Apple sued Samsung. Later Apple won, an apple fell, and Applebee's opened."
    found = harmonise(text, [entity(text, "Apple", "ORGANIZATION", 0.8)], "en")
    assert [(e["BeginOffset"], e["Type"], e["Score"]) for e in found] == [
        (0, "ORGANIZATION", 0.8),
        (26, "ORGANIZATION", 0.72),
    ]
    # Too unsure to spread.
    assert len(harmonise(text, [entity(text, "Apple", "ORGANIZATION", 0.3)], "en")) == 1
    # Never over what the model found.
    model = [entity(text, "Apple", "ORGANIZATION", 0.8), entity(text, "Later Apple", "TITLE", 0.6)]
    assert spans(harmonise(text, model, "en")) == [("Apple", "ORGANIZATION", 0.8), ("Later Apple", "TITLE", 0.6)]


def test_a_surname_alone_is_the_person_named_in_full() -> None:
    text = "Hugo Chávez spoke on Monday. Chávez said more. Al met him."
    found = harmonise(text, [entity(text, "Hugo Chávez", "PERSON", 0.9)], "es")
    assert spans(found) == [("Hugo Chávez", "PERSON", 0.9), ("Chávez", "PERSON", 0.72)]
    assert found[1]["BeginOffset"] == text.index("Chávez said")


def test_unspaced_scripts_get_one_type_per_name_only() -> None:
    # 中国 also occurs inside 中国人, and Korean particles attach to names: no repeats are marked there.
    text = "中国很大。中国人很多。中国队输了。"
    found = [entity(text, "中国", "LOCATION", 0.9), entity(text, "中国", "ORGANIZATION", 0.3, 2)]
    assert spans(harmonise(text, found, "zh")) == [("中国", "LOCATION", 0.9), ("中国", "LOCATION", 0.3)]
    text = "서울은 크다. 나는 서울에서 산다."
    assert len(harmonise(text, [entity(text, "서울", "LOCATION", 0.9)], "ko")) == 1


def test_the_engine_applies_it_to_each_text_and_custom_recognizers_do_not() -> None:
    text = "Angela Merkel met Emmanuel Macron in Paris.\nMerkel returned to Berlin on Friday. Merkel spoke."
    plain = load_engine("en", document_context=False).recognise([text])[0]
    assert load_engine("en").recognise([text])[0] == harmonise(text, plain, "en")
    from opencomprehend.nlp.ner.spacy_engine import CustomEngine, SpacyEngine

    assert SpacyEngine.uses_context and not CustomEngine.uses_context
