"""Which components of a saved spaCy pipeline the NER needs: the rest are never loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import spacy
import spacy.util

# The factories of an entity recognizer in a saved pipeline.
_NER_FACTORIES = frozenset({"ner", "beam_ner"})


def _model_config_path(model: str | Path) -> Path | None:
    """Where the config.cfg of a package or folder model lives, without loading the model."""
    path = Path(model)
    if not path.is_dir():
        if not spacy.util.is_package(str(model)):
            return None
        path = spacy.util.get_package_path(str(model))
        # A packaged model keeps its data in "<lang>_<name>-<version>" beside the package's meta.json.
        meta_path = path / "meta.json"
        if meta_path.is_file():
            meta = spacy.util.load_meta(meta_path)
            data_dir = path / f"{meta['lang']}_{meta['name']}-{meta['version']}"
            if (data_dir / "config.cfg").is_file():
                return data_dir / "config.cfg"
    candidate = path / "config.cfg"
    return candidate if candidate.is_file() else None


def _listened_upstreams(model_cfg: Any) -> set[str]:
    """Names of components a model block listens to (shared tok2vec/transformer), searched recursively."""
    found: set[str] = set()
    if isinstance(model_cfg, dict):
        arch = str(model_cfg.get("@architectures", ""))
        if "Listener" in arch and "upstream" in model_cfg:
            found.add(str(model_cfg["upstream"]))
        for value in model_cfg.values():
            found |= _listened_upstreams(value)
    return found


def components_to_exclude(model: str | Path) -> list[str]:
    """Every pipeline component that NER does not need, worked out from the model's config.

    Returns [] (load everything) when the config cannot be read, which is slower but still correct.
    """
    config_path = _model_config_path(model)
    if config_path is None:
        return []
    config = spacy.util.load_config(config_path, interpolate=False)
    components: dict[str, Any] = dict(config.get("components", {}))
    ner_names = {name for name, cfg in components.items() if cfg.get("factory") in _NER_FACTORIES}
    if not ner_names:
        return []
    keep = set(ner_names)
    for name in ner_names:
        upstreams = _listened_upstreams(components[name].get("model", {}))
        if "*" in upstreams:
            # A wildcard listener binds to any embedding component; keep them all.
            keep |= {n for n, cfg in components.items() if cfg.get("factory") in {"tok2vec", "transformer"}}
        keep |= upstreams & set(components)
    return sorted(set(components) - keep)
