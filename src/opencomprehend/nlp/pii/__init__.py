"""The PII engine (PiiEngine, under the worker's "pii:<language>" engine key): Comprehend's PII entity
types in text, in every language that has an entity model.

Two sources, one answer:

- Microsoft Presidio's analyzer finds the structured identifiers: its own pattern, checksum and context
  recognizers (credit cards with Luhn, IBAN with its mod-97 check, ABA routing numbers, phone numbers
  through libphonenumber, national numbers...), plus the recognizers below for the types of
  Comprehend's `PiiEntityType` enum that Presidio has no recognizer for (AWS keys, SWIFT codes, VINs with
  their check digit, CVV, expiry, PIN, passwords, user names, ages...). Every recognizer is built once
  per language with that language's context words (PII_CONTEXT), so "contraseña: …" counts as "password:".
- Our own entity models (the language's spaCy engine, already warm in the worker) give NAME (PERSON),
  ADDRESS (LOCATION, with adjacent address parts such as a house number or postcode joined in) and
  DATE_TIME (DATE).

Presidio runs without any model of its own: its NLP engine here is only a tokenizer (TokenNlpEngine),
which is all its context enhancer needs. So nothing is loaded from the network, ever (Presidio's default
engine would download a spaCy model; its e-mail recognizer's domain check would fetch the public suffix
list, and here reads the snapshot that tldextract ships instead).

Overlaps resolve as Comprehend's output shows them: entities never overlap; the higher score wins, then
the longer span, then the earlier one.

Each entity is {"Score", "Type", "BeginOffset", "EndOffset"}: code-point offsets, EndOffset exclusive,
no "Text" member (as DetectPiiEntities answers).

The package's modules, in the order they depend on each other: `lexicon` (types and context words),
`checksums`, `recognizers` (Presidio's analyzer), `spans` (addresses, overlaps, windows), `labels`, and
`engine` (PiiEngine).
"""

from opencomprehend.nlp.pii.checksums import (
    cn_resident_id_valid,
    eg_national_id_valid,
    fr_nir_valid,
    jp_my_number_valid,
    luhn_valid,
    pt_nif_valid,
    sa_national_id_valid,
    vin_valid,
)
from opencomprehend.nlp.pii.engine import PiiEngine
from opencomprehend.nlp.pii.lexicon import MIN_SCORE, NER_TYPES, PHONE_REGIONS, PII_CONTEXT, PRESIDIO_TYPES, context_for
from opencomprehend.nlp.pii.recognizers import TokenNlpEngine, build_analyzer
from opencomprehend.nlp.pii.spans import WINDOW, Spans, resolve_overlaps, windows

__all__ = [
    "MIN_SCORE",
    "NER_TYPES",
    "PHONE_REGIONS",
    "PII_CONTEXT",
    "PRESIDIO_TYPES",
    "WINDOW",
    "PiiEngine",
    "Spans",
    "TokenNlpEngine",
    "build_analyzer",
    "cn_resident_id_valid",
    "context_for",
    "eg_national_id_valid",
    "fr_nir_valid",
    "jp_my_number_valid",
    "luhn_valid",
    "pt_nif_valid",
    "resolve_overlaps",
    "sa_national_id_valid",
    "vin_valid",
    "windows",
]
