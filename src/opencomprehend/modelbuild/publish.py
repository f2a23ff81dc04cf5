"""What a trained language model's folder gets besides spaCy's files: source.json (its data, licences, recipe
and figures) and calibration.json, and how the finished folder takes the place of the old one."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opencomprehend.modelbuild.datasets import MappedSet, read_mapped
from opencomprehend.modelbuild.recipes import (
    RECIPES_DIR,
    REPO_DIR,
    Recipe,
    SourceSet,
    load_recipe,
    model_dir,
    shared_data_dir,
)


def selection(source: SourceSet) -> dict:
    """The per-set reading options a recipe used, for source.json (none: nothing)."""
    chosen: dict = {}
    if source.held_out:
        chosen["held_out"] = source.held_out
    if source.limit is not None:
        chosen["limit"] = source.limit
    if source.case:
        chosen["case"] = source.case
        chosen["lower_share"] = source.lower_share
    if source.upper_share:
        chosen["upper_share"] = source.upper_share
    return chosen


def recipe_record(recipe: Recipe) -> str:
    """source.json's "recipe": the recipe's path in the checkout (as given when it is elsewhere)."""
    relative = recipe.path.relative_to(REPO_DIR) if recipe.path and recipe.path.is_relative_to(REPO_DIR) else None
    return str(relative or recipe.path)


def set_record(source: SourceSet, mapped: MappedSet, sentences: int, **extra: Any) -> dict[str, Any]:
    """source.json's record of one training set: its file, licence, label map and mentions, then `extra`."""
    return {
        "set": source.name,
        "file": source.path,
        "kind": source.kind,
        "sentences": sentences,
        "licence": source.licence,
        "label_map": source.labels,
        "dropped_labels": list(source.drop),
        "mentions": dict(sorted(mapped.kept.items())),
        "dropped_mentions": dict(sorted(mapped.dropped.items())),
        **extra,
        **selection(source),
    }


def dev_set_record(recipe: Recipe, sentences: int, use: str, *, dropped_labels: bool = True) -> dict[str, Any]:
    """source.json's "dev_set": the recipe's [dev] split, which picked the epoch and was never trained on."""
    dev = recipe.dev
    assert dev is not None
    return {
        "set": dev.name,
        "file": dev.path,
        "kind": dev.kind,
        "licence": dev.licence,
        "sentences": sentences,
        "label_map": dev.labels,
        **({"dropped_labels": list(dev.drop)} if dropped_labels else {}),
        **selection(dev),
        "use": use,
    }


def test_set_record(recipe: Recipe, sentences: int, f1: float) -> dict[str, Any]:
    """source.json's record of the set a model was reported on (never trained on)."""
    return {
        "set": recipe.test.name,
        "file": recipe.test.path,
        "sentences": sentences,
        "label_map": recipe.test.labels,
        "f1_all_predictions": round(f1, 4),
    }


def write_source(folder: Path, metadata: dict[str, Any]) -> None:
    """A model folder's source.json, written whole or not at all."""
    staged = folder / "source.json.new"
    staged.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    staged.replace(folder / "source.json")


def publish(staging: Path, output_dir: Path, metadata: dict[str, Any]) -> None:
    """Write the model's source.json into its staged folder, and put the folder in place of `output_dir`."""
    write_source(staging, metadata)
    _replace_folder(staging, output_dir)


def _replace_folder(staging: Path, output_dir: Path) -> None:
    """Put the finished model folder in place of `output_dir`: the old one is moved aside first, so a
    reader sees the old model or the new one, never half of either."""
    if output_dir.exists():
        old = output_dir.parent / f".{output_dir.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        output_dir.rename(old)
        staging.rename(output_dir)
        shutil.rmtree(old)
    else:
        staging.rename(output_dir)


def fit_calibration(folder: Path, recipe: Recipe, dev_documents: list, log: Callable[[str], None]) -> dict[str, Any]:
    """Fit the score calibration of the model in `folder` on the recipe's gold dev split and save it there
    (calibration.json, see opencomprehend.nlp.ner.calibration); returns source.json's record of it."""
    from opencomprehend.nlp.ner import calibration
    from opencomprehend.nlp.registry import load_engine

    # The model's own raw scores: no calibration yet, and no document context (which adds entities of its own).
    engine = load_engine(
        recipe.language, {recipe.language: (recipe.engine, folder)}, calibrate=False, document_context=False
    )
    annotated = set(recipe.dev.labels.values())
    # Only what the model itself found: the DATE/QUANTITY patterns keep scores of their own.
    patterned = getattr(engine, "pattern_types", frozenset())
    found = [
        [e for e in entities if e["Type"] not in patterned]
        for entities in engine.recognise([d.text for d in dev_documents])
    ]
    _, record = calibration.fit(found, [d.entities for d in dev_documents], annotated - set(patterned))
    calibration.write(folder, record)
    log(
        f"calibration fitted on {recipe.dev.name} ({len(dev_documents)} sentences): "
        + ", ".join(f"{t} {c['right']}/{c['predictions']} right ({c['map']})" for t, c in record["types"].items())
    )
    return {
        "file": calibration.FILE_NAME,
        "fitted_on": recipe.dev.name,
        "dev_file": recipe.dev.path,
        "sentences": len(dev_documents),
        "method": record["method"],
        "types": record["types"],
    }


def calibrate_language(
    recipe_name: str,
    *,
    model: Path | None = None,
    recipes_dir: Path = RECIPES_DIR,
    data_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit (again) the score calibration of a trained model on its recipe's [dev] split.

    model defaults to the shipped folder of the recipe's language. The split must not have been trained
    on (a recipe's [dev] never is). Writes calibration.json and source.json's "calibration" record.
    """
    recipe = load_recipe(recipe_name, recipes_dir)
    if recipe.dev is None:
        raise ValueError(f"{recipe.path}: no [dev] split to calibrate on")
    folder = Path(model) if model is not None else model_dir(recipe.language)
    if not (folder / "config.cfg").is_file():
        raise FileNotFoundError(f"{folder} is not a model folder (no config.cfg)")
    data_dir = Path(data_dir) if data_dir is not None else shared_data_dir()
    dev = read_mapped(recipe.dev, data_dir, recipe.script, dev=True)
    record = fit_calibration(folder, recipe, dev.documents, log)
    source_path = folder / "source.json"
    if source_path.is_file():
        metadata = json.loads(source_path.read_text(encoding="utf-8"))
        metadata["calibration"] = record
        write_source(folder, metadata)
    return record


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
