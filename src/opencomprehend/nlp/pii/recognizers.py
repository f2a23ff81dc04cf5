"""Presidio's analyzer for one language: its recognizers and ours, our tokenizer as its NLP engine, and
its context step and two of its patterns rewritten to take time linear in the text (build_analyzer)."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import regex
import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer import predefined_recognizers as presidio
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from spacy.tokens import Doc
from spacy.vocab import Vocab

from opencomprehend.nlp.pii.checksums import (
    _digits,
    cn_resident_id_valid,
    eg_national_id_valid,
    fr_nir_valid,
    jp_my_number_valid,
    pt_nif_valid,
    sa_national_id_valid,
    vin_valid,
)
from opencomprehend.nlp.pii.lexicon import (
    _COUNTRIES,
    AGE_UNITS,
    PASSWORD_WORDS,
    PHONE_REGIONS,
    PRESIDIO_TYPES,
    USERNAME_WORDS,
    context_for,
)


class _Checked(PatternRecognizer):
    """A pattern recognizer whose matches a function validates (True: certain, or only possible when
    `certain` is off; False: not this type, unless `reject` is off)."""

    def __init__(
        self, check: Callable[[str], bool], *, reject: bool = True, certain: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._check = check
        self._reject = reject
        self._certain = certain

    def validate_result(self, pattern_text: str) -> bool | None:
        if self._check(pattern_text):
            return True if self._certain else None
        return False if self._reject else None


class _WeakChecksum:
    """Mixin for a recognizer whose checksum one random number in 10 or 11 passes: the checksum filters (a
    number that fails it is none), and one that passes scores _CHECKSUM_PASSED rather than certainty, so
    context words decide (see _uncertain)."""

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if super().validate_result(pattern_text) else False  # type: ignore[misc]

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, **kw: Any) -> Any:
        # What is left passed the checksum: likelier than the bare pattern, short of certain.
        results = super().analyze(text, entities, nlp_artifacts, **kw)  # type: ignore[misc]
        for result in results:
            result.score = max(result.score, _CHECKSUM_PASSED)
        return results


class _PhoneRecognizer(presidio.PhoneRecognizer):
    """Presidio's libphonenumber recognizer, skipped for a text with fewer digits than any phone number
    has (seven): libphonenumber tries every region of the language on each text, the analyzer's largest
    cost."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:  # noqa: E501
        if sum(ch.isdigit() for ch in text) < 7:
            return []
        return super().analyze(text, entities, nlp_artifacts)


class _OfflineEmailRecognizer(presidio.EmailRecognizer):
    """Presidio's e-mail recognizer with its domain check on tldextract's shipped suffix list (no fetch)."""

    def validate_result(self, pattern_text: str) -> bool:
        return _offline_tld(pattern_text).fqdn != ""


@functools.cache
def _tld_extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _offline_tld(text: str) -> Any:
    return _tld_extractor()(text)


def _words(words: Iterable[str]) -> str:
    return "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))


# What stands between "password" and the password: a colon, or a verb ("is", "es", "ist", は, 는, 是...).
_INTRODUCED = (
    r"(?:\s*[:=：]\s*|\s+(?:is|es|est|ist|è|é)\s+|\s+(?:الخاص بي\s+)?هو\s+|\s*(?:は|는|은|是|為|为)\s*)"
)
# Hindi puts the verb after the value: "मेरा पासवर्ड abc123 है".
_HINDI_VALUE = r"(?=\s+है)"


def _pattern(name: str, expression: str, score: float) -> Pattern:
    return Pattern(name=name, regex=expression, score=score)


def _own_recognizers(language: str) -> list[EntityRecognizer]:
    """Recognizers for the enum's types that Presidio has none for, in one language."""

    def make(
        entity: str, patterns: list[Pattern], check: Callable[[str], bool] | None = None, weak: bool = False, **kw: Any
    ):
        context = context_for(PRESIDIO_TYPES.get(entity, entity), language) or None
        common = {"supported_entity": entity, "patterns": patterns, "context": context, "supported_language": language}
        if check is None:
            return PatternRecognizer(**common)
        return (_WeakChecked if weak else _Checked)(check, **common, **kw)

    swift = r"(?-i:\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b)"
    return [
        # A URL with its scheme, whole ("http://www.franco.biz/": Presidio's pattern stops inside a TLD
        # that another one starts, ".bi", and before a trailing slash); _widest keeps the longer.
        make("URL", [_pattern("url with scheme", r"(?i:\b(?:https?|ftp)://[^\s<>\"'()\[\]{}\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+)", 0.6)]),  # noqa: E501
        make("AWS_ACCESS_KEY", [_pattern("aws access key", r"(?-i:\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b)", 0.9)]),  # noqa: E501
        make(
            "AWS_SECRET_KEY",
            [_pattern("aws secret key", r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", 0.3)],
            lambda t: any(c.isupper() for c in t) and any(c.islower() for c in t) and any(c.isdigit() for c in t),
        ),
        make("SWIFT_CODE", [_pattern("swift", swift, 0.3)], lambda t: t[4:6].upper() in _COUNTRIES, reject=True),
        make(
            "VEHICLE_IDENTIFICATION_NUMBER",
            [_pattern("vin", r"(?-i:\b[A-HJ-NPR-Z0-9]{17}\b)", 0.3)],
            vin_valid,
            reject=False,
        ),
        # libphonenumber accepts only numbers that could be assigned; a number written as a phone number
        # after a word such as "phone" is one all the same.
        make(
            "PHONE",
            [
                _pattern("grouped", r"(?<![\d+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?|\d{1,5}[\s.-])(?:\d{2,4}[\s.-]){0,2}\d{3,10}(?![\d-])", 0.1),  # noqa: E501
                _pattern("international", r"(?<![\d+])\+\d{1,3}[\s.-]?\d{6,12}(?!\d)", 0.1),
                _pattern("digits", r"(?<![\d+])\+?\d{9,12}(?!\d)", 0.05),
            ],
            # A phone number has 7 to 15 digits (ITU-T E.164).
            lambda t: 7 <= len(_digits(t)) <= 15,
            certain=False,
        ),
        make("CREDIT_DEBIT_CVV", [_pattern("cvv", r"\b\d{3,4}\b", 0.01)]),
        make(
            "CREDIT_DEBIT_EXPIRY",
            [
                _pattern("mm/yy", r"\b(?:0[1-9]|1[0-2])\s?[/-]\s?(?:\d{2}|20\d{2})\b", 0.2),
                _pattern("yyyy/mm", r"\b20\d{2}[/-](?:0[1-9]|1[0-2])\b", 0.1),
            ],
        ),
        make("PIN", [_pattern("pin", r"\b\d{4,6}\b", 0.01)]),
        make("BANK_ACCOUNT_NUMBER", [_pattern("account", r"\b\d{6,17}\b", 0.05)]),
        make(
            "LICENSE_PLATE",
            [
                _pattern("plate", r"(?-i:\b(?=[A-Z0-9 ·•-]*\d)(?=[A-Z0-9 ·•-]*[A-Z])[A-Z0-9]{1,4}(?:[ ·•-]?[A-Z0-9]{1,4}){1,2}\b)", 0.05),  # noqa: E501
                _pattern("plate digits", r"\b\d{1,4}[ ·•-]\d{2,5}\b", 0.05),
                # Plates in the national scripts: Saudi Arabia (three Arabic letters, up to four digits),
                # Japan (office, class number, kana, serial: "札幌 597 わ 12-34"), Korea ("59러7919",
                # "서울12가3456") and mainland China (province, letter, serial: "黑S-82597").
                _pattern("plate sa", r"(?<!\p{Arabic})\p{Arabic}(?:\s\p{Arabic}){1,2}\s[0-9٠-٩]{1,4}(?![0-9٠-٩])", 0.05),  # noqa: E501
                _pattern("plate jp", r"(?<!\p{Han})\p{Han}{1,4}\s?\d{2,3}\s?\p{Hiragana}\s?(?:[\d・]{1,2}-[\d・]{2}|[\d・]{4}|[\d・]{1,4})(?![\d・])", 0.05),  # noqa: E501
                _pattern("plate kr", r"(?<![\p{Hangul}\d])(?:\p{Hangul}{2}\s?)?\d{2,3}\s?\p{Hangul}\s?\d{4}(?!\d)", 0.05),  # noqa: E501
                _pattern("plate cn", r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][-·•]?[A-Z0-9]{5,6}(?![A-Z0-9])", 0.3),  # noqa: E501
            ],
        ),
        make(
            "CA_HEALTH_NUMBER",
            [_pattern("ohip", r"(?-i:\b\d{4}[- ]?\d{3}[- ]?\d{3}[- ]?[A-Z]{2}\b)", 0.3)],
        ),
        make("UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", [_pattern("utr", r"\b\d{5}\s?\d{5}\b", 0.05)]),
        make("IN_NREGA", [_pattern("nrega", r"(?-i:\b[A-Z]{2}-\d{2}-\d{3}-\d{3}-\d{3}/\d{2,3}\b)", 0.5)]),
        make(
            "PASSWORD",
            [
                _pattern("password", rf"(?<=(?:{_words(PASSWORD_WORDS)}){_INTRODUCED})[\x21-\x7e]{{4,64}}", 0.6),
                _pattern("password hi", rf"(?<=(?:पासवर्ड)\s+)[\x21-\x7e]{{4,64}}{_HINDI_VALUE}", 0.6),
            ],  # noqa: E501
        ),
        make(
            "USERNAME",
            [
                _pattern("username", rf"(?<=(?:{_words(USERNAME_WORDS)}){_INTRODUCED})[A-Za-z0-9._@+-]{{3,64}}", 0.6),
                _pattern("username hi", rf"(?<=(?:यूज़रनेम|उपयोगकर्ता नाम)\s+)[A-Za-z0-9._@+-]{{3,64}}{_HINDI_VALUE}", 0.6),
            ],  # noqa: E501
        ),
        make("AGE", [_pattern("age", rf"\b\d{{1,3}}\s?(?:{_words(AGE_UNITS)})(?!\w)", 0.85)]),
        make("FR_NIR", [_pattern("nir", r"(?-i:\b[12]\s?\d{2}\s?(?:0[1-9]|1[0-2])\s?(?:\d{2}|2A|2B)\s?\d{3}\s?\d{3}\s?\d{2}\b)", 0.3)], fr_nir_valid),  # noqa: E501
        make("CN_RESIDENT_ID", [_pattern("resident id", r"\b\d{17}[\dXx]\b", 0.3)], cn_resident_id_valid),
        # Weak check digits (about one random number in 11 passes): they filter, and context words decide.
        make("JP_MY_NUMBER", [_pattern("my number", r"\b\d{4}\s?\d{4}\s?\d{4}\b", 0.1)], jp_my_number_valid, weak=True),  # noqa: E501
        make("PT_NIF", [_pattern("nif", r"\b\d{9}\b", 0.1)], pt_nif_valid, weak=True),
        make("SA_NATIONAL_ID", [_pattern("sa id", r"\b[12]\d{9}\b", 0.1)], sa_national_id_valid, weak=True),
        make("EG_NATIONAL_ID", [_pattern("eg id", r"\b[23]\d{13}\b", 0.3)], eg_national_id_valid),
    ]  # fmt: skip


class _UsSsnRecognizer(presidio.UsSsnRecognizer):
    """Presidio's SSN recognizer without its list of sample values ("123-45-6789", "078-05-1120"): they
    are well-formed numbers, Comprehend reports them, and every test and form example uses them."""

    _SAMPLES = frozenset({"123456789", "987654320", "078051120"})

    def invalidate_result(self, pattern_text: str) -> bool:
        if _digits(pattern_text) in self._SAMPLES:
            return len({ch for ch in pattern_text if ch in ".- "}) > 1
        return super().invalidate_result(pattern_text)


# Presidio's recognizers by class; each gets the language and the context words of its Comprehend type.
_PRESIDIO_CLASSES: tuple[type[EntityRecognizer], ...] = (
    presidio.CreditCardRecognizer,
    presidio.IbanRecognizer,
    presidio.IpRecognizer,
    presidio.MacAddressRecognizer,
    presidio.UrlRecognizer,
    presidio.DateRecognizer,
    _UsSsnRecognizer,
    presidio.UsItinRecognizer,
    presidio.UsLicenseRecognizer,
    presidio.UsPassportRecognizer,
    presidio.UkNinoRecognizer,
    presidio.UkPassportRecognizer,
    presidio.UkDrivingLicenceRecognizer,
    presidio.UkVehicleRegistrationRecognizer,
    presidio.CaSinRecognizer,
    presidio.InPanRecognizer,
    presidio.InVoterRecognizer,
    presidio.InPassportRecognizer,
    presidio.InVehicleRegistrationRecognizer,
)
def _uncertain(cls: type[PatternRecognizer]) -> type[PatternRecognizer]:
    """`cls` with its checksum made a filter only (_WeakChecksum)."""
    return type(cls.__name__, (_WeakChecksum, cls), {})


# The score of a number that passed a weak checksum, before context words raise it.
_CHECKSUM_PASSED = 0.3
# Our own recognizers with a weak check digit (My Number, Portuguese NIF, Saudi ID).
_WeakChecked = _uncertain(_Checked)


# Numbers whose only check is a weak checksum (one random number in 10 or 11 passes it: ABA routing, NHS,
# Aadhaar): a pass is no certainty (a phone number written "447-310-5903" passes NHS's), so they need
# their context words; and in other languages' text they took local phone and account numbers for those
# of the US, the UK and India, so they are recognized in English (and Aadhaar in Hindi) only.
_WEAK_CHECKSUM_CLASSES = tuple(
    _uncertain(cls) for cls in (presidio.AbaRoutingRecognizer, presidio.NhsRecognizer, presidio.InAadhaarRecognizer)
)
# Country recognizers that only make sense in their own language (and English).
_NATIONAL_CLASSES: dict[str, tuple[type[EntityRecognizer], ...]] = {
    "en": _WEAK_CHECKSUM_CLASSES,
    "hi": (_WEAK_CHECKSUM_CLASSES[2],),
    "es": (presidio.EsNifRecognizer, presidio.EsNieRecognizer, presidio.EsPassportRecognizer),
    "it": (
        presidio.ItFiscalCodeRecognizer,
        presidio.ItIdentityCardRecognizer,
        presidio.ItPassportRecognizer,
        presidio.ItDriverLicenseRecognizer,
    ),
    "de": (
        presidio.DeTaxIdRecognizer,
        presidio.DeSocialSecurityRecognizer,
        presidio.DeIdCardRecognizer,
        presidio.DePassportRecognizer,
        presidio.DeFuehrerscheinRecognizer,
        presidio.DeKfzRecognizer,
    ),
    "ko": (presidio.KrRrnRecognizer, presidio.KrPassportRecognizer, presidio.KrDriverLicenseRecognizer),
}


def _presidio_recognizers(language: str) -> list[EntityRecognizer]:
    found: list[EntityRecognizer] = []
    for cls in _PRESIDIO_CLASSES + _NATIONAL_CLASSES.get(language, ()):
        probe = cls()
        pii_type = PRESIDIO_TYPES[probe.supported_entities[0]]
        context = list(dict.fromkeys(list(getattr(probe, "context", None) or []) + context_for(pii_type, language)))
        found.append(cls(supported_language=language, context=context))
    found.append(
        _OfflineEmailRecognizer(supported_language=language, context=context_for("EMAIL", language) or None)
    )
    found.append(
        _PhoneRecognizer(
            supported_language=language,
            context=context_for("PHONE", language),
            supported_regions=PHONE_REGIONS.get(language, ["US"]),
        )
    )
    return found


# ------------------------------------------------------------------------------------------- tokens

# Words are runs of letters and marks (a run of Han, kana or Hangul is one "word", so a context word such
# as 電話 is found inside 電話番号), runs of digits, or single other characters.
_TOKEN = regex.compile(r"[\p{L}\p{M}]+|\p{N}+|[^\s\p{L}\p{M}\p{N}]")
_STOPWORDS = frozenset({"the", "a", "an", "of", "is", "my", "your", "de", "la", "le", "el", "der", "die", "das"})


class TokenNlpEngine(NlpEngine):
    """Presidio's NLP engine as a tokenizer only: what its context enhancer reads, and nothing to load."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.vocab = Vocab()

    def load(self) -> None:
        """Nothing to load."""

    def is_loaded(self) -> bool:
        return True

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        matches = list(_TOKEN.finditer(text))
        words = [m.group() for m in matches]
        spaces = [
            (matches[i + 1].start() > m.end()) if i + 1 < len(matches) else m.end() < len(text)
            for i, m in enumerate(matches)
        ]
        doc = Doc(self.vocab, words=words, spaces=spaces)
        artifacts = NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[m.start() for m in matches],
            lemmas=[w.lower() for w in words],
            nlp_engine=self,
            language=language,
        )
        # Looked up once per context word of every match (_ContextEnhancer): a set, not Presidio's list.
        artifacts.keywords = frozenset(artifacts.keywords)
        return artifacts

    def process_batch(self, texts: Iterable[str], language: str, batch_size: int = 1, n_process: int = 1, **kwargs: Any) -> Iterator[tuple[str, NlpArtifacts]]:  # noqa: E501
        for text in texts:
            yield text, self.process_text(text, language)

    def is_stopword(self, word: str, language: str) -> bool:
        return word.lower() in _STOPWORDS

    def is_punct(self, word: str, language: str) -> bool:
        return len(word) == 1 and not word.isalnum()

    def get_supported_entities(self) -> list[str]:
        return []

    def get_supported_languages(self) -> list[str]:
        return [self.language]


# `\b` between 是 and 1 is no boundary (both are word characters), and Chinese, Japanese and Korean put
# numbers right next to words. Every pattern's word boundaries are ASCII-alphanumeric boundaries instead.
_ASCII_BOUNDARY = r"(?:(?<![0-9A-Za-z])(?=[0-9A-Za-z])|(?<=[0-9A-Za-z])(?![0-9A-Za-z]))"


def _ascii_boundaries(recognizers: list[EntityRecognizer]) -> list[EntityRecognizer]:
    for recognizer in recognizers:
        for pattern in getattr(recognizer, "patterns", None) or []:
            pattern.regex = (
                pattern.regex.replace(r"\b", _ASCII_BOUNDARY)
                .replace(r"(?!\w)", r"(?![0-9A-Za-z])")
                .replace(r"(?<![\w:]", r"(?<![0-9A-Za-z_:]")
                .replace(r"(?![\w:]", r"(?![0-9A-Za-z_:]")
            )
            pattern.compiled_regex = pattern.compiled_with_flags = None
    return recognizers


# Presidio patterns that cost time out of proportion to the text, rewritten to match the same values:
# - the URL without a scheme tries every start inside a run of dots and digits ("1.1.1.…"), each time
#   reading 253 characters and then the ~1,500 top-level domains at every dot: it now starts only where
#   such a run starts (a host name is never part of a longer one);
# - PAN (Low) looked ahead for a letter and four digits anywhere in the rest of the text (`.*?` under
#   DOTALL) at every word: it now looks inside the ten characters it matches.
_LINEAR_PATTERNS = {
    ("UrlRecognizer", "Non schema URL"): ("(?i)((www", r"(?i)(?<![a-z0-9.\-])((www"),
    ("InPanRecognizer", "PAN (Low)"): (
        r"((?=.*?[a-zA-Z])(?=.*?[0-9]{4})[\w@#$%^?~-]{10})",
        r"((?=[\w@#$%^?~-]{0,9}[a-zA-Z])(?=[\w@#$%^?~-]{0,6}[0-9]{4})[\w@#$%^?~-]{10})",
    ),
}


def _linear_patterns(recognizers: list[EntityRecognizer]) -> list[EntityRecognizer]:
    """Rewrite the patterns of _LINEAR_PATTERNS; a Presidio release whose pattern differs fails loudly."""
    for recognizer in recognizers:
        for pattern in getattr(recognizer, "patterns", None) or []:
            rewrite = _LINEAR_PATTERNS.get((type(recognizer).__name__, pattern.name))
            if rewrite is None:
                continue
            old, new = rewrite
            if new in pattern.regex:  # Presidio's recognizers of every language share their Patterns
                continue
            if old not in pattern.regex:
                raise RuntimeError(f"Presidio's {pattern.name!r} pattern changed; review _LINEAR_PATTERNS")
            pattern.regex = pattern.regex.replace(old, new, 1)
            pattern.compiled_regex = pattern.compiled_with_flags = None
    return recognizers


# How many tokens on each side of a match the context enhancer reads looking for its context words.
_CONTEXT_REACH = 40


class _ContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancer, in time linear in the text.

    Presidio finds each match's token by walking every token from the text's start, and looks for its n
    context words by walking on past stop words and punctuation to the text's start: a text of many matches
    ("1.1.1.…", "a@a@…") cost the square of its length. Here the token is found by bisection and the
    context words are looked for among the _CONTEXT_REACH tokens on each side (keywords are a set:
    TokenNlpEngine makes them so).
    """

    @staticmethod
    def _find_index_of_match_token(word: str, start: int, tokens: Any, tokens_indices: list[int]) -> int:
        # The first token that ends after `start` (tokens are in order and never overlap), as Presidio's.
        index = bisect.bisect_right(tokens_indices, start) - 1
        if index >= 0 and start < tokens_indices[index] + len(tokens[index]):
            return index
        if index + 1 < len(tokens_indices):
            return index + 1
        raise ValueError(f"Did not find word {word!r} in the list of tokens although it is expected to be found")

    @staticmethod
    def _add_n_words(
        index: int, n_words: int, lemmas: list[str], lemmatized_filtered_keywords: Any, is_backward: bool
    ) -> list[str]:
        step = -1 if is_backward else 1
        stop = max(-1, index - _CONTEXT_REACH) if is_backward else min(len(lemmas), index + _CONTEXT_REACH)
        words: list[str] = []
        # The match's own token counts, for a context word written onto it ("IBAN:DE89…"), as in Presidio.
        for i in range(index, stop, step):
            if len(words) > n_words:
                break
            lemma = lemmas[i].lower()
            if lemma in lemmatized_filtered_keywords:
                words.append(lemma)
        return words


def build_analyzer(language: str) -> AnalyzerEngine:
    """Presidio's analyzer for one language: its recognizers and ours, our tokenizer, nothing downloaded."""
    registry = RecognizerRegistry(
        recognizers=_ascii_boundaries(_linear_patterns(_presidio_recognizers(language) + _own_recognizers(language))),
        supported_languages=[language],
    )
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=TokenNlpEngine(language),
        supported_languages=[language],
        # Context words come before the value ("IBAN: …") or, less often, right after it.
        context_aware_enhancer=_ContextEnhancer(context_prefix_count=6, context_suffix_count=1),
    )
