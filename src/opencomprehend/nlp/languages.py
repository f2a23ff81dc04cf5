"""The languages this service recognises entities in, and what the code needs to know of each: one table.

Comprehend's entity detection has twelve language codes. For each: spaCy's language (zh-TW is Chinese in
Traditional script: spaCy's "zh"), whether it is written without spaces and so read one character a token,
the engine and shipped model folder its entities come from (the operator's models file may replace them:
nlp/registry.py), whether Comprehend trains custom recognizers in it, and the CLDR locale of its month,
weekday and unit names (nlp/ner/patterns.py; zh-TW text reaches the patterns converted to Simplified script).

Word lists (greetings, context words, address grammars) stay with the code that reads them (nlp/pii/names.py,
nlp/pii/lexicon.py, nlp/pii/addresses.py): they are vocabulary, not facts about the language's handling.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # Comprehend's LanguageCode
    spacy: str  # spaCy's language code
    characters: bool  # written without spaces between words: one character a token
    engine: str  # the engine of its shipped model ("spacy.t2s.v1": converted to Simplified script first)
    model: str  # the shipped model's folder under opencomprehend/models
    custom_recognizers: bool  # Comprehend trains custom entity recognizers in it
    cldr: str  # the CLDR (Babel) locale of its date and unit words


def _language(
    code: str, *, characters: bool = False, custom: bool = False, engine: str = "spacy.v1", model: str = ""
) -> Language:
    spacy = code.split("-")[0]
    return Language(code, spacy, characters, engine, model or spacy, custom, spacy)


LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        _language("en", custom=True),
        _language("es", custom=True),
        _language("fr", custom=True),
        _language("de", custom=True),
        _language("it", custom=True),
        _language("pt", custom=True),
        _language("ar"),
        _language("hi"),
        _language("ja", characters=True),
        _language("ko", characters=True),
        _language("zh", characters=True, engine="spacy.t2s.v1"),
        _language("zh-TW", characters=True, engine="spacy.t2s.v1"),
    )
}
# Comprehend's language codes for entities, in the order the documentation lists them.
ENTITY_LANGUAGES: tuple[str, ...] = tuple(LANGUAGES)
# Languages whose custom recognizers Comprehend trains.
CUSTOM_RECOGNIZER_LANGUAGES: tuple[str, ...] = tuple(code for code, lg in LANGUAGES.items() if lg.custom_recognizers)
# Comprehend codes read one character a token (zh, zh-TW, ja, ko).
CHARACTER_LANGUAGES: frozenset[str] = frozenset(code for code, lang in LANGUAGES.items() if lang.characters)


def spacy_language(code: str) -> str:
    """spaCy's language code for a Comprehend language code ("zh-TW" -> "zh"); a code this table does not know
    (a models file's own language) by the same rule."""
    known = LANGUAGES.get(code)
    return known.spacy if known else code.split("-")[0].lower()
