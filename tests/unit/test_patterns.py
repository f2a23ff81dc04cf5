"""DATE and QUANTITY from CLDR patterns (nlp/ner/patterns.py): what they match, and how they meet the model's
entities."""

from __future__ import annotations

import pytest

from opencomprehend.nlp.ner.patterns import merge, patterns_for


def found(language: str, text: str) -> list[tuple[str, str]]:
    patterns = patterns_for(language)
    assert patterns is not None
    return [(e["Text"], e["Type"]) for e in patterns.find(text, {"DATE", "QUANTITY"})]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("es", "Llegó el lunes 5 de mayo de 2020.", [("lunes 5 de mayo de 2020", "DATE")]),
        ("es", "Pesa 12,5 kilogramos y cuesta 30 euros.", [("12,5 kilogramos", "QUANTITY"), ("30 euros", "QUANTITY")]),
        ("de", "Seit Mai 2020 stieg der Kurs um 10 Prozent.", [("Mai 2020", "DATE"), ("10 Prozent", "QUANTITY")]),
        ("fr", "Le 01/02/2023, il a parcouru 15 km.", [("01/02/2023", "DATE"), ("15 km", "QUANTITY")]),
        ("it", "Dal 2020-05-05 ha speso € 1.200.", [("2020-05-05", "DATE"), ("€ 1.200", "QUANTITY")]),
        ("en", "On May 5, 2020 sales rose 12 percent.", [("May 5, 2020", "DATE"), ("12 percent", "QUANTITY")]),
        ("zh", "2020年5月5日增长了12%。", [("2020年5月5日", "DATE"), ("12%", "QUANTITY")]),
    ],
)
def test_dates_and_amounts_are_found_with_cldr_data(language: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(language, text) == expected


def test_numbers_without_a_unit_and_words_inside_words_are_not_quantities() -> None:
    assert found("es", "Hay 300 personas y 2 perros en la sala 12.") == []
    assert found("es", "El marzoniano no es un mes.") == []


def test_a_digit_pattern_replaces_a_model_entity_inside_it_and_a_bare_name_does_not() -> None:
    text = "El 3 de marzo de 2021 ganó 5 millones de euros con Mayo."
    model = [
        {"BeginOffset": 3, "EndOffset": 21, "Score": 0.6, "Text": "3 de marzo de 2021", "Type": "ORGANIZATION"},
        {"BeginOffset": 51, "EndOffset": 55, "Score": 0.8, "Text": "Mayo", "Type": "PERSON"},
    ]
    patterns = patterns_for("es")
    merged = merge(model, patterns.find(text, {"DATE", "QUANTITY"}), text)  # type: ignore[union-attr]
    assert [(e["Text"], e["Type"]) for e in merged] == [
        ("3 de marzo de 2021", "DATE"),
        ("5 millones de euros", "QUANTITY"),
        ("Mayo", "PERSON"),
    ]


def test_a_date_at_the_edge_of_a_longer_model_entity_is_cut_out_of_it() -> None:
    text = "El 5 de mayo de 2020 Telefónica ganó."
    model = [{"BeginOffset": 3, "EndOffset": 31, "Score": 0.7, "Text": text[3:31], "Type": "ORGANIZATION"}]
    merged = merge(model, patterns_for("es").find(text, {"DATE"}), text)  # type: ignore[union-attr]
    assert [(e["Text"], e["Type"], e["Score"]) for e in merged] == [
        ("5 de mayo de 2020", "DATE", 0.9),
        ("Telefónica", "ORGANIZATION", 0.7),
    ]
    for entity in merged:
        assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
