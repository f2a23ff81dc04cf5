"""The operator's models file: which engine and model each language runs, with a label map.

```toml
[languages.de]
engine = "spacy.v1"
model = "/models/de_pipeline"            # a folder, or an installed package name
labels = { PER = "PERSON", LOC = "LOCATION", ORG = "ORGANIZATION", MISC = "OTHER" }
batch_size = 32                          # optional
device = "cpu"                           # optional: "cpu" (default) or "cuda"
```

Languages the file does not name keep the shipped default (registry.DEFAULT_MODELS). The API's languages
stay Comprehend's twelve, so a language outside them is an error, as is a typo in a key: a models file is
read when the server starts, and a mistake in it should stop the start, not surface at the first request.

A relative model path is read against the file's own folder, so a folder of models can carry its file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opencomprehend.nlp.ner.labels import COMPREHEND_TYPES

DEVICES = ("cpu", "cuda")
_KEYS = {"engine", "model", "labels", "batch_size", "device", "threads"}


class ModelsFileError(ValueError):
    """The models file cannot be used; str(e) is one line naming the file and, where it applies, the language."""


@dataclass(frozen=True, eq=True)
class ModelChoice:
    """A language's engine and model, and how to run it. Picklable: it travels to the workers as is.

    labels: model label (without B-/I- prefixes) -> Comprehend type; labels it does not name are dropped.
        None keeps the engine's own mapping (nlp/ner/labels.py, where an unknown label is OTHER).
    source: where the choice came from: "default", or the models file's path.
    """

    engine: str
    model: str | Path
    labels: Mapping[str, str] | None = field(default=None, hash=False)
    batch_size: int | None = None
    device: str | None = None
    threads: int | None = None
    source: str = "default"

    def options(self) -> dict[str, Any]:
        """The engine constructor's keyword options this choice sets (those left unset are not passed)."""
        options: dict[str, Any] = {}
        if self.labels is not None:
            options["labels"] = dict(self.labels)
        for name in ("batch_size", "device", "threads"):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        return options


def as_choice(value: ModelChoice | tuple[str, str | Path]) -> ModelChoice:
    """A configuration entry as a ModelChoice: the (engine, model) pairs of before still work."""
    if isinstance(value, ModelChoice):
        return value
    engine, model = value
    return ModelChoice(engine, model)


def _model_path(raw: str, base: Path) -> str | Path:
    """A folder (absolute, or relative to the models file) or an installed package's name."""
    expanded = Path(raw).expanduser()
    if expanded.is_absolute():
        return expanded
    beside = base / expanded
    if beside.exists() or raw.startswith(".") or "/" in raw:
        return beside.resolve()
    return raw  # a package name (de_core_news_sm)


def read_models_file(path: Path, languages: set[str] | None = None) -> dict[str, ModelChoice]:
    """The languages the file configures, each as a ModelChoice. Raises ModelsFileError, one line."""
    from opencomprehend.nlp.registry import DEFAULT_MODELS, ENGINES

    known_languages = set(DEFAULT_MODELS) if languages is None else languages
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ModelsFileError(f"models file {path}: no such file") from None
    except OSError as exc:
        raise ModelsFileError(f"models file {path}: cannot read it: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelsFileError(f"models file {path}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"languages"})
    if extra:
        raise ModelsFileError(f"models file {path}: unknown table {extra[0]!r} (expected [languages.<code>])")
    sections = data.get("languages", {})
    if not isinstance(sections, dict):
        raise ModelsFileError(f"models file {path}: 'languages' must be a table of [languages.<code>] tables")
    choices: dict[str, ModelChoice] = {}
    for language, section in sections.items():

        def fail(message: str, language: str = language) -> ModelsFileError:
            return ModelsFileError(f"models file {path}, language '{language}': {message}")

        if language not in known_languages:
            raise fail(f"not one of the languages the API serves ({', '.join(sorted(known_languages))})")
        if not isinstance(section, dict):
            raise fail("must be a table ([languages.<code>] with engine, model, labels)")
        unknown = sorted(set(section) - _KEYS)
        if unknown:
            raise fail(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
        engine = section.get("engine", "spacy.v1")
        if not isinstance(engine, str) or engine not in ENGINES:
            raise fail(f"engine {engine!r} does not exist (known engines: {', '.join(sorted(ENGINES))})")
        model = section.get("model")
        if not isinstance(model, str) or not model.strip():
            raise fail("'model' must name a folder or an installed package")
        labels = section.get("labels")
        if labels is not None:
            if not isinstance(labels, dict) or not labels:
                raise fail("'labels' must be a table of model label = Comprehend type")
            for label, kind in labels.items():
                if kind not in COMPREHEND_TYPES:
                    raise fail(f"label {label!r} maps to {kind!r}, which is not one of {', '.join(COMPREHEND_TYPES)}")
        batch_size, threads = section.get("batch_size"), section.get("threads")
        for name, value in (("batch_size", batch_size), ("threads", threads)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise fail(f"'{name}' must be a whole number of at least 1")
        device = section.get("device")
        if device is not None and device not in DEVICES:
            raise fail(f"'device' must be one of {', '.join(DEVICES)}, not {device!r}")
        choices[language] = ModelChoice(
            engine=engine,
            model=_model_path(model, path.resolve().parent),
            labels=dict(labels) if labels is not None else None,
            batch_size=batch_size,
            device=device,
            threads=threads,
            source=str(path),
        )
    return choices


def _try_load(language: str, choice: ModelChoice) -> str | None:
    """In a child process: load the language's model and recognise a sentence; the problem, or None."""
    from opencomprehend.nlp.registry import load_engine

    try:
        engine = load_engine(language, {language: choice})
        engine.recognise(["Maria Schmidt visited Paris."])
    except Exception as exc:  # noqa: BLE001  (any failure to load is the operator's to read, in one line)
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return detail
    return None


def check_models(models: Mapping[str, ModelChoice]) -> None:
    """Load every configured model once, in a child process (so that the server's own process does not keep
    what they allocate), and recognise a sentence with it. Raises ModelsFileError naming the first language
    whose model cannot load, so that `serve` stops at start rather than answer a 500 at the first request."""
    if not models:
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        for language, choice in models.items():
            problem = pool.submit(_try_load, language, choice).result()
            if problem is not None:
                raise ModelsFileError(
                    f"models file {choice.source}, language '{language}': the {choice.engine} model {choice.model} "
                    f"cannot be loaded: {problem}"
                )


# ------------------------------------------------------------------------------------ `models list`


def model_folder(model: str | Path) -> Path | None:
    """The folder a model lives in: itself, or an installed package's folder; None when neither exists."""
    path = Path(model)
    if path.is_dir():
        return path
    import importlib.util

    try:
        spec = importlib.util.find_spec(str(model))
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def model_labels(choice: ModelChoice) -> list[str] | None:
    """The entity labels the model itself emits (B-/I- prefixes removed), read from its files; None if unknown."""
    import json

    folder = model_folder(choice.model)
    if folder is None:
        return None
    config = folder / "config.json"
    if config.is_file():  # a Hugging Face model
        from opencomprehend.nlp.ner.transformers_engine import _split_label

        try:
            id2label = json.loads(config.read_text(encoding="utf-8")).get("id2label", {})
        except (OSError, ValueError):
            return None
        return sorted({kind for _, kind in map(_split_label, map(str, id2label.values())) if kind})
    for meta in [folder / "meta.json", *sorted(folder.glob("*/meta.json"))]:
        if meta.is_file():
            try:
                labels = json.loads(meta.read_text(encoding="utf-8")).get("labels", {}).get("ner")
            except (OSError, ValueError):
                continue
            if labels:
                return sorted(labels)
    return None


def describe_labels(choice: ModelChoice) -> str:
    """'PER→PERSON, MISC→(dropped)': how each of the model's labels is reported."""
    from opencomprehend.nlp.ner.labels import comprehend_type

    own = model_labels(choice)
    if own is None:
        if choice.labels is None:
            return "the model's own, mapped by nlp/ner/labels.py"
        return ", ".join(f"{label}→{kind}" for label, kind in choice.labels.items()) + ", any other dropped"
    if choice.engine == "custom.v1":
        return ", ".join(own) + " (unchanged)"
    wanted = None if choice.labels is None else {k.strip().upper(): v for k, v in choice.labels.items()}
    parts = []
    for label in own:
        kind = comprehend_type(label) if wanted is None else wanted.get(label.strip().upper())
        parts.append(f"{label}→{kind or '(dropped)'}")
    return ", ".join(parts)
