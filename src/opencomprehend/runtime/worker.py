"""What runs inside a worker process: warm engines, one task at a time.

An engine is loaded once per process and kept; the pool recycles the process after a number of
tasks, which bounds spaCy's slow memory growth over long runs. `serve` is the process's main loop.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
import time
from multiprocessing.connection import Connection

from opencomprehend import logs
from opencomprehend.io.documents import Document
from opencomprehend.io.output import record_line
from opencomprehend.nlp.models_file import ModelChoice
from opencomprehend.nlp.registry import Engine, UnsupportedLanguage, configure_models, configured_models, load_engine
from opencomprehend.runtime.runner import EngineRef, entities_engine

log = logging.getLogger("opencomprehend.worker")

_engines: dict[EngineRef, Engine] = {}


# Languages' own models stay loaded; custom recognizers come and go, so only the most recently used
# few stay warm in a worker (each holds tens of MB).
MAX_CUSTOM_ENGINES = 4


def engine_for(key: EngineRef) -> Engine:
    """The warm engine `key` names: a language's own model, a trained recognizer's folder, a language's PII
    detection (which finds names and addresses with that language's own model), or the dominant language
    identifier."""
    engine: Engine | None = _engines.pop(key, None)
    if engine is None:
        if key.kind == "language":
            from opencomprehend.nlp.language_id import LanguageIdentifier

            engine = LanguageIdentifier()  # an Engine: its results are Languages lists (key.record_member)
        elif key.kind == "pii":
            from opencomprehend.nlp.pii import PiiEngine  # Presidio loads only in workers that detect PII

            engine = PiiEngine(key.language, engine_for(entities_engine(key.language)))
        else:
            models = None if key.folder is None else {key.language: ("custom.v1", key.folder)}
            engine = load_engine(key.language, models)
    _engines[key] = engine  # re-inserted: the dict's order is the order of use
    custom = [k for k in _engines if k.kind == "custom"]
    for stale in custom[: max(0, len(custom) - MAX_CUSTOM_ENGINES)]:
        del _engines[stale]
    return engine


def configure(models: dict[str, ModelChoice] | None) -> None:
    """Take the operator's models file (resolved, registry.configure_models) as this process's configuration;
    engines already loaded for a language whose model it changes are let go (a Dask worker that served another
    configuration before)."""
    before = configured_models()
    configure_models(models)
    after = configured_models()
    changed = {language for language in set(before) | set(after) if before.get(language) != after.get(language)}
    for key in list(_engines):
        if key.kind in ("entities", "pii") and key.language in changed:
            del _engines[key]


def warm(engines: list[EngineRef]) -> None:
    """Pool initializer: load the usual engines before the first shard arrives."""
    for key in engines:
        try:
            engine_for(key)
        except UnsupportedLanguage:
            log.warning("no engine for preloaded language %s", key)


def _exit_with(parent_pid: int | None) -> None:
    """Exit at once when the server process is gone, however it died (SIGKILL included).

    A watcher thread, because a worker busy on a long shard reads its pipe only between tasks.
    """

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(0.5)

    if parent_pid is not None:
        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001  (anything that does not survive the pipe)
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def serve(
    conn: Connection,
    preload: list[EngineRef],
    parent_pid: int | None,
    nice: int = 0,
    models: dict[str, ModelChoice] | None = None,
) -> None:
    """A worker's main loop: load the usual engines, then run (function, args) tasks until told to stop.

    Ctrl-C in the server's terminal reaches every process of its group: the server stops the workers
    itself, so they ignore SIGINT rather than print tracebacks. `nice` lowers the worker's CPU priority.
    `models` is the operator's models file, resolved (the server's own configuration).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        os.nice(nice)  # a batch worker: the real-time worker and the API process go first
    _exit_with(parent_pid)
    logs.configure_worker()
    configure(models)
    warm(preload)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the server closed its end
        if message is None:
            return
        fn, args = message
        try:
            reply = ("ok", fn(*args))
        except Exception as exc:  # noqa: BLE001  (the caller gets the exception through its future)
            reply = ("error", _picklable(exc))
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        except Exception as exc:  # noqa: BLE001  (a result that cannot be pickled)
            conn.send(("error", RuntimeError(f"the result could not be sent: {exc}")))


def recognise_shard(key: EngineRef, documents: list[Document]) -> list[str]:
    """Output lines for one shard, in document order; error documents pass through as error records."""
    texts = [doc.text for doc in documents if doc.error_code is None]
    engine = engine_for(key)
    found = iter(engine.recognise(texts) if texts else [])
    member = key.record_member
    return [record_line(doc, None if doc.error_code is not None else next(found), member) for doc in documents]


def recognise_texts(key: EngineRef, texts: list[str]) -> list[list[dict] | None]:
    """Entities for each text, in order, for DetectEntities and BatchDetectEntities.

    When the engine fails on the batch, each text is retried alone so that one bad document costs only
    its own result: it comes back as None (a BatchDetectEntities ErrorList entry) and the rest still
    succeed. UnsupportedLanguage is about the request, not a document, so it propagates.
    """
    engine = engine_for(key)
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
