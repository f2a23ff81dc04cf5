"""Registry of entity-recognition engines and the language -> model configuration.

Engines register under versioned names ("spacy.v1") so that a stored configuration keeps meaning the
same code path after a new engine version appears. Built-in engines are imported lazily: importing
this module must stay cheap (the API layer imports it for UnsupportedLanguage) and must not pull in
spaCy.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from opencomprehend.nlp.languages import LANGUAGES

if TYPE_CHECKING:
    from opencomprehend.nlp.models_file import ModelChoice

# The models trained by `opencomprehend train-language` ship inside the package (docs/models.md).
SHIPPED_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"

# language code -> (engine name, model name). The model is a Python package name or a local folder
# (a str or a Path), e.g. ("custom.v1", "/data/recognizers/<id>/model") for a trained recognizer.
# The shipped models' labels are already Comprehend types, which "spacy.v1" reports unchanged, except
# English's: en_core_web_sm's NER continued on openly licensed gold sets (modelbuild/rehearsal.py, training/en.toml)
# keeps its OntoNotes labels, which "spacy.v1" maps onto Comprehend types (nlp/ner/labels.py). Chinese
# has one model, trained on Simplified script: "spacy.t2s.v1" converts Traditional characters to
# Simplified one for one before recognising, so zh-TW goes through it with offsets into the original text.
DEFAULT_MODELS: dict[str, tuple[str, str | Path]] = {
    code: (language.engine, SHIPPED_MODELS_DIR / language.model) for code, language in LANGUAGES.items()
}

# Modules whose import registers the built-in engines.
# opencomprehend.nlp.ner.spacy_engine holds "spacy.v1", "spacy.t2s.v1" and "custom.v1"; transformers_engine holds
# "transformers.v1" (it imports onnxruntime and tokenizers only when a model is loaded).
_BUILTIN_ENGINE_MODULES: tuple[str, ...] = (
    "opencomprehend.nlp.ner.spacy_engine",
    "opencomprehend.nlp.ner.transformers_engine",
)

# The operator's models file, resolved (configure_models): languages it names, over DEFAULT_MODELS. Set once
# in every process that recognises or answers for languages: the API process and each worker (the local
# pool passes it to its processes, the Dask plugin to its workers), so all of them resolve a language alike.
_configured: dict[str, ModelChoice] = {}


def configure_models(models: Mapping[str, ModelChoice] | None) -> None:
    """Make `models` (the models file's languages) this process's configuration, over the defaults."""
    _configured.clear()
    _configured.update(models or {})


def configured_models() -> dict[str, ModelChoice]:
    """Every language's model as this process resolves it: the models file's over the shipped defaults."""
    from opencomprehend.nlp.models_file import as_choice

    resolved = {language: as_choice(entry) for language, entry in DEFAULT_MODELS.items()}
    resolved.update(_configured)
    return resolved


class UnsupportedLanguage(Exception):
    """No entity model is available for the requested language."""

    def __init__(self, language: str, detail: str | None = None) -> None:
        self.language = language
        message = f"No entity model is installed for language '{language}'."
        if detail:
            message = f"{message[:-1]}: {detail}"
        super().__init__(message)


@runtime_checkable
class Engine(Protocol):
    """A loaded model that finds entities in text.

    recognise() returns one list per input text. Each entity is
    {"BeginOffset": int, "EndOffset": int, "Score": float, "Text": str, "Type": str} with code-point
    offsets (EndOffset exclusive, text[BeginOffset:EndOffset] == Text), a Comprehend type (a custom
    recognizer's own type for "custom.v1"), a score in [0, 1], sorted by BeginOffset. Empty or
    whitespace-only text gives [].
    """

    language: str

    def recognise(self, texts: list[str]) -> list[list[dict]]: ...


class _EngineRegistry(Mapping[str, type]):
    """Name -> engine class; built-in engines are imported on first lookup."""

    def __init__(self) -> None:
        self._engines: dict[str, type] = {}
        self._builtins_loaded = False

    def register(self, name: str, cls: type) -> None:
        existing = self._engines.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"An engine is already registered as '{name}': {existing!r}.")
        self._engines[name] = cls

    def _load_builtins(self) -> None:
        if self._builtins_loaded:
            return
        # Set first: the imported modules call register() while we are still here.
        self._builtins_loaded = True
        for module in _BUILTIN_ENGINE_MODULES:
            importlib.import_module(module)

    def __getitem__(self, name: str) -> type:
        if name not in self._engines:
            self._load_builtins()
        return self._engines[name]

    def __iter__(self) -> Iterator[str]:
        self._load_builtins()
        return iter(dict(self._engines))

    def __len__(self) -> int:
        self._load_builtins()
        return len(self._engines)


ENGINES = _EngineRegistry()


def register_engine(name: str) -> Callable[[type], type]:
    """Class decorator: register an engine class under a versioned name such as "spacy.v1"."""

    def decorator(cls: type) -> type:
        ENGINES.register(name, cls)
        return cls

    return decorator


def _model_available(model: str | Path) -> bool:
    # Cheap check that avoids loading: an installed package or a local folder.
    if Path(model).is_dir():
        return True
    try:
        return importlib.util.find_spec(str(model)) is not None
    except (ImportError, ValueError):
        return False


def supported_languages(models: Mapping[str, Any] | None = None) -> set[str]:
    """Languages that have a configured model which is actually installed."""
    from opencomprehend.nlp.models_file import as_choice

    configured = configured_models() if models is None else models
    return {lang for lang, entry in configured.items() if _model_available(as_choice(entry).model)}


def load_engine(language: str, models: Mapping[str, Any] | None = None, **options: Any) -> Engine:
    """Load the engine configured for `language`.

    Loading is expensive (seconds, tens of MB): callers keep the result. Extra keyword options go to
    the engine's constructor (e.g. beam_width for "spacy.v1"). The model may be a package name or a
    folder (str or Path), such as one written by opencomprehend.nlp.training.train_ner:
    load_engine("en", {"en": ("custom.v1", folder)}). Without `models`, the process's configuration
    (configure_models: the operator's models file over DEFAULT_MODELS). A ModelChoice's label map, batch size
    and device go to the constructor too.

    Raises UnsupportedLanguage when no model is configured for the language or the configured model
    is not installed, and ValueError when the configuration names an engine that does not exist.
    """
    from opencomprehend.nlp.models_file import as_choice

    configured = configured_models() if models is None else models
    if language not in configured:
        raise UnsupportedLanguage(language)
    choice = as_choice(configured[language])
    engine_name, model = choice.engine, choice.model
    try:
        engine_cls = ENGINES[engine_name]
    except KeyError:
        known = ", ".join(sorted(ENGINES)) or "none"
        raise ValueError(
            f"The entity model for language '{language}' names engine '{engine_name}', "
            f"which does not exist (known engines: {known})."
        ) from None
    if not _model_available(model):
        raise UnsupportedLanguage(language, f"model '{model}' is not installed.")
    return engine_cls(language=language, model=model, **{**choice.options(), **options})
