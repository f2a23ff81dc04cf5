"""A worker keeps every language's engine warm, and only the few most recently used custom recognizers."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencomprehend.runtime import worker
from opencomprehend.runtime.runner import custom_engine_key, parse_engine_key


def test_engine_keys_round_trip() -> None:
    key = custom_engine_key("de", Path("/data/models/abc/model"))
    assert parse_engine_key(key) == ("de", Path("/data/models/abc/model"))
    assert parse_engine_key("zh-TW") == ("zh-TW", None)


def test_custom_engines_are_evicted_least_recently_used_first(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[tuple[str, object]] = []

    # Counting loads is the point here, so the loader records what it was asked for.
    def load(language: str, models: object = None) -> object:
        loads.append((language, models))
        return object()

    monkeypatch.setattr(worker, "load_engine", load)
    monkeypatch.setattr(worker, "_engines", {})
    english = worker.engine_for("en")
    keys = [custom_engine_key("en", Path(f"/m/{i}")) for i in range(worker.MAX_CUSTOM_ENGINES + 1)]
    for key in keys:
        worker.engine_for(key)
    assert worker.engine_for("en") is english, "a language's own model is never evicted"
    assert keys[0] not in worker._engines and all(k in worker._engines for k in keys[1:])
    worker.engine_for(keys[1])  # used again: now the most recent
    worker.engine_for(keys[0])  # loaded again, evicting keys[2], the least recently used
    assert keys[2] not in worker._engines and keys[1] in worker._engines
    assert len(loads) == 1 + len(keys) + 1
