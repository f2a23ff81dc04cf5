"""What runs inside a worker process: warm engines, one shard at a time.

An engine is loaded once per process and kept; the pool recycles the process after a number of
shards, which bounds spaCy's slow memory growth over long runs.
"""

from __future__ import annotations

import logging
import os
import time

from opencomprehend.io.documents import Document
from opencomprehend.io.output import record_line
from opencomprehend.nlp.registry import Engine, UnsupportedLanguage, load_engine
from opencomprehend.runtime.runner import parse_engine_key

log = logging.getLogger("opencomprehend.worker")

_engines: dict[str, Engine] = {}


# Languages' own models stay loaded; custom recognizers come and go, so only the most recently used
# few stay warm in a worker (each holds tens of MB).
MAX_CUSTOM_ENGINES = 4


def engine_for(key: str) -> Engine:
    """The warm engine for an engine key: a language's own model, or a trained recognizer's folder."""
    engine = _engines.pop(key, None)
    if engine is None:
        language, folder = parse_engine_key(key)
        models = None if folder is None else {language: ("custom.v1", folder)}
        engine = load_engine(language, models)
    _engines[key] = engine  # re-inserted: the dict's order is the order of use
    custom = [k for k in _engines if parse_engine_key(k)[1] is not None]
    for stale in custom[: max(0, len(custom) - MAX_CUSTOM_ENGINES)]:
        del _engines[stale]
    return engine


def warm(languages: list[str]) -> None:
    """Pool initializer: load the usual engines before the first shard arrives."""
    for language in languages:
        try:
            engine_for(language)
        except UnsupportedLanguage:
            log.warning("no engine for preloaded language %s", language)


def ping() -> int:
    # Linger a little so that each worker, not just the first free one, answers a ping.
    time.sleep(0.05)
    return os.getpid()


def recognise_shard(language: str, documents: list[Document]) -> list[str]:
    """Output lines for one shard, in document order; error documents pass through as error records."""
    texts = [doc.text for doc in documents if doc.error_code is None]
    found = iter(engine_for(language).recognise(texts)) if texts else iter(())
    return [
        record_line(doc, None if doc.error_code is not None else next(found))  # type: ignore[arg-type]
        for doc in documents
    ]


def recognise_texts(language: str, texts: list[str]) -> list[list[dict] | None]:
    """Entities for each text, in order, for DetectEntities and BatchDetectEntities.

    When the engine fails on the batch, each text is retried alone so that one bad document costs only
    its own result: it comes back as None (a BatchDetectEntities ErrorList entry) and the rest still
    succeed. UnsupportedLanguage is about the request, not a document, so it propagates.
    """
    engine = engine_for(language)
    try:
        return list(engine.recognise(texts))
    except Exception:  # noqa: BLE001  (narrowed down document by document below)
        if len(texts) == 1:
            log.exception("entity recognition failed on a %d-character text", len(texts[0]))
            return [None]
    results: list[list[dict] | None] = []
    for text in texts:
        try:
            results.append(engine.recognise([text])[0])
        except Exception:  # noqa: BLE001  (one document's failure must not fail the others)
            log.exception("entity recognition failed on a %d-character text", len(text))
            results.append(None)
    return results
