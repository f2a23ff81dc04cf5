"""Where a language model's recipe, data and folder are, and the recipe itself: training/<lang>.toml read
and checked (every label mapped or dropped, only Comprehend types, known training options)."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from opencomprehend.nlp.languages import ENTITY_LANGUAGES

# Amazon Comprehend's languages for the standard entity types.
LANGUAGES: tuple[str, ...] = ENTITY_LANGUAGES

PACKAGE_DIR = Path(__file__).resolve().parents[1]
MODELS_DIR = PACKAGE_DIR / "models"
# In a checkout: <repo>/src/opencomprehend -> <repo>. The recipes and the data exist only in a checkout.
REPO_DIR = PACKAGE_DIR.parents[1]
RECIPES_DIR = REPO_DIR / "training"


def shared_data_dir() -> Path:
    """The shared data folder: $OPENCOMPREHEND_SHARED_DATA, or <repo>/../shared/data."""
    configured = os.environ.get("OPENCOMPREHEND_SHARED_DATA")
    return Path(configured) if configured else (REPO_DIR.parent / "shared" / "data").resolve()


def model_dir(language: str) -> Path:
    """Where the shipped model for `language` lives (it may not exist)."""
    return MODELS_DIR / language


# ---------------------------------------------------------------------------------------------- recipes


@dataclass(frozen=True)
class SourceSet:
    """One file of labelled sentences and what to do with each of its labels."""

    name: str
    path: str  # relative to the shared data folder
    licence: str
    labels: dict[str, str]
    drop: tuple[str, ...] = ()
    limit: int | None = None  # only the first N sentences
    kind: str = ""  # "gold" or "silver", for the record
    # "traditional": only the sentences in Traditional script (chinese.is_traditional), e.g. to test zh-TW.
    select: str | None = None
    # "ko-particles": cut Korean particles off the end of entities (see trim_korean_particles).
    trim: str | None = None
    # A seeded share of the file's sentences: left out of a [[sets]] entry, the only ones a [dev] entry
    # reads (read_mapped(..., dev=True)), so the two never share a sentence.
    held_out: float = 0.0
    # "restore" (training sets only): capitals given back to lower-cased text (see restore_case); lower_share
    # of the sentences (seeded) are kept lower-cased, so the model also meets lower-case input. A [dev] or
    # [test] set may not restore case: its capitals would come from the gold spans it is scored on.
    case: str | None = None
    lower_share: float = 0.0
    # [base] recipes only: that share of the sentences (seeded) upper-cased after the base model has
    # labelled them, so the model also meets headlines and shouting ("SOCCER - LEEDS FINED").
    upper_share: float = 0.0


@dataclass(frozen=True)
class Recipe:
    language: str
    description: str
    test: SourceSet
    sets: tuple[SourceSet, ...]
    dev: SourceSet | None = None  # picks the best epoch; None: a random share of the training sentences
    options: dict = field(default_factory=dict)
    script: str | None = None  # "simplified": convert Chinese text to Simplified script
    engine: str = "spacy.v1"
    path: Path | None = None
    # [base]: continue an existing model (en_core_web_sm) with rehearsal instead of training a fresh one
    # (opencomprehend.modelbuild.rehearsal); its labels, not Comprehend types, are then the model's labels.
    base: object | None = None  # rehearsal.BaseModel


def _source_set(raw: dict, where: str) -> SourceSet:
    try:
        return SourceSet(
            name=str(raw["name"]),
            path=str(raw["path"]),
            licence=str(raw.get("licence", "")),
            labels={str(k): str(v) for k, v in dict(raw["labels"]).items()},
            drop=tuple(str(x) for x in raw.get("drop", ())),
            limit=raw.get("limit"),
            kind=str(raw.get("kind", "")),
            select=raw.get("select"),
            trim=raw.get("trim"),
            held_out=float(raw.get("held_out", 0.0)),
            case=raw.get("case"),
            lower_share=float(raw.get("lower_share", 0.0)),
            upper_share=float(raw.get("upper_share", 0.0)),
        )
    except KeyError as exc:
        raise ValueError(f"{where}: missing key {exc}") from None


def recipe_path(recipe: str, recipes_dir: Path = RECIPES_DIR) -> Path:
    """A recipe named "de" is training/de.toml; a name ending in .toml is a path."""
    return Path(recipe) if recipe.endswith(".toml") else Path(recipes_dir) / f"{recipe}.toml"


def load_recipe(recipe: str, recipes_dir: Path = RECIPES_DIR) -> Recipe:
    """The recipe training/<recipe>.toml, or the file `recipe` if it ends in .toml (FileNotFoundError if none)."""
    from opencomprehend.nlp.ner.labels import COMPREHEND_TYPES

    path = recipe_path(recipe, recipes_dir)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    language = raw.get("language")
    if language not in LANGUAGES:
        raise ValueError(f"{path}: language is {language!r}, not one of {', '.join(LANGUAGES)}")
    sets = tuple(_source_set(s, f"{path} [[sets]] {i}") for i, s in enumerate(raw.get("sets", [])))
    if not sets:
        raise ValueError(f"{path}: no [[sets]]")
    test = _source_set(raw["test"], f"{path} [test]")
    dev = _source_set(raw["dev"], f"{path} [dev]") if "dev" in raw else None
    for source, where in ((test, "[test]"), *([(dev, "[dev]")] if dev else [])):
        if source.case is not None or source.lower_share:
            # Capitals restored from the gold spans give the entity boundaries away (issue 19): a held-out
            # figure is scored on the text as a user would send it.
            raise ValueError(
                f"{path} {where}: case = {source.case!r} is for training sets only; held-out text is scored as it is"
            )
    for source in (*sets, test, *([dev] if dev else [])):
        wrong = sorted(set(source.labels.values()) - set(COMPREHEND_TYPES))
        if wrong:
            raise ValueError(f"{path}: {source.name} maps onto {wrong}, which are not Comprehend types")
    from opencomprehend.nlp.training import TrainingOptions

    options = dict(raw.get("options", {}))
    unknown = sorted(set(options) - {f.name for f in dataclasses.fields(TrainingOptions)})
    if unknown:
        raise ValueError(f"{path}: unknown training options {unknown}")
    script = raw.get("script")
    if script not in (None, "simplified"):
        raise ValueError(f'{path}: script must be "simplified" or absent, not {script!r}')
    if "base" not in raw and any(s.upper_share for s in sets):
        raise ValueError(f"{path}: upper_share needs a [base] model (its predictions are made before upper-casing)")
    base = None
    if "base" in raw:
        from opencomprehend.modelbuild.rehearsal import parse_base

        base = parse_base(dict(raw["base"]), f"{path} [base]")
    return Recipe(
        base=base,
        language=language,
        description=str(raw.get("description", "")),
        test=test,
        sets=sets,
        dev=dev,
        options=options,
        script=script,
        engine=str(raw.get("engine", "spacy.t2s.v1" if script == "simplified" else "spacy.v1")),
        path=path,
    )
