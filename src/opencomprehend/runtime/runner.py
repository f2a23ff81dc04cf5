"""What a runner offers: warm workers that recognise documents, locally or on a cluster."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from opencomprehend.io.documents import Document


class Runner(Protocol):
    """Everything its callers use of a runner: the local pool (runtime/pool.py LocalPool, or InlineRunner in
    the API process itself) and the cluster (runtime/cluster.py DaskRunner) both offer all of it."""

    # How many shards may run at once (the scheduler's figure for how much work to hand out).
    workers: int

    def submit(self, engine: str, documents: list[Document]) -> Future[list[str]]:
        """Output lines for one shard. `engine` is a language code, or a custom model's engine key."""
        ...

    def recognise(self, engine: str, texts: list[str], account: str = "") -> Future[list[list[dict] | None]]:
        """Entities of a few texts (the real-time operations), ahead of queued shards; `account` is the
        key the real-time lane shares fairly among."""
        ...

    def train(
        self,
        train: list[Any],
        test: list[Any],
        language: str,
        output_dir: Path,
        options: dict[str, Any],
        check: Callable[[], bool],
        poll_s: float = 1.0,
        volume_key: Any = None,
    ) -> dict[str, Any]:
        """Train a custom recognizer (runtime/trainer.py's contract) and return its report."""
        ...

    def health(self) -> dict[str, Any]:
        """What GET /health reports of the workers: at least "Live", how many are up."""
        ...

    def close(self) -> None:
        """Stop using the workers; bounded."""
        ...


CUSTOM_PREFIX = "custom:"
PII_PREFIX = "pii:"
# The dominant language identifier (nlp/language_id.py): one engine for every language.
LANGUAGE_ENGINE = "language"


def custom_engine_key(language: str, folder: Path) -> str:
    """The engine key of a trained recognizer's model folder on this node."""
    return f"{CUSTOM_PREFIX}{language}:{folder}"


def pii_engine_key(language: str) -> str:
    """The engine key of a language's PII detection (Comprehend's PII types, not its entity types)."""
    return f"{PII_PREFIX}{language}"


def pii_language(key: str) -> str | None:
    """The language of a PII engine key; None for any other key."""
    return key[len(PII_PREFIX) :] if key.startswith(PII_PREFIX) else None


def parse_engine_key(key: str) -> tuple[str, Path | None]:
    """(language, model folder) of an engine key; the folder is None for a language's own model."""
    if key.startswith(CUSTOM_PREFIX):
        language, _, folder = key[len(CUSTOM_PREFIX) :].partition(":")
        return language, Path(folder)
    return key, None


class WorkerLost(Exception):
    """The worker running a task died or stopped answering; the task did not finish and may be run again."""


class SchedulerUnreachable(ConnectionError):
    """The Dask scheduler did not answer (or refused this node's TLS); str(e) names its address."""
