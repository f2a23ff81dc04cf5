"""A worker keeps every language's engine warm, and only the few most recently used custom recognizers."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from opencomprehend.runtime import worker
from opencomprehend.runtime.runner import EngineRef, custom_engine_key, entities_engine, pii_engine_key


def test_engine_keys_round_trip() -> None:
    key = custom_engine_key("de", Path("/data/models/abc/model"))
    assert (key.kind, key.language, key.folder) == ("custom", "de", Path("/data/models/abc/model"))
    assert str(key) == "custom:de:/data/models/abc/model" and str(entities_engine("zh-TW")) == "zh-TW"
    assert entities_engine("zh-TW") == EngineRef("entities", "zh-TW") and entities_engine("zh-TW").folder is None
    assert {pii_engine_key("en"), pii_engine_key("en"), entities_engine("en")} == {
        EngineRef("pii", "en"), EngineRef("entities", "en")
    }, "hashable: the key of a worker's warm engines"
    assert pickle.loads(pickle.dumps(key)) == key, "sent with every task"


def test_custom_engines_are_evicted_least_recently_used_first(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[tuple[str, object]] = []

    # Counting loads is the point here, so the loader records what it was asked for.
    def load(language: str, models: object = None) -> object:
        loads.append((language, models))
        return object()

    monkeypatch.setattr(worker, "load_engine", load)
    monkeypatch.setattr(worker, "_engines", {})
    english = worker.engine_for(entities_engine("en"))
    keys = [custom_engine_key("en", Path(f"/m/{i}")) for i in range(worker.MAX_CUSTOM_ENGINES + 1)]
    for key in keys:
        worker.engine_for(key)
    assert worker.engine_for(entities_engine("en")) is english, "a language's own model is never evicted"
    assert keys[0] not in worker._engines and all(k in worker._engines for k in keys[1:])
    worker.engine_for(keys[1])  # used again: now the most recent
    worker.engine_for(keys[0])  # loaded again, evicting keys[2], the least recently used
    assert keys[2] not in worker._engines and keys[1] in worker._engines
    assert len(loads) == 1 + len(keys) + 1
