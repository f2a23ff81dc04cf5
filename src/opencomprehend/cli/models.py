"""Models: what each language runs, evaluation on labelled sets, and the model factory's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from opencomprehend.cli.common import _fail, app
from opencomprehend.config import Settings

models_app = typer.Typer(help="The entity model each language runs (the shipped ones and the models file).")
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(
    models: Annotated[
        Path | None, typer.Option(help="The models file (default: $OPENCOMPREHEND_MODELS; none: shipped models).")
    ] = None,
) -> None:
    """What each language resolves to: engine, model, where the choice comes from, labels and size on disk."""
    from opencomprehend.nlp.models_file import (
        ModelsFileError,
        describe_labels,
        folder_bytes,
        model_folder,
        read_models_file,
    )
    from opencomprehend.nlp.registry import DEFAULT_MODELS, configure_models, configured_models

    path = models or Settings().models
    try:
        configure_models(read_models_file(path) if path else {})
    except ModelsFileError as exc:
        raise _fail(str(exc)) from None
    for language, choice in configured_models().items():
        if language not in DEFAULT_MODELS:
            continue
        folder = model_folder(choice.model)
        size = f"{folder_bytes(folder) / 1e6:,.2f} MB" if folder is not None else "NOT INSTALLED"
        notes = ["shipped default" if choice.source == "default" else f"models file {choice.source}", size]
        notes += [f"{k} {v}" for k, v in (("batch_size", choice.batch_size), ("device", choice.device)) if v]
        typer.echo(f"{language:<6} {choice.engine:<16} {choice.model}  ({'; '.join(notes)})")
        typer.echo(f"       labels: {describe_labels(choice)}")


@app.command("eval")
def evaluate(
    dataset: Annotated[
        Path, typer.Argument(help='JSON lines: {"text": ..., "entities": [{"begin", "end", "type"}]} per line.')
    ],
    language: Annotated[str, typer.Option("--language", "-l", help="Language code of the texts, e.g. en.")],
    model: Annotated[
        str | None,
        typer.Option(help="A model package or folder to evaluate instead of the language's configured model."),
    ] = None,
    engine_name: Annotated[
        str,
        typer.Option(
            "--engine", help="The engine that runs --model: spacy.v1 (default) or transformers.v1 (an ONNX folder)."
        ),
    ] = "spacy.v1",
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N documents.")] = None,
    join: Annotated[
        int,
        typer.Option(
            min=1,
            help="Recognise every N consecutive lines as one document (joined by newlines), as a job reading "
            "whole files sees running text; each entity is scored against the line it starts in.",
        ),
    ] = 1,
    raw_types: Annotated[
        bool,
        typer.Option(
            "--raw-types",
            help="Compare labels exactly as they are (custom models; needs --model) instead of "
            "mapping gold and predicted labels onto Comprehend's types.",
        ),
    ] = False,
    gold_types_only: Annotated[
        bool,
        typer.Option(
            "--gold-types-only",
            help="Leave out predicted types the set never annotates (e.g. DATE on a set "
            "that only marks people, places and organisations).",
        ),
    ] = False,
    raw_scores: Annotated[
        bool,
        typer.Option(
            "--raw-scores",
            help="Report the model's raw scores, without the calibration saved beside it (calibration.json).",
        ),
    ] = False,
) -> None:
    """Precision, recall and F1 of an entity model on a labelled set, by type and overall.

    Exact match on (begin, end, type), micro-averaged over types (opencomprehend.nlp.evaluation). Without
    --model, the language's model as the server resolves it: the models file ($OPENCOMPREHEND_MODELS) over the
    shipped ones.
    """
    import time

    from opencomprehend.nlp.evaluation import judged, score
    from opencomprehend.nlp.ner.labels import gold_entities
    from opencomprehend.nlp.registry import UnsupportedLanguage, load_engine
    from opencomprehend.nlp.training import read_jsonl

    def fail(message: str) -> typer.Exit:
        typer.echo(f"Error: {message}", err=True)
        return typer.Exit(2)

    if not dataset.is_file():
        raise fail(f"no such file: {dataset}")
    if raw_types and model is None:
        raise fail("--raw-types compares a custom model's own labels; name the model with --model.")
    try:
        documents = read_jsonl(dataset, limit)
    except (ValueError, UnicodeDecodeError) as exc:
        raise fail(str(exc)) from None
    from opencomprehend.nlp.models_file import ModelsFileError, read_models_file
    from opencomprehend.nlp.registry import configure_models

    try:
        models_file = Settings().models
        configure_models(read_models_file(models_file) if models_file else {})
    except ModelsFileError as exc:
        raise fail(str(exc)) from None
    try:
        options = {"calibrate": False} if raw_scores else {}
        if model is None:
            engine = load_engine(language, **options)
        elif engine_name != "spacy.v1":
            engine = load_engine(language, {language: (engine_name, model)})
        else:
            # custom.v1 reports the model's labels unchanged; spacy.v1 maps them onto Comprehend's types.
            engine = load_engine(language, {language: ("custom.v1" if raw_types else "spacy.v1", model)}, **options)
    except UnsupportedLanguage as exc:
        raise fail(str(exc)) from None
    except (ValueError, OSError, ImportError, TypeError) as exc:
        raise fail(f"cannot load the model: {exc}") from None

    texts = [doc.text for doc in documents]
    joined = ["\n".join(texts[i : i + join]) for i in range(0, len(texts), join)]
    engine.recognise(joined[:16])  # warm-up: first-call allocation is not throughput
    started = time.perf_counter()
    found = _split_joined(engine.recognise(joined), texts, join)
    seconds = time.perf_counter() - started

    # Gold labels onto Comprehend types (labels.py), those that are no Comprehend entity (MultiCoNER's MED) left out.
    gold = [list(doc.entities) if raw_types else gold_entities(doc.entities) for doc in documents]
    predicted = [[(p["BeginOffset"], p["EndOffset"], p["Type"]) for p in ents] for ents in found]
    gold_types = {t for ents in gold for _, _, t in ents}
    left_out = sorted({t for ents in predicted for _, _, t in ents} - gold_types)
    if gold_types_only:
        predicted = [[p for p in ents if p[2] in gold_types] for ents in predicted]
    scores = score(gold, predicted)
    # Calibration: of the (compared) entities scored at least 0.9, how many are exactly right.
    compared = gold_types if gold_types_only else None
    confident = [right for _, s, right in judged(gold, found, compared) if s >= 0.9]

    # Words as the model's tokenizer counts them, so Chinese or Japanese text is not one "word" a line.
    nlp = getattr(engine, "nlp", None)
    if nlp is not None:
        words = sum(sum(not token.is_space for token in nlp.make_doc(text)) for text in texts)
    else:
        words = sum(len(text.split()) for text in texts)

    name = model or getattr(engine, "model", "?")
    typer.echo(f"{dataset}: {len(documents)} documents, {scores.support} gold entities; model {name} ({language})")
    typer.echo(f"{'type':<20}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}{'predicted':>11}")
    rows = [(t, c) for t, c in scores.types.items() if not gold_types_only or t in gold_types]
    rows.append(("overall (micro)", scores))
    for label, counts in rows:
        typer.echo(
            f"{label:<20}{counts.precision:>10.3f}{counts.recall:>10.3f}{counts.f1:>10.3f}"
            f"{counts.support:>10}{counts.predicted:>11}"
        )
    if left_out and not gold_types_only:
        typer.echo(
            f"predicted but never annotated in this set: {', '.join(left_out)} (counted as false positives; "
            "--gold-types-only leaves them out)"
        )
    elif left_out:
        typer.echo(f"left out (never annotated in this set): {', '.join(left_out)}")
    if confident:
        typer.echo(f"scored >= 0.9: {len(confident):,} entities, {sum(confident) / len(confident):.1%} right")
    typer.echo(f"{words:,} words in {seconds:.2f} s: {words / max(seconds, 1e-9):,.0f} words/s")


def _split_joined(found: list[list[dict]], texts: list[str], join: int) -> list[list[dict]]:
    """The entities of documents made of `join` lines each, given back to the line each begins in (offsets
    into that line; an entity running past its line's end keeps its length, so it matches nothing)."""
    import bisect
    import itertools

    per_line: list[list[dict]] = []
    for k, entities in enumerate(found):
        lines = texts[k * join : (k + 1) * join]
        # Where each line starts in the joined text (one newline after each).
        starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
        mine: list[list[dict]] = [[] for _ in lines]
        for entity in entities:
            i = bisect.bisect_right(starts, entity["BeginOffset"]) - 1
            shift = starts[i]
            begin, end = entity["BeginOffset"] - shift, entity["EndOffset"] - shift
            mine[i].append({**entity, "BeginOffset": begin, "EndOffset": end})
        per_line.extend(mine)
    return per_line


# The arguments train-language and calibrate-language share.
_Recipe = Annotated[
    str, typer.Argument(help="A language with a recipe in training/ (de, zh, ...), or the path of a recipe .toml.")
]
_DataDir = Annotated[
    Path | None, typer.Option(help="The shared data folder (default: $OPENCOMPREHEND_SHARED_DATA or ../shared/data).")
]


@app.command("train-language")
def train_language_command(
    recipe: _Recipe,
    output: Annotated[
        Path | None,
        typer.Option(help="Folder to write the model to (default: the shipped src/opencomprehend/models/<lang>)."),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace the model folder if it exists.")] = False,
    data_dir: _DataDir = None,
    max_epochs: Annotated[int | None, typer.Option(min=1, help="Override the recipe's max_epochs.")] = None,
    max_seconds: Annotated[float | None, typer.Option(min=1, help="Override the recipe's max_seconds.")] = None,
) -> None:
    """Train a language's entity model from its recipe (training/<lang>.toml) and the shared data sets.

    Every label of the training data is mapped onto Comprehend's types as the recipe says, so the
    model's labels are Comprehend types. The folder gets source.json: data, licences, label maps, figures.
    """
    from opencomprehend.modelbuild.language_models import train_language

    overrides = {k: v for k, v in {"max_epochs": max_epochs, "max_seconds": max_seconds}.items() if v is not None}
    try:
        train_language(
            recipe, output_dir=output, replace=replace, data_dir=data_dir, overrides=overrides, log=typer.echo
        )
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("calibrate-language")
def calibrate_language_command(
    recipe: _Recipe,
    model: Annotated[
        Path | None,
        typer.Option(help="The model folder to calibrate (default: the shipped src/opencomprehend/models/<lang>)."),
    ] = None,
    data_dir: _DataDir = None,
) -> None:
    """Fit a trained model's score calibration on its recipe's gold dev split (calibration.json).

    train-language does this itself for a recipe with a dev split; this fits it again, e.g. for a model
    trained before, or on a dev split of your own.
    """
    from opencomprehend.modelbuild.language_models import calibrate_language

    try:
        calibrate_language(recipe, model=model, data_dir=data_dir, log=typer.echo)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None
