"""What a runner offers: warm workers that recognise documents, locally or on a cluster."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from opencomprehend.io.documents import Document


class Runner(Protocol):
    workers: int

    def submit(self, engine: str, documents: list[Document]) -> Future[list[str]]:
        """Output lines for one shard. `engine` is a language code, or a custom model's engine key."""
        ...
