"""DetectPiiEntities and ContainsPiiEntities: personal data in the text of the request itself.

They run as DetectEntities does (service/detect.py): the same throttle, the same size limit (100 KB of
UTF-8, `max_detect_bytes`) and message, the same language check, on the warm workers' real-time lane,
with the language's PII engine (nlp/pii/) instead of its entity engine.

Comprehend itself detects PII in English and Spanish only; here every language with an entity model is
supported (docs/pii.md lists what each language recognises). Checks run in the order DetectEntities
uses: throttle, size, language.
"""

from __future__ import annotations

from typing import Any

from opencomprehend.runtime.runner import pii_engine_key
from opencomprehend.service.detect import (
    check_language,
    check_size,
    internal_error,
    recognise_in_pieces,
)
from opencomprehend.service.registry import Environment, RequestContext, operation

# A request's text is recognised in pieces of at most this many characters, each a task of its own
# (detect.recognise_in_pieces): PII detection costs ~10-100 ms per KB, so no piece holds a worker long.
PIECE_CHARS = 10_000


def contains_labels(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ContainsPiiEntities' Labels: one per type found, with the best score of that type, best first.

    It lives here, not beside the PII engine (nlp/pii/), so that the API process never imports Presidio
    or spaCy: detection runs on the workers.
    """
    best: dict[str, float] = {}
    for entity in entities:
        best[entity["Type"]] = max(best.get(entity["Type"], 0.0), entity["Score"])
    return [{"Name": name, "Score": score} for name, score in sorted(best.items(), key=lambda item: -item[1])]


def detect_pii(env: Environment, ctx: RequestContext, text: str, language_code: str) -> list[dict[str, Any]]:
    """PII entities of one text (Score, Type, BeginOffset, EndOffset; no Text member, as in Comprehend).

    The operations are registered on the "detect" lane, so the account's Detect rate applies first.
    """
    check_size(text, env.settings.max_detect_bytes)
    check_language(language_code)
    entities = recognise_in_pieces(env, pii_engine_key(language_code), text, ctx.account_id, PIECE_CHARS)
    if entities is None:
        raise internal_error()
    return entities


@operation("DetectPiiEntities", lane="detect")
def detect_pii_entities(env: Environment, ctx: RequestContext, *, text: str, language_code: str) -> dict[str, Any]:
    return {"Entities": detect_pii(env, ctx, text, language_code)}


@operation("ContainsPiiEntities", lane="detect")
def contains_pii_entities(env: Environment, ctx: RequestContext, *, text: str, language_code: str) -> dict[str, Any]:
    return {"Labels": contains_labels(detect_pii(env, ctx, text, language_code))}
