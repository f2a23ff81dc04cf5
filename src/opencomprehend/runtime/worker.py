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

log = logging.getLogger("opencomprehend.worker")

_engines: dict[str, Engine] = {}


def engine_for(language: str) -> Engine:
    engine = _engines.get(language)
    if engine is None:
        engine = _engines[language] = load_engine(language)
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
