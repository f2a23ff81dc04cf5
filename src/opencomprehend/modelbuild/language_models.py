"""The entity models opencomprehend ships for Comprehend's languages: where they are and how they are trained.

Each language other than English has a compact spaCy NER pipeline in src/opencomprehend/models/<lang>/,
trained by `opencomprehend train-language <lang>` from a recipe kept in the repository,
training/<lang>.toml, which names:

- the training sets (files under ../shared/data, the openly licensed ner-train/ sets), each with its
  licence and its label map onto Comprehend's nine types; labels listed under `drop` are left out (their
  tokens are trained as "no entity"), and a label that is neither mapped nor dropped is an error, so a
  recipe always says what happens to every label of its data;
- the evaluation set (a public ner/ set, never trained on) and its label map;
- optionally `[dev]`: a gold dev split of the training data's source (e.g. ner-train/uner-pt-bosque/dev),
  used instead of a random tenth of the training sentences to pick the best epoch and stop early, so
  that training is steered by running gold text and not by whatever silver set the mix holds;
- the training options (opencomprehend.nlp.training.TrainingOptions), e.g. max_seconds;
- `script = "simplified"` (Chinese): texts are converted to Simplified script, one character for one
  character, before training; the "spacy.t2s.v1" engine converts at run time in the same way;
- per set, `limit = N` (only the first N sentences), `held_out = x` (a seeded share x of the file's
  sentences: a [[sets]] entry leaves them out and a [dev] entry naming the same file and share reads only
  them, so one gold file can both train and pick the epoch), `trim = "ko-particles"`
  (Korean particles cut off the end of entities, see trim_korean_particles), and `case = "restore"`
  (lower-cased text such as MultiCoNER's given back its capitals, see restore_case) with
  `lower_share = x` (that share of the set's sentences, chosen with a fixed seed, kept lower-cased).

A recipe with a `[base]` table (English experiments, training/experiments/en-*.toml) does not train a fresh
pipeline: it continues an existing model's NER (en_core_web_sm) on the gold sets, rehearsing on that model's
own predictions of the types a set does not mark (opencomprehend.modelbuild.rehearsal); the sets' labels are still
mapped onto Comprehend types, `[base].labels` says which of the base model's labels each type becomes, and
`upper_share = x` (per set, [base] recipes only) upper-cases that share of the sentences after the base
model has labelled them. Such a model keeps the base model's labels.

Because every label is mapped at training time, the model's own labels ARE Comprehend types, and the
"spacy.v1" engine (whose label map sends Comprehend's names to themselves) serves them unchanged.

Beside spaCy's files (config.cfg, meta.json, ner/, tokenizer, vocab/) and training.json (the training
report), each model folder holds source.json: the data it was trained on, their licences, the label
maps, the recipe, and the figures measured on the evaluation set (bench/languages.py fills in
"evaluation").

The code: recipes.py (paths, load_recipe), datasets.py (read_mapped and the text fixes), publish.py
(source.json, calibration, putting the folder in place) and, here, train_language.
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

# The parts, re-exported here where the CLI, the tests and bench/ import them.
from opencomprehend.modelbuild.datasets import (
    ELIDED,
    KOREAN_PARTICLES,
    KOREAN_PARTICLES_ALWAYS,
    KOREAN_PARTICLES_IF_KNOWN,
    NAME_PARTICLES,
    MappedSet,
    read_mapped,
    restore_case,
    trim_korean_particles,
)
from opencomprehend.modelbuild.publish import (
    calibrate_language,
    dev_set_record,
    fit_calibration,
    folder_size,
    publish,
    recipe_record,
    set_record,
    test_set_record,
    write_source,
)
from opencomprehend.modelbuild.recipes import (
    LANGUAGES,
    RECIPES_DIR,
    Recipe,
    SourceSet,
    load_recipe,
    model_dir,
    shared_data_dir,
)

__all__ = [
    "ELIDED",
    "KOREAN_PARTICLES",
    "KOREAN_PARTICLES_ALWAYS",
    "KOREAN_PARTICLES_IF_KNOWN",
    "LANGUAGES",
    "NAME_PARTICLES",
    "RECIPES_DIR",
    "MappedSet",
    "Recipe",
    "SourceSet",
    "calibrate_language",
    "load_recipe",
    "model_dir",
    "read_mapped",
    "restore_case",
    "shared_data_dir",
    "train_language",
    "trim_korean_particles",
    "write_source",
]


def train_language(
    recipe_name: str,
    *,
    output_dir: Path | None = None,
    replace: bool = False,
    recipes_dir: Path = RECIPES_DIR,
    data_dir: Path | None = None,
    overrides: dict | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Train the model of a recipe (see load_recipe) and write it, with source.json, to `output_dir`.

    output_dir defaults to the shipped folder of the recipe's language, src/opencomprehend/models/<language>.
    The model is trained into a temporary sibling folder and moved into place only when complete; an
    existing folder is replaced only with replace=True. Returns the source metadata written.
    """
    from opencomprehend.nlp.training import TrainingOptions, train_ner

    recipe = load_recipe(recipe_name, recipes_dir)
    language = recipe.language
    data_dir = Path(data_dir) if data_dir is not None else shared_data_dir()
    output_dir = Path(output_dir) if output_dir is not None else model_dir(language)
    if output_dir.exists() and any(output_dir.iterdir()) and not replace:
        raise FileExistsError(f"{output_dir} exists; pass replace=True (--replace) to train it again.")
    options = TrainingOptions(**{**recipe.options, **(overrides or {})})
    if recipe.base is not None:
        return _train_continued(recipe, recipe_name, output_dir, data_dir, options, log)

    train = []
    sources = []
    for source in recipe.sets:
        mapped = read_mapped(source, data_dir, recipe.script)
        train.extend(mapped.documents)
        trim = {"trim": source.trim, "trimmed_mentions": mapped.trimmed} if source.trim else {}
        sources.append(set_record(source, mapped, len(mapped.documents), **trim))
        log(
            f"{source.name}: {len(mapped.documents)} sentences, {sum(mapped.kept.values())} mentions kept "
            f"{dict(mapped.kept)}, {sum(mapped.dropped.values())} dropped"
            + (f", {mapped.trimmed} particles cut" if source.trim else "")
        )
    test = read_mapped(recipe.test, data_dir, recipe.script)
    dev = read_mapped(recipe.dev, data_dir, recipe.script, dev=True) if recipe.dev else None
    if dev is not None:
        log(f"{recipe.dev.name}: {len(dev.documents)} sentences pick the best epoch (dev, not trained on)")

    staging = output_dir.parent / f".{output_dir.name}.training"
    shutil.rmtree(staging, ignore_errors=True)
    report = train_ner(train, test.documents, language, staging, options, log=log, dev=dev.documents if dev else None)
    training = json.loads((staging / "training.json").read_text(encoding="utf-8"))
    metadata = {
        "language": language,
        "description": recipe.description,
        "engine": recipe.engine,
        "labels": sorted({t for s in sources for t in s["mentions"]}),
        "script": recipe.script,
        "recipe": recipe_record(recipe),
        "command": f"opencomprehend train-language {recipe_name}",
        "training_data": sources,
        "licence_note": (
            "The model's weights were learned from the data listed under training_data; attribute those "
            "sources as their licences require (CC BY-SA sets: share-alike may apply to redistribution)."
        ),
        "training": {
            "options": dataclasses.asdict(options),
            "epochs": training["epochs"],
            "best_epoch": training["best_epoch"],
            "seconds": training["seconds"],
            "train_words_per_second": training["train_words_per_second"],
            "spacy_version": training["spacy_version"],
        },
        **(
            {
                "dev_set": dev_set_record(
                    recipe, len(dev.documents), "picks the best epoch and stops training early; never trained on"
                )
            }
            if recipe.dev and dev
            else {}
        ),
        "test_set": test_set_record(recipe, len(test.documents), report.f1),
    }
    if recipe.dev and dev:
        metadata["calibration"] = fit_calibration(staging, recipe, dev.documents, log)
    publish(staging, output_dir, metadata)
    log(f"wrote {output_dir} ({folder_size(output_dir) / 1e6:.1f} MB)")
    return metadata


def _train_continued(recipe: Recipe, recipe_name: str, output_dir: Path, data_dir: Path, options, log) -> dict:
    """train_language for a recipe with [base]: continue the base model's NER with rehearsal (modelbuild/rehearsal.py).

    Every sentence of the training sets and of the dev set gets the set's gold spans (in the base model's
    labels) plus the ORIGINAL base model's predictions of the types the set does not annotate, where they
    overlap no gold span. The test set is only measured (Comprehend types, all predictions).
    """
    import spacy

    from opencomprehend.modelbuild.rehearsal import (
        additive_entities,
        continue_ner,
        load_base_ner,
        predict_silver,
        rehearsal_entities,
    )
    from opencomprehend.nlp.evaluation import score
    from opencomprehend.nlp.ner.labels import comprehend_type
    from opencomprehend.nlp.training import LabelledDocument
    from opencomprehend.nlp.training.epochs import dev_split
    from opencomprehend.nlp.training.pipeline import training_ops

    base = recipe.base
    started = time.perf_counter()
    with training_ops():
        nlp = load_base_ner(base.model)
        cache_key = f"{base.model}:{nlp.meta.get('name')}:{nlp.meta.get('version')}:{spacy.__version__}"

        def mix(mapped: MappedSet, keep_unconfirmed=base.keep_unconfirmed) -> tuple[list, Counter]:
            silver = predict_silver(nlp, [d.text for d in mapped.documents], cache_key)
            annotated = set(mapped.source.labels.values())
            docs, counts = [], Counter()
            share = mapped.source.upper_share
            draws = random.Random(f"upper-share:{mapped.source.path}")
            for doc, found in zip(mapped.documents, silver, strict=True):
                text = doc.text
                # One draw per sentence, in file order; only where upper-casing keeps every offset.
                if share and draws.random() < share and len(text.upper()) == len(text):
                    text = text.upper()
                    counts["upper-cased sentences"] += 1
                if base.gold_mode == "additive":
                    entities, c = additive_entities(doc.entities, found, base.labels)
                    counts.update(c)
                    docs.append(LabelledDocument(text, tuple(entities)))
                    continue
                entities, c = rehearsal_entities(
                    doc.entities,
                    found,
                    annotated,
                    base.labels,
                    base.rehearse,
                    keep_unconfirmed,
                    text=doc.text if base.base_articles else None,
                )
                counts.update(c)
                docs.append(LabelledDocument(text, tuple(entities)))
            return docs, counts

        train, sources = [], []
        for source in recipe.sets:
            mapped = read_mapped(source, data_dir, recipe.script)
            docs, counts = mix(mapped)
            train.extend(docs)
            sources.append(set_record(source, mapped, len(docs), rehearsal=dict(sorted(counts.items()))))
            log(f"{source.name}: {len(docs)} sentences, {dict(sorted(counts.items()))}")
        if recipe.dev is not None:
            dev_mapped = read_mapped(recipe.dev, data_dir, recipe.script, dev=True)
            # With gold_mode "override" the dev target is always strict (gold for the types the set marks,
            # the base model's predictions for the others): unconfirmed base spans there would only reward
            # the base model. With "additive" it is built like the training sentences.
            dev, dev_counts = mix(dev_mapped, keep_unconfirmed=False)
            log(f"{recipe.dev.name}: {len(dev)} dev sentences pick the best epoch (not trained on), {dict(dev_counts)}")
        else:
            train_ids, dev_ids = dev_split(len(train), options)
            dev = [train[i] for i in dev_ids]
            train = [train[i] for i in train_ids]
        staging = output_dir.parent / f".{output_dir.name}.training"
        shutil.rmtree(staging, ignore_errors=True)
        record = continue_ner(base, train, dev, staging, options, log=log, nlp=nlp)
        test = read_mapped(recipe.test, data_dir, recipe.script)
        predicted = [
            [(s.start_char, s.end_char, comprehend_type(s.label_)) for s in doc.ents]
            for doc in nlp.pipe([d.text for d in test.documents], batch_size=256)
        ]
        test_f1 = score([list(d.entities) for d in test.documents], predicted).f1
    metadata = {
        "language": recipe.language,
        "description": recipe.description,
        "engine": recipe.engine,
        "labels": sorted(nlp.get_pipe(nlp.pipe_names[-1]).labels),
        "label_note": "the base model's labels; the engine maps them onto Comprehend types (nlp/ner/labels.py)",
        "base_model": {
            "model": base.model,
            "name": nlp.meta.get("name"),
            "version": nlp.meta.get("version"),
            "licence": base.licence,
            "description": base.description,
            "gold_type_labels": {k: list(v) for k, v in base.labels.items()},
        },
        "script": recipe.script,
        "recipe": recipe_record(recipe),
        "command": f"opencomprehend train-language {recipe_name}",
        "training_data": sources,
        "licence_note": (
            f"The model continues {base.model} ({base.licence}) and its weights were further learned from the "
            "data listed under training_data (gold spans plus the base model's own predictions on the same "
            "text); attribute those sources as their licences require (CC BY-SA sets: share-alike may apply "
            "to redistribution)."
        ),
        "training": {
            "options": dataclasses.asdict(options),
            "learn_rate": base.learn_rate,
            "rehearse": base.rehearse,
            "base_articles": base.base_articles,
            "freeze_tok2vec": base.freeze_tok2vec,
            "gold_mode": base.gold_mode,
            "optimizer": base.optimizer,
            "interpolate": base.interpolate,
            "interpolated_dev_f1": record["interpolated_dev_f1"],
            "keep_unconfirmed": (
                base.keep_unconfirmed if isinstance(base.keep_unconfirmed, bool) else list(base.keep_unconfirmed)
            ),
            "epochs": record["epochs"],
            "best_epoch": record["best_epoch"],
            "best_dev_f1": record["best_dev_f1"],
            "seconds": round(time.perf_counter() - started, 1),
            "train_words_per_second": record["train_words_per_second"],
            "spacy_version": record["spacy_version"],
        },
        **(
            {
                "dev_set": dev_set_record(
                    recipe,
                    len(dev),
                    "picks the best epoch and stops training early (gold spans + the base model's "
                    "predictions of the other types); never trained on",
                    dropped_labels=False,
                )
            }
            if recipe.dev
            else {}
        ),
        "test_set": test_set_record(recipe, len(test.documents), test_f1),
    }
    if recipe.dev is not None:
        metadata["calibration"] = fit_calibration(staging, recipe, dev_mapped.documents, log)
    publish(staging, output_dir, metadata)
    log(f"wrote {output_dir} ({folder_size(output_dir) / 1e6:.1f} MB); test F1 (all predictions) {test_f1:.3f}")
    return metadata
