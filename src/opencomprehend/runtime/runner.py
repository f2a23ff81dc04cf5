"""What a runner offers: warm workers that recognise documents, locally or on a cluster."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from opencomprehend.config import Settings
from opencomprehend.io.documents import Document


class Runner(Protocol):
    """Everything its callers use of a runner: the local pool (runtime/pool.py LocalPool, or InlineRunner in
    the API process itself) and the cluster (runtime/cluster.py DaskRunner) both offer all of it."""

    # How many shards may run at once (the scheduler's figure for how much work to hand out).
    workers: int
    # Workers kept for real-time tasks only, beside those (0: none kept apart).
    realtime_workers: int

    def submit(self, engine: EngineRef, documents: list[Document]) -> Future[list[str]]:
        """Output lines for one shard, recognised by `engine`."""
        ...

    def recognise(self, engine: EngineRef, texts: list[str], account: str = "") -> Future[list[list[dict] | None]]:
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

    def warm_up(self, timeout: float = 300.0) -> bool:
        """Wait until the workers are up with their preloaded engines (False if not within `timeout`)."""
        ...

    def health(self) -> dict[str, Any]:
        """What GET /health reports of the workers: at least "Live", how many are up."""
        ...

    def worker_stats(self) -> dict[str, Any] | None:
        """This node's worker processes for the metrics and the console: "configured", "alive", "busy",
        "recycles", "replacements" (by reason); None where the runner does not keep processes of its own
        (a Dask cluster, the in-process runner: their health() is what is known)."""
        ...

    def close(self) -> None:
        """Stop using the workers; bounded."""
        ...


@dataclass(frozen=True)
class EngineRef:
    """Which engine a task runs with on a worker: a language's entity model (`entities`), its PII detection
    (`pii`), the dominant language identifier (`language`), or a trained recognizer's model folder on this
    node (`custom`). Hashable and picklable: the key of a worker's warm engines, sent with every task (local
    processes and Dask alike)."""

    kind: Literal["entities", "pii", "language", "custom"]
    language: str = ""  # its language ("" for the language identifier)
    folder: Path | None = None  # a custom model's folder

    def __str__(self) -> str:
        if self.kind == "entities":
            return self.language
        if self.kind == "custom":
            return f"custom:{self.language}:{self.folder}"
        return f"pii:{self.language}" if self.kind == "pii" else "language"

    @property
    def record_member(self) -> str:
        """The member of an output record that holds what this engine finds (io.output.record_line):
        "Languages" for the language identifier, "Entities" for every other engine."""
        return "Languages" if self.kind == "language" else "Entities"


def entities_engine(language: str) -> EngineRef:
    """A language's entity model (the shipped one, or the operator's models file's)."""
    return EngineRef("entities", language)


def pii_engine_key(language: str) -> EngineRef:
    """A language's PII detection (Comprehend's PII types, not its entity types)."""
    return EngineRef("pii", language)


def custom_engine_key(language: str, folder: Path) -> EngineRef:
    """A trained recognizer's model folder on this node."""
    return EngineRef("custom", language, folder)


# The dominant language identifier (nlp/language_id.py): one engine for every language.
LANGUAGE_ENGINE = EngineRef("language")


class AccountLoad:
    """Characters of real-time work each account has queued or running: what real-time tasks are ordered
    fairly by (the local pool and the Dask runner alike). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._load: dict[str, int] = {}

    def take(self, account: str, weight: int) -> int:
        """Count `weight` more characters for `account`; returns what it had before (the task's share)."""
        with self._lock:
            share = self._load.get(account, 0)
            self._load[account] = share + weight
            return share

    def release(self, account: str, weight: int) -> None:
        with self._lock:
            left = self._load.get(account, 0) - weight
            if left > 0:
                self._load[account] = left
            else:
                self._load.pop(account, None)

    def of(self, account: str) -> int:
        with self._lock:
            return self._load.get(account, 0)


class WorkerLost(Exception):
    """The worker running a task died or stopped answering; the task did not finish and may be run again."""


class SchedulerUnreachable(ConnectionError):
    """The Dask scheduler did not answer (or refused this node's TLS); str(e) names its address."""


# The runtimes a node may run its work on (Settings.runtime), by name: the function that opens each from the
# settings, in the module that implements it, imported only when chosen (a local node never imports Dask).
# A runtime is a Runner; adding one is a module with its opener and an entry here.
RUNTIMES: dict[str, str] = {
    "local": "opencomprehend.runtime.pool:open_local_pool",
    "dask": "opencomprehend.runtime.cluster:open_dask_runner",
}


def open_runtime(settings: Settings, preload: list[EngineRef], models: dict[str, Any] | None = None) -> Runner:
    """The runner of `settings.runtime`, its workers warming `preload`; `models` is the resolved models file."""
    module, _, opener = RUNTIMES[settings.runtime].partition(":")
    return getattr(importlib.import_module(module), opener)(settings, preload, models)
